"""Fault windows: the sandbox misbehaves for a while, like a real upstream in an outage.

A window says what goes wrong (`mode`), on which calls (`ops`), until when, and optionally
only for tasks whose prompt contains `match`. Modes:
  429      answer 429 with Retry-After: 1; a create makes nothing.
  500      answer 502; a create makes nothing.
  garbage  answer 200 with an HTML page; a create makes the task first (the answer is lost).
  shape    answer 200 with JSON of the wrong shape; a create makes the task first.
  slow     answer after `delay` seconds (past a client's timeout); a create makes the task first.
  fail     a create makes a task that ends `failed` with UPSTREAM_OUTAGE.
Ops: "create", "poll", "media", "upload".

Windows live in one small JSON file in default storage, because several processes serve the
sandbox (gunicorn workers, the test live server) and must agree. Only tests and benchmarks
open windows, from Python: there is no HTTP endpoint for it.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

PATH = "sandbox/faults.json"
MODES = ("429", "500", "garbage", "shape", "slow", "fail")
OPS = ("create", "poll", "media", "upload")
UPSTREAM_OUTAGE = "Sandbox: the task failed in an upstream outage"
_READ_EVERY = 0.2  # seconds a process trusts its last read of the file

_memo: tuple[float, list[Fault]] = (0.0, [])


@dataclass(frozen=True)
class Fault:
    mode: str
    ops: tuple[str, ...]
    until: float  # epoch seconds
    match: str = ""
    delay: float = 8.0

    def applies(self, op: str, prompt: str, now: float) -> bool:
        return op in self.ops and now < self.until and (not self.match or self.match in prompt)


def open_window(mode: str, seconds: float, *, ops=("create", "poll"), match: str = "", delay: float = 8.0) -> Fault:
    """Add a window starting now; windows that already ended are dropped."""
    if mode not in MODES or not set(ops) <= set(OPS):
        raise ValueError(f"unknown fault mode {mode!r} or ops {ops!r}")
    fault = Fault(mode=mode, ops=tuple(ops), until=time.time() + seconds, match=match, delay=delay)
    _write([f for f in _read() if f.until > time.time()] + [fault])
    return fault


def close_all() -> None:
    if default_storage.exists(PATH):
        default_storage.delete(PATH)
    _forget()


def active(op: str, prompt: str = "") -> Fault | None:
    """The first open window for this call, if any."""
    global _memo
    now = time.time()
    read_at, faults = _memo
    if now - read_at > _READ_EVERY:
        faults = _read()
        _memo = (now, faults)
    return next((f for f in faults if f.applies(op, prompt, now)), None)


def _read() -> list[Fault]:
    try:
        with default_storage.open(PATH, "rb") as fh:
            return [Fault(**{**row, "ops": tuple(row["ops"])}) for row in json.load(fh)]
    except (FileNotFoundError, ValueError, TypeError, KeyError):
        return []


def _write(faults: list[Fault]) -> None:
    if default_storage.exists(PATH):
        default_storage.delete(PATH)
    default_storage.save(PATH, ContentFile(json.dumps([asdict(f) for f in faults]).encode()))
    _forget()


def _forget() -> None:
    global _memo
    _memo = (0.0, [])
