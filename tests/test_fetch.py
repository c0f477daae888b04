import httpx
import pytest
import respx

from studio import tasks
from studio.models import Generation
from tests.factories import make_generation

S = Generation.Status
URL = "https://cdn.example.com/v.mp4"


@pytest.fixture
def succeeded(alice, team):
    return make_generation(team, alice, status=S.SUCCEEDED, task_id="t", video_url=URL)


@pytest.fixture
def cdn():
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def test_fetch_stores_video_and_poster_and_marks_ready(succeeded, cdn, mp4_bytes):
    route = cdn.get(URL).respond(200, content=mp4_bytes)
    tasks.fetch_video(succeeded.pk)
    succeeded.refresh_from_db()
    assert succeeded.status == S.READY and succeeded.video_url == ""
    assert succeeded.video.read() == mp4_bytes
    assert succeeded.poster.read()[:2] == b"\xff\xd8"  # a JPEG
    assert succeeded.duration == pytest.approx(1.0, abs=0.3)
    assert "Authorization" not in route.calls.last.request.headers


def test_clip_shorter_than_asked_still_gets_a_poster_and_its_real_duration(alice, team, cdn, mp4_bytes):
    # Asked for 15 s, the poster would be taken at 1.5 s: past the end of this 1 s clip.
    generation = make_generation(team, alice, status=S.SUCCEEDED, task_id="t", video_url=URL, seconds=15)
    cdn.get(URL).respond(200, content=mp4_bytes)
    tasks.fetch_video(generation.pk)
    generation.refresh_from_db()
    assert generation.status == S.READY
    assert generation.poster.read()[:2] == b"\xff\xd8"
    assert generation.duration == pytest.approx(1.0, abs=0.3)


def test_failed_download_is_retried_later_keeping_the_url(succeeded, cdn):
    cdn.get(URL).mock(side_effect=httpx.ConnectError("down"))
    tasks.fetch_video(succeeded.pk)
    succeeded.refresh_from_db()
    assert succeeded.status == S.SUCCEEDED and succeeded.video_url == URL
    assert succeeded.fetch_attempts == 1 and succeeded.claimed_at is None


def test_expired_url_is_refreshed_by_polling_again(succeeded, cdn, django_capture_on_commit_callbacks):
    cdn.get(URL).respond(403)
    with django_capture_on_commit_callbacks(execute=False):
        tasks.fetch_video(succeeded.pk)
    succeeded.refresh_from_db()
    assert succeeded.status == S.RUNNING and succeeded.fetch_attempts == 1


def test_a_file_that_is_not_mp4_fails(succeeded, cdn):
    cdn.get(URL).respond(200, content=b"<html>oops</html>")
    tasks.fetch_video(succeeded.pk)
    succeeded.refresh_from_db()
    assert succeeded.status == S.FAILED and "not an MP4" in succeeded.error


def test_oversized_video_fails(succeeded, cdn, settings, mp4_bytes):
    settings.MAX_VIDEO_MB = 0
    cdn.get(URL).respond(200, content=mp4_bytes)
    tasks.fetch_video(succeeded.pk)
    succeeded.refresh_from_db()
    assert succeeded.status == S.FAILED and "limit" in succeeded.error


def test_fetch_runs_once_when_delivered_twice(succeeded, cdn, mp4_bytes):
    route = cdn.get(URL).respond(200, content=mp4_bytes)
    tasks.fetch_video(succeeded.pk)
    tasks.fetch_video(succeeded.pk)
    assert route.call_count == 1
