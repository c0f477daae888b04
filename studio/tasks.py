"""django-q2 jobs: submit a generation, sweep the tasks in flight, fetch finished videos.

Every job takes a primary key (or nothing), claims its row with a conditional update, does
one thing and writes the result: the database row is the truth, so a killed worker loses
nothing. The rules that matter:
- A create request is never sent twice. `create_sent_at` is committed right before sending;
  a generation that has it and no task id ends "failed: outcome unknown", never re-sent.
- The sweep is the only poller. One runs at a time (the "sweep" lease); it keeps itself
  going while anything is pending, and a one-minute schedule restarts it as a safety net.
"""

import logging
import os
import socket
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.models import Case, DateTimeField, F, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.crypto import DecryptionError
from accounts.models import ApiKey
from studio import activity, failures, media, pipeline, relaydance
from studio.catalogue import get_spec
from studio.models import Generation, Lease, Reference
from studio.pipeline import bump, enqueue
from studio.failures import failure_message

log = logging.getLogger("studio.tasks")
S = Generation.Status
TICK_SECONDS = 0.5
WEBHOOK_BACKUP_POLL_SECONDS = 15.0  # with webhooks on, polls only back them up
MAX_SUBMIT_ATTEMPTS = 5
MAX_FETCH_ATTEMPTS = 5
UNKNOWN_OUTCOME = failures.UNKNOWN_OUTCOME


def stale_after() -> timedelta:
    """A claim older than the job timeout belongs to a worker that died."""
    return timedelta(seconds=settings.Q_CLUSTER["timeout"] + 10)


def poll_delay(generation: Generation, now) -> float:
    """Seconds until a running task's next poll: POLL_FIRST_SECONDS for its first minute, 10 s
    up to five minutes, 30 s after that. With webhooks on, a poll only backs up a lost or late
    webhook, so polls come at most every WEBHOOK_BACKUP_POLL_SECONDS."""
    age = (now - (generation.submitted_at or now)).total_seconds()
    delay = settings.POLL_FIRST_SECONDS if age < 60 else 10.0 if age < 300 else 30.0
    return max(delay, WEBHOOK_BACKUP_POLL_SECONDS) if pipeline.webhooks_enabled() else delay


def _key_for(generation: Generation) -> str | None:
    api_key = ApiKey.objects.filter(user_id=generation.creator_id).first()
    if api_key is None:
        return None
    try:
        return api_key.reveal()
    except DecryptionError:
        log.error("generation=%s the creator's API key cannot be decrypted", generation.code)
        return None


def fail(generation_pk: int, message: str, args: dict | None = None, *, from_status=None, **extra) -> int:
    """Settle as failed. `message` is English with `%(name)s` placeholders for `args` (see
    studio.failures): each viewer reads it in their own language; the log keeps English."""
    qs = Generation.objects.filter(pk=generation_pk)
    qs = qs.filter(status=from_status) if from_status else qs.exclude(status__in=[S.READY, S.FAILED])
    done = bump(qs, status=S.FAILED, error=message, error_args=args or {}, finished_at=timezone.now(),
                claimed_at=None, next_poll_at=None, **extra)
    if done:
        log.info("generation=%s failed: %s", _code(generation_pk), failures.failure_text(message, args, translate=False))
    return done


def _code(pk: int):
    """A generation's code for a log line (logs name generations by code, as users see them)."""
    try:
        return Generation.objects.filter(pk=pk).values_list("code", flat=True).first() or f"pk:{pk}"
    except DatabaseError:  # the log line matters more than the name in it
        return f"pk:{pk}"


# --- submit -------------------------------------------------------------------------------


