"""Live cards: one poll per page, only changed cards back (out of band), 204 / 286, new team cards."""

import pytest
from django.urls import reverse

from studio.gallery import MAX_NEW
from studio.models import Generation
from studio.pipeline import delete_generation
from tests.factories import make_generation

HX = {"HTTP_HX_REQUEST": "true"}


def bump(generation, **changes):
    Generation.objects.filter(pk=generation.pk).update(version=generation.version + 1, **changes)


def poll(client, states, *, top=None, fast=True, **extra):
    data = {"s": [f"{g.code}:{g.version}" for g in states], **extra}
    if top is not None:
        data["top"] = str(top.code)
    if fast:
        data["fast"] = "1"
    return client.get(reverse("studio:live"), data, **HX)


@pytest.fixture
def running(team, alice, bob):
    """Three cards on Alice's page: two pending, and the newest (the top) ready."""
    first = make_generation(team, alice, prompt="first", status="running")
    second = make_generation(team, bob, prompt="second", status="queued")
    top = make_generation(team, alice, prompt="top", status="ready")
    return first, second, top


def test_page_with_pending_cards_has_one_fast_poller(login, alice, running):
    html = login(alice).get(reverse("studio:home")).content.decode()
    assert html.count('id="poller"') == 1
    assert 'hx-trigger="every 2s, studio:wake"' in html and "hx-vals='{\"fast\": \"1\"}'" in html
    first, second, _top = running
    for generation in (first, second):
        assert f'name="s" value="{generation.code}:0"' in html
    assert html.count('name="s"') == 2


def test_page_with_nothing_pending_polls_slowly_for_new_cards(login, alice, team):
    make_generation(team, alice, status="ready")
    html = login(alice).get(reverse("studio:home")).content.decode()
    assert 'hx-trigger="every 15s, studio:wake"' in html and "fast" not in html.split('id="poller"', 1)[1]


def test_nothing_changed_answers_204(login, alice, running):
    first, second, top = running
    assert poll(login(alice), [first, second], top=top).status_code == 204


def test_unchanged_poll_costs_at_most_3_queries(login, alice, running, django_assert_max_num_queries):
    client = login(alice)
    first, second, top = running
    poll(client, [first, second], top=top)
    with django_assert_max_num_queries(3):
        assert poll(client, [first, second], top=top).status_code == 204


def test_only_changed_cards_come_back_out_of_band(login, alice, running):
    first, second, top = running
    bump(first, status="succeeded")
    response = poll(login(alice), [first, second], top=top)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<article id="card-{first.code}" class="card is-succeeded" hx-swap-oob="outerHTML">' in html
    assert f'value="{first.code}:1"' in html  # the new version, still pending
    assert str(second.code) not in html
    assert 'id="poller"' not in html  # still fast: the poller stays as it is
    assert response["Cache-Control"].startswith("max-age=0")


def test_finished_card_shows_its_video(login, alice, running):
    first, second, top = running
    bump(first, status="ready", video="videos/x/first.mp4")
    html = poll(login(alice), [first, second], top=top).content.decode()
    assert f'src="{reverse("studio:video", args=[first.code])}"' in html


def test_last_pending_card_finishing_stops_fast_polling_with_286(login, alice, running):
    first, second, top = running
    Generation.objects.filter(pk=second.pk).update(status="ready")  # finished on an earlier poll
    bump(first, status="failed", error="Flagged by the content filter")
    response = poll(login(alice), [first], top=top)
    assert response.status_code == 286
    html = response.content.decode()
    assert "Flagged by the content filter" in html
    assert 'id="poller"' in html and 'hx-trigger="every 15s, studio:wake"' in html and 'hx-swap-oob="outerHTML"' in html


def test_nothing_pending_any_more_stops_even_without_changes(login, alice, running):
    first, _second, top = running
    first.delete()  # deleted while pending
    response = poll(login(alice), [first], top=top)
    assert response.status_code == 286 and 'hx-trigger="every 15s' in response.content.decode()


def test_slow_poll_with_nothing_new_answers_204(login, alice, running):
    _first, _second, top = running
    assert poll(login(alice), [], top=top, fast=False).status_code == 204


