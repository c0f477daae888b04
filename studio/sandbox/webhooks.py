"""The sandbox's webhook (contract §6): once a task is final, POST its GET JSON to
`metadata.callback_url`.

A daemon timer per task fires when the task should be final, makes the clip if no poll
has yet, and tries the POST up to 3 times (10 s timeout each). `callback_sent_at` is set
only after a 2xx. Timers live in the web process: a restart loses pending callbacks, which
is fine for a sandbox whose clients keep polling anyway (contract §13 item 25).
"""

from __future__ import annotations

import logging
import threading
import time

import httpx
from django.db import connection
from django.utils import timezone

from studio.sandbox.models import SandboxTask, retry_locked

log = logging.getLogger("studio.sandbox")

ATTEMPTS = 3
TIMEOUT_SECONDS = 10
MARGIN_SECONDS = 0.2
RENDER_WAIT_SECONDS = 30
# One client for every callback: a new one per POST (httpx.post) builds an SSL context each
# time, which under a burst of finishing tasks costs more CPU than the sandbox itself. No
# keep-alive: an idle connection would pin a receiver thread (and its database connection).
_client = httpx.Client(timeout=TIMEOUT_SECONDS, limits=httpx.Limits(max_keepalive_connections=0))


def schedule_callback(task: SandboxTask, media_url: str) -> threading.Timer:
    """Start the timer that delivers `task`'s final state. `media_url` is the absolute clip
    URL as the submitting client sees the sandbox (there is no request in the thread)."""
    timer = threading.Timer(task.final_in() + MARGIN_SECONDS, deliver, args=(task.pk, media_url))
    timer.daemon = True
    timer.start()
    return timer


def deliver(pk: int, media_url: str) -> bool:
    """POST the final task JSON once; True if the receiver answered 2xx."""
    try:
        task = retry_locked(lambda: SandboxTask.objects.filter(pk=pk).first())
        if task is None or not task.callback_url:
            return False
        wait = task.final_in() - (timezone.now() - task.created).total_seconds()
        if wait > 0:  # woken early (clock skew): a webhook only ever carries a final state
            time.sleep(wait)
        if task.outcome != SandboxTask.FAIL:
            task.ensure_video(wait=RENDER_WAIT_SECONDS)
        payload = task.as_json(timezone.now(), media_url)
        if payload["status"] not in ("succeeded", "failed"):
            log.warning("Sandbox task %s is not final; no webhook sent", task.task_id)
            return False
        for attempt in range(1, ATTEMPTS + 1):
            if _post(task.callback_url, payload):
                retry_locked(lambda: SandboxTask.objects.filter(pk=pk).update(callback_sent_at=timezone.now()))
                return True
            if attempt < ATTEMPTS:
                time.sleep(attempt)
        log.warning("Sandbox task %s: webhook not delivered after %d tries", task.task_id, ATTEMPTS)
        return False
    except Exception:  # a daemon thread has nobody to raise to
        log.exception("Sandbox webhook for task pk=%s crashed", pk)
        return False
    finally:
        connection.close()


def _post(url: str, payload: dict) -> bool:
    try:
        response = _client.post(url, json=payload)
    except httpx.HTTPError as exc:
        # The URL holds the receiver's secret token: never log it.
        log.info("Sandbox webhook POST failed: %s", type(exc).__name__)
        return False
    return response.is_success
