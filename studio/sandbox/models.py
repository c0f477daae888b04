"""Tables of the built-in sandbox upstream (a fake RelayDance inside the app).

A task's status is a function of time since `created`: `submitted` for `queue_seconds`,
then `running` for `run_seconds`, then its `outcome`. The clip is made by whoever first
sees the task due (a poll or the webhook timer), claimed with a conditional update.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import string
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import OperationalError, connection, models
from django.db.models import F

from studio.catalogue import get_spec, resolution_for
from studio.sandbox.video import FPS, frame_size, make_clip

log = logging.getLogger("studio.sandbox")

_TAG = re.compile(r"\[(fail|slow|429|500|reject|submit429|run=\d+(?:\.\d+)?)\]")
_ALNUM = string.ascii_letters + string.digits
FAILED_AS_REQUESTED = "Sandbox: generation failed as requested"
T = TypeVar("T")


def retry_locked(operation: Callable[[], T], attempts: int = 40) -> T:
    """Run a short autocommit query, retrying "database table is locked" for up to ~2 s.

    SQLite's shared-cache in-memory database (the live-server test database) fails at once
    instead of honouring the busy timeout when another thread touches the same table, and
    the sandbox's timer threads run beside request threads.
    """
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except OperationalError as exc:
            # Inside a transaction a failed query spoils it: only autocommit queries retry.
            if "locked" not in str(exc) or attempt == attempts or connection.in_atomic_block:
                raise
        time.sleep(0.05)
    raise AssertionError("unreachable")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def prompt_tags(prompt: str) -> dict[str, str]:
    """The behaviour tags in a prompt: {"fail": "", "run": "2.5", …}."""
    tags: dict[str, str] = {}
    for tag in _TAG.findall(prompt):
        name, _, value = tag.partition("=")
        tags[name] = value
    return tags


class SandboxFile(models.Model):
    file_id = models.CharField(max_length=64, unique=True)
    key_hash = models.CharField(max_length=64, db_index=True)
    file = models.FileField(upload_to="sandbox/files/", max_length=300)
    name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "studio"

    @staticmethod
    def new_id() -> str:
        return f"file_{secrets.token_hex(16)}"


class SandboxTask(models.Model):
    SUCCEED, FAIL, RENDERING = "succeed", "fail", "rendering"

    task_id = models.CharField(max_length=64, unique=True)
    key_hash = models.CharField(max_length=64, db_index=True)
    model = models.CharField(max_length=100)
    body = models.JSONField()
    # What the task will do: SUCCEED or FAIL; RENDERING while one process makes the clip.
    outcome = models.CharField(max_length=16, default="succeed")
    error = models.TextField(blank=True)
    queue_seconds = models.FloatField(default=1)
    run_seconds = models.FloatField(default=4)
    video = models.FileField(upload_to="sandbox/videos/", blank=True, max_length=300)
    callback_url = models.TextField(blank=True)
    callback_sent_at = models.DateTimeField(null=True, blank=True)
    polls = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "studio"

    @staticmethod
    def new_id() -> str:
        return "task_" + "".join(secrets.choice(_ALNUM) for _ in range(32))

    @classmethod
    def create_from(
        cls, key_hash: str, body: dict[str, Any], *, queue_seconds: float, run_seconds: float
    ) -> SandboxTask:
        """A new task for a validated body; prompt tags pick its outcome and timing."""
        tags = prompt_tags(body.get("prompt", ""))
        if "run" in tags:
            run_seconds = float(tags["run"])
        elif "slow" in tags:
            run_seconds *= 5
        return retry_locked(lambda: cls.objects.create(
            task_id=cls.new_id(),
            key_hash=key_hash,
            model=body["model"],
            body=body,
            outcome=cls.FAIL if "fail" in tags else cls.SUCCEED,
            error=FAILED_AS_REQUESTED if "fail" in tags else "",
            queue_seconds=queue_seconds,
            run_seconds=run_seconds,
            callback_url=(body.get("metadata") or {}).get("callback_url", ""),
        ))

    # --- what was asked (read from the stored body, already validated at submit) ---

    @property
    def metadata(self) -> dict[str, Any]:
        return self.body.get("metadata") or {}

    @property
    def tags(self) -> dict[str, str]:
        return prompt_tags(self.body.get("prompt", ""))

    @property
    def seconds(self) -> int:
        return int(self.body.get("seconds") or get_spec(self.model).default_seconds)

    @property
    def ratio(self) -> str:
        return self.metadata.get("ratio") or "16:9"

    @property
    def wants_audio(self) -> bool:
        return bool(self.metadata.get("generate_audio")) or get_spec(self.model).audio == "always"

    # --- behaviour ---

    def final_in(self) -> float:
        """Seconds from creation until the task reaches its final state."""
        return self.queue_seconds + self.run_seconds

    def is_due(self, now: datetime) -> bool:
        return (now - self.created).total_seconds() >= self.final_in()

    def status_at(self, now: datetime) -> str:
        """The documented status at `now`. A due task reads `running` until its clip exists."""
        elapsed = (now - self.created).total_seconds()
        if elapsed < self.queue_seconds:
            return "submitted"
        if elapsed < self.final_in():
            return "running"
        if self.outcome == self.FAIL:
            return "failed"
        return "succeeded" if self.video and self.outcome == self.SUCCEED else "running"

    def count_poll(self) -> int:
        """Record one GET of this task and return how many there have been."""
        retry_locked(lambda: SandboxTask.objects.filter(pk=self.pk).update(polls=F("polls") + 1))
        retry_locked(lambda: self.refresh_from_db(fields=["polls"]))
        return self.polls

    def ensure_video(self, *, wait: float = 0) -> bool:
        """Make the clip once, whoever calls first; True once it exists. A caller that loses
        the claim re-reads the row for up to `wait` seconds. A render failure fails the task."""
        fields = ["outcome", "video", "error"]
        retry_locked(lambda: self.refresh_from_db(fields=fields))
        if self.outcome == self.FAIL or self.video:
            return bool(self.video)
        claimed = retry_locked(
            lambda: SandboxTask.objects.filter(pk=self.pk, outcome=self.SUCCEED, video="").update(
                outcome=self.RENDERING
            )
        )
        if claimed:
            self._render()
        deadline = time.monotonic() + wait
        while True:
            retry_locked(lambda: self.refresh_from_db(fields=fields))
            if self.video or self.outcome == self.FAIL or time.monotonic() >= deadline:
                return bool(self.video) and self.outcome == self.SUCCEED
            time.sleep(0.1)

    def _render(self) -> None:
        """Make and store the clip of a claimed (RENDERING) task; on any error fail the task,
        so it never stays claimed."""
        try:
            data = make_clip(prompt=self.body.get("prompt", ""), ratio=self.ratio,
                             seconds=self.seconds, audio=self.wants_audio)
            name = default_storage.save(f"sandbox/videos/{self.task_id}.mp4", ContentFile(data))
        except Exception as exc:  # ClipError, OSError, any storage backend error
            log.error("Sandbox task %s: could not make the clip: %s", self.task_id, exc)
            outcome, error, name = self.FAIL, "Sandbox: could not render the clip", ""
        else:
            outcome, error = self.SUCCEED, ""
        retry_locked(lambda: SandboxTask.objects.filter(pk=self.pk).update(
            video=name, outcome=outcome, error=error
        ))

    def as_json(self, now: datetime, media_url: str) -> dict[str, Any]:
        """The task as `GET /video/generations/{task_id}` answers it (contract §5)."""
        status = self.status_at(now)
        width, height = frame_size(self.ratio)
        metadata = {
            "ratio": self.ratio,
            "resolution": resolution_for(get_spec(self.model), self.metadata.get("resolution")),
            "generate_audio": self.wants_audio,
            "duration": self.seconds,
            "fps": FPS,
            "width": width,
            "height": height,
        }
        answer: dict[str, Any] = {"task_id": self.task_id, "status": status, "format": "mp4",
                                  "metadata": metadata}
        if status == "succeeded":
            answer["url"] = media_url
        elif status == "failed":
            answer["error"] = {"code": 500, "message": self.error or FAILED_AS_REQUESTED}
        return answer
