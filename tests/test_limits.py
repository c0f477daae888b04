"""A user may start at most SUBMITS_PER_MINUTE generations a minute, counted in the database."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from studio.models import Generation
from tests.factories import give_key, make_generation

FORM = {"model": "doubao-seedance-2-0-720p", "prompt": "A lighthouse in fog", "seconds": "5", "ratio": "16:9",
        "resolution": "720p"}
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def three_a_minute(settings):
    settings.SUBMITS_PER_MINUTE = 3


@pytest.fixture
def keyed_client(login, alice, team):
    give_key(alice)
    return login(alice)


def started(team, user, count, seconds_ago=5):
    for _ in range(count):
        generation = make_generation(team, user)
        Generation.objects.filter(pk=generation.pk).update(created=timezone.now() - timedelta(seconds=seconds_ago))


def post(client, token, **extra):
    return client.post(reverse("studio:create"), {**FORM, "client_token": token}, **extra)


def test_submits_up_to_the_limit_are_accepted_then_refused_with_429(keyed_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        statuses = [post(keyed_client, f"t{i}", **HTMX).status_code for i in range(4)]
    assert statuses == [201, 201, 201, 429]
    assert Generation.objects.count() == 3


def test_refusal_rerenders_the_form_with_a_clear_message(keyed_client, alice, team):
    started(team, alice, 3, seconds_ago=20)
    response = post(keyed_client, "t-late", **HTMX)
    assert response.status_code == 429
    assert response["HX-Retarget"] == "#generate-form"
    page = response.content.decode()
    assert 'class="form-error" role="alert"' in page
    assert "You have started 3 videos in the last minute" in page
    assert "Try again in 41 seconds" in page or "Try again in 40 seconds" in page
    assert 'value="A lighthouse in fog"' in page or "A lighthouse in fog</textarea>" in page  # input kept


def test_refusal_without_htmx_shows_the_page_with_the_message(keyed_client, alice, team):
    started(team, alice, 3)
    response = post(keyed_client, "t-plain")
    assert response.status_code == 429
    assert "You have started 3 videos in the last minute" in response.content.decode()


def test_generations_older_than_a_minute_do_not_count(keyed_client, alice, team, django_capture_on_commit_callbacks):
    started(team, alice, 3, seconds_ago=61)
    with django_capture_on_commit_callbacks(execute=False):
        assert post(keyed_client, "t-ok", **HTMX).status_code == 201


def test_team_mates_have_their_own_limit(login, alice, bob, team, django_capture_on_commit_callbacks):
    started(team, alice, 3)
    give_key(bob)
    with django_capture_on_commit_callbacks(execute=False):
        assert post(login(bob), "t-bob", **HTMX).status_code == 201


def test_retry_is_refused_over_the_limit_above_the_cards_retry_button(keyed_client, alice, team):
    failed = make_generation(team, alice, status="failed", error="boom")
    started(team, alice, 2)
    response = keyed_client.post(reverse("studio:retry", args=[failed.code]), **HTMX)
    assert response.status_code == 429
    assert response["HX-Retarget"] == f"#card-{failed.code} .retry-row"
    assert "Try again in" in response.content.decode()
    assert Generation.objects.count() == 3


def test_retry_without_htmx_redirects_with_the_message(keyed_client, alice, team):
    failed = make_generation(team, alice, status="failed", error="boom")
    started(team, alice, 2)
    response = keyed_client.post(reverse("studio:retry", args=[failed.code]), follow=True)
    assert "You have started 3 videos in the last minute" in response.content.decode()
    assert Generation.objects.count() == 3


def test_htmx_swaps_429_responses(keyed_client):
    page = keyed_client.get(reverse("studio:home")).content.decode()
    assert '{"code": "4(13|29)", "swap": true}' in page
