"""Team-private media: served to team members only, streamed, with HTTP Range."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from studio.models import Reference
from studio.serve import Unsatisfiable, parse_range
from tests.factories import make_generation

VIDEO = bytes(range(256)) * 40  # 10,240 bytes
SIZE = len(VIDEO)


@pytest.fixture
def ready(team, alice):
    generation = make_generation(team, alice, prompt="Aerial shot: glacier lakes at dawn!", status="ready")
    generation.video.save("v.mp4", ContentFile(VIDEO), save=False)
    generation.poster.save("p.jpg", ContentFile(b"\xff\xd8poster"), save=False)
    generation.save()
    return generation


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def get_video(client, generation, range_header=None, **params):
    extra = {"HTTP_RANGE": range_header} if range_header else {}
    return client.get(reverse("studio:video", args=[generation.code]), params, **extra)


def test_team_mate_gets_the_whole_video_streamed(login, bob, ready):
    response = get_video(login(bob), ready)
    assert response.status_code == 200
    assert response.streaming  # chunks from storage, not one string in memory
    assert response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(SIZE)
    assert response["Cache-Control"].startswith("private")
    assert body(response) == VIDEO


@pytest.mark.parametrize(
    "header,first,last",
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, SIZE - 1),
        ("bytes=-500", SIZE - 500, SIZE - 1),
        ("bytes=10000-99999", 10000, SIZE - 1),  # the end is clamped to the file
        ("bytes=-99999", 0, SIZE - 1),
        ("bytes=5-5", 5, 5),
    ],
)
def test_single_range_answers_206(login, alice, ready, header, first, last):
    response = get_video(login(alice), ready, header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Accept-Ranges"] == "bytes"
    assert body(response) == VIDEO[first : last + 1]


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", "bytes=20000-30000", "bytes=500-100", "bytes=-0", "bytes=abc", "bytes=-"])
def test_unsatisfiable_or_bad_range_answers_416(login, alice, ready, header):
    response = get_video(login(alice), ready, header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-5"])
def test_multiple_ranges_and_other_units_get_the_whole_file(login, alice, ready, header):
    response = get_video(login(alice), ready, header)
    assert response.status_code == 200 and body(response) == VIDEO


def test_parse_range_contract():
    assert parse_range(None, 10) is None
    assert parse_range("bytes=2-4", 10) == (2, 4)
    with pytest.raises(Unsatisfiable):
        parse_range("bytes=0-", 0)


def test_download_is_an_attachment_named_after_the_prompt(login, alice, ready):
    response = get_video(login(alice), ready, download="1")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="aerial-shot-glacier-lakes-at-dawn-{str(ready.code)[:8]}.mp4"' in disposition


def test_download_name_keeps_chinese_prompts(login, alice, team):
    generation = make_generation(team, alice, prompt="月光下的狐狸", status="ready")
    generation.video.save("v.mp4", ContentFile(b"x"))
    response = get_video(login(alice), generation, download="1")
    assert "filename*=utf-8''%E6%9C%88" in response["Content-Disposition"]


def test_player_gets_the_video_inline(login, alice, ready):
    assert "attachment" not in get_video(login(alice), ready).get("Content-Disposition", "")


def test_head_request_is_allowed(login, alice, ready):
    response = login(alice).head(reverse("studio:video", args=[ready.code]))
    assert response.status_code == 200 and response["Content-Length"] == str(SIZE)


def test_poster_is_served_to_the_team(login, bob, ready):
    response = login(bob).get(reverse("studio:poster", args=[ready.code]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert body(response) == b"\xff\xd8poster"


def test_pending_generation_has_no_video_or_poster(login, alice, team):
    generation = make_generation(team, alice, status="running")
    client = login(alice)
    assert client.get(reverse("studio:video", args=[generation.code])).status_code == 404
    assert client.get(reverse("studio:poster", args=[generation.code])).status_code == 404


def test_stored_reference_is_served_with_its_type(login, bob, ready):
    reference = Reference(generation=ready, kind="image", content_type="image/png", name="cat.png")
    reference.file.save("cat.png", ContentFile(b"\x89PNG..."))
    response = login(bob).get(reverse("studio:reference_file", args=[ready.code, reference.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert body(response) == b"\x89PNG..."


def test_url_reference_redirects_to_its_public_url(login, alice, ready):
    reference = Reference.objects.create(generation=ready, kind="audio", url="https://example.com/beat.mp3")
    response = login(alice).get(reverse("studio:reference_file", args=[ready.code, reference.pk]))
    assert response.status_code == 302 and response["Location"] == "https://example.com/beat.mp3"


def test_reference_of_another_generation_is_404(login, alice, team, ready):
    other = make_generation(team, alice)
    reference = Reference.objects.create(generation=other, kind="image", url="https://example.com/a.png")
    response = login(alice).get(reverse("studio:reference_file", args=[ready.code, reference.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["studio:video", "studio:poster"])
def test_outsider_gets_404_for_media(login, charlie, ready, name):
    assert login(charlie).get(reverse(name, args=[ready.code])).status_code == 404
    assert login(charlie).get(reverse(name, args=[ready.code]), HTTP_RANGE="bytes=0-1").status_code == 404


def test_outsider_gets_404_for_reference_file(login, charlie, ready):
    reference = Reference(generation=ready, kind="image", content_type="image/png")
    reference.file.save("cat.png", ContentFile(b"png"))
    response = login(charlie).get(reverse("studio:reference_file", args=[ready.code, reference.pk]))
    assert response.status_code == 404


def test_anonymous_user_gets_no_media(client, ready):
    response = client.get(reverse("studio:video", args=[ready.code]))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
