from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from accounts.forms import ApiKeyForm, SignupForm, TeamForm
from accounts.keys import save_key
from accounts.models import ApiKey, Invite, Membership, Team


def _get_team_for_user(request: HttpRequest, code) -> Team:
    """A team the user belongs to, or 404: outsiders learn nothing."""
    return get_object_or_404(Team, code=code, memberships__user=request.user)


def _get_owned_team(request: HttpRequest, code) -> Team:
    team = _get_team_for_user(request, code)
    if not team.is_owner(request.user):
        raise PermissionDenied
    return team


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("studio:home")
    form = SignupForm(request.POST or None)
    if form.is_valid():
        user = form.save()
        login(request, user, backend="accounts.throttle.ThrottledModelBackend")
        messages.success(request, _("Welcome to Studio! Add an API key to start generating."))
        return redirect(_safe_next(request, "accounts:api_key"))
    return render(request, "accounts/signup.html", {"form": form, "next": _safe_next(request, "")})


@login_required
@sensitive_post_parameters("key")
@sensitive_variables("form")
def api_key(request: HttpRequest) -> HttpResponse:
    current = ApiKey.objects.filter(user=request.user).first()
    form = ApiKeyForm(request.POST or None)
    if form.is_valid():
        save_key(request.user, form.cleaned_data["key"], form.cleaned_data["model_ids"])
        count = len(form.cleaned_data["model_ids"])
        messages.success(request, ngettext("Key saved. It may use %(count)d model.", "Key saved. It may use %(count)d models.", count) % {"count": count})
        return redirect("accounts:api_key")
    return render(request, "accounts/api_key.html", {"form": form, "api_key": current})


@login_required
@require_POST
def api_key_delete(request: HttpRequest) -> HttpResponse:
    deleted, _rows = ApiKey.objects.filter(user=request.user).delete()
    if deleted:
        messages.success(request, _("Your key was deleted."))
    return redirect("accounts:api_key")


@login_required
def teams(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if form.is_valid():
        with transaction.atomic():
            team = form.save()
            Membership.objects.create(user=request.user, team=team, role=Membership.Role.OWNER)
            request.user.switch_team(team)
        messages.success(request, _("Team “%(name)s” created. Invite your team-mates.") % {"name": team.name})
        return redirect("accounts:team", code=team.code)
    memberships = request.user.memberships.select_related("team").order_by("-team__personal", "team__name")
    return render(request, "accounts/teams.html", {"form": form, "memberships": memberships})


@login_required
def team(request: HttpRequest, code) -> HttpResponse:
    team = _get_team_for_user(request, code)
    is_owner = team.is_owner(request.user)
    invites = team.invites.filter(revoked_at__isnull=True, expires_at__gt=timezone.now()) if is_owner else []
    ctx = {
        "team": team,
        "is_owner": is_owner,
        "members": team.memberships.select_related("user").order_by("created"),
        "invites": invites,
    }
    return render(request, "accounts/team.html", ctx)


@login_required
@require_POST
def team_rename(request: HttpRequest, code) -> HttpResponse:
    team = _get_owned_team(request, code)
    form = TeamForm(request.POST, instance=team)
    if form.is_valid():
        form.save()
        messages.success(request, _("Team renamed."))
    else:
        messages.error(request, form.errors["name"][0])
    return redirect("accounts:team", code=team.code)


@login_required
@require_POST
def invite_create(request: HttpRequest, code) -> HttpResponse:
    team = _get_owned_team(request, code)
    if team.personal:
        messages.error(request, _("Your personal studio is just for you. Create a team to invite people."))
    else:
        team.invite(request.user)
        messages.success(request, _("Invite link created. Send it to the people you want in this team."))
    return redirect("accounts:team", code=team.code)


@login_required
@require_POST
def invite_revoke(request: HttpRequest, code, pk: int) -> HttpResponse:
    team = _get_owned_team(request, code)
    invite = get_object_or_404(Invite, pk=pk, team=team)
    invite.revoked_at = timezone.now()
    invite.save(update_fields=["revoked_at"])
    messages.success(request, _("Invite link revoked; it no longer works."))
    return redirect("accounts:team", code=team.code)


def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    invite = Invite.objects.select_related("team", "created_by").filter(token=token).first()
    if invite is None or not invite.is_usable:
        return render(request, "accounts/invite.html", {"invite": None}, status=404)
    if request.method == "POST" and request.user.is_authenticated:
        invite.accept(request.user)
        messages.success(request, _("You joined “%(name)s”.") % {"name": invite.team.name})
        return redirect("studio:home")
    already = request.user.is_authenticated and invite.team.memberships.filter(user=request.user).exists()
    return render(request, "accounts/invite.html", {"invite": invite, "already_member": already})


@login_required
@require_POST
def member_remove(request: HttpRequest, code, pk: int) -> HttpResponse:
    team = _get_owned_team(request, code)
    membership = get_object_or_404(Membership, pk=pk, team=team)
    if membership.user_id == request.user.pk:
        messages.error(request, _("You cannot remove yourself; leave the team instead."))
    else:
        membership.delete()
        messages.success(request, _("%(who)s was removed from the team.") % {"who": membership.user.display_name})
    return redirect("accounts:team", code=team.code)


@login_required
@require_POST
def team_leave(request: HttpRequest, code) -> HttpResponse:
    team = _get_team_for_user(request, code)
    owners = team.memberships.filter(role=Membership.Role.OWNER)
    if team.personal:
        messages.error(request, _("You cannot leave your personal studio."))
        return redirect("accounts:team", code=team.code)
    if team.is_owner(request.user) and owners.count() == 1 and team.memberships.count() > 1:
        messages.error(request, _("You are the only owner. Make someone else an owner before you leave."))
        return redirect("accounts:team", code=team.code)
    team.memberships.filter(user=request.user).delete()
    if not team.memberships.exists():
        team.delete()
    messages.success(request, _("You left “%(name)s”.") % {"name": team.name})
    return redirect("accounts:teams")


@login_required
@require_POST
def member_promote(request: HttpRequest, code, pk: int) -> HttpResponse:
    team = _get_owned_team(request, code)
    membership = get_object_or_404(Membership, pk=pk, team=team)
    membership.role = Membership.Role.OWNER
    membership.save(update_fields=["role"])
    messages.success(request, _("%(who)s is now an owner.") % {"who": membership.user.display_name})
    return redirect("accounts:team", code=team.code)


@login_required
@require_POST
def team_switch(request: HttpRequest, code) -> HttpResponse:
    team = _get_team_for_user(request, code)
    request.user.switch_team(team)
    return redirect(_safe_next(request, "studio:home"))
