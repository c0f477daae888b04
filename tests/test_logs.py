"""Logs go to stdout, one line per event, with time, level, logger and message."""

import logging
import re
import sys

from django.conf import settings

from studio.logs import OneLineFormatter


def test_the_settings_send_every_logger_to_stdout_through_the_one_line_formatter():
    config = settings.LOGGING
    assert config["handlers"]["stdout"]["stream"] == "ext://sys.stdout"
    assert config["root"]["handlers"] == ["stdout"] and config["handlers"]["stdout"]["formatter"] == "line"
    assert config["formatters"]["line"]["()"] == "studio.logs.OneLineFormatter"


def test_a_traceback_stays_on_its_events_line():
    formatter = OneLineFormatter(settings.LOGGING["formatters"]["line"]["format"])
    try:
        raise ValueError("first line\nsecond line")
    except ValueError:
        record = logging.getLogger("studio.tasks").makeRecord(
            "studio.tasks", logging.ERROR, __file__, 1, "generation=%s fetch crashed", ("5b1d",), sys.exc_info())
    line = formatter.format(record)
    assert "\n" not in line
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ERROR studio.tasks generation=5b1d fetch crashed ⏎ Traceback", line)
    assert "ValueError: first line ⏎ second line" in line
