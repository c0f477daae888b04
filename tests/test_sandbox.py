"""The sandbox API through Django's test client: auth, models, uploads, validation, timing, tags."""

import io
import json
import subprocess
from datetime import timedelta

import imageio_ffmpeg
import pytest
from django.utils import timezone
from PIL import Image

from studio.sandbox.models import SandboxTask
from studio.sandbox.video import make_clip

pytestmark = pytest.mark.django_db

API = "/sandbox/v1"
KEY = "sk-sandbox-alice"


def auth(key: str = KEY) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def submit(client, body, key: str = KEY):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(f"{API}/video/generations", data, content_type="application/json", **auth(key))


def poll(client, task_id: str, key: str = KEY):
    return client.get(f"{API}/video/generations/{task_id}", **auth(key))


def request_body(prompt: str = "A fox runs through snow", **metadata) -> dict:
    return {"model": "doubao-seedance-2-0-720p", "prompt": prompt, "seconds": "5",
            "metadata": {"ratio": "16:9", **metadata}}


def image(n: int, role: str = "reference_image") -> dict:
    return {"type": "image_url", "image_url": {"url": f"https://example.com/{n}.png"}, "role": role}


def age(task_id: str, seconds: float) -> None:
    """Pretend the task was submitted `seconds` ago (instead of sleeping)."""
    SandboxTask.objects.filter(task_id=task_id).update(created=timezone.now() - timedelta(seconds=seconds))


def assert_error(response, status: int, kind: str, text: str) -> None:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["type"] == kind
    assert text in error["message"]


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "orange").save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("header", [{}, {"HTTP_AUTHORIZATION": "Bearer sk-live-123"}])
def test_non_sandbox_key_gets_401_in_documented_shape(client, header):
    response = client.get(f"{API}/models", **header)
    assert_error(response, 401, "authentication_error", "invalid or has been revoked")


def test_models_lists_known_video_models_and_non_video_ids(client):
    body = client.get(f"{API}/models", **auth()).json()
    ids = [item["id"] for item in body["data"]]
    assert body["object"] == "list"
    assert {"doubao-seedance-2-0-1080p", "seedance-1-5-pro-no-audio", "grok-imagine-image", "grok-4.3"} <= set(ids)
    assert body["data"][0] == {"id": ids[0], "object": "model", "created": 0, "owned_by": "sandbox"}


def test_limited_key_sees_one_model_and_may_not_submit_another(client):
    ids = [m["id"] for m in client.get(f"{API}/models", **auth("sk-sandbox-limited")).json()["data"]]
    assert ids == ["seedance-1-5-pro-no-audio"]
    response = submit(client, request_body(), key="sk-sandbox-limited")
    assert_error(response, 403, "permission_error", "This key may not use model doubao-seedance-2-0-720p")
    allowed = {**request_body(), "model": "seedance-1-5-pro-no-audio"}
    assert submit(client, allowed, key="sk-sandbox-limited").status_code == 200


def test_broke_key_gets_403_insufficient_balance_on_submit(client):
    assert_error(submit(client, request_body(), key="sk-sandbox-broke"), 403, "permission_error",
                 "Insufficient balance")
    assert not SandboxTask.objects.exists()


def test_uploaded_image_is_served_publicly_at_returned_url(client):
    upload = io.BytesIO(png_bytes())
    upload.name = "cat.png"
    response = client.post(f"{API}/files", {"file": upload}, **auth())
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"].startswith("file_")
    assert body["url"] == f"http://testserver{API}/files/{body['id']}"
    served = client.get(body["url"].removeprefix("http://testserver"))  # no Authorization
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == png_bytes()


@pytest.mark.parametrize("content", [b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", b"RIFF\x24\x00\x00\x00WAVEfmt ",
                                     b"ID3\x04\x00\x00\x00\x00\x00\x00"])
def test_upload_accepts_video_and_audio_by_magic_bytes(client, content):
    upload = io.BytesIO(content + b"\x00" * 64)
    upload.name = "clip.bin"
    assert client.post(f"{API}/files", {"file": upload}, **auth()).status_code == 200


def test_upload_refuses_text_file_named_png_and_missing_field(client):
    fake = io.BytesIO(b"just some text, not an image")
    fake.name = "cat.png"
    assert_error(client.post(f"{API}/files", {"file": fake}, **auth()), 400, "invalid_request_error",
                 "Unsupported file")
    assert_error(client.post(f"{API}/files", {}, **auth()), 400, "invalid_request_error", '"file"')


@pytest.mark.parametrize(
    "body, status, text",
    [
        ("{not json", 400, "must be JSON"),
        ({**request_body(), "callback_url": "https://x.example/hook"}, 400, "callback_url must be inside metadata"),
        ({**request_body(), "seconds": 5}, 400, "seconds must be a string"),
        ({**request_body(), "n": 2}, 400, "Unknown field(s): n"),
        (request_body(fps=24), 400, "Unknown metadata key(s): fps"),
        (request_body(content=[{"type": "file_url", "file_url": {"url": "https://x/1"}}]), 400, ".type must be"),
        (request_body(content=[{"type": "image_url", "image_url": {}, "role": "reference_image"}]), 400, "url"),
        (request_body(content=[{"type": "video_url", "video_url": {"url": "https://x/v.mp4"}, "role": "first_frame"}]),
         400, ".role must be one of reference_video"),
        (request_body("@image3 meets @image1", content=[image(1), image(2)]), 400, "cites @image3"),
        (request_body(content=[image(1), image(2, "first_frame")]), 400, "not both"),
        (request_body(content=[image(n) for n in range(1, 11)]), 400, "At most 9 reference images"),
        ({**request_body(), "seconds": "16"}, 400, "4-15 seconds"),
        ({**request_body(), "model": "seedance-1-5-pro-no-audio", "metadata": {"generate_audio": True}}, 400,
         "cannot generate audio"),
        ({**request_body(), "model": "grok-4.3"}, 404, "model not found"),
    ],
)
def test_submit_rejects_bad_bodies_in_documented_shape(client, body, status, text):
    response = submit(client, body)
    assert_error(response, status, "invalid_request_error" if status == 400 else "not_found_error", text)
    assert not SandboxTask.objects.exists()


