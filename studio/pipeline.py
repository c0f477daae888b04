"""Creating, retrying and deleting generations: the flows that span models, storage and jobs."""

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import Team, User
from studio import activity
from studio.forms import GenerationForm
from studio.models import Generation, Lease, Reference
from studio.pricing import estimate
from studio.storage import copy_file

log = logging.getLogger("studio.pipeline")


def enqueue(func: str, pk: int | None = None) -> None:
    """Queue a job by dotted name with a primary key only (never a key or an instance)."""
    args = (pk,) if pk is not None else ()
    async_task(func, *args, q_options={"task_name": f"{func.rsplit('.', 1)[-1]}-{pk or ''}"})


def enqueue_on_commit(func: str, pk: int | None = None) -> None:
    transaction.on_commit(lambda: enqueue(func, pk))


SWEEP_QUEUED = "queued"  # the sweep lease's holder while a kicked sweep waits in the queue
SWEEP_QUEUED_SECONDS = 15


def kick_sweep() -> None:
    """Start a sweep (on commit) unless one is running or already queued: it keeps itself
    going while work is pending. The kick holds the sweep lease for a few seconds as "queued",
    so a burst of kicks (500 submits, a storm of webhooks) queues one sweep, not one each; the
    queued sweep takes the lease over, and a lost one frees it when the hold runs out."""
    transaction.on_commit(_kick_sweep_now)


def _kick_sweep_now() -> None:
    now = timezone.now()
    hold = {"holder": SWEEP_QUEUED, "expires_at": now + timedelta(seconds=SWEEP_QUEUED_SECONDS)}
    queued = Lease.objects.filter(name="sweep", expires_at__lte=now).update(**hold)
    if not queued:
        _lease, queued = Lease.objects.get_or_create(name="sweep", defaults=hold)
    if queued:
        enqueue("studio.tasks.sweep")


def webhooks_enabled() -> bool:
    if settings.WEBHOOKS_ENABLED is not None:
        return settings.WEBHOOKS_ENABLED
    host = urlsplit(settings.SITE_URL).hostname or ""
    return settings.SITE_URL.startswith("https://") and host not in {"localhost", "127.0.0.1", "::1"}


def callback_url(generation: Generation) -> str | None:
    if not webhooks_enabled():
        return None
    return f"{settings.SITE_URL}/hooks/relaydance/{generation.webhook_token}/"


def create_generation(user: User, team: Team, form: GenerationForm) -> tuple[Generation, bool]:
    """Save a valid form as a queued generation with its references, and enqueue the submit
    on commit. Returns (generation, created); a resubmitted form token returns the first one."""
    data = form.cleaned_data
    existing = Generation.objects.filter(creator=user, client_token=data["client_token"]).first()
    if existing:
        return existing, False
    modes = {r.kind for r in form.references}
    mode = (
        Generation.Mode.FRAMES
        if modes & {Reference.Kind.FIRST_FRAME, Reference.Kind.LAST_FRAME}
        else Generation.Mode.REFERENCE if modes else Generation.Mode.TEXT
    )
    try:
        with transaction.atomic():
            generation = Generation.objects.create(
                team=team, creator=user, model=data["model"], prompt=data["prompt"].strip(),
                seconds=data["seconds"], ratio=data["ratio"], resolution=data["resolution"],
                generate_audio=data["generate_audio"], mode=mode, client_token=data["client_token"],
                estimated_cost=estimate(data["model"], data["seconds"], data["resolution"], data["generate_audio"]),
            )
            for ref in form.references:
                _save_reference(generation, ref)
            enqueue_on_commit("studio.tasks.submit_generation", generation.pk)
            activity.gallery_changed([team.pk])
    except IntegrityError:
        # The same form token won a race with us (double click): answer the first one.
        return Generation.objects.get(creator=user, client_token=data["client_token"]), False
    log.info("generation=%s created model=%s mode=%s refs=%d", generation.code, generation.model, mode, len(form.references))
    return generation, True


def _save_reference(generation: Generation, ref) -> Reference:
    if ref.source is not None:
        return _copy_reference(ref.source, generation, position=ref.position)
    reference = Reference(generation=generation, kind=ref.kind, position=ref.position, url=ref.url)
    if ref.upload is not None:
        reference.name, reference.content_type, reference.size = ref.name, ref.content_type, ref.upload.size
        ref.upload.seek(0)
        reference.file.save(ref.name or "upload", ref.upload, save=False)
    reference.save()
    return reference


def _copy_reference(source: Reference, generation: Generation, *, position: int) -> Reference:
    """A copy of another generation's reference, with its own stored file."""
    copy = Reference(generation=generation, kind=source.kind, position=position, url=source.url,
                     name=source.name, content_type=source.content_type, size=source.size)
    if source.file:
        copy_file(source.file, copy.file, source.name or "reference")
    copy.save()
    return copy


def retry_generation(generation: Generation, user: User) -> Generation:
    """A new queued generation with the same inputs (references copied from storage)."""
    with transaction.atomic():
        retry = Generation.objects.create(
            team=generation.team, creator=user, retry_of=generation, model=generation.model,
            prompt=generation.prompt, seconds=generation.seconds, ratio=generation.ratio,
            resolution=generation.resolution, generate_audio=generation.generate_audio, mode=generation.mode,
            estimated_cost=estimate(generation.model, generation.seconds, generation.resolution, generation.generate_audio),
        )
        for source in generation.references.all():
            _copy_reference(source, retry, position=source.position)
        enqueue_on_commit("studio.tasks.submit_generation", retry.pk)
        activity.gallery_changed([retry.team_id])
    log.info("generation=%s retry of=%s", retry.code, generation.code)
    return retry


def delete_generation(generation: Generation) -> None:
    """Delete the row, then its video, poster and reference files from storage."""
    files = [generation.video, generation.poster, *(ref.file for ref in generation.references.all())]
    names = [(f.storage, f.name) for f in files if f]
    generation.delete()
    activity.gallery_changed([generation.team_id])  # open pages drop it (if pending, or their top card)
    for storage, name in names:
        try:
            storage.delete(name)
        except Exception as exc:  # any backend's error (S3's are not OSError): the row is gone
            log.warning("could not delete %s from storage: %s", name, type(exc).__name__)
    log.info("generation=%s deleted", generation.code)


def bump(queryset, **changes) -> int:
    """A conditional update that also bumps the card version and, once committed, the team's
    change count, so live pages see it. The teams are read first: after the update the rows
    may no longer match the queryset's conditions."""
    team_ids = list(queryset.values_list("team_id", flat=True).distinct())
    if not team_ids:
        return 0
    updated = queryset.update(version=F("version") + 1, **changes)
    if updated:
        activity.gallery_changed(team_ids)
    return updated
