"""Sandbox fault windows: each mode misbehaves as documented, only while open and where it matches."""

import time

import pytest

from studio.sandbox import faults
from studio.sandbox.models import SandboxTask
from tests.test_sandbox import API, age, auth, poll, request_body, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_windows():
    faults.close_all()
    yield
    faults.close_all()


def make_task(client, prompt="A fox runs through snow") -> str:
    return submit(client, request_body(prompt)).json()["task_id"]


@pytest.mark.parametrize("mode, status", [("429", 429), ("500", 502)])
def test_refusing_create_window_makes_no_task(client, mode, status):
    faults.open_window(mode, 30, ops=["create"])
    response = submit(client, request_body())
    assert response.status_code == status
    assert not SandboxTask.objects.exists()
    if mode == "429":
        assert response["Retry-After"] == "1"


@pytest.mark.parametrize("mode", ["garbage", "shape"])
def test_garbled_create_answer_still_makes_the_task(client, mode):
    faults.open_window(mode, 30, ops=["create"])
    response = submit(client, request_body())
    assert response.status_code == 200
    assert "task_id" not in response.content.decode()
    assert SandboxTask.objects.count() == 1


def test_slow_create_answers_late_after_making_the_task(client):
    faults.open_window("slow", 30, ops=["create"], delay=0.3)
    started = time.monotonic()
    response = submit(client, request_body())
    assert time.monotonic() - started >= 0.3
    assert response.json()["task_id"] == SandboxTask.objects.get().task_id


def test_fail_window_makes_tasks_that_end_failed_with_outage_message(client):
    faults.open_window("fail", 30, ops=["create"])
    task_id = make_task(client)
    age(task_id, 60)
    answer = poll(client, task_id).json()
    assert answer["status"] == "failed" and answer["error"]["message"] == faults.UPSTREAM_OUTAGE


@pytest.mark.parametrize("mode, status", [("429", 429), ("500", 502), ("garbage", 200), ("shape", 200)])
def test_poll_window_answers_wrongly_and_counts_the_poll(client, mode, status):
    task_id = make_task(client)
    faults.open_window(mode, 30, ops=["poll"])
    response = poll(client, task_id)
    assert response.status_code == status
    assert '"status": "submitted"' not in response.content.decode()
    assert SandboxTask.objects.get().polls == 1


def test_window_ends_and_the_sandbox_recovers(client):
    task_id = make_task(client)
    faults.open_window("500", 0.3, ops=["poll"])
    assert poll(client, task_id).status_code == 502
    time.sleep(0.5)
    assert poll(client, task_id).json()["status"] in ("submitted", "running")


def test_window_with_match_touches_only_matching_prompts(client):
    hit, miss = make_task(client, "Storm [f1]"), make_task(client, "Calm sea")
    faults.open_window("429", 30, ops=["poll"], match="[f1]")
    assert poll(client, hit).status_code == 429
    assert poll(client, miss).status_code == 200


def test_media_window_refuses_the_clip_until_it_ends(client):
    task_id = make_task(client)
    age(task_id, 60)
    assert poll(client, task_id).json()["status"] == "succeeded"
    faults.open_window("429", 30, ops=["media"])
    assert client.get(f"{API}/media/{task_id}.mp4").status_code == 429
    faults.close_all()
    assert client.get(f"{API}/media/{task_id}.mp4").status_code == 200


def test_upload_window_answers_502(client):
    faults.open_window("500", 30, ops=["upload"])
    assert client.post(f"{API}/files", {}, **auth()).status_code == 502


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError):
        faults.open_window("teapot", 5)


# What Studio's jobs make of faults, where a unit test pins it down (tests/live/test_faults.py
# proves the same over real HTTP). A garbled create answer (the "garbage" and "shape" windows):
# the task may exist upstream, so it is never sent again.


@pytest.mark.parametrize("answer", [
    {"text": "<html>502 Bad Gateway</html>"}, {"json": {"data": ["x"], "status": 7}},
])
def test_unreadable_create_answer_fails_as_unknown_outcome_and_is_not_resent(alice, team, upstream, answer):
    from studio import tasks
    from studio.models import Generation
    from tests.factories import give_key, make_generation

    give_key(alice)
    generation = make_generation(team, alice)
    route = upstream.post("/video/generations").respond(200, **answer)
    tasks.submit_generation(generation.pk)
    tasks.housekeeping()
    tasks.submit_generation(generation.pk)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.FAILED and "may or may not" in generation.error
    assert route.call_count == 1


@pytest.mark.django_db(transaction=True)  # the sweep closes the connection, as a worker would
def test_sweep_outlives_a_lost_database_connection_and_releases_its_lease(settings, monkeypatch):
    from django.db import OperationalError

    from studio import tasks
    from studio.models import Lease

    settings.SWEEP_BUDGET_SECONDS = 2
    calls = []

    def poll_due(pool, fetch=None, skip=()):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("terminating connection due to administrator command")
        return 0

    monkeypatch.setattr(tasks, "poll_due", poll_due)
    tasks.sweep()
    assert len(calls) == 2  # the tick after the failure ran, then nothing was pending
    assert not Lease.objects.get(name="sweep").holder


@pytest.mark.django_db(transaction=True)
def test_created_task_id_is_written_through_a_database_restart(alice, team, upstream, monkeypatch):
    from django.db import InterfaceError

    from studio import pipeline, tasks
    from studio.models import Generation
    from tests.factories import give_key, make_generation

    give_key(alice)
    generation = make_generation(team, alice)
    upstream.post("/video/generations").respond(200, json={"task_id": "task_kept", "status": "submitted"})
    real_bump, failures = pipeline.bump, []

    def bump_after_an_outage(queryset, **changes):
        if changes.get("task_id") and not failures:
            failures.append(1)
            raise InterfaceError("the connection is closed")
        return real_bump(queryset, **changes)

    monkeypatch.setattr(tasks, "bump", bump_after_an_outage)
    monkeypatch.setattr(pipeline, "kick_sweep", lambda: None)  # polling is not under test
    tasks.submit_generation(generation.pk)
    generation.refresh_from_db()
    assert failures and generation.status == Generation.Status.RUNNING and generation.task_id == "task_kept"