def test_status_progresses_with_time_then_serves_a_real_mp4(client):
    response = submit(client, request_body(content=[image(1)], prompt="@image1 spins"))
    assert response.status_code == 200
    task_id = response.json()["task_id"]
    assert response.json() == {"task_id": task_id, "status": "submitted"}
    assert task_id.startswith("task_") and len(task_id) == 37 and task_id[5:].isalnum()
    assert poll(client, task_id).json()["status"] == "submitted"
    age(task_id, 1)  # queue 0.5 s, run 1.5 s in tests.settings
    assert poll(client, task_id).json()["status"] == "running"
    age(task_id, 2.1)
    body = poll(client, task_id).json()
    assert body["status"] == "succeeded" and body["format"] == "mp4"
    assert body["url"] == f"http://testserver{API}/media/{task_id}.mp4"
    assert body["metadata"]["ratio"] == "16:9" and body["metadata"]["resolution"] == "720p"
    video = b"".join(client.get(f"{API}/media/{task_id}.mp4").streaming_content)
    assert video[4:8] == b"ftyp"
    assert SandboxTask.objects.get(task_id=task_id).polls == 3


def test_media_answers_a_range_request_with_206(client):
    task_id = submit(client, request_body()).json()["task_id"]
    age(task_id, 5)
    poll(client, task_id)
    response = client.get(f"{API}/media/{task_id}.mp4", HTTP_RANGE="bytes=4-7")
    assert response.status_code == 206
    assert response.content == b"ftyp"
    assert response["Content-Range"].startswith("bytes 4-7/")


def test_due_task_reads_running_while_another_request_renders_it(client):
    task_id = submit(client, request_body()).json()["task_id"]
    SandboxTask.objects.filter(task_id=task_id).update(outcome=SandboxTask.RENDERING)  # claim lost
    age(task_id, 5)
    assert poll(client, task_id).json()["status"] == "running"
    assert not SandboxTask.objects.get(task_id=task_id).video


def test_fail_tag_ends_failed_with_error_message(client):
    task_id = submit(client, request_body("A fox [fail]")).json()["task_id"]
    age(task_id, 5)
    body = poll(client, task_id).json()
    assert body["status"] == "failed" and "url" not in body
    assert body["error"] == {"code": 500, "message": "Sandbox: generation failed as requested"}


def test_429_tag_rate_limits_every_other_get_starting_with_the_first(client):
    task_id = submit(client, request_body("A fox [429]")).json()["task_id"]
    codes = [poll(client, task_id).status_code for _ in range(4)]
    assert codes == [429, 200, 429, 200]
    assert_error(poll(client, task_id), 429, "rate_limit_error", "rate limited")
    assert poll(client, task_id).status_code == 200


def test_429_answer_carries_retry_after(client):
    task_id = submit(client, request_body("A fox [429]")).json()["task_id"]
    assert poll(client, task_id)["Retry-After"] == "1"


def test_500_tag_answers_first_two_gets_with_502(client):
    task_id = submit(client, request_body("A fox [500]")).json()["task_id"]
    codes = [poll(client, task_id).status_code for _ in range(3)]
    assert codes == [502, 502, 200]


def test_reject_and_submit429_tags_create_nothing(client):
    assert_error(submit(client, request_body("A fox [reject]")), 400, "invalid_request_error",
                 "Sandbox: rejected as requested")
    response = submit(client, request_body("A fox [submit429]"))
    assert response.status_code == 429 and response["Retry-After"] == "1"
    assert not SandboxTask.objects.exists()


@pytest.mark.parametrize("prompt, run_seconds", [("A fox", 1.5), ("A fox [slow]", 7.5), ("A fox [run=0.25]", 0.25)])
def test_timing_tags_set_run_time(client, prompt, run_seconds):
    task_id = submit(client, request_body(prompt)).json()["task_id"]
    task = SandboxTask.objects.get(task_id=task_id)
    assert (task.queue_seconds, task.run_seconds) == (0.5, run_seconds)


def test_other_key_gets_404_for_task_and_unknown_task_is_404(client):
    task_id = submit(client, request_body()).json()["task_id"]
    assert_error(poll(client, task_id, key="sk-sandbox-bob"), 404, "not_found_error", "Task not found")
    assert poll(client, "task_" + "x" * 32).status_code == 404
    assert SandboxTask.objects.get(task_id=task_id).key_hash != KEY  # only the hash is stored


def test_unknown_path_and_wrong_method_answer_json_errors(client):
    assert_error(client.get(f"{API}/nope", **auth()), 404, "not_found_error", "Unknown")
    assert_error(client.get(f"{API}/video/generations", **auth()), 405, "invalid_request_error", "POST")


def has_audio_stream(data: bytes, tmp_path) -> bool:
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                           capture_output=True, text=True)
    return "Audio: aac" in probe.stderr


def test_make_clip_adds_a_sound_track_only_when_asked(tmp_path):
    assert has_audio_stream(make_clip(prompt="Waves", ratio="21:9", seconds=4, audio=True), tmp_path)
    assert not has_audio_stream(make_clip(prompt="Waves", ratio="adaptive", seconds=4, audio=False), tmp_path)