def submit_generation(pk: int) -> None:
    """queued → submitting → running. Uploads local references, then creates the task once."""
    now = timezone.now()
    if not bump(Generation.objects.filter(pk=pk, status=S.QUEUED), status=S.SUBMITTING, claimed_at=now):
        return
    generation = Generation.objects.get(pk=pk)
    key = _key_for(generation)
    if key is None:
        fail(pk, failures.NO_KEY)
        return
    client = relaydance.get_client(key)
    try:
        req = _build_request(client, key, generation)
    except relaydance.RelayDanceError as exc:  # nothing was created: uploads are free
        _submit_refused(generation, exc, stage="upload")
        return
    Generation.objects.filter(pk=pk).update(create_sent_at=timezone.now())
    try:
        task = client.create_generation(key, req)
    except relaydance.OutcomeUnknown:
        fail(pk, UNKNOWN_OUTCOME)
    except relaydance.RelayDanceError as exc:
        _submit_refused(generation, exc, stage="create")
    else:
        now = timezone.now()
        # The task id exists only in memory now: outlast a database restart rather than lose it.
        _outlast_database_outage(lambda: bump(
            Generation.objects.filter(pk=pk, status=S.SUBMITTING),
            status=S.RUNNING, task_id=task.task_id, upstream_status=task.raw_status, submitted_at=now,
            next_poll_at=now + timedelta(seconds=poll_delay(generation, now)), claimed_at=None, poll_failures=0,
        ))
        log.info("generation=%s submitted task=%s", generation.code, task.task_id)
        pipeline.kick_sweep()


def _outlast_database_outage(write):
    """Run a write that must not be lost, retrying through a database restart or failover for
    up to half the job timeout; then the error is raised."""
    deadline = time.monotonic() + settings.Q_CLUSTER["timeout"] / 2
    while True:
        try:
            return write()
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("database unavailable (%s); retrying a write", type(exc).__name__)
            connection.close()
            time.sleep(1)


def _build_request(client, key: str, generation: Generation) -> relaydance.GenerationRequest:
    urls: dict[str, list[str]] = {kind: [] for kind in Reference.Kind}
    for ref in generation.references.order_by("kind", "position"):
        if ref.file:
            with ref.file.open("rb") as fh:
                uploaded = client.upload_file(key, fh, filename=ref.name or Path(ref.file.name).name,
                                              content_type=ref.content_type or "application/octet-stream")
            urls[ref.kind].append(uploaded.url)
        else:
            urls[ref.kind].append(ref.url)
    return relaydance.GenerationRequest(
        model=generation.model, prompt=generation.prompt, seconds=generation.seconds,
        ratio=generation.ratio, resolution=generation.resolution, generate_audio=relaydance_audio(generation),
        callback_url=pipeline.callback_url(generation),
        images=urls[Reference.Kind.IMAGE], videos=urls[Reference.Kind.VIDEO], audio=urls[Reference.Kind.AUDIO],
        first_frame=(urls[Reference.Kind.FIRST_FRAME] or [None])[0],
        last_frame=(urls[Reference.Kind.LAST_FRAME] or [None])[0],
    )


def relaydance_audio(generation: Generation) -> bool | None:
    """`generate_audio` is sent only to models that take it as a toggle (Seedance 2.0)."""
    return generation.generate_audio if get_spec(generation.model).audio == "toggle" else None


def _submit_refused(generation: Generation, exc: relaydance.RelayDanceError, *, stage: str) -> None:
    """A definite refusal. 429 and never-sent connection failures go back to the queue (nothing
    was created upstream); everything else fails with a message the user can act on."""
    definite_retry = isinstance(exc, relaydance.RateLimited) or (
        isinstance(exc, relaydance.Unavailable) and (exc.connect_failed or stage == "upload")
    )
    if definite_retry and generation.poll_failures + 1 < MAX_SUBMIT_ATTEMPTS:
        delay = getattr(exc, "retry_after", None) or min(5 * 2**generation.poll_failures, 60)
        updated = bump(
            Generation.objects.filter(pk=generation.pk, status=S.SUBMITTING),
            status=S.QUEUED, claimed_at=None, create_sent_at=None, poll_failures=generation.poll_failures + 1,
            next_poll_at=timezone.now() + timedelta(seconds=delay),
        )
        if updated:
            log.info("generation=%s submit deferred %.0fs: %s", generation.code, delay, type(exc).__name__)
            pipeline.kick_sweep()
        return
    # A 5xx, or a 2xx we could not read, may have created the task: it is not sent again.
    if isinstance(exc, (relaydance.Unavailable, relaydance.MalformedResponse)) and stage == "create":
        fail(generation.pk, UNKNOWN_OUTCOME)
        return
    fail(generation.pk, *failure_message(exc, stage=stage))


