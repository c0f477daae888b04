"""The shared cast: alice owns the team "Moonlight", bob is her team-mate, charlie is an outsider."""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright runs an event loop

from django.utils import translation  # noqa: E402

from accounts.models import Membership, Team, User  # noqa: E402

PASSWORD = "correct horse battery staple"


pytest_plugins = ["tests.require_all"]  # CI: a skipped test fails (REQUIRE_SERVICES / REQUIRE_BROWSER)


@pytest.fixture(autouse=True)
def default_language():
    """A request or test that activated a language leaves it active in the thread: reset it."""
    yield
    translation.deactivate()


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


@pytest.fixture(scope="session")
def mp4_bytes(tmp_path_factory) -> bytes:
    """A real 1-second H.264 clip, made with the ffmpeg that imageio-ffmpeg ships."""
    import subprocess

    import imageio_ffmpeg

    out = tmp_path_factory.mktemp("media") / "clip.mp4"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
         "testsrc2=size=64x36:rate=12:duration=1", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-y", str(out)],
        check=True, timeout=60,
    )
    return out.read_bytes()


@pytest.fixture
def upstream(settings):
    """respx standing in for RelayDance (sandbox keys go to SANDBOX_BASE_URL)."""
    import respx

    with respx.mock(base_url=settings.SANDBOX_BASE_URL, assert_all_called=False) as mock:
        yield mock
