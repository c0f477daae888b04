import json

import pytest
from django.urls import reverse
from django.utils import timezone

from studio.models import Generation
from tests.factories import make_generation

S = Generation.Status


@pytest.fixture
def running(alice, team):
    later = timezone.now() + timezone.timedelta(seconds=60)
    return make_generation(team, alice, status=S.RUNNING, task_id="task_w", next_poll_at=later, submitted_at=timezone.now())


def post(client, token, body, **extra):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(reverse("relaydance_hook", args=[token]), data, content_type="application/json", **extra)


def test_right_token_and_task_makes_the_sweep_poll_now(client, running, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = post(client, running.webhook_token, {"task_id": "task_w", "status": "succeeded", "url": "https://x/v.mp4"})
    assert response.status_code == 200
    running.refresh_from_db()
    assert running.next_poll_at <= timezone.now()
    assert running.status == S.RUNNING  # the body is only a hint; the poll decides


def test_bad_token_is_rejected(client, running):
    assert post(client, "wrong-token", {"task_id": "task_w", "status": "succeeded"}).status_code == 404


def test_wrong_task_id_is_rejected(client, running):
    response = post(client, running.webhook_token, {"task_id": "task_other", "status": "succeeded"})
    assert response.status_code == 404
    running.refresh_from_db()
    assert running.next_poll_at > timezone.now()


def test_duplicates_and_late_arrivals_change_nothing(client, running):
    Generation.objects.filter(pk=running.pk).update(status=S.READY)
    response = post(client, running.webhook_token, {"task_id": "task_w", "status": "failed"})
    assert response.status_code == 200
    running.refresh_from_db()
    assert running.status == S.READY


def test_oversized_body_is_refused(client, running):
    body = json.dumps({"task_id": "task_w", "status": "running", "pad": "x" * 70000})
    assert post(client, running.webhook_token, body).status_code == 413


def test_garbage_body_is_refused(client, running):
    assert post(client, running.webhook_token, b"not json").status_code == 400


def test_webhook_needs_no_csrf_token(running):
    from django.test import Client

    response = post(Client(enforce_csrf_checks=True), running.webhook_token, {"task_id": "task_w", "status": "running"})
    assert response.status_code == 200


def test_callback_url_only_with_public_site_url(settings, running):
    from studio.pipeline import callback_url

    settings.WEBHOOKS_ENABLED = None
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert callback_url(running) is None
    settings.SITE_URL = "https://studio.example.com"
    assert callback_url(running) == f"https://studio.example.com/hooks/relaydance/{running.webhook_token}/"


def test_get_and_other_methods_are_refused(client, running):
    url = reverse("relaydance_hook", args=[running.webhook_token])
    assert client.get(url).status_code == 405
    assert client.put(url, "{}", content_type="application/json").status_code == 405


def test_another_generations_token_with_this_task_id_is_rejected(client, running, alice, team):
    other = make_generation(team, alice, status=S.RUNNING, task_id="task_other", submitted_at=timezone.now(),
                            next_poll_at=timezone.now() + timezone.timedelta(seconds=60))
    assert post(client, other.webhook_token, {"task_id": "task_w", "status": "succeeded"}).status_code == 404
    running.refresh_from_db()
    assert running.next_poll_at > timezone.now()


def test_a_declared_huge_body_is_refused_before_reading(client, running):
    response = post(client, running.webhook_token, {"task_id": "task_w"}, CONTENT_LENGTH=str(50 * 1024**2))
    assert response.status_code == 413


@pytest.mark.parametrize("body", [b"[1, 2]", b'"task_w"', b"{}", b'{"status": "succeeded"}', b"\xff\xfe"])
def test_json_that_is_not_a_task_is_refused(client, running, body):
    assert post(client, running.webhook_token, body).status_code in (400, 404)
    running.refresh_from_db()
    assert running.next_poll_at > timezone.now()


def test_refusals_reveal_nothing(client, running):
    response = post(client, "wrong-token", {"task_id": "task_w", "status": "succeeded"})
    assert response.json() == {"error": "unknown"}