def test_team_mates_new_card_is_prepended_and_speeds_up_polling(login, alice, bob, team, running):
    first, second, top = running
    new = make_generation(team, bob, prompt="bob's new one", status="queued")
    response = poll(login(alice), [], top=top, fast=False)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<div hx-swap-oob="afterbegin:#gallery-grid">' in html
    assert f'id="card-{new.code}"' in html and html.count("<article") == 1
    assert 'hx-trigger="every 2s, studio:wake"' in html  # a pending card arrived: poll fast


def test_new_cards_arrive_newest_first(login, alice, bob, team, running):
    _first, _second, top = running
    older = make_generation(team, bob, prompt="a fox", status="ready")
    newer = make_generation(team, alice, prompt="another fox", status="ready")
    html = poll(login(alice), [], top=top, fast=False).content.decode()
    assert html.index(str(newer.code)) < html.index(str(older.code))
    assert str(top.code) not in html


def test_many_new_cards_come_oldest_first_over_several_polls(login, alice, bob, team, running):
    _first, _second, top = running
    made = [make_generation(team, bob, prompt=f"new {i}", status="ready") for i in range(MAX_NEW + 2)]
    response = poll(login(alice), [], top=top, fast=False)
    html = response.content.decode()
    assert html.count("<article") == MAX_NEW
    assert str(made[0].code) in html and str(made[-1].code) not in html  # no gap: the next poll goes on
    assert 'hx-trigger="every 2s' in html  # and comes soon


def test_filtered_gallery_gets_no_new_cards(login, alice, bob, team, running):
    first, _second, top = running
    make_generation(team, bob, prompt="a fox", status="ready")
    bump(first, status="ready")
    html = poll(login(alice), [first], top=top, q="fox").content.decode()
    assert html.count("<article") == 1 and f'id="card-{first.code}"' in html


def test_empty_gallery_receives_the_first_cards(login, alice, bob, team):
    new = make_generation(team, bob, status="running")
    html = poll(login(alice), [], fast=False).content.decode()
    assert f'id="card-{new.code}"' in html


def test_codes_of_other_teams_are_ignored(login, charlie, running):
    first, second, _top = running
    bump(first, status="ready")
    client = login(charlie)
    own = make_generation(charlie.get_current_team(), charlie, status="ready")
    response = poll(client, [first, second], top=own)
    assert response.status_code == 286  # nothing of charlie's is pending; alice's cards are not his
    html = response.content.decode()
    assert "<article" not in html and 'name="s"' not in html  # nothing of them but "drop it", as for a deleted card
    assert html.count('hx-swap-oob="delete"') == 2


def test_a_pending_card_deleted_elsewhere_is_dropped_from_the_page(login, alice, bob, running, django_capture_on_commit_callbacks):
    first, second, top = running
    with django_capture_on_commit_callbacks(execute=True):
        delete_generation(Generation.objects.get(pk=second.pk))  # bob deletes his queued card
    html = poll(login(alice), [first, second], top=top).content.decode()
    assert f'<div id="card-{second.code}" hx-swap-oob="delete"></div>' in html
    assert f"card-{first.code}" not in html  # unchanged


def test_a_deleted_top_card_is_dropped_so_new_cards_keep_coming(login, alice, bob, team, running):
    first, _second, top = running
    Generation.objects.filter(pk=top.pk).delete()
    html = poll(login(alice), [first], top=top).content.decode()
    assert f'<div id="card-{top.code}" hx-swap-oob="delete"></div>' in html
    newer = make_generation(team, bob, prompt="after the top went", status="queued")
    html = poll(login(alice), [first], top=first).content.decode()  # the page's next card is its top now
    assert f'id="card-{newer.code}"' in html


def test_malformed_states_are_ignored(login, alice, running):
    _first, _second, top = running
    response = login(alice).get(reverse("studio:live"), {"s": ["nonsense", "x:y", ":"], "top": str(top.code)}, **HX)
    assert response.status_code == 204


def test_live_requires_login(client):
    assert client.get(reverse("studio:live"), **HX).status_code == 302


def test_created_card_response_restarts_the_poller(rf, alice, team):
    from django.template.loader import render_to_string

    generation = make_generation(team, alice, status="queued")
    html = render_to_string("studio/home.html#poller", {"pending": True})
    assert 'hx-swap-oob="outerHTML"' in html and "every 2s" in html
    card = render_to_string("studio/home.html#card", {"generation": generation})
    assert "hx-swap-oob" not in card and f'name="s" value="{generation.code}:0"' in card
