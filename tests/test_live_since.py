"""The team's change count: counted after each committed change, loaded with the user, and
an unchanged live poll answered from it alone (studio.activity)."""

import re

import pytest
from django.urls import reverse

from accounts.models import TeamActivity, User
from accounts.throttle import ThrottledModelBackend
from studio import activity, pipeline
from studio.gallery import MAX_NEW
from studio.models import Generation
from tests.factories import give_key, make_generation
from tests.test_live import HX, poll, running  # noqa: F401 (running: a fixture)

_SINCE = re.compile(r'id="live-since" name="since" value="([^"]*)"')


def changes_of(team) -> int | None:
    return TeamActivity.objects.filter(team=team).values_list("changes", flat=True).first()


def since_in(html: str) -> str:
    return _SINCE.search(html).group(1)


@pytest.fixture
def counted(running, team):
    """test_live's page (two pending cards, a ready top card) in a team that has changed before."""
    TeamActivity.objects.create(team=team, changes=7)
    return running


@pytest.fixture
def no_recheck(monkeypatch):
    monkeypatch.setattr("studio.views.random.randrange", lambda n: 1)


# --- counting ---------------------------------------------------------------------------


def test_a_card_change_is_counted_once_its_transaction_commits(counted, team, django_capture_on_commit_callbacks):
    first, _second, _top = counted
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        pipeline.bump(Generation.objects.filter(pk=first.pk, status="running"), status="succeeded")
        assert changes_of(team) == 7  # not before the commit: a page could see the count, not the card
    assert len(callbacks) == 1 and changes_of(team) == 8


def test_an_update_that_matches_nothing_counts_nothing(counted, team, django_capture_on_commit_callbacks):
    first, _second, _top = counted
    with django_capture_on_commit_callbacks(execute=True):
        assert pipeline.bump(Generation.objects.filter(pk=first.pk, status="queued"), status="submitting") == 0
    assert changes_of(team) == 7


def test_a_teams_first_change_makes_its_count(team, alice, django_capture_on_commit_callbacks):
    card = make_generation(team, alice, status="queued")
    assert changes_of(team) is None
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.bump(Generation.objects.filter(pk=card.pk), status="submitting")
    assert changes_of(team) == 1


def test_a_new_card_and_a_favourite_are_counted(login, team, alice, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("studio.pipeline.enqueue", lambda func, pk=None: None)  # no submit here
    give_key(alice)
    keyed_client = login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        keyed_client.post(reverse("studio:create"), {
            "model": "doubao-seedance-2-0-720p", "prompt": "A heron lifts off", "seconds": "5", "ratio": "16:9",
            "resolution": "720p", "client_token": "5b0c8f5e-0f7c-4c38-9d5f-1c1d2b7f0a11"}, **HX)
    assert changes_of(team) == 1
    card = Generation.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        keyed_client.post(reverse("studio:favourite", args=[card.code]), {"favourite": "1"}, **HX)
    assert changes_of(team) == 2


def test_the_user_comes_with_the_current_teams_count(counted, team, alice):
    user = ThrottledModelBackend().get_user(alice.pk)
    assert activity.seen_changes(user) == f"{team.pk}.7"
    assert activity.seen_changes(User.objects.get(pk=alice.pk)) == ""  # loaded without it: always check


def test_a_count_loaded_for_another_team_is_not_claimed(counted, alice):
    user = ThrottledModelBackend().get_user(alice.pk)
    user.switch_team(alice.memberships.exclude(team=user.current_team_id).first().team)  # her own studio
    assert activity.seen_changes(user) == ""


# --- the live poll ----------------------------------------------------------------------


def test_the_page_carries_the_count_it_has_seen(login, alice, team, counted):
    html = login(alice).get(reverse("studio:home")).content.decode()
    assert since_in(html) == f"{team.pk}.7"
    assert "#live-since" in html.split('id="poller"', 1)[1].split(">", 1)[0]  # sent with every poll


def test_a_poll_that_has_seen_the_count_gets_204_from_the_user_query_alone(
    login, alice, team, counted, no_recheck, django_assert_num_queries
):
    first, second, top = counted
    client = login(alice)
    with django_assert_num_queries(2):  # the session and the user (with the count)
        assert poll(client, [first, second], since=f"{team.pk}.7", top=top).status_code == 204


def test_a_counted_change_makes_the_next_poll_check_and_hand_over_the_new_count(
    login, alice, team, counted, no_recheck, django_capture_on_commit_callbacks
):
    first, second, top = counted
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.bump(Generation.objects.filter(pk=first.pk), status="ready")
    response = poll(login(alice), [first, second], since=f"{team.pk}.7", top=top)
    html = response.content.decode()
    assert response.status_code == 200 and f'id="card-{first.code}"' in html
    assert since_in(html) == f"{team.pk}.8" and re.search(r'id="live-since"[^>]* hx-swap-oob="outerHTML"', html)
    first.refresh_from_db()
    assert poll(login(alice), [second], since=f"{team.pk}.8", top=top).status_code == 204


def test_a_change_the_page_does_not_show_hands_over_the_count_alone(
    login, alice, team, counted, no_recheck, django_assert_num_queries
):
    first, second, top = counted
    TeamActivity.objects.filter(team=team).update(changes=8)  # say, a favourite on an older card
    client = login(alice)
    with django_assert_num_queries(3):  # the session, the user, the cards' states
        response = poll(client, [first, second], since=f"{team.pk}.7", top=top)
    html = response.content.decode()
    assert response.status_code == 200 and "<article" not in html and since_in(html) == f"{team.pk}.8"


def test_one_poll_in_a_while_checks_even_when_the_count_has_not_moved(login, alice, team, counted, monkeypatch):
    first, second, top = counted
    Generation.objects.filter(pk=first.pk).update(status="ready", version=1)  # a change whose count was lost
    monkeypatch.setattr("studio.views.random.randrange", lambda n: 0)
    html = poll(login(alice), [first, second], since=f"{team.pk}.7", top=top).content.decode()
    assert f'id="card-{first.code}"' in html


def test_another_teams_count_is_not_taken_as_seen(login, alice, team, counted, no_recheck):
    first, second, top = counted
    Generation.objects.filter(pk=first.pk).update(status="ready", version=1)
    own_studio = alice.memberships.exclude(team=team).first().team
    html = poll(login(alice), [first, second], since=f"{own_studio.pk}.7", top=top).content.decode()
    assert f'id="card-{first.code}"' in html


def test_more_new_cards_than_one_poll_leave_the_count_unseen(login, alice, bob, team, counted, no_recheck):
    _first, _second, top = counted
    for i in range(MAX_NEW + 2):
        make_generation(team, bob, prompt=f"new {i}", status="ready")
    TeamActivity.objects.filter(team=team).update(changes=8)
    html = poll(login(alice), [], since=f"{team.pk}.7", top=top).content.decode()
    assert html.count("<article") == MAX_NEW and since_in(html) == ""  # so the next poll checks for the rest