# --- sweep --------------------------------------------------------------------------------


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _take_lease(holder: str, seconds: float) -> bool:
    now = timezone.now()
    Lease.objects.get_or_create(name="sweep", defaults={"expires_at": now - timedelta(seconds=1)})
    return bool(
        Lease.objects.filter(Q(name="sweep") & (Q(expires_at__lte=now) | Q(holder__in=[holder, pipeline.SWEEP_QUEUED]))).update(
            holder=holder, expires_at=now + timedelta(seconds=seconds)
        )
    )


def _release_lease(holder: str) -> None:
    Lease.objects.filter(name="sweep", holder=holder).update(expires_at=timezone.now(), holder="")


def sweep() -> None:
    """Poll every due task (concurrently), hand finished ones to fetch, and repair work that
    a dead worker left behind. Runs up to SWEEP_BUDGET_SECONDS, then re-queues itself if
    anything is still pending."""
    holder = _holder()
    budget = settings.SWEEP_BUDGET_SECONDS
    if not _take_lease(holder, budget + 30):
        return
    keep_going = False
    started = time.monotonic()
    last_housekeeping = 0.0
    stats = {"ticks": 0, "polled": 0, "queries": 0}

    def count_queries(execute, sql, params, many, context):
        stats["queries"] += 1
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(count_queries), ThreadPoolExecutor(
            max_workers=settings.SWEEP_THREADS, thread_name_prefix="poll"
        ) as pool, ThreadPoolExecutor(max_workers=4, thread_name_prefix="fetch") as fetches:
            # Finished videos are fetched right here in threads, each as soon as its poll
            # returns (no queue latency); the fetch job remains for retries and for anything
            # a dead sweep left behind. Until its fetch thread has written the success, the
            # row is still running and due: later ticks must not poll it again.
            handed_over: set[int] = set()

            def fetch_now(generation: Generation) -> None:
                handed_over.add(generation.pk)
                fetches.submit(_fetch_in_thread, generation, handed_over)

            while time.monotonic() - started < budget:
                tick_started = time.monotonic()
                try:
                    polled = poll_due(pool, fetch=fetch_now, skip=handed_over)
                    stats["ticks"] += 1
                    stats["polled"] += polled
                    if time.monotonic() - last_housekeeping >= 5:
                        housekeeping()
                        last_housekeeping = time.monotonic()
                    if not polled and not Generation.objects.pending().exists():
                        break
                except (OperationalError, InterfaceError) as exc:
                    # The database restarted or failed over: reconnect on the next tick. Dying
                    # here would keep the lease, and with it all polling, until it expires.
                    log.warning("sweep lost the database (%s); reconnecting", type(exc).__name__)
                    connection.close()
                # One tick every TICK_SECONDS: a tick that took longer (many polls under load)
                # is followed at once, so a due poll never waits for a full extra pause.
                time.sleep(max(0.0, TICK_SECONDS - (time.monotonic() - tick_started)))
            else:
                keep_going = True
    finally:
        _release_lease(holder)
    log.info("sweep done ticks=%(ticks)d polled=%(polled)d queries=%(queries)d", stats)
    if keep_going:
        enqueue("studio.tasks.sweep")
    elif Generation.objects.pending().exists():  # work that came in while this sweep was ending
        pipeline.kick_sweep()


def _fetch_in_thread(generation: Generation, handed_over: set[int]) -> None:
    try:
        if record_success(generation, claim=True):
            _fetch_claimed(generation.pk)
    except Exception:
        log.exception("generation=%s fetch crashed; the sweep will retry it", generation.code)
    finally:
        handed_over.discard(generation.pk)
        connection.close()


