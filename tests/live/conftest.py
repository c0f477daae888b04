"""One live server and real `qcluster` worker processes, shared by the integration and
browser tests. The worker runs the production settings against the test database, the
test media folder and the sandbox served by the live server."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A `manage.py qcluster` process group that tests can kill and restart."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log, self.proc = env, log, None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=self.env,
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the whole group, as a PaaS does after its grace period (qcluster can
        deadlock on SIGTERM, django-q2 issue #346)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def restart(self) -> None:
        self.kill()
        self.start()


@pytest.fixture(scope="session")
def worker(django_db_setup, live_server, django_db_blocker, tmp_path_factory):
    if not settings.LIVE_TESTS:
        pytest.fail("live tests need STUDIO_LIVE_TESTS=1 (use `make test`)")
    settings.SANDBOX_BASE_URL = f"{live_server.url}/sandbox/v1"
    with django_db_blocker.unblock():
        database_url = _database_url()
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).delete(f"django_q:{settings.Q_CLUSTER['name']}:q")
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG"}},
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SECRET_KEY": settings.SECRET_KEY,
        "STUDIO_ENCRYPTION_KEYS": ",".join(settings.STUDIO_ENCRYPTION_KEYS),
        "SANDBOX_ENABLED": "1",
        "SANDBOX_BASE_URL": settings.SANDBOX_BASE_URL,
        "SITE_URL": live_server.url,
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "POLL_FIRST_SECONDS": "1",
        "Q_WORKERS": "2",
        "Q_TIMEOUT": "20",
        "Q_RETRY": "30",
        "SWEEP_BUDGET_SECONDS": "8",
        "WEBHOOKS_ENABLED": "0",
        "RELAYDANCE_TIMEOUT_SECONDS": "8",  # the fault tests' slow upstream answers after 10 s
        "LOG_LEVEL": "INFO",
    }
    log = tmp_path_factory.mktemp("worker") / "qcluster.log"
    proc = Worker(env, log)
    proc.start()
    time.sleep(1)
    yield proc
    proc.kill()
    if os.environ.get("CI"):
        print(f"\n--- worker log ({log}) tail ---\n" + log.read_text(errors="replace")[-3000:])


def wait_until(predicate, timeout: float, interval: float = 0.5, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(autouse=True)
def sweep_schedule(transactional_db):
    """The schedule the data migration creates; transactional tests flush it between tests."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="studio-sweep", defaults={"func": "studio.tasks.sweep", "schedule_type": Schedule.MINUTES, "minutes": 1}
    )


CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"],
    }


@pytest.fixture
def shot(page):
    """Save a screenshot into test-artifacts/ (kept by CI, looked at by people)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str, target=None):
        # caret="initial": hiding the caret leaves style="" on every input, which htmx then
        # copies while swapping, and the CSP (rightly) blocks: a violation of the test's own making.
        (target or page).screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, caret="initial")

    return take


# Chromium reports a CSP violation both as a console error ("Refused to …") and as a
# `securitypolicyviolation` event, which this script forwards to the console too.
REPORT_CSP_VIOLATIONS = """document.addEventListener("securitypolicyviolation", e =>
  console.error(`CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.documentURI}` +
                ` from ${e.sourceFile}:${e.lineNumber}:${e.columnNumber} ${e.sample}`));"""


@pytest.fixture(autouse=True)
def csp_violations(request, monkeypatch):
    """Every browser context a test opens (its `page`, or `browser.new_context()`) reports
    Content-Security-Policy violations; any one fails the test."""
    found: list[str] = []
    if not {"page", "browser", "context"} & set(request.fixturenames):
        yield found
        return
    browser = request.getfixturevalue("browser")
    original = browser.new_context

    def watched_context(*args, **kwargs):
        context = original(*args, **kwargs)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        context.on("console", lambda msg: found.append(f"{msg.text} ({msg.location.get('url')}:"
                                                       f"{msg.location.get('lineNumber')}:{msg.location.get('columnNumber')})") if (
            msg.text.startswith("CSP violation") or "Content Security Policy" in msg.text) else None)
        return context

    monkeypatch.setattr(browser, "new_context", watched_context)
    yield found
    assert not found, "Content-Security-Policy violations:\n" + "\n".join(found)
