"""The real RelayDance client against the sandbox over real HTTP (live_server): the two
sides of the contract agree on models, uploads, submits, polling, clips and webhooks."""

import io
import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import imageio_ffmpeg
import pytest
from PIL import Image

from studio.relaydance import BadRequest, GenerationRequest, KeyRejected, RelayDanceClient, Task, parse_task
from studio.sandbox import models as sandbox_models
from studio.sandbox.models import SandboxTask, retry_locked

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "sk-sandbox-contract"


@pytest.fixture
def fast(settings):
    settings.SANDBOX_QUEUE_SECONDS = 0.2
    settings.SANDBOX_RUN_SECONDS = 0.5


@pytest.fixture
def relay(live_server, fast):
    client = RelayDanceClient(live_server.url + "/sandbox/v1", max_get_attempts=2)
    yield client
    client.close()


@pytest.fixture
def receiver():
    """A tiny webhook receiver on 127.0.0.1: yields (url, queue of received JSON bodies)."""
    received: queue.Queue = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            received.put(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/relaydance/secret-token/", received
    server.shutdown()
    server.server_close()


def wait_until_final(relay: RelayDanceClient, task_id: str, deadline: float = 20) -> Task:
    give_up = time.monotonic() + deadline
    while time.monotonic() < give_up:
        task = relay.get_generation(KEY, task_id)
        if task.status in ("succeeded", "failed"):
            return task
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} not final after {deadline} s")


def download_duration(relay: RelayDanceClient, url: str, tmp_path) -> float:
    path = tmp_path / "clip.mp4"
    with path.open("wb") as dest:
        relay.download(url, dest, max_bytes=20 * 1024 * 1024)
    assert path.read_bytes()[4:8] == b"ftyp"  # an MP4 starts with its ftyp box
    _frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    return seconds


def png_file() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(out, format="PNG")
    out.seek(0)
    return out


def test_client_lists_the_sandbox_models(relay):
    ids = relay.list_models(KEY)
    assert "doubao-seedance-2-0-720p" in ids and "grok-4.3" in ids


def test_client_is_refused_with_a_non_sandbox_key(relay):
    with pytest.raises(KeyRejected):
        relay.list_models("sk-live-not-a-sandbox-key")


def test_upload_returns_a_public_url_serving_the_same_bytes(relay):
    uploaded = relay.upload_file(KEY, png_file(), filename="still.png", content_type="image/png")
    assert uploaded.id.startswith("file_")
    assert httpx.get(uploaded.url).content == png_file().getvalue()


def test_text_to_video_task_succeeds_with_a_real_clip_of_the_asked_length(relay, tmp_path):
    req = GenerationRequest(model="doubao-seedance-2-0-720p", prompt="Storm clouds over peaks",
                            seconds=5, ratio="9:16", resolution="720p", generate_audio=True)
    created = relay.create_generation(KEY, req)
    assert created.status == "queued" and created.task_id.startswith("task_")
    task = wait_until_final(relay, created.task_id)
    assert task.status == "succeeded", task.raw
    assert task.raw["metadata"]["ratio"] == "9:16"
    assert download_duration(relay, task.video_url, tmp_path) == pytest.approx(5, abs=0.5)


def test_image_task_citing_image1_succeeds_with_an_uploaded_reference(relay, tmp_path):
    uploaded = relay.upload_file(KEY, png_file(), filename="still.png", content_type="image/png")
    req = GenerationRequest(model="seedance-1-5-pro-with-audio", prompt="@image1 rotates slowly",
                            seconds=4, ratio="1:1", resolution="720p", images=[uploaded.url])
    task = wait_until_final(relay, relay.create_generation(KEY, req).task_id)
    assert task.status == "succeeded", task.raw
    assert download_duration(relay, task.video_url, tmp_path) == pytest.approx(4, abs=0.5)


def test_client_sees_a_failed_task_with_the_sandbox_message(relay):
    req = GenerationRequest(model="doubao-seedance-2-0-720p", prompt="A fox [fail]", seconds=4)
    task = wait_until_final(relay, relay.create_generation(KEY, req).task_id)
    assert (task.status, task.error) == ("failed", "Sandbox: generation failed as requested")


def test_client_gets_bad_request_for_an_unknown_model_and_a_bad_citation(relay):
    with pytest.raises(BadRequest, match="model not found"):
        relay.create_generation(KEY, GenerationRequest(model="grok-4.3", prompt="Hi", seconds=5))
    with pytest.raises(BadRequest, match="@image2"):
        relay.create_generation(KEY, GenerationRequest(
            model="doubao-seedance-2-0-720p", prompt="@image2", seconds=5, images=["https://x.example/1.png"]))


def test_callback_url_receives_the_final_task_json(relay, receiver):
    url, received = receiver
    req = GenerationRequest(model="doubao-seedance-2-0-720p", prompt="Webhook fox", seconds=4,
                            ratio="16:9", callback_url=url)
    task_id = relay.create_generation(KEY, req).task_id
    payload = received.get(timeout=15)  # nobody polls: the timer makes the clip itself
    hooked = parse_task(payload)
    assert (hooked.task_id, hooked.status) == (task_id, "succeeded")
    assert payload == relay.get_generation(KEY, task_id).raw  # the same JSON the GET returns
    give_up = time.monotonic() + 5
    sent_at = lambda: SandboxTask.objects.get(task_id=task_id).callback_sent_at  # noqa: E731
    while retry_locked(sent_at) is None:
        assert time.monotonic() < give_up, "callback_sent_at never set"
        time.sleep(0.05)


def test_concurrent_polls_of_a_due_task_make_the_clip_once(relay, monkeypatch):
    calls = []
    real_make_clip = sandbox_models.make_clip

    def counting_make_clip(**kwargs):
        calls.append(kwargs)
        time.sleep(0.3)  # widen the window in which the other polls arrive
        return real_make_clip(**kwargs)

    monkeypatch.setattr(sandbox_models, "make_clip", counting_make_clip)
    req = GenerationRequest(model="doubao-seedance-2-0-720p", prompt="Race [run=0.1]", seconds=4)
    task_id = relay.create_generation(KEY, req).task_id
    time.sleep(0.5)  # queue 0.2 s + run 0.1 s: due now
    statuses: list[str] = []
    threads = [threading.Thread(target=lambda: statuses.append(relay.get_generation(KEY, task_id).status))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) <= {"running", "succeeded"} and len(statuses) == 4
    assert wait_until_final(relay, task_id).status == "succeeded"
    assert len(calls) == 1