def _record_and_enqueue_fetch(generation: Generation) -> None:
    if record_success(generation, claim=False):
        pipeline.enqueue_on_commit("studio.tasks.fetch_video", generation.pk)


def record_success(generation: Generation, *, claim: bool) -> int:
    """running → succeeded, from a poll's outcome (in memory, see apply_poll). With `claim`
    the caller fetches the video right away: the fetch's claim is taken in the same update."""
    recorded = bump(
        Generation.objects.filter(pk=generation.pk, status=S.RUNNING),
        status=S.SUCCEEDED, polls=generation.polls, poll_failures=generation.poll_failures,
        upstream_status=generation.upstream_status, video_url=generation.video_url,
        finished_at=generation.finished_at, claimed_at=timezone.now() if claim else None,
        next_poll_at=generation.next_poll_at,
    )
    if recorded:
        log.info("generation=%s upstream succeeded after %d polls", generation.code, generation.polls)
    return recorded


def poll_due(pool: ThreadPoolExecutor, limit: int = 200, fetch=_record_and_enqueue_fetch,
             skip: set[int] | frozenset = frozenset()) -> int:
    """Poll the running generations whose next poll is due (but those in `skip`); returns
    how many were polled. Each success goes to `fetch(generation)` as soon as its poll returns
    (it writes the row and starts the download); the ones still running are written in one
    bulk update when the tick's polls are done, so the sweep's queries per tick do not grow
    with the tasks in flight."""
    now = timezone.now()
    due = list(
        Generation.objects.filter(status=S.RUNNING, next_poll_at__lte=now)
        .exclude(pk__in=list(skip))
        .order_by("next_poll_at")
        .only("pk", "code", "team_id", "creator_id", "task_id", "upstream_status", "submitted_at", "polls",
              "poll_failures", "version")[:limit]
    )
    if not due:
        return 0
    loaded_versions = {generation.pk: generation.version for generation in due}
    keys: dict[int, str | None] = {}
    for generation in due:
        if generation.creator_id not in keys:
            keys[generation.creator_id] = _key_for(generation)
    polls = {pool.submit(_poll_one, generation, keys[generation.creator_id]): generation for generation in due}
    still_running = []
    for done in as_completed(polls):
        generation = polls[done]
        result = apply_poll(generation, done.result(), timezone.now())
        if result == "running":
            still_running.append(generation)
        elif result == "succeeded":
            fetch(generation)
    if still_running:
        # Rows may have moved on while this tick polled: a success written by its fetch
        # thread, a favourite. The update skips rows no longer running and bumps versions
        # relative to the row, so a live page never sees a version twice.
        moved = {g.team_id for g in still_running if g.version != loaded_versions[g.pk]}
        for generation in still_running:
            generation.next_poll_at = _unless_hinted(generation.next_poll_at, now)
            generation.version = F("version") + (generation.version - loaded_versions[generation.pk])
        Generation.objects.filter(status=S.RUNNING).bulk_update(still_running, RUNNING_FIELDS)
        activity.gallery_changed(moved)
    return len(due)


def _unless_hinted(next_poll_at, selected_at):
    """The planned next poll, unless a webhook moved it while this tick polled (the rows were
    due when selected, so a later time is the hook's "poll now"): then the hint stands."""
    return Case(When(next_poll_at__gt=selected_at, then=F("next_poll_at")),
                default=Value(next_poll_at, output_field=DateTimeField()))


RUNNING_FIELDS = ["polls", "poll_failures", "upstream_status", "next_poll_at", "version"]


def _poll_one(generation: Generation, key: str | None):
    """Runs in a pool thread: HTTP only, no database."""
    if key is None:
        return relaydance.KeyRejected("missing", status_code=None)
    try:
        return relaydance.get_client(key).get_generation(key, generation.task_id, attempts=1)
    except relaydance.RelayDanceError as exc:
        return exc


