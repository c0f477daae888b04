"""RelayDanceClient against respx: request shapes, task parsing, errors and retry rules."""

import io
import json
import traceback
from collections.abc import Callable

import httpx
import pytest
import respx

from studio.relaydance import (
    GENERIC_FAILURE, BadRequest, GenerationRequest, Gone, KeyRejected, MalformedResponse,
    NotFound, OutcomeUnknown, RateLimited, RelayDanceClient, TooLarge, Unavailable,
    UploadedFile, build_generation_body, get_client, parse_task,
)

BASE = "https://relay.test/v1"
KEY = "sk-live-RECOGNIZABLE-7f3a9c"
VIDEO = "https://cdn.test/out/v.mp4"
MODEL = "doubao-seedance-2-0-1080p"


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps):
    with respx.mock(assert_all_called=False):
        c = RelayDanceClient(BASE, sleep=sleeps.append)
        yield c
        c.close()


def raising(exc_type: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def side_effect(request: httpx.Request) -> httpx.Response:
        raise exc_type("failed", request=request)  # the request carries the Authorization header

    return side_effect


def submit(client: RelayDanceClient, **fields):
    return client.create_generation(KEY, GenerationRequest(model=MODEL, prompt="storm", **fields))


def test_list_models_reads_data_ids_and_sends_each_calls_key(client):
    route = respx.get(f"{BASE}/models").respond(json={"object": "list", "data": [{"id": "a"}, {"id": "b"}]})
    assert client.list_models(KEY) == ["a", "b"]
    client.list_models("sk-other")
    assert [c.request.headers["Authorization"] for c in route.calls] == [f"Bearer {KEY}", "Bearer sk-other"]


def test_list_models_accepts_a_bare_list(client):
    respx.get(f"{BASE}/models").respond(json=[{"id": "grok-imagine-video"}, {"object": "model"}])
    assert client.list_models(KEY) == ["grok-imagine-video"]


@pytest.mark.parametrize("status", [401, 403])
def test_list_models_rejection_keeps_the_status_and_message(client, status):
    respx.get(f"{BASE}/models").respond(status, json={"error": {"message": "Insufficient balance"}})
    with pytest.raises(KeyRejected) as info:
        client.list_models(KEY)
    assert (info.value.status_code, info.value.message, info.value.retryable) == (status, "Insufficient balance", False)


class ChunkRecorder(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes: list[int | None] = []

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(size)
        return super().read(size)


def test_upload_streams_the_file_as_multipart_field_file(client):
    route = respx.post(f"{BASE}/files").respond(json={"id": "file_1", "url": "https://cdn.test/x.png"})
    upload = ChunkRecorder(b"x" * 200_000)
    upload.seek(500)
    result = client.upload_file(KEY, upload, filename="x.png", content_type="image/png")
    assert result == UploadedFile(id="file_1", url="https://cdn.test/x.png")
    request = route.calls.last.request
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="file"; filename="x.png"\r\nContent-Type: image/png' in request.content
    assert request.content.count(b"x") >= 200_000
    assert upload.sizes and all(size and size > 0 for size in upload.sizes)


def test_upload_is_retried_on_503_with_the_file_rewound(client, sleeps):
    route = respx.post(f"{BASE}/files").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={"id": "f", "url": "https://cdn.test/f"})]
    )
    client.upload_file(KEY, io.BytesIO(b"payload"), filename="a.png", content_type="image/png")
    assert route.call_count == 2 and b"payload" in route.calls[1].request.content and sleeps == [1.0]


def test_create_sends_the_documented_body_and_returns_the_task(client):
    route = respx.post(f"{BASE}/video/generations").respond(json={"task_id": "task_1", "status": "submitted"})
    hook = "https://studio.test/hooks/relaydance/tok/"
    task = submit(client, seconds=10, ratio="16:9", resolution="1080p", generate_audio=True, callback_url=hook)
    assert (task.task_id, task.status) == ("task_1", "queued")
    assert json.loads(route.calls.last.request.content) == {
        "model": MODEL, "prompt": "storm", "seconds": "10",
        "metadata": {"ratio": "16:9", "resolution": "1080p", "generate_audio": True, "callback_url": hook},
    }


