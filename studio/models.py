import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from studio.pricing import Price, money  # noqa: F401  (Price: the price table)
from studio.sandbox.models import SandboxFile, SandboxTask  # noqa: F401  (the sandbox's tables)


def _webhook_token() -> str:
    return secrets.token_urlsafe(24)


def video_path(generation: "Generation", filename: str) -> str:
    return f"videos/{generation.team.code}/{generation.code}.mp4"


def poster_path(generation: "Generation", filename: str) -> str:
    return f"posters/{generation.team.code}/{generation.code}.jpg"


def reference_path(reference: "Reference", filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else "bin"
    return f"references/{reference.generation.team.code}/{uuid.uuid4()}.{ext}"


class GenerationQuerySet(models.QuerySet):
    def for_team(self, team):
        return self.filter(team=team)

    def pending(self):
        return self.filter(status__in=Generation.PENDING)


class Generation(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SUBMITTING = "submitting", _("Submitting")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Saving video")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    class Mode(models.TextChoices):
        TEXT = "text", _("Text to video")
        REFERENCE = "reference", _("Reference media")
        FRAMES = "frames", _("First / last frame")

    PENDING = (Status.QUEUED, Status.SUBMITTING, Status.RUNNING, Status.SUCCEEDED)

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="generations")
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="generations"
    )
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    model = models.CharField(_("model"), max_length=100)
    prompt = models.TextField(_("prompt"))
    seconds = models.PositiveSmallIntegerField(_("seconds"))
    ratio = models.CharField(_("ratio"), max_length=16)
    resolution = models.CharField(_("resolution"), max_length=16)
    generate_audio = models.BooleanField(_("audio"), default=False)
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.TEXT)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    task_id = models.CharField(max_length=128, blank=True, db_index=True)
    upstream_status = models.CharField(max_length=32, blank=True)
    # The failure in English, as a translatable message with `%(name)s` placeholders filled
    # from `error_args` when shown, so each viewer reads it in their own language.
    error = models.TextField(blank=True)
    error_args = models.JSONField(default=dict, blank=True)
    video_url = models.TextField(blank=True)  # the upstream URL, kept until the file is stored
    video = models.FileField(upload_to=video_path, blank=True, max_length=300)
    poster = models.FileField(upload_to=poster_path, blank=True, max_length=300)
    video_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)  # read from the stored file
    favourite = models.BooleanField(default=False)
    # The price estimate when it was created (studio.pricing), kept so later price edits don't
    # rewrite history; None when no price fits. A failed generation is not billed (studio.usage).
    estimated_cost = models.DecimalField(_("estimated cost"), max_digits=10, decimal_places=4, null=True, blank=True)
    # Bumped on every change a card shows, so the live poller can send only changed cards.
    version = models.PositiveIntegerField(default=0)
    webhook_token = models.CharField(max_length=64, default=_webhook_token, unique=True)

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)  # upstream reached a final state
    stored_at = models.DateTimeField(null=True, blank=True)  # video saved: ready

    # The form's one-time token: a double-clicked submit creates one generation.
    client_token = models.CharField(max_length=64, blank=True)
    # When a worker claimed the current step (submit or fetch), to spot dead workers.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Set (and committed) right before the create request leaves: after a crash, a
    # generation without it was provably never sent and may be submitted again.
    create_sent_at = models.DateTimeField(null=True, blank=True)

    polls = models.PositiveIntegerField(default=0)
    poll_failures = models.PositiveSmallIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    fetch_attempts = models.PositiveSmallIntegerField(default=0)

    objects = GenerationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["creator", "client_token"],
                condition=~models.Q(client_token=""),
                name="one_generation_per_form_token",
            )
        ]
        indexes = [
            models.Index(fields=["team", "-created", "-id"], name="gallery_order"),
            models.Index(fields=["status", "next_poll_at"], name="due_for_poll"),
            models.Index(fields=["creator", "created"], name="creator_month"),  # a member's spending
        ]

    def __str__(self) -> str:
        return f"Generation {self.code} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status in self.PENDING

    @property
    def cost_label(self) -> str:
        """The estimated cost for people ("$0.50"), or "" when no price fitted."""
        return money(self.estimated_cost) if self.estimated_cost is not None else ""


class Reference(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        VIDEO = "video", _("Video")
        AUDIO = "audio", _("Audio")
        FIRST_FRAME = "first_frame", _("First frame")
        LAST_FRAME = "last_frame", _("Last frame")

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="references")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    position = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to=reference_path, blank=True, max_length=300)
    url = models.URLField(max_length=2000, blank=True)  # a public URL the user gave
    name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "position"]

    def __str__(self) -> str:
        return f"{self.kind} {self.position + 1} of {self.generation_id}"


class Lease(models.Model):
    """A named lock held until `expires_at`, so only one worker runs a sweep at a time."""

    name = models.CharField(max_length=64, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField()