def apply_poll(generation: Generation, outcome, now) -> str:
    """Record one poll on `generation` (in memory). Returns "running" (for the caller's bulk
    update), "succeeded" (for record_success) or "settled" when it was already written (failed)."""
    generation.polls += 1
    deadline = generation.submitted_at + timedelta(seconds=settings.GENERATION_DEADLINE_SECONDS)
    if isinstance(outcome, relaydance.Task):
        if outcome.status == "succeeded" and outcome.video_url:
            generation.status, generation.video_url, generation.finished_at = S.SUCCEEDED, outcome.video_url, now
            generation.upstream_status, generation.claimed_at = outcome.raw_status, None
            generation.next_poll_at = now + stale_after()  # the sweep re-fetches if this one dies
            return "succeeded"
        if outcome.status == "failed":
            return _settle(generation, outcome.error or relaydance.GENERIC_FAILURE)
        if outcome.status == "succeeded":  # no URL yet: contract §13 item 15
            generation.poll_failures += 1
            if generation.poll_failures >= 3:
                return _settle(generation, failures.NO_VIDEO_LINK)
        else:
            generation.poll_failures = 0
        if outcome.raw_status != generation.upstream_status:
            generation.upstream_status = outcome.raw_status
            generation.version += 1
        delay = poll_delay(generation, now)
    elif isinstance(outcome, relaydance.NotFound):
        generation.poll_failures += 1
        if generation.poll_failures >= 3:
            return _settle(generation, failures.TASK_NOT_FOUND)
        delay = poll_delay(generation, now)
    elif isinstance(outcome, relaydance.KeyRejected):
        return _settle(generation, *failure_message(outcome, stage="poll"))
    else:  # rate limited, unavailable, malformed: back off, keep following
        generation.poll_failures += 1
        retry_after = getattr(outcome, "retry_after", None)
        delay = retry_after or min(poll_delay(generation, now) * 2**generation.poll_failures, 60)
    if now > deadline:
        minutes = settings.GENERATION_DEADLINE_SECONDS // 60
        return _settle(generation, failures.TIMED_OUT, {"minutes": minutes})
    generation.next_poll_at = now + timedelta(seconds=delay)
    return "running"


def _settle(generation: Generation, message: str, args: dict | None = None) -> str:
    fail(generation.pk, message, args, from_status=S.RUNNING, polls=generation.polls)
    return "settled"


def needing_repair(now) -> dict[str, QuerySet]:
    """What dead workers or lost queue messages left behind (housekeeping's work, and what
    `manage.py requeue_stuck` lists): submits whose worker died, queued generations nobody
    submitted, finished ones nobody is downloading. Claims younger than the job timeout
    belong to a live worker and are left alone."""
    stale = now - stale_after()
    return {
        "dead_submits": Generation.objects.filter(status=S.SUBMITTING, claimed_at__lt=stale),
        "unsubmitted": Generation.objects.filter(status=S.QUEUED).filter(
            Q(next_poll_at__lte=now) | Q(next_poll_at__isnull=True, created__lt=now - timedelta(seconds=60))
        ),
        "unfetched": Generation.objects.filter(status=S.SUCCEEDED, next_poll_at__lte=now).filter(
            Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale)
        ),
    }


def housekeeping() -> None:
    """Repair what dead workers or lost queue messages left: re-enqueue submits and fetches
    that are due, and settle submits whose worker died."""
    now = timezone.now()
    repairs = needing_repair(now)
    for pk, sent in repairs["dead_submits"].values_list("pk", "create_sent_at"):
        if sent is None:  # provably never sent: submit again
            bump(Generation.objects.filter(pk=pk, status=S.SUBMITTING), status=S.QUEUED, claimed_at=None, next_poll_at=now)
        else:
            fail(pk, UNKNOWN_OUTCOME, from_status=S.SUBMITTING)
    _enqueue_batch(repairs["unsubmitted"], "studio.tasks.submit_generation", now)
    _enqueue_batch(repairs["unfetched"], "studio.tasks.fetch_video", now)


def _enqueue_batch(queryset, func: str, now) -> None:
    """Enqueue `func` for up to 200 due rows, pushing their next check past the job timeout
    (one update for the batch) so the next tick does not enqueue them again."""
    pks = list(queryset.values_list("pk", flat=True)[:200])
    if not pks:
        return
    Generation.objects.filter(pk__in=pks).update(next_poll_at=now + stale_after())
    for pk in pks:
        enqueue(func, pk)


