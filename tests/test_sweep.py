from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from studio import pipeline, tasks
from studio.models import Generation, Lease
from tests.factories import give_key, make_generation

S = Generation.Status


@pytest.fixture
def running(alice, team):
    give_key(alice)
    now = timezone.now()
    return make_generation(team, alice, status=S.RUNNING, task_id="task_9", submitted_at=now - timedelta(seconds=10),
                           next_poll_at=now - timedelta(seconds=1), upstream_status="submitted")


def poll(**kwargs):
    with ThreadPoolExecutor(2) as pool:
        return tasks.poll_due(pool, **kwargs)


def test_still_running_is_polled_again_later(running, upstream):
    upstream.get("/video/generations/task_9").respond(200, json={"task_id": "task_9", "status": "running"})
    assert poll() == 1
    running.refresh_from_db()
    assert running.status == S.RUNNING and running.polls == 1 and running.upstream_status == "running"
    assert running.next_poll_at > timezone.now()
    assert poll() == 0  # not due yet


class InlinePool:
    """Runs each poll in the calling thread, so a test can act while a poll is on the wire."""

    def submit(self, fn, *args):
        future = Future()
        future.set_result(fn(*args))
        return future


def test_a_webhook_arriving_during_the_tick_still_gets_its_poll_now(running, upstream):
    def answer(request):
        # The task finishes and its webhook lands while this poll (which saw it running) is on the wire.
        Generation.objects.filter(pk=running.pk).update(next_poll_at=timezone.now())
        return httpx.Response(200, json={"task_id": "task_9", "status": "running"})

    upstream.get("/video/generations/task_9").mock(side_effect=answer)
    tasks.poll_due(InlinePool())
    running.refresh_from_db()
    assert running.polls == 1 and running.next_poll_at <= timezone.now()


def test_a_success_written_while_a_poll_is_on_the_wire_is_not_undone(running, upstream):
    """A slower poll of the same task (here a 429) must not write its stale row over the
    success its fetch thread wrote meanwhile: the live page would never see the card finish."""
    def answer(request):
        pipeline.bump(Generation.objects.filter(pk=running.pk), status=S.SUCCEEDED, upstream_status="succeeded")
        return httpx.Response(429, headers={"Retry-After": "1"})

    upstream.get("/video/generations/task_9").mock(side_effect=answer)
    tasks.poll_due(InlinePool())
    running.refresh_from_db()
    assert running.status == S.SUCCEEDED and running.upstream_status == "succeeded"
    assert running.version == 1 and running.polls == 0


def test_a_version_bumped_during_the_tick_only_moves_forward(running, upstream):
    def answer(request):  # a team-mate favourites the card while its poll is on the wire
        pipeline.bump(Generation.objects.filter(pk=running.pk), favourite=True)
        return httpx.Response(200, json={"task_id": "task_9", "status": "running"})

    upstream.get("/video/generations/task_9").mock(side_effect=answer)
    tasks.poll_due(InlinePool())
    running.refresh_from_db()
    assert running.upstream_status == "running" and running.version == 2 and running.favourite


def test_a_success_waiting_for_its_fetch_thread_is_not_polled_again(running, upstream):
    route = upstream.get("/video/generations/task_9").respond(200, json={"task_id": "task_9", "status": "running"})
    assert poll(skip={running.pk}) == 0 and not route.called


def test_success_hands_over_to_fetch(running, upstream, mp4_bytes, django_capture_on_commit_callbacks):
    upstream.get("/video/generations/task_9").respond(
        200, json={"task_id": "task_9", "status": "succeeded", "url": "https://cdn.example.com/v.mp4"})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        poll()
    running.refresh_from_db()
    assert running.status == S.SUCCEEDED and running.video_url == "https://cdn.example.com/v.mp4"
    assert len(callbacks) == 2  # the fetch job and the team's change count, both on commit


def test_upstream_failure_is_shown_in_plain_words(running, upstream):
    upstream.get("/video/generations/task_9").respond(
        200, json={"task_id": "task_9", "status": "failed", "error": {"code": 500, "message": "content policy"}})
    poll()
    running.refresh_from_db()
    assert running.status == S.FAILED and running.error == "content policy"


def test_rate_limit_honours_retry_after(running, upstream):
    upstream.get("/video/generations/task_9").respond(429, headers={"Retry-After": "30"}, json={})
    before = timezone.now()
    poll()
    running.refresh_from_db()
    assert running.status == S.RUNNING
    assert running.next_poll_at >= before + timedelta(seconds=29)


def test_server_errors_back_off_and_keep_following(running, upstream):
    upstream.get("/video/generations/task_9").respond(503, json={})
    poll()
    running.refresh_from_db()
    assert running.status == S.RUNNING and running.poll_failures == 1


