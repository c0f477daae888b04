"""Faults over real HTTP with real workers: an upstream that misbehaves for a while (sandbox
fault windows), PostgreSQL restarted mid-work, a worker killed while sending or downloading.
Every generation must end in the right state, and none may be sent upstream twice."""

import subprocess
import time
from pathlib import Path

import pytest
from django.db import close_old_connections, connection

from studio.failures import UNKNOWN_OUTCOME
from studio.models import Generation, SandboxTask
from studio.sandbox import faults
from tests.factories import give_key
from tests.conftest import PASSWORD
from tests.live.conftest import wait_until
from tests.live.procs import StudioUser, Web, collectstatic, make_web_user
from tests.live.test_pipeline_live import finished, launch

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
S = Generation.Status
UNKNOWN = "may or may not have received"
assert UNKNOWN in str(UNKNOWN_OUTCOME)


@pytest.fixture(autouse=True)
def clean_windows(worker):
    faults.close_all()
    yield
    faults.close_all()


@pytest.fixture
def key(alice):
    return give_key(alice, "sk-sandbox-faults")


def sent_once(generations) -> None:
    """Every generation that reached the sandbox did so exactly once."""
    prompts = list(SandboxTask.objects.values_list("body__prompt", flat=True))
    assert len(prompts) == len(set(prompts)), "a generation was submitted twice"
    assert set(prompts) <= {g.prompt for g in generations}


def refreshed(generations):
    for generation in generations:
        generation.refresh_from_db()
    return generations


@pytest.mark.parametrize("mode", ["429", "500", "garbage", "shape", "slow"])
def test_upstream_misbehaving_for_a_while_then_every_generation_is_ready(worker, key, alice, team, mode):
    # Polls and downloads fail for 6 s; a slow window answers polls after 10 s (past the
    # workers' 8 s timeout), so it stays off downloads, which would retry inside the sweep.
    ops = ["poll"] if mode == "slow" else ["poll", "media"]
    generations = launch(team, alice, [f"A quiet harbour ({mode}) #{{}}"] * 3)
    window = faults.open_window(mode, 6, ops=ops, delay=10)
    wait_until(lambda: finished([g.pk for g in generations]), timeout=90, what="recovery")
    for generation in refreshed(generations):
        assert generation.status == S.READY and generation.video, (generation, generation.error)
        # Tasks finish upstream within 3 s: only the window kept Studio from seeing it.
        assert generation.stored_at.timestamp() >= window.until
    sent_once(generations)


def test_faulty_create_answers_end_right_and_nothing_is_sent_twice(worker, key, alice, team):
    windows = {
        "c429": ("429", 4),  # rate limited for a moment: queued again, then sent once
        "c500": ("500", 60),  # a 5xx may hide a created task: failed, "retry?"
        "cgarbage": ("garbage", 60),  # the task exists but its id was lost: failed, "retry?"
        "cshape": ("shape", 60),
        "cslow": ("slow", 60),  # answered after the client's timeout: failed, "retry?"
        "cfail": ("fail", 60),  # the upstream failed the task: failed with its message
    }
    for tag, (mode, seconds) in windows.items():
        faults.open_window(mode, seconds, ops=["create"], match=f"[{tag}]", delay=10)
    generations = launch(team, alice, [f"A lighthouse [{tag}] #{{}}" for tag in windows])
    wait_until(lambda: finished([g.pk for g in generations]), timeout=90, what="every generation to settle")
    time.sleep(6)  # one more housekeeping pass: still nothing re-sent
    outcome = {tag: g for tag, g in zip(windows, refreshed(generations))}
    assert outcome["c429"].status == S.READY, outcome["c429"].error
    for tag in ("c500", "cgarbage", "cshape", "cslow"):
        assert outcome[tag].status == S.FAILED and UNKNOWN in outcome[tag].error, (tag, outcome[tag].error)
    assert outcome["cfail"].status == S.FAILED and faults.UPSTREAM_OUTAGE in outcome["cfail"].error
    sent = {tag: SandboxTask.objects.filter(body__prompt=outcome[tag].prompt).count() for tag in windows}
    assert sent == {"c429": 1, "c500": 0, "cgarbage": 1, "cshape": 1, "cslow": 1, "cfail": 1}


