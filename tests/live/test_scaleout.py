"""Scale-out: two gunicorn web processes and two qcluster workers on one database and broker,
with users logging in, submitting, polling and browsing at once over real HTTP."""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from studio.models import Generation, SandboxTask
from tests.conftest import PASSWORD
from tests.live.conftest import Worker, wait_until
from tests.live.procs import FINAL, StudioUser, Web, collectstatic, latency_table, log_errors, make_web_user

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
S = Generation.Status

USERS = 6
PROMPTS = ["A calm lake at dawn {tag}", "[429] A busy market {tag}", "[500] A windy pier {tag}", "[fail] A storm that breaks {tag}"]
OK_STATUSES = {200, 201, 204, 286, 302}


@pytest.fixture
def cluster(worker, tmp_path):
    """Two web processes and a second worker beside the session's: two of each."""
    # No live poll checks the cards "just in case": every change must move the team's count.
    env = {**worker.env, "SUBMITS_PER_MINUTE": "1000", "LIVE_RECHECK_ONE_IN": str(10**12)}
    collectstatic(env)
    webs = [Web(env, tmp_path / f"web{i}.log") for i in (1, 2)]
    second = Worker(env, tmp_path / "qcluster2.log")
    offset = worker.log.stat().st_size if worker.log.exists() else 0
    for web in webs:
        web.start()
    second.start()
    try:
        for web in webs:
            web.wait_ready()
        yield SimpleNamespace(urls=[web.url for web in webs], logs=[(web.log, 0) for web in webs]
                              + [(second.log, 0), (worker.log, offset)])
    finally:
        for web in webs:
            web.kill()
        second.kill()


def act(user: StudioUser, number: int, patience: float) -> None:
    """Log in, submit every prompt (the first one double-clicked), then poll and browse
    until every card the user made is final."""
    user.login()
    for i, prompt in enumerate(PROMPTS):
        user.submit(prompt.format(tag=f"#{number}-{i}"), double_click=i == 0)
        user.poll_live()
        user.browse()
    deadline = time.monotonic() + patience
    rounds = 0
    while user.pending() and time.monotonic() < deadline:
        user.poll_live()
        rounds += 1
        if rounds % 3 == 0:
            user.browse()
        time.sleep(1)


def test_two_web_and_two_workers_lose_nothing_and_submit_nothing_twice(cluster, alice, team, caplog):
    caplog.set_level(logging.ERROR)
    accounts = [make_web_user(f"user{i}@example.com", PASSWORD, team if i % 2 else None) for i in range(USERS)]
    users = [StudioUser(account.email, PASSWORD, cluster.urls) for account in accounts]
    try:
        with ThreadPoolExecutor(max_workers=USERS) as pool:
            for done in [pool.submit(act, user, n, 120) for n, user in enumerate(users)]:
                done.result()
    finally:
        for user in users:
            user.close()

    for endpoint, row in latency_table(users).items():  # shown with -s, and in CI's log on failure
        print(f"{endpoint:8} n={row['count']:3d} p50={row['p50']:6.1f} ms p95={row['p95']:6.1f} ms")
    made = Generation.objects.filter(creator__in=accounts)
    assert made.count() == USERS * len(PROMPTS), "a double-clicked form made two generations"
    wait_until(lambda: not made.filter(status__in=Generation.PENDING).exists(), 10, what="no generation stuck")
    for generation in made:
        if "[fail]" in generation.prompt:
            assert generation.status == S.FAILED and "failed as requested" in generation.error, generation
        else:
            assert generation.status == S.READY and generation.video, (generation, generation.error)
    sent = list(SandboxTask.objects.values_list("body__prompt", flat=True))
    assert sorted(sent) == sorted(made.values_list("prompt", flat=True)), "a generation was submitted twice or lost"

    for user in users:
        assert set(user.cards.values()) <= FINAL, f"{user.email} never saw some cards finish: {user.cards}"
        bad = [(endpoint, status) for endpoint, status, _ in user.requests if status not in OK_STATUSES]
        assert not bad, f"{user.email} got unexpected answers: {bad}"
    for path, offset in cluster.logs:
        assert not log_errors(path, offset), f"errors in {path.name}: {log_errors(path, offset)[:5]}"
    # The live server serves the sandbox; its deliberate 502s ([500] tags) are logged as errors.
    unexpected = [r.getMessage() for r in caplog.records if "/sandbox/" not in r.getMessage()]
    assert not unexpected, unexpected
