import json

import httpx
import pytest

from studio import tasks
from studio.models import Generation, Reference
from tests.factories import give_key, make_generation

S = Generation.Status


@pytest.fixture
def generation(alice, team):
    give_key(alice)
    return make_generation(team, alice, generate_audio=True)


def test_submit_sends_documented_body_and_stores_task_id(generation, upstream):
    route = upstream.post("/video/generations").respond(200, json={"task_id": "task_1", "status": "submitted"})
    tasks.submit_generation(generation.pk)
    generation.refresh_from_db()
    assert generation.status == S.RUNNING and generation.task_id == "task_1"
    assert generation.next_poll_at and generation.submitted_at and generation.version >= 2
    body = json.loads(route.calls.last.request.content)
    assert body == {"model": "doubao-seedance-2-0-720p", "prompt": "A red fox in the snow", "seconds": "5",
                    "metadata": {"ratio": "16:9", "resolution": "720p", "generate_audio": True}}
    assert route.calls.last.request.headers["Authorization"] == "Bearer sk-sandbox-test-key"


def test_local_references_are_uploaded_then_cited_in_order(generation, upstream):
    from django.core.files.base import ContentFile

    for position, name in enumerate(["b.png", "a.png"]):
        ref = Reference(generation=generation, kind="image", position=position, name=name, content_type="image/png")
        ref.file.save(name, ContentFile(b"png-bytes-" + name.encode()), save=False)
        ref.save()
    Reference.objects.create(generation=generation, kind="image", position=2, url="https://cdn.example.com/c.jpg")
    uploads = iter(["https://files.example.com/1", "https://files.example.com/2"])
    upstream.post("/files").mock(side_effect=lambda request: httpx.Response(200, json={"id": "f", "url": next(uploads)}))
    route = upstream.post("/video/generations").respond(200, json={"task_id": "task_2"})
    tasks.submit_generation(generation.pk)
    content = json.loads(route.calls.last.request.content)["metadata"]["content"]
    assert [c["image_url"]["url"] for c in content] == [
        "https://files.example.com/1", "https://files.example.com/2", "https://cdn.example.com/c.jpg"]


def test_submit_runs_once_even_if_the_job_is_delivered_twice(generation, upstream):
    route = upstream.post("/video/generations").respond(200, json={"task_id": "task_1"})
    tasks.submit_generation(generation.pk)
    tasks.submit_generation(generation.pk)
    assert route.call_count == 1


def test_submit_is_not_retried_after_send(generation, upstream):
    route = upstream.post("/video/generations").mock(side_effect=httpx.ReadTimeout("slow"))
    tasks.submit_generation(generation.pk)
    generation.refresh_from_db()
    assert route.call_count == 1
    assert generation.status == S.FAILED and "may or may not have received" in generation.error
    tasks.housekeeping()
    tasks.submit_generation(generation.pk)
    assert route.call_count == 1


def test_server_error_on_create_fails_with_unknown_outcome(generation, upstream):
    upstream.post("/video/generations").respond(502, json={"error": {"message": "bad gateway"}})
    tasks.submit_generation(generation.pk)
    generation.refresh_from_db()
    assert generation.status == S.FAILED and "may or may not" in generation.error


def test_rate_limited_submit_goes_back_to_the_queue(generation, upstream):
    upstream.post("/video/generations").respond(429, headers={"Retry-After": "7"}, json={"error": {"message": "slow down"}})
    tasks.submit_generation(generation.pk)
    generation.refresh_from_db()
    assert generation.status == S.QUEUED and generation.create_sent_at is None
    assert generation.next_poll_at > generation.created


def test_bad_request_fails_with_upstream_message(generation, upstream):
    upstream.post("/video/generations").respond(400, json={"error": {"message": "prompt too spicy", "type": "invalid_request_error"}})
    tasks.submit_generation(generation.pk)
    generation.refresh_from_db()
    assert generation.status == S.FAILED and generation.error_args == {"reason": "prompt too spicy"}


def test_rejected_key_fails_with_advice(generation, upstream):
    upstream.post("/video/generations").respond(401, json={"error": {"message": "no", "type": "authentication_error"}})
    tasks.submit_generation(generation.pk)
    generation.refresh_from_db()
    assert "rejected your API key" in generation.error


def test_missing_key_fails_without_calling_upstream(alice, team, upstream):
    generation = make_generation(team, alice)
    tasks.submit_generation(generation.pk)
    generation.refresh_from_db()
    assert generation.status == S.FAILED and "API key" in generation.error
    assert not upstream.calls


def test_worker_killed_before_sending_is_submitted_again(generation, upstream, settings):
    from datetime import timedelta

    from django.utils import timezone

    old = timezone.now() - timedelta(hours=1)
    Generation.objects.filter(pk=generation.pk).update(status=S.SUBMITTING, claimed_at=old)
    route = upstream.post("/video/generations").respond(200, json={"task_id": "task_again"})
    tasks.housekeeping()  # re-queues it; the (synchronous, in tests) submit job sends it
    generation.refresh_from_db()
    assert route.call_count == 1
    assert generation.status == S.RUNNING and generation.task_id == "task_again"


def test_worker_killed_after_sending_becomes_failed_not_resent(generation, upstream):
    from datetime import timedelta

    from django.utils import timezone

    old = timezone.now() - timedelta(hours=1)
    Generation.objects.filter(pk=generation.pk).update(status=S.SUBMITTING, claimed_at=old, create_sent_at=old)
    route = upstream.post("/video/generations").respond(200, json={"task_id": "x"})
    tasks.housekeeping()
    generation.refresh_from_db()
    assert generation.status == S.FAILED and "may or may not" in generation.error
    assert route.call_count == 0
