"""The shared cast: alice owns the team "Moonlight", bob is her team-mate, charlie is an outsider."""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright runs an event loop

from accounts.models import Membership, Team, User  # noqa: E402

PASSWORD = "correct horse battery staple"


def make_user(email: str) -> User:
    return User.objects.create_user(email, PASSWORD)


@pytest.fixture
def alice(db) -> User:
    return make_user("alice@example.com")


@pytest.fixture
def bob(db) -> User:
    return make_user("bob@example.com")


@pytest.fixture
def charlie(db) -> User:
    return make_user("charlie@example.com")


@pytest.fixture
def team(alice, bob) -> Team:
    team = Team.objects.create(name="Moonlight")
    Membership.objects.create(user=alice, team=team, role=Membership.Role.OWNER)
    Membership.objects.create(user=bob, team=team, role=Membership.Role.MEMBER)
    alice.switch_team(team)
    bob.switch_team(team)
    return team


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def login(client):
    def _login(user: User):
        client.force_login(user)
        return client

    return _login
