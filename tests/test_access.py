"""Another team's objects answer 404 to outsiders, for every view that takes an id."""

import pytest
from django.urls import reverse

from accounts.models import Membership

TEAM_VIEWS = [
    ("get", "accounts:team"),
    ("post", "accounts:team_rename"),
    ("post", "accounts:team_switch"),
    ("post", "accounts:team_leave"),
    ("post", "accounts:invite_create"),
]


@pytest.mark.parametrize("method,name", TEAM_VIEWS)
def test_outsider_gets_404_for_team_views(login, charlie, team, method, name):
    response = getattr(login(charlie), method)(reverse(name, args=[team.code]), {"name": "Pwned"})
    assert response.status_code == 404
    team.refresh_from_db()
    assert team.name == "Moonlight"


@pytest.mark.parametrize("name", ["accounts:member_remove", "accounts:member_promote"])
def test_outsider_gets_404_for_member_views(login, charlie, alice, team, name):
    membership = Membership.objects.get(team=team, user=alice)
    response = login(charlie).post(reverse(name, args=[team.code, membership.pk]))
    assert response.status_code == 404


def test_outsider_gets_404_for_invite_revoke(login, alice, charlie, team):
    invite = team.invite(alice)
    assert login(charlie).post(reverse("accounts:invite_revoke", args=[team.code, invite.pk])).status_code == 404
    invite.refresh_from_db()
    assert invite.revoked_at is None


def test_owner_cannot_act_on_membership_of_another_team(login, alice, charlie, team):
    other = charlie.teams().get()
    membership = Membership.objects.get(team=other, user=charlie)
    response = login(alice).post(reverse("accounts:member_remove", args=[team.code, membership.pk]))
    assert response.status_code == 404
    assert Membership.objects.filter(pk=membership.pk).exists()
