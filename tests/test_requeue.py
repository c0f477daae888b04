"""`manage.py requeue_stuck` repairs what dead workers left, and never re-sends a create."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from studio import tasks
from studio.failures import UNKNOWN_OUTCOME
from studio.models import Generation
from tests.factories import make_generation

S = Generation.Status


@pytest.fixture
def enqueued(monkeypatch):
    """The jobs the command queues, instead of running them inline."""
    jobs = []
    monkeypatch.setattr("studio.tasks.enqueue", lambda func, pk=None: jobs.append((func.rsplit(".", 1)[-1], pk)))
    monkeypatch.setattr("studio.pipeline.enqueue", lambda func, pk=None: jobs.append((func.rsplit(".", 1)[-1], pk)))
    return jobs


@pytest.fixture
def long_ago():
    return timezone.now() - tasks.stale_after() - timedelta(minutes=1)


@pytest.fixture
def cast(team, alice, long_ago):
    """One generation in each stuck state, and one a live worker holds."""
    g = lambda **fields: make_generation(team, alice, **fields)  # noqa: E731
    return {
        "never_sent": g(status=S.SUBMITTING, claimed_at=long_ago),
        "maybe_sent": g(status=S.SUBMITTING, claimed_at=long_ago, create_sent_at=long_ago),
        "lost_message": g(status=S.QUEUED, next_poll_at=long_ago),
        "dead_download": g(status=S.SUCCEEDED, claimed_at=long_ago, next_poll_at=long_ago, video_url="https://x/v.mp4"),
        "unpolled": g(status=S.RUNNING, task_id="task_u", next_poll_at=None, submitted_at=long_ago),
        "live": g(status=S.SUBMITTING, claimed_at=timezone.now(), create_sent_at=timezone.now()),
    }


def run(*args) -> str:
    out = StringIO()
    call_command("requeue_stuck", *args, stdout=out)
    return out.getvalue()


def snapshot():
    return list(Generation.objects.order_by("pk").values_list("status", "claimed_at", "next_poll_at", "error"))


def test_dry_run_lists_everything_stuck_and_changes_nothing(cast, enqueued):
    before = snapshot()
    out = run("--dry-run")
    assert snapshot() == before and enqueued == []
    assert "1 to submit again (never sent)" in out
    assert "1 to fail as outcome unknown (may have been sent)" in out
    assert "1 to submit (queued, not picked up)" in out
    assert "1 to download again (finished upstream)" in out
    assert "1 to poll now (running, no poll planned)" in out
    assert str(cast["live"].code) not in out
    assert "Dry run: 5 generation(s) would be repaired" in out


def test_a_create_that_may_have_been_sent_is_never_resent(cast, enqueued):
    run()
    maybe = Generation.objects.get(pk=cast["maybe_sent"].pk)
    assert maybe.status == S.FAILED and maybe.error == UNKNOWN_OUTCOME
    assert ("submit_generation", maybe.pk) not in enqueued


def test_a_create_never_sent_and_lost_messages_are_submitted_again(cast, enqueued):
    run()
    for name in ["never_sent", "lost_message"]:
        assert Generation.objects.get(pk=cast[name].pk).status == S.QUEUED
        assert ("submit_generation", cast[name].pk) in enqueued


def test_a_dead_download_is_fetched_again(cast, enqueued):
    run()
    assert ("fetch_video", cast["dead_download"].pk) in enqueued


def test_a_running_task_without_a_planned_poll_is_polled_now_by_a_sweep(cast, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run()
    unpolled = Generation.objects.get(pk=cast["unpolled"].pk)
    assert unpolled.status == S.RUNNING and unpolled.next_poll_at <= timezone.now()
    assert ("sweep", None) in enqueued


def test_work_a_live_worker_holds_is_left_alone(cast, enqueued):
    before = Generation.objects.get(pk=cast["live"].pk)
    run()
    after = Generation.objects.get(pk=cast["live"].pk)
    assert (after.status, after.claimed_at, after.version) == (S.SUBMITTING, before.claimed_at, before.version)


def test_running_it_twice_repairs_nothing_more(cast, enqueued):
    run()
    enqueued.clear()
    assert "Repaired 0 generation(s)." in run()
    assert enqueued == []


def test_the_dry_run_agrees_with_the_sweeps_housekeeping(cast, enqueued):
    """What the command lists (from tasks.needing_repair) is what housekeeping repairs."""
    from studio.management.commands.requeue_stuck import stuck

    listed = {pk for label, qs in stuck(timezone.now()).items() if "poll now" not in label
              for pk in qs.values_list("pk", flat=True)}
    before = dict(Generation.objects.values_list("pk", "version"))
    tasks.housekeeping()
    touched = {pk for pk, version in Generation.objects.values_list("pk", "version") if version != before[pk]}
    touched |= {pk for _func, pk in enqueued if pk}
    assert listed == touched
