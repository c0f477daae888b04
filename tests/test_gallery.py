"""The studio page and its gallery: team scope, filters, keyset pagination, empty states, detail."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from studio.gallery import PAGE_SIZE, decode_cursor, encode_cursor
from studio.models import Generation, Reference
from tests.factories import give_key, make_generation

HX = {"HTTP_HX_REQUEST": "true"}


def card_ids(response) -> list[str]:
    html = response.content.decode()
    return [part.split('"', 1)[0] for part in html.split('id="card-')[1:]]


@pytest.fixture
def cards(team, alice, bob, charlie):
    """Alice's and Bob's cards in Moonlight, oldest first, and one of Charlie's own team."""
    made = [
        make_generation(team, alice, prompt="A red fox in the snow", status="ready"),
        make_generation(team, bob, prompt="Neon koi in a flooded street", status="failed", error="Flagged"),
        make_generation(team, alice, prompt="Glacier lakes from above", status="running", model="seedance-1-5-pro-no-audio"),
        make_generation(team, bob, prompt="A fox cub at dawn", status="ready", favourite=True),
    ]
    make_generation(charlie.get_current_team(), charlie, prompt="Charlie's secret fox")
    return made


def test_studio_page_shows_the_team_gallery_newest_first(login, alice, cards):
    response = login(alice).get(reverse("studio:home"))
    assert response.status_code == 200
    assert card_ids(response) == [str(g.code) for g in reversed(cards)]
    assert "Charlie&#x27;s secret fox" not in response.content.decode()
    assert response["Vary"].startswith("HX-Request")


def test_team_mate_sees_the_same_gallery(login, bob, cards):
    assert len(card_ids(login(bob).get(reverse("studio:home")))) == 4


def test_outsider_sees_only_their_own_team(login, charlie, cards):
    response = login(charlie).get(reverse("studio:home"))
    assert len(card_ids(response)) == 1
    assert "Charlie&#x27;s secret fox" in response.content.decode()