def test_worker_killed_while_sending_fails_as_unknown_and_never_resends(worker, key, alice, team):
    faults.open_window("slow", 60, ops=["create"], delay=5)
    [generation] = launch(team, alice, ["A kite over dunes #{}"])
    wait_until(lambda: SandboxTask.objects.exists(), timeout=30, interval=0.2, what="the create to arrive")
    worker.restart()  # the answer is on its way: the task exists upstream, Studio never hears of it
    wait_until(lambda: finished([generation.pk]), timeout=150, what="the dead submit to be settled")
    generation.refresh_from_db()
    assert generation.status == S.FAILED and UNKNOWN in generation.error
    assert SandboxTask.objects.count() == 1


def test_worker_killed_while_downloading_stores_the_video_after_restart(worker, key, alice, team):
    faults.open_window("slow", 60, ops=["media"], delay=5)
    [generation] = launch(team, alice, ["A tram in the rain #{}"])
    fetching = Generation.objects.filter(pk=generation.pk, status=S.SUCCEEDED, claimed_at__isnull=False)
    wait_until(fetching.exists, timeout=60, interval=0.2, what="the download to start")
    worker.restart()
    faults.close_all()
    wait_until(lambda: finished([generation.pk]), timeout=150, what="the video after the restart")
    generation.refresh_from_db()
    assert generation.status == S.READY and generation.video
    assert SandboxTask.objects.count() == 1


PG_VERSION = min((p.name for p in Path("/etc/postgresql").glob("*")), default="")  # as .ci/run picks it


def pg_ctl(action: str) -> None:
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", action],
                   check=True, timeout=60, capture_output=True)


def pg_is_up() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], timeout=10).returncode == 0


@pytest.fixture
def restartable_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("restarting the database is tested on the PostgreSQL pass")
    if not PG_VERSION:
        pytest.skip("no local PostgreSQL cluster to restart (pg_ctlcluster)")
    yield
    if not pg_is_up():  # never leave the server down for the rest of the suite
        pg_ctl("start")
    wait_until(pg_is_up, timeout=30, what="PostgreSQL to accept connections")
    close_old_connections()


@pytest.mark.postgres_only
def test_postgres_restart_during_work_loses_nothing(restartable_postgres, worker, key, alice, team, tmp_path):
    collectstatic(worker.env)
    web = Web(worker.env, tmp_path / "web.log")
    web.start()
    try:
        web.wait_ready()
        make_web_user("dora@example.com", PASSWORD, team)
        user = StudioUser("dora@example.com", PASSWORD, [web.url])
        user.login()
        user.browse()  # the web process now holds a persistent connection (CONN_MAX_AGE)
        generations = launch(team, alice, ["A ferry at night [run=4] #{}"] * 6)
        pks = [g.pk for g in generations]
        wait_until(lambda: Generation.objects.filter(pk__in=pks, status=S.RUNNING).exists(), timeout=60, what="work in flight")
        pg_ctl("restart")
        wait_until(pg_is_up, timeout=30, what="PostgreSQL to come back")
        connection.close()  # this thread's connection died with the server
        user.browse()  # CONN_HEALTH_CHECKS: the dead connection is replaced, not used
        user.poll_live()
        # Well before the dead sweep's lease would expire: the sweep itself outlived the restart.
        wait_until(lambda: finished(pks), timeout=45, what="every generation after the restart")
    finally:
        web.kill()
    for generation in refreshed(generations):
        assert generation.status == S.READY, (generation, generation.error)
    sent_once(generations)
    assert {status for _, status, _ in user.requests} <= {200, 204, 302}, user.requests
