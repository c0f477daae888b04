from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invite, Membership, Team


def test_create_team_makes_creator_owner_and_current(alice_client, alice):
    response = alice_client.post(reverse("accounts:teams"), {"name": "Night Shift"})
    team = Team.objects.get(name="Night Shift")
    assert response.status_code == 302
    assert team.is_owner(alice)
    alice.refresh_from_db()
    assert alice.current_team == team


def test_team_page_lists_members_with_roles(login, alice, bob, team):
    response = login(alice).get(reverse("accounts:team", args=[team.code]))
    assert response.status_code == 200
    assert b"bob@example.com" in response.content and b"Owner" in response.content


def test_switch_team_from_navigation(login, bob, team):
    personal = bob.teams().get(personal=True)
    client = login(bob)
    client.post(reverse("accounts:team_switch", args=[personal.code]))
    bob.refresh_from_db()
    assert bob.current_team == personal
    assert b"Moonlight" in client.get(reverse("studio:home")).content


def test_user_with_only_personal_team_sees_no_other_team(login, charlie, team):
    response = login(charlie).get(reverse("accounts:teams"))
    assert b"Moonlight" not in response.content
    assert b"Moonlight" not in login(charlie).get(reverse("studio:home")).content


def test_owner_creates_invite_and_newcomer_joins_after_signup(client, login, alice, team):
    login(alice).post(reverse("accounts:invite_create", args=[team.code]))
    invite = Invite.objects.get(team=team)
    client.logout()
    url = reverse("accounts:invite_accept", args=[invite.token])
    assert b"Sign up to join" in client.get(url).content
    client.post(
        reverse("accounts:signup") + f"?next={url}",
        {"email": "dana@example.com", "password1": "pass phrase 123!", "password2": "pass phrase 123!", "next": url},
    )
    response = client.post(url)
    assert response.status_code == 302
    assert team.memberships.filter(user__email="dana@example.com", role="member").exists()


def test_revoked_invite_does_not_work(login, alice, charlie, team):
    invite = team.invite(alice)
    login(alice).post(reverse("accounts:invite_revoke", args=[team.code, invite.pk]))
    client = login(charlie)
    url = reverse("accounts:invite_accept", args=[invite.token])
    assert client.get(url).status_code == 404
    client.post(url)
    assert not team.memberships.filter(user=charlie).exists()


def test_expired_invite_does_not_work(login, alice, charlie, team):
    invite = team.invite(alice)
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = login(charlie).post(reverse("accounts:invite_accept", args=[invite.token]))
    assert response.status_code == 404
    assert not team.memberships.filter(user=charlie).exists()


def test_member_cannot_create_invites(login, bob, team):
    response = login(bob).post(reverse("accounts:invite_create", args=[team.code]))
    assert response.status_code == 403
    assert not Invite.objects.exists()


def test_owner_removes_member(login, alice, bob, team):
    membership = Membership.objects.get(team=team, user=bob)
    login(alice).post(reverse("accounts:member_remove", args=[team.code, membership.pk]))
    assert not team.memberships.filter(user=bob).exists()
    bob.refresh_from_db()
    assert bob.get_current_team().personal


def test_member_cannot_remove_others(login, alice, bob, team):
    membership = Membership.objects.get(team=team, user=alice)
    assert login(bob).post(reverse("accounts:member_remove", args=[team.code, membership.pk])).status_code == 403
    assert team.memberships.filter(user=alice).exists()


def test_member_leaves_team(login, bob, team):
    login(bob).post(reverse("accounts:team_leave", args=[team.code]))
    assert not team.memberships.filter(user=bob).exists()


def test_sole_owner_cannot_leave_team_with_members(login, alice, team):
    login(alice).post(reverse("accounts:team_leave", args=[team.code]))
    assert team.memberships.filter(user=alice).exists()


@pytest.mark.django_db
def test_personal_team_cannot_be_left(login, alice):
    personal = alice.teams().get(personal=True)
    login(alice).post(reverse("accounts:team_leave", args=[personal.code]))
    assert personal.memberships.filter(user=alice).exists()
