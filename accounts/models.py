import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import crypto


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        with transaction.atomic():
            user = self._create(email, password, **extra)
            Team.objects.create_personal(user)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)

    def with_team_changes(self):
        """Users with `team_changes`, their current team's change count (see TeamActivity;
        None before the team's first change), and `team_changes_of`, that team."""
        counts = TeamActivity.objects.filter(team_id=models.OuterRef("current_team_id")).values("changes")[:1]
        return self.annotate(team_changes=models.Subquery(counts), team_changes_of=models.F("current_team_id"))


class User(AbstractUser):
    """A person; signs in with an email address."""

    username = None
    email = models.EmailField(_("email address"), unique=True)
    current_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    # Optional: what the user means to spend with their own key per month, across all teams.
    monthly_budget = models.DecimalField(_("monthly budget"), max_digits=10, decimal_places=2, null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email.split("@")[0]

    def teams(self):
        return Team.objects.filter(memberships__user=self).order_by("-personal", "name")

    def get_current_team(self) -> "Team":
        """The team the user is working in: the chosen one if still a member, else personal."""
        if self.current_team_id and self.memberships.filter(team_id=self.current_team_id).exists():
            return self.current_team
        team = self.teams().first()
        if team is None:
            team = Team.objects.create_personal(self)
        self.switch_team(team)
        return team

    def switch_team(self, team: "Team") -> None:
        self.current_team = team
        self.save(update_fields=["current_team"])


class TeamManager(models.Manager):
    def create_personal(self, user: User) -> "Team":
        team = self.create(name=_("%(name)s's studio") % {"name": user.display_name}, personal=True)
        Membership.objects.create(user=user, team=team, role=Membership.Role.OWNER)
        user.switch_team(team)
        return team


class Team(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=80)
    personal = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    # Optional, set by an owner: what the whole team means to spend per month.
    monthly_budget = models.DecimalField(_("monthly budget"), max_digits=10, decimal_places=2, null=True, blank=True)

    objects = TeamManager()

    def __str__(self) -> str:
        return self.name

    def role_of(self, user: User) -> str | None:
        membership = self.memberships.filter(user=user).first()
        return membership.role if membership else None

    def is_owner(self, user: User) -> bool:
        return self.role_of(user) == Membership.Role.OWNER

    def invite(self, created_by: User) -> "Invite":
        return Invite.objects.create(
            team=self,
            created_by=created_by,
            expires_at=timezone.now() + timedelta(days=settings.INVITE_TTL_DAYS),
        )


class TeamActivity(models.Model):
    """How many times the team's gallery has changed, counted after each change commits (see
    studio.activity). The auth backend loads it with the user, so a live poll from a page that
    has seen the current count answers "nothing new" without a query of its own. Apart from
    Team so that saving a team (its name, its budget) never writes an older count back."""

    team = models.OneToOneField(Team, primary_key=True, on_delete=models.CASCADE, related_name="activity")
    changes = models.PositiveBigIntegerField(default=0)


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MEMBER = "member", _("Member")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="one_membership_per_team")]


def _invite_token() -> str:
    return secrets.token_urlsafe(24)


class Invite(models.Model):
    """A link that lets whoever holds it join the team until it expires or is revoked."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invites")
    token = models.CharField(max_length=64, unique=True, default=_invite_token)
    created_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    def accept(self, user: User) -> Membership:
        membership, _ = Membership.objects.get_or_create(user=user, team=self.team)
        user.switch_team(self.team)
        return membership


class ApiKey(models.Model):
    """A user's RelayDance key, encrypted at rest; only its last four characters are shown."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="api_key")
    ciphertext = models.TextField()
    last4 = models.CharField(max_length=4)
    model_ids = models.JSONField(default=list, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"<ApiKey {self.masked} of user {self.user_id}>"

    @property
    def masked(self) -> str:
        return f"sk-…{self.last4}"

    @property
    def is_sandbox(self) -> bool:
        return self.reveal().startswith(settings.SANDBOX_KEY_PREFIX)

    def set_key(self, raw: str) -> None:
        self.ciphertext = crypto.encrypt(raw)
        self.last4 = raw[-4:]

    def reveal(self) -> str:
        """The plaintext key; call only right before a request to RelayDance."""
        return crypto.decrypt(self.ciphertext)