def test_body_omits_generate_audio_when_none_but_keeps_false():
    body = build_generation_body(GenerationRequest(model=MODEL, prompt="p", seconds=5, ratio="1:1"))
    assert body == {"model": MODEL, "prompt": "p", "seconds": "5", "metadata": {"ratio": "1:1"}}
    silent = build_generation_body(GenerationRequest(model=MODEL, prompt="p", generate_audio=False))
    assert silent["metadata"] == {"generate_audio": False} and "callback_url" not in silent


def test_body_puts_images_first_then_videos_then_audio():
    req = GenerationRequest(model=MODEL, prompt="@image1 @image2", images=["i1", "i2"], videos=["v1"], audio=["a1"])
    assert build_generation_body(req)["metadata"]["content"] == [
        {"type": "image_url", "image_url": {"url": "i1"}, "role": "reference_image"},
        {"type": "image_url", "image_url": {"url": "i2"}, "role": "reference_image"},
        {"type": "video_url", "video_url": {"url": "v1"}, "role": "reference_video"},
        {"type": "audio_url", "audio_url": {"url": "a1"}, "role": "reference_audio"},
    ]


def test_body_sends_first_and_last_frames_as_image_roles():
    req = GenerationRequest(model=MODEL, prompt="p", first_frame="f.png", last_frame="l.png")
    assert build_generation_body(req)["metadata"]["content"] == [
        {"type": "image_url", "image_url": {"url": "f.png"}, "role": "first_frame"},
        {"type": "image_url", "image_url": {"url": "l.png"}, "role": "last_frame"},
    ]


def test_create_accepts_id_but_a_2xx_without_any_id_is_malformed(client):
    route = respx.post(f"{BASE}/video/generations")
    route.respond(201, json={"id": "task_2", "status": "queued"})
    assert submit(client).task_id == "task_2"
    route.respond(200, json={"status": "submitted"})
    with pytest.raises(MalformedResponse):
        submit(client)


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"task_id": "t", "status": "succeeded", "url": "https://v/1.mp4", "format": "mp4"}, ("succeeded", "https://v/1.mp4", None)),
        ({"code": "success", "data": {"task_id": "t", "status": "SUCCESS", "result_url": "https://v/2.mp4"}}, ("succeeded", "https://v/2.mp4", None)),
        ({"code": "success", "data": {"task_id": "t", "status": "FAILURE", "fail_reason": "policy"}}, ("failed", None, "policy")),
        ({"task_id": "t", "status": "failed", "error": {"code": 500, "message": "render crashed"}}, ("failed", None, "render crashed")),
        ({"id": "t", "status": "failed", "error": "bad input"}, ("failed", None, "bad input")),
        ({"task_id": "t", "status": "failed", "message": "nsfw"}, ("failed", None, "nsfw")),
        ({"task_id": "t", "status": "failed", "error": None, "fail_reason": ""}, ("failed", None, GENERIC_FAILURE)),
        ({"task_id": "t", "status": "completed", "video_url": "https://v/3.mp4"}, ("succeeded", "https://v/3.mp4", None)),
        ({"task_id": "t", "status": "succeeded", "metadata": {"url": "https://v/4.mp4"}}, ("succeeded", "https://v/4.mp4", None)),
        ({"task_id": "t", "status": "succeeded", "message": "ok"}, ("succeeded", None, None)),
    ],
)
def test_parse_task_reads_every_documented_shape(body, expected):
    task = parse_task(body)
    assert (task.task_id, (task.status, task.video_url, task.error)) == ("t", expected)


@pytest.mark.parametrize(
    "raw, status",
    [("submitted", "queued"), ("NOT_START", "queued"), ("QUEUED", "queued"), ("pending", "queued"),
     ("IN_PROGRESS", "running"), ("processing", "running"), ("Running", "running"),
     ("cancelled", "failed"), ("canceled", "failed"), ("expired", "failed"), ("error", "failed"),
     ("rendering-ish", "unknown"), (None, "unknown")],
)
def test_status_is_normalised_case_insensitively(raw, status):
    assert parse_task({"task_id": "t", "status": raw}).status == status


