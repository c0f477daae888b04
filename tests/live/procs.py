"""Processes and simulated users for the scale-out and fault tests and bench/scaleout.

`Web` is a gunicorn server on a free loopback port; `StudioUser` is one person with one
browser session: it logs in through the real form (CSRF included), submits the generation
form as htmx does, polls the live endpoint with its pending cards' states and browses the
gallery, spreading its requests over several web servers. Plain Python: no pytest here.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_CLIENT_TOKEN = re.compile(r'name="client_token" value="([^"]+)"')
_MODEL = re.compile(r'<select name="model"[^>]*>.*?<option value="([^"]+)"', re.S)
_CARD = re.compile(r'<article id="card-([0-9a-f-]{36})" class="card is-(\w+)')
_STATE = re.compile(r'name="s" value="([0-9a-f-]{36}):(\d+)"')
_SINCE = re.compile(r'id="live-since" name="since" value="([^"]*)"')
_LOG_ERROR = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback \(most recent call last\)")
FINAL = {"ready", "failed"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def collectstatic(env: dict[str, str]) -> None:
    """Production settings serve hashed static files from STATIC_ROOT (whitenoise's manifest)."""
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env,
                   check=True, timeout=180)


class Web:
    """A gunicorn web process group (one worker, a few threads) on a free loopback port."""

    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 1, threads: int = 4):
        self.env, self.log, self.workers, self.threads = env, log, workers, threads
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "studio.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--threads", str(self.threads), "--timeout", "25",
             "--graceful-timeout", "5", "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn on {self.url} did not answer /health in {timeout} s")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def make_web_user(email: str, password: str, team=None, key: str | None = None):
    """A user who can log in to a server on the production settings: the test settings hash
    with MD5, which those lack, so the hash is PBKDF2 with few iterations (upgraded on the
    first login). Joins `team` if given and gets a sandbox key."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from accounts.models import Membership, User
    from tests.factories import give_key

    user = User.objects.create_user(email)
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(password, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])
    if team is not None:
        Membership.objects.create(user=user, team=team, role=Membership.Role.MEMBER)
        user.switch_team(team)
    give_key(user, key or f"sk-sandbox-{email.split('@')[0]}")
    return user


def log_errors(path: Path, offset: int = 0) -> list[str]:
    """Lines of a process log, from byte `offset`, that report an error or a traceback."""
    if not path.exists():
        return []
    with open(path, "rb") as fh:
        fh.seek(offset)
        text = fh.read().decode(errors="replace")
    return [line for line in text.splitlines() if _LOG_ERROR.search(line)]


class StudioUser:
    """One user's browser session over real HTTP, round-robin over `servers`.

    Every request's endpoint, status and latency is kept in `requests`; `cards` maps the
    codes of the user's submitted generations to the last status seen on a card.
    """

    def __init__(self, email: str, password: str, servers: list[str], *, timeout: float = 30):
        self.email, self.password, self.servers = email, password, servers
        # No keep-alive: gunicorn closes an idle connection after 2 s, and a request sent on it
        # at that moment fails with ReadError; browsers silently retry those, httpx does not.
        self.http = httpx.Client(timeout=timeout, follow_redirects=False,
                                 limits=httpx.Limits(max_keepalive_connections=0))
        self.requests: list[tuple[str, int, float]] = []
        self.cards: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.since = ""  # the team's change count the last live answer handed over
        self._turn = 0

    def close(self) -> None:
        self.http.close()

    # --- what a person does ---

    def login(self) -> None:
        page = self._call("login", "GET", "/accounts/login/")
        token = _CSRF_FIELD.search(page.text).group(1)
        answer = self._call("login", "POST", "/accounts/login/",
                            data={"username": self.email, "password": self.password, "csrfmiddlewaretoken": token})
        if answer.status_code != 302:
            raise AssertionError(f"{self.email} could not log in: HTTP {answer.status_code}")

    def submit(self, prompt: str, *, seconds: int = 4, double_click: bool = False) -> str:
        """Fill the studio page's form and post it as htmx does; returns the new card's code.
        With `double_click` the same form is posted twice (the second must not create)."""
        page = self._call("home", "GET", "/")
        data = {
            "model": _MODEL.search(page.text).group(1), "prompt": prompt, "seconds": str(seconds),
            "ratio": "16:9", "resolution": "720p", "client_token": _CLIENT_TOKEN.search(page.text).group(1),
        }
        answer = self._call("create", "POST", "/generate/", data=data, headers=self._htmx())
        if answer.status_code != 201:
            raise AssertionError(f"submit answered HTTP {answer.status_code}: {answer.text[:300]}")
        if double_click:
            again = self._call("create", "POST", "/generate/", data=data, headers=self._htmx())
            assert again.status_code == 200, f"a double-clicked form answered HTTP {again.status_code}"
        code, status = _CARD.search(answer.text).groups()
        self.cards[code] = status
        self._read_cards(answer.text)
        return code

    def poll_live(self) -> int:
        """One poll of the live endpoint with the pending cards' states and the change count
        the last answer handed over, as the page's poller (a 204 may come from the count alone)."""
        states = [f"{code}:{self.versions.get(code, 0)}" for code, status in self.cards.items() if status not in FINAL]
        params = {"s": states, "fast": "1", "since": self.since}
        answer = self._call("live", "GET", "/live/", params=params, headers=self._htmx())
        self._read_cards(answer.text)
        if since := _SINCE.search(answer.text):
            self.since = since.group(1)
        return answer.status_code

    def browse(self) -> None:
        """The gallery, first as a page then filtered by htmx (cards of the whole team)."""
        self._call("home", "GET", "/")
        self._call("gallery", "GET", "/gallery/", params={"status": "ready"}, headers=self._htmx())

    def pending(self) -> list[str]:
        return [code for code, status in self.cards.items() if status not in FINAL]

    # --- plumbing ---

    def _htmx(self) -> dict[str, str]:
        return {"HX-Request": "true", "X-CSRFToken": self.http.cookies.get("csrftoken", "")}

    def _call(self, endpoint: str, method: str, path: str, **kwargs) -> httpx.Response:
        server = self.servers[self._turn % len(self.servers)]
        self._turn += 1
        started = time.monotonic()
        try:
            response = self.http.request(method, server + path, **kwargs)
        except httpx.HTTPError as exc:
            self.requests.append((endpoint, 0, time.monotonic() - started))
            raise AssertionError(f"{method} {path} on {server}: {type(exc).__name__}") from None
        self.requests.append((endpoint, response.status_code, time.monotonic() - started))
        return response

    def _read_cards(self, html: str) -> None:
        for code, status in _CARD.findall(html):
            if code in self.cards:  # the user's own cards; team-mates' are only browsed
                self.cards[code] = status
        for code, version in _STATE.findall(html):
            self.versions[code] = int(version)


def latency_table(users: list[StudioUser]) -> dict[str, dict[str, float]]:
    """Per endpoint: count, p50 and p95 latency in ms, and how many answers were 5xx."""
    by_endpoint: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for user in users:
        for endpoint, status, seconds in user.requests:
            by_endpoint[endpoint].append((status, seconds))
    table = {}
    for endpoint, rows in sorted(by_endpoint.items()):
        times = sorted(seconds * 1000 for _, seconds in rows)
        table[endpoint] = {
            "count": len(rows),
            "p50": times[len(times) // 2],
            "p95": times[min(len(times) - 1, int(0.95 * len(times)))],
            "errors": sum(1 for status, _ in rows if status == 0 or status >= 500),
        }
    return table