def test_anonymous_user_is_sent_to_log_in(client):
    response = client.get(reverse("studio:home"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize(
    "query,expected",
    [
        ({"q": "FOX"}, [3, 0]),
        ({"status": "failed"}, [1]),
        ({"status": "pending"}, [2]),
        ({"model": "seedance-1-5-pro-no-audio"}, [2]),
        ({"favourites": "1"}, [3]),
        ({"q": "fox", "status": "ready", "favourites": "1"}, [3]),
        ({"status": "bogus"}, [3, 2, 1, 0]),  # an invalid value is not applied
    ],
)
def test_filters_combine(login, alice, cards, query, expected):
    response = login(alice).get(reverse("studio:gallery"), query, **HX)
    assert card_ids(response) == [str(cards[i].code) for i in expected]


def test_creator_filter(login, alice, bob, cards):
    response = login(alice).get(reverse("studio:gallery"), {"creator": bob.pk}, **HX)
    assert card_ids(response) == [str(cards[3].code), str(cards[1].code)]


def test_filtered_gallery_is_a_fragment_with_a_shareable_url(login, alice, cards):
    response = login(alice).get(reverse("studio:gallery"), {"q": "fox", "status": "ready"}, **HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="gallery"')
    assert "<html" not in html
    assert response["HX-Push-Url"] == "/?q=fox&status=ready"
    assert 'id="poller"' in html and 'hx-swap-oob="outerHTML"' in html
    assert response["Vary"].startswith("HX-Request")


def test_shared_url_renders_the_filtered_page(login, alice, cards):
    response = login(alice).get(reverse("studio:home"), {"q": "fox", "status": "ready"})
    assert card_ids(response) == [str(cards[3].code), str(cards[0].code)]
    assert 'value="fox"' in response.content.decode()


def test_history_restore_and_plain_requests_get_the_whole_page(login, alice, cards):
    client = login(alice)
    restore = client.get(reverse("studio:gallery"), {"q": "fox"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HX)
    plain = client.get(reverse("studio:gallery"), {"q": "fox"})
    for response in (restore, plain):
        assert "<html" in response.content.decode()
        assert len(card_ids(response)) == 2


def test_keyset_pagination_walks_every_card_once(login, alice, team):
    made = [make_generation(team, alice, prompt=f"shot {i}") for i in range(PAGE_SIZE * 2 + 5)]
    Generation.objects.update(created=made[0].created)  # ties on created: the id breaks them
    client = login(alice)
    response = client.get(reverse("studio:gallery"), **HX)
    seen = card_ids(response)
    while 'after=' in response.content.decode():
        cursor = response.content.decode().split("after=", 1)[1].split('"', 1)[0]
        response = client.get(reverse("studio:gallery"), {"after": cursor}, **HX)
        assert "<html" not in response.content.decode() and 'id="gallery"' not in response.content.decode()
        seen += card_ids(response)
    assert seen == [str(g.code) for g in reversed(made)]


def test_load_more_keeps_the_filters(login, alice, team):
    for i in range(PAGE_SIZE + 6):
        make_generation(team, alice, prompt=f"owl {i}")
        make_generation(team, alice, prompt=f"fox {i}")
    client = login(alice)
    html = client.get(reverse("studio:gallery"), {"q": "fox"}, **HX).content.decode()
    assert 'hx-get="/gallery/?q=fox&amp;after=' in html and 'hx-trigger="click, revealed"' in html
    cursor = html.split("q=fox&amp;after=", 1)[1].split('"', 1)[0]
    response = client.get(reverse("studio:gallery"), {"q": "fox", "after": cursor}, **HX)
    assert len(card_ids(response)) == 6
    assert "owl" not in response.content.decode() and "after=" not in response.content.decode()


def test_cursor_round_trips_and_bad_cursors_are_ignored(alice, team):
    generation = make_generation(team, alice)
    cursor = decode_cursor(encode_cursor(generation))
    assert (cursor.created, cursor.pk) == (generation.created, generation.pk)
    assert decode_cursor("not-a-cursor") is None and decode_cursor("") is None


def test_gallery_queries_do_not_grow_with_the_team(login, alice, bob, team, django_assert_max_num_queries):
    for i in range(60):
        generation = make_generation(team, bob if i % 2 else alice, prompt=f"shot {i}")
        Reference.objects.create(generation=generation, kind="image", url="https://example.com/a.png")
    client = login(alice)
    client.get(reverse("studio:gallery"), **HX)  # warm the session
    with django_assert_max_num_queries(10):
        client.get(reverse("studio:gallery"), **HX)
    with django_assert_max_num_queries(10):
        client.get(reverse("studio:gallery"), {"q": "shot", "creator": bob.pk}, **HX)
    cache.clear()  # every card rendered afresh
    with django_assert_max_num_queries(10):
        client.get(reverse("studio:home"))


def test_empty_gallery_offers_a_first_prompt(login, alice, team):
    give_key(alice)
    html = login(alice).get(reverse("studio:home")).content.decode()
    assert "data-fill-prompt=" in html
    assert reverse("accounts:api_key") + '"' not in html.split('class="studio"', 1)[1].split('id="generate-form"', 1)[0]


def test_filtered_empty_gallery_offers_to_clear_filters(login, alice, cards):
    html = login(alice).get(reverse("studio:gallery"), {"q": "walrus"}, **HX).content.decode()
    assert "No videos match these filters." in html and "data-fill-prompt" not in html


def test_user_without_key_is_pointed_to_the_key_page(login, alice, team):
    html = login(alice).get(reverse("studio:home")).content.decode()
    gallery = html.split('id="gallery"', 1)[1]
    assert f'href="{reverse("accounts:api_key")}"' in gallery and "data-fill-prompt" not in gallery


def test_detail_shows_the_whole_generation_to_the_team(login, bob, cards):
    generation = cards[2]
    Reference.objects.create(generation=generation, kind="image", position=0, url="https://example.com/a.png", name="cat.png")
    response = login(bob).get(reverse("studio:detail", args=[generation.code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Glacier lakes from above" in html and "cat.png" in html and "@image1" in html
    assert 'hx-trigger="every 3s, studio:wake"' in html  # running: it refreshes itself


def test_detail_fragment_for_htmx_and_no_polling_when_final(login, alice, cards):
    response = login(alice).get(reverse("studio:detail", args=[cards[0].code]), **HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="detail-main"') and "hx-trigger" not in html
    assert response["Vary"].startswith("HX-Request")


def test_outsider_gets_404_for_detail(login, charlie, cards):
    assert login(charlie).get(reverse("studio:detail", args=[cards[0].code])).status_code == 404


def test_user_who_left_their_current_team_sees_their_own_studio(login, alice, bob, team):
    make_generation(team, alice, prompt="Moonlight only")
    team.memberships.filter(user=bob).delete()
    client = login(bob)
    assert client.get(reverse("studio:live"), **HX).status_code == 204  # nothing of Moonlight's
    for response in (client.get(reverse("studio:gallery"), **HX), client.get(reverse("studio:home"))):
        assert response.status_code == 200 and "Moonlight only" not in response.content.decode()