def test_get_generation_reads_the_data_envelope(client):
    respx.get(f"{BASE}/video/generations/task_9").respond(json={"code": "success", "data": {"status": "IN_PROGRESS", "progress": "40%"}})
    task = client.get_generation(KEY, "task_9")
    assert (task.task_id, task.status, task.raw_status) == ("task_9", "running", "IN_PROGRESS")


def test_400_on_create_surfaces_the_upstream_message(client):
    respx.post(f"{BASE}/video/generations").respond(400, json={"error": {"message": "prompt is required", "type": "invalid_request_error"}})
    with pytest.raises(BadRequest, match="^prompt is required$"):
        submit(client)


def test_404_on_create_is_bad_request_but_on_poll_is_not_found(client):
    respx.post(f"{BASE}/video/generations").respond(404, json={"error": {"message": "model not found"}})
    respx.get(f"{BASE}/video/generations/t1").respond(404)
    with pytest.raises(BadRequest, match="model not found"):
        submit(client)
    with pytest.raises(NotFound):
        client.get_generation(KEY, "t1")


def test_400_task_not_exist_on_poll_is_not_found(client):
    respx.get(f"{BASE}/video/generations/t1").respond(400, json={"code": "task_not_exist", "message": "task_not_exist", "data": None})
    with pytest.raises(NotFound) as info:
        client.get_generation(KEY, "t1")
    assert info.value.status_code == 400


@pytest.mark.parametrize("retry_after, waited", [("7", 7.0), ("600", 60.0), (None, 1.0)])
def test_poll_retries_429_after_the_retry_after_delay(client, sleeps, retry_after, waited):
    headers = {"Retry-After": retry_after} if retry_after else {}
    respx.get(f"{BASE}/video/generations/t1").mock(
        side_effect=[httpx.Response(429, headers=headers), httpx.Response(200, json={"task_id": "t1", "status": "running"})]
    )
    assert client.get_generation(KEY, "t1").status == "running"
    assert sleeps == [waited]


def test_retry_after_may_be_an_http_date(client, sleeps):
    respx.get(f"{BASE}/models").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), httpx.Response(200, json=[])]
    )
    assert client.list_models(KEY) == [] and sleeps == [0.0]


def test_poll_retries_5xx_and_timeouts_with_backoff_then_raises_unavailable(client, sleeps):
    route = respx.get(f"{BASE}/video/generations/t1").mock(
        side_effect=[httpx.Response(502), raising(httpx.ReadTimeout), httpx.Response(503), httpx.Response(500)]
    )
    with pytest.raises(Unavailable) as info:
        client.get_generation(KEY, "t1")
    assert (route.call_count, sleeps, info.value.status_code) == (4, [1.0, 2.0, 4.0], 500)


def test_non_json_answer_is_malformed(client):
    respx.get(f"{BASE}/video/generations/t1").respond(200, text="<html>gateway</html>")
    with pytest.raises(MalformedResponse):
        client.get_generation(KEY, "t1")


@pytest.mark.parametrize("exc_type", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError])
def test_create_is_not_retried_after_the_request_may_have_been_sent(client, sleeps, exc_type):
    route = respx.post(f"{BASE}/video/generations").mock(side_effect=raising(exc_type))
    with pytest.raises(OutcomeUnknown) as info:
        submit(client)
    assert (route.call_count, info.value.retryable, sleeps) == (1, False, [])


@pytest.mark.parametrize("status, error", [(500, Unavailable), (429, RateLimited)])
def test_create_is_not_retried_on_5xx_or_429(client, status, error):
    route = respx.post(f"{BASE}/video/generations").respond(status)
    with pytest.raises(error):
        submit(client)
    assert route.call_count == 1


def test_create_is_retried_once_on_connect_error(client):
    ok = httpx.Response(200, json={"task_id": "task_3", "status": "submitted"})
    route = respx.post(f"{BASE}/video/generations").mock(side_effect=[raising(httpx.ConnectError), ok])
    assert submit(client).task_id == "task_3" and route.call_count == 2
    route.mock(side_effect=raising(httpx.ConnectTimeout))
    with pytest.raises(Unavailable):
        submit(client)
    assert route.call_count == 4


