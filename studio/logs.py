"""One log line per event: a PaaS log drain splits on newlines, so a traceback (or a message
with a newline in it) is folded onto its line instead of becoming many half-events."""

import logging


class OneLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "").replace("\n", " ⏎ ")