def test_unknown_task_fails_after_three_answers(running, upstream):
    upstream.get("/video/generations/task_9").respond(404, json={"error": {"message": "no such task"}})
    for _ in range(3):
        Generation.objects.filter(pk=running.pk).update(next_poll_at=timezone.now())
        poll()
    running.refresh_from_db()
    assert running.status == S.FAILED and "no longer knows" in running.error


def test_deadline_fails_as_timed_out(running, upstream, settings):
    Generation.objects.filter(pk=running.pk).update(submitted_at=timezone.now() - timedelta(hours=2))
    upstream.get("/video/generations/task_9").respond(200, json={"task_id": "task_9", "status": "running"})
    poll()
    running.refresh_from_db()
    assert running.status == S.FAILED and "Timed out" in running.error


@pytest.mark.parametrize("age,delay", [(10, 4), (120, 10), (900, 30)])
def test_back_off_slows_down_for_long_tasks(running, age, delay, settings):
    settings.POLL_FIRST_SECONDS = 4
    now = timezone.now()
    running.submitted_at = now - timedelta(seconds=age)
    assert tasks.poll_delay(running, now) == delay


@pytest.mark.parametrize("age,delay", [(0, 15), (120, 15), (900, 30)])
def test_with_webhooks_polls_only_back_them_up(running, age, delay, settings):
    settings.POLL_FIRST_SECONDS, settings.WEBHOOKS_ENABLED = 4, True
    now = timezone.now()
    running.submitted_at = now - timedelta(seconds=age)
    assert tasks.poll_delay(running, now) == delay


def test_only_one_sweep_holds_the_lease(db):
    assert tasks._take_lease("a", 60)
    assert not tasks._take_lease("b", 60)
    tasks._release_lease("a")
    assert tasks._take_lease("b", 60)
    assert Lease.objects.get(name="sweep").holder == "b"


@pytest.fixture
def sweeps_queued(monkeypatch):
    queued = []
    monkeypatch.setattr("studio.pipeline.enqueue", lambda func, pk=None: queued.append(func))
    return queued


def kick(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.kick_sweep()


def test_a_burst_of_kicks_queues_one_sweep(db, sweeps_queued, django_capture_on_commit_callbacks):
    for _ in range(50):  # 50 submits or webhooks in a row, before the sweep starts
        kick(django_capture_on_commit_callbacks)
    assert sweeps_queued == ["studio.tasks.sweep"]
    assert Lease.objects.get(name="sweep").holder == pipeline.SWEEP_QUEUED


def test_the_queued_sweep_takes_the_lease_over(db, sweeps_queued, django_capture_on_commit_callbacks):
    kick(django_capture_on_commit_callbacks)
    assert tasks._take_lease("worker-1", 60)
    assert Lease.objects.get(name="sweep").holder == "worker-1"
    kick(django_capture_on_commit_callbacks)  # while it runs: nothing more is queued
    assert len(sweeps_queued) == 1


def test_a_lost_queued_sweep_frees_the_lease_when_its_hold_runs_out(db, sweeps_queued, django_capture_on_commit_callbacks):
    kick(django_capture_on_commit_callbacks)
    Lease.objects.filter(name="sweep").update(expires_at=timezone.now() - timedelta(seconds=1))
    kick(django_capture_on_commit_callbacks)
    assert len(sweeps_queued) == 2


def test_work_arriving_as_a_sweep_ends_queues_the_next_one(running, settings, sweeps_queued, monkeypatch,
                                                            django_capture_on_commit_callbacks):
    # The sweep saw nothing pending, and the generation came in before it let go of the lease.
    settings.SWEEP_BUDGET_SECONDS = 5
    released, real_release, real_pending = [], tasks._release_lease, Generation.objects.pending
    monkeypatch.setattr(tasks, "poll_due", lambda pool, **kwargs: 0)
    monkeypatch.setattr(tasks, "_release_lease", lambda holder: (released.append(holder), real_release(holder)))
    monkeypatch.setattr(Generation.objects, "pending", lambda: real_pending() if released else Generation.objects.none())
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep()
    assert sweeps_queued == ["studio.tasks.sweep"]


def test_sweep_exits_when_nothing_is_pending(db, settings):
    settings.SWEEP_BUDGET_SECONDS = 5
    tasks.sweep()
    assert Lease.objects.get(name="sweep").expires_at <= timezone.now()


def test_sweep_schedule_exists_after_migrate(db):
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="studio-sweep")
    assert schedule.func == "studio.tasks.sweep" and schedule.minutes == 1