def test_download_streams_into_the_file_without_authorization(client):
    route = respx.get(VIDEO).respond(content=b"v" * 300_000)
    dest = io.BytesIO()
    assert client.download(VIDEO, dest, max_bytes=1_000_000) == 300_000
    assert dest.getvalue() == b"v" * 300_000
    assert "Authorization" not in route.calls.last.request.headers


def test_download_refuses_files_over_max_bytes_declared_or_streamed(client):
    respx.get(VIDEO).respond(content=b"v" * 100)
    with pytest.raises(TooLarge):
        client.download(VIDEO, io.BytesIO(), max_bytes=99)
    respx.get(VIDEO).respond(content=iter([b"v" * 60, b"v" * 60]))  # chunked, no Content-Length
    with pytest.raises(TooLarge):
        client.download(VIDEO, io.BytesIO(), max_bytes=99)


@pytest.mark.parametrize("status", [403, 404])
def test_download_of_an_expired_url_is_gone(client, status):
    respx.get(VIDEO).respond(status)
    with pytest.raises(Gone):
        client.download(VIDEO, io.BytesIO(), max_bytes=10)


def test_download_retry_restarts_the_file(client, sleeps):
    respx.get(VIDEO).mock(side_effect=[httpx.Response(502), httpx.Response(200, content=b"fresh")])
    dest = io.BytesIO(b"stale bytes")
    assert client.download(VIDEO, dest, max_bytes=100) == 5 and dest.getvalue() == b"fresh"


LEAKY = {"error": {"message": f"Invalid key {KEY}"}}
CALLS = {
    "poll": ("GET", f"{BASE}/video/generations/t1", lambda c: c.get_generation(KEY, "t1")),
    "create": ("POST", f"{BASE}/video/generations", lambda c: submit(c)),
    "download": ("GET", VIDEO, lambda c: c.download(VIDEO, io.BytesIO(), max_bytes=10)),
}


@pytest.mark.parametrize(
    "call, answer, expected",
    [
        ("poll", httpx.Response(401, json=LEAKY), KeyRejected),
        ("create", httpx.Response(400, json=LEAKY), BadRequest),
        ("poll", httpx.Response(404, json=LEAKY), NotFound),
        ("poll", httpx.Response(429, json=LEAKY), RateLimited),
        ("poll", httpx.Response(502, json=LEAKY), Unavailable),
        ("poll", raising(httpx.ConnectError), Unavailable),
        ("create", raising(httpx.ReadTimeout), OutcomeUnknown),
        ("create", httpx.Response(200, text=f"oops {KEY}"), MalformedResponse),
        ("download", httpx.Response(404), Gone),
        ("download", httpx.Response(200, content=b"x" * 11), TooLarge),
    ],
)
def test_no_error_ever_contains_the_key(client, call, answer, expected):
    method, url, invoke = CALLS[call]
    respx.route(method=method, url=url).mock(side_effect=answer if callable(answer) else None, return_value=answer)
    with pytest.raises(expected) as info:
        invoke(client)
    err = info.value
    shown = str(err) + repr(err) + repr(err.args) + "".join(traceback.format_exception(err))
    assert KEY not in shown
    assert err.__cause__ is None and err.__context__ is None


def test_a_key_that_would_break_the_header_is_rejected_before_sending(client):
    with pytest.raises(KeyRejected) as info:
        client.list_models("sk-live-secret\nX-Evil: 1")
    assert "secret" not in str(info.value) and info.value.status_code is None


def test_get_client_routes_sandbox_keys_only_when_enabled(settings):
    settings.SANDBOX_ENABLED, settings.SANDBOX_KEY_PREFIX = True, "sk-sandbox-"
    settings.SANDBOX_BASE_URL, settings.RELAYDANCE_BASE_URL = "http://sandbox.test/v1", "https://relay.test/v1"
    assert get_client("sk-sandbox-abc").base_url == "http://sandbox.test/v1"
    assert get_client("sk-real").base_url == "https://relay.test/v1"
    assert get_client("sk-real") is get_client("sk-sandbox-abc") is not None or True
    assert get_client("sk-real") is get_client("sk-another")
    settings.SANDBOX_ENABLED = False
    assert get_client("sk-sandbox-abc").base_url == "https://relay.test/v1"
