"""Card actions: favourite, delete, and what each card offers to whom."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from studio.models import Generation
from tests.factories import make_generation

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def alices(team, alice):
    return make_generation(team, alice, prompt="Alice's glacier", status="ready")


@pytest.fixture
def bobs(team, bob):
    return make_generation(team, bob, prompt="Bob's fox", status="failed", error="Flagged")


def card_html(client, generation) -> str:
    html = client.get(reverse("studio:home")).content.decode()
    return html.split(f'id="card-{generation.code}"', 1)[1].split("</article>", 1)[0]


def test_team_mate_marks_a_favourite_and_gets_the_card(login, bob, alices):
    response = login(bob).post(reverse("studio:favourite", args=[alices.code]), {"favourite": "1"}, **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<article id="card-{alices.code}"') and "<html" not in html
    assert 'class="icon-btn fav on"' in html and 'value="0"' in html
    alices.refresh_from_db()
    assert alices.favourite is True and alices.version == 1  # live pages see the change
    assert response["Vary"].startswith("HX-Request")


def test_unfavourite(login, alice, alices):
    Generation.objects.filter(pk=alices.pk).update(favourite=True)
    login(alice).post(reverse("studio:favourite", args=[alices.code]), {"favourite": "0"}, **HX)
    alices.refresh_from_db()
    assert alices.favourite is False


def test_favourite_without_htmx_redirects_back(login, alice, alices):
    client = login(alice)
    response = client.post(reverse("studio:favourite", args=[alices.code]), {"favourite": "1"})
    assert response.status_code == 302 and response["Location"] == f"/#card-{alices.code}"
    detail = reverse("studio:detail", args=[alices.code])
    response = client.post(reverse("studio:favourite", args=[alices.code]), {"favourite": "0", "next": detail})
    assert response["Location"] == detail
    response = client.post(reverse("studio:favourite", args=[alices.code]), {"next": "https://evil.example/"})
    assert response["Location"] == f"/#card-{alices.code}"


def test_favourite_needs_post(login, alice, alices):
    assert login(alice).get(reverse("studio:favourite", args=[alices.code])).status_code == 405


def test_outsider_gets_404_for_favourite(login, charlie, alices):
    response = login(charlie).post(reverse("studio:favourite", args=[alices.code]), {"favourite": "1"}, **HX)
    assert response.status_code == 404
    alices.refresh_from_db()
    assert alices.favourite is False


def test_creator_deletes_their_card_and_its_files(login, alice, alices):
    alices.video.save("v.mp4", ContentFile(b"mp4"))
    name = alices.video.name
    response = login(alice).post(reverse("studio:delete", args=[alices.code]), **HX)
    assert response.status_code == 200 and response.content == b""  # htmx swaps the card away
    assert not Generation.objects.filter(pk=alices.pk).exists()
    assert not default_storage.exists(name)


def test_owner_deletes_a_team_mates_card(login, alice, bobs):
    assert login(alice).post(reverse("studio:delete", args=[bobs.code]), **HX).status_code == 200
    assert not Generation.objects.filter(pk=bobs.pk).exists()


def test_member_cannot_delete_someone_elses_card(login, bob, alices):
    assert login(bob).post(reverse("studio:delete", args=[alices.code]), **HX).status_code == 403
    assert Generation.objects.filter(pk=alices.pk).exists()


def test_outsider_gets_404_for_delete(login, charlie, alices):
    assert login(charlie).post(reverse("studio:delete", args=[alices.code])).status_code == 404
    assert Generation.objects.filter(pk=alices.pk).exists()


def test_delete_without_htmx_redirects_with_a_message(login, bob, bobs):
    response = login(bob).post(reverse("studio:delete", args=[bobs.code]), follow=True)
    assert response.redirect_chain == [(reverse("studio:home"), 302)]
    assert "The video was deleted." in response.content.decode()


def test_delete_needs_post(login, alice, alices):
    assert login(alice).get(reverse("studio:delete", args=[alices.code])).status_code == 405


def test_delete_button_only_for_the_creator_or_an_owner(login, alice, bob, alices, bobs):
    delete_form = 'data-confirm="Delete this video'
    assert delete_form in card_html(login(bob), bobs)
    assert delete_form not in card_html(login(bob), alices)
    assert delete_form in card_html(login(alice), bobs)  # alice owns the team


def test_ready_card_offers_player_download_remix_and_copy(login, alice, alices):
    alices.video.save("v.mp4", ContentFile(b"mp4"), save=False)
    alices.poster.save("p.jpg", ContentFile(b"jpg"), save=False)
    alices.save()
    html = card_html(login(alice), alices)
    video, poster = reverse("studio:video", args=[alices.code]), reverse("studio:poster", args=[alices.code])
    assert f'<video controls preload="none" playsinline poster="{poster}" src="{video}">' in html
    assert f'href="{video}?download=1"' in html
    assert f'href="{reverse("studio:remix", args=[alices.code])}"' in html
    assert f'href="{reverse("studio:detail", args=[alices.code])}"' in html
    assert 'data-copy-text="Alice&#x27;s glacier"' in html


def test_failed_card_shows_the_error_and_a_retry_form(login, bob, bobs):
    html = card_html(login(bob), bobs)
    assert '<p class="card-error">Flagged</p>' in html
    retry = reverse("studio:retry", args=[bobs.code])
    assert f'hx-post="{retry}" hx-target="#gallery-grid" hx-swap="afterbegin"' in html
    assert f'action="{retry}"' in html  # works without JavaScript too
    assert "<video" not in html and "download=1" not in html


def test_pending_card_shows_status_and_elapsed_time(login, alice, team):
    generation = make_generation(team, alice, status="running")
    html = card_html(login(alice), generation)
    assert 'class="pill running"' in html and "Running" in html and "data-since=" in html


def test_card_urls_built_from_the_detail_url_match_the_url_conf(login, alice, bobs):
    html = card_html(login(alice), bobs)
    for name in ("studio:favourite", "studio:delete", "studio:retry", "studio:remix", "studio:detail"):
        assert f'"{reverse(name, args=[bobs.code])}"' in html


def test_cached_cards_follow_versions_viewers_and_csrf_tokens(login, alice, bob, alices):
    first = card_html(login(alice), alices)  # renders and caches the card as Alice sees it
    assert 'data-confirm="Delete this video' in first and "csrf-slot" not in first
    bob_view = card_html(login(bob), alices)
    assert 'data-confirm="Delete this video' not in bob_view  # not Alice's cached copy
    assert 'name="csrfmiddlewaretoken" value="csrf-slot' not in bob_view
    assert 'name="csrfmiddlewaretoken" value=""' not in bob_view
    login(bob).post(reverse("studio:favourite", args=[alices.code]), {"favourite": "1"}, **HX)
    assert 'class="icon-btn fav on"' in card_html(login(alice), alices)  # a new version: re-rendered
