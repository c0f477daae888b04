from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.utils import timezone

from studio import tasks
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


def test_success_hands_over_to_fetch(running, upstream, mp4_bytes, django_capture_on_commit_callbacks):
    upstream.get("/video/generations/task_9").respond(
        200, json={"task_id": "task_9", "status": "succeeded", "url": "https://cdn.example.com/v.mp4"})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        poll()
    running.refresh_from_db()
    assert running.status == S.SUCCEEDED and running.video_url == "https://cdn.example.com/v.mp4"
    assert len(callbacks) == 1


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


def test_only_one_sweep_holds_the_lease(db):
    assert tasks._take_lease("a", 60)
    assert not tasks._take_lease("b", 60)
    tasks._release_lease("a")
    assert tasks._take_lease("b", 60)
    assert Lease.objects.get(name="sweep").holder == "b"


def test_sweep_exits_when_nothing_is_pending(db, settings):
    settings.SWEEP_BUDGET_SECONDS = 5
    tasks.sweep()
    assert Lease.objects.get(name="sweep").expires_at <= timezone.now()


def test_sweep_schedule_exists_after_migrate(db):
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="studio-sweep")
    assert schedule.func == "studio.tasks.sweep" and schedule.minutes == 1