# --- fetch --------------------------------------------------------------------------------


def fetch_video(pk: int) -> None:
    """succeeded → ready: stream the MP4 into storage, make a poster. A failed download is
    retried later (the upstream URL is kept until the file is stored); an expired URL is
    refreshed by polling once more."""
    now = timezone.now()
    claim = Generation.objects.filter(pk=pk, status=S.SUCCEEDED).filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - stale_after()))
    if claim.update(claimed_at=now):
        _fetch_claimed(pk)


def _fetch_claimed(pk: int) -> None:
    generation = Generation.objects.select_related("team").get(pk=pk)
    client = relaydance.get_client("")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="studio-fetch-") as tmp:
        path = Path(tmp) / "video.mp4"
        try:
            with open(path, "wb") as fh:
                size = client.download(generation.video_url, fh, max_bytes=settings.MAX_VIDEO_MB * 1024 * 1024)
        except relaydance.Gone:
            _refresh_or_fail(generation)
            return
        except relaydance.TooLarge:
            fail(pk, failures.TOO_LARGE, {"limit": settings.MAX_VIDEO_MB}, from_status=S.SUCCEEDED)
            return
        except relaydance.RelayDanceError as exc:
            _fetch_later(generation, exc)
            return
        downloaded = time.monotonic() - started
        if not media.looks_like_mp4(path):
            fail(pk, failures.NOT_MP4, from_status=S.SUCCEEDED)
            return
        duration, poster = media.probe_and_poster(path)
        if _store(generation, path, size, duration, poster):
            log.info("generation=%s ready bytes=%d duration=%s fetched in %.2fs (download %.2fs)",
                     generation.code, size, duration, time.monotonic() - started, downloaded)


def _store(generation: Generation, path: Path, size: int, duration: float | None, poster: bytes | None) -> bool:
    """Save the video and poster and mark the row ready; False (files dropped) if the row was
    deleted or settled meanwhile."""
    with open(path, "rb") as fh:
        generation.video.save("video.mp4", File(fh), save=False)
    if poster:
        generation.poster.save("poster.jpg", ContentFile(poster), save=False)
    stored = bump(
        Generation.objects.filter(pk=generation.pk, status=S.SUCCEEDED),
        status=S.READY, video=generation.video.name, poster=generation.poster.name or "", video_bytes=size,
        duration=duration, stored_at=timezone.now(), video_url="", claimed_at=None, next_poll_at=None,
    )
    if not stored:  # deleted (or settled) while we downloaded: drop the orphan files
        for name in filter(None, [generation.video.name, generation.poster.name]):
            generation.video.storage.delete(name)
        return False
    return True


def _refresh_or_fail(generation: Generation) -> None:
    if generation.fetch_attempts >= 1:
        fail(generation.pk, failures.LINK_EXPIRED, from_status=S.SUCCEEDED)
        return
    bump(
        Generation.objects.filter(pk=generation.pk, status=S.SUCCEEDED),
        status=S.RUNNING, claimed_at=None, fetch_attempts=generation.fetch_attempts + 1, next_poll_at=timezone.now(),
    )
    pipeline.kick_sweep()


def _fetch_later(generation: Generation, exc: relaydance.RelayDanceError) -> None:
    attempts = generation.fetch_attempts + 1
    if attempts >= MAX_FETCH_ATTEMPTS:
        fail(generation.pk, failures.DOWNLOAD_FAILED, {"reason": exc.message}, from_status=S.SUCCEEDED)
        return
    Generation.objects.filter(pk=generation.pk, status=S.SUCCEEDED).update(
        claimed_at=None, fetch_attempts=attempts, next_poll_at=timezone.now() + timedelta(seconds=5 * 2**attempts)
    )
    log.info("generation=%s download failed (%s), will retry", generation.code, type(exc).__name__)
    pipeline.kick_sweep()
