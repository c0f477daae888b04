"""The Django admin (with django-q2's) is for staff only, and never shows an API key."""

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import give_key, make_generation

RAW_KEY = "sk-sandbox-admin-secret-9f3k"


@pytest.fixture
def staff(db):
    from accounts.models import User

    return User.objects.create_superuser("ops@example.com", "ops password 123")


ADMIN_PAGES = [
    "admin:index",
    "admin:accounts_user_changelist",
    "admin:accounts_team_changelist",
    "admin:accounts_apikey_changelist",
    "admin:django_q_schedule_changelist",
    "admin:django_q_success_changelist",
    "admin:django_q_failure_changelist",
    "admin:studio_generation_changelist",
    "admin:studio_price_changelist",
    # django-q2 shows its queue in the admin only when the queue is in the database
    *(["admin:django_q_ormq_changelist"] if "redis" not in settings.Q_CLUSTER else []),
]


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_staff_can_use_every_admin_page(login, staff, name):
    assert login(staff).get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", ["admin:index", "admin:accounts_apikey_changelist", "admin:django_q_schedule_changelist"])
def test_members_and_owners_are_sent_to_the_admin_login(login, alice, team, name):
    response = login(alice).get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_anonymous_visitors_are_sent_to_the_admin_login(client, db):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_the_api_key_is_never_shown_in_the_admin(login, staff, alice):
    api_key = give_key(alice, raw=RAW_KEY)
    client = login(staff)
    for url in [reverse("admin:accounts_apikey_changelist"), reverse("admin:accounts_apikey_change", args=[api_key.pk])]:
        page = client.get(url).content.decode()
        assert RAW_KEY not in page and api_key.ciphertext not in page
        assert "9f3k" in page  # the masked form only


def test_generations_admin_works_for_staff(login, staff, alice, team):
    from django.contrib import admin

    from studio.models import Generation

    assert Generation in admin.site._registry
    generation = make_generation(team, alice)
    client = login(staff)
    assert client.get(reverse("admin:studio_generation_changelist")).status_code == 200
    assert client.get(reverse("admin:studio_generation_change", args=[generation.pk])).status_code == 200
