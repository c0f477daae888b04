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
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def client(api, sleeps):
    c = RelayDanceClient(BASE, sleep=sleeps.append)
    yield c
    c.close()


def raising(exc_type: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def side_effect(request: httpx.Request) -> httpx.Response:
        raise exc_type("failed", request=request)  # the request carries the Authorization header

    return side_effect


def submit(client: RelayDanceClient, **fields):
    return client.create_generation(KEY, GenerationRequest(model=MODEL, prompt="storm", **fields))


def entry(kind: str, url: str, role: str) -> dict:
    return {"type": kind, kind: {"url": url}, "role": role}


CALLS = {
    "models": ("GET", f"{BASE}/models", lambda c: c.list_models(KEY)),
    "poll": ("GET", f"{BASE}/video/generations/t1", lambda c: c.get_generation(KEY, "t1")),
    "create": ("POST", f"{BASE}/video/generations", lambda c: submit(c)),
    "download": ("GET", VIDEO, lambda c: c.download(VIDEO, io.BytesIO(), max_bytes=10)),
}


def test_list_models_reads_both_shapes_with_each_calls_key(api, client):
    route = api.get(f"{BASE}/models").respond(json={"object": "list", "data": [{"id": "a"}, {"id": "b"}]})
    assert client.list_models(KEY) == ["a", "b"]
    route.respond(json=[{"id": "grok-imagine-video"}, {"object": "model"}])
    assert client.list_models("sk-other") == ["grok-imagine-video"]
    auths = [c.request.headers["Authorization"] for c in route.calls]
    assert auths == [f"Bearer {KEY}", "Bearer sk-other"]


class ChunkRecorder(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes: list[int | None] = []

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(size)
        return super().read(size)


def test_upload_streams_the_file_as_multipart_field_file(api, client):
    answer = {"id": "file_1", "url": "https://cdn.test/x.png"}
    route = api.post(f"{BASE}/files").respond(json=answer)
    upload = ChunkRecorder(b"x" * 200_000)
    upload.seek(500)
    result = client.upload_file(KEY, upload, filename="x.png", content_type="image/png")
    assert result == UploadedFile(id="file_1", url="https://cdn.test/x.png")
    request = route.calls.last.request
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="file"; filename="x.png"\r\nContent-Type: image/png' in request.content
    assert request.content.count(b"x") >= 200_000
    assert upload.sizes and all(size and size > 0 for size in upload.sizes)  # never read whole


def test_upload_is_retried_on_503_with_the_file_rewound(api, client, sleeps):
    ok = httpx.Response(200, json={"id": "f", "url": "https://cdn.test/f"})
    route = api.post(f"{BASE}/files").mock(side_effect=[httpx.Response(503), ok])
    client.upload_file(KEY, io.BytesIO(b"payload"), filename="a.png", content_type="image/png")
    assert route.call_count == 2 and b"payload" in route.calls[1].request.content
    assert sleeps == [1.0]


def test_create_sends_the_documented_body_and_returns_the_task(api, client):
    answer = {"task_id": "task_1", "status": "submitted"}
    route = api.post(f"{BASE}/video/generations").respond(json=answer)
    hook = "https://studio.test/hooks/relaydance/tok/"
    task = submit(client, seconds=10, ratio="16:9", resolution="1080p", generate_audio=True,
                  callback_url=hook)
    assert (task.task_id, task.status) == ("task_1", "queued")
    metadata = {"ratio": "16:9", "resolution": "1080p", "generate_audio": True, "callback_url": hook}
    assert json.loads(route.calls.last.request.content) == {
        "model": MODEL, "prompt": "storm", "seconds": "10", "metadata": metadata,
    }


def test_body_omits_generate_audio_when_none_but_keeps_false():
    body = build_generation_body(GenerationRequest(model=MODEL, prompt="p", seconds=5, ratio="1:1"))
    assert body == {"model": MODEL, "prompt": "p", "seconds": "5", "metadata": {"ratio": "1:1"}}
    silent = build_generation_body(GenerationRequest(model=MODEL, prompt="p", generate_audio=False))
    assert silent["metadata"] == {"generate_audio": False} and "callback_url" not in silent


def test_body_puts_images_first_then_videos_then_audio_and_frames_as_roles():
    refs = GenerationRequest(model=MODEL, prompt="@image2", audio=["a1"], videos=["v1"], images=["i1", "i2"])
    assert build_generation_body(refs)["metadata"]["content"] == [
        entry("image_url", "i1", "reference_image"), entry("image_url", "i2", "reference_image"),
        entry("video_url", "v1", "reference_video"), entry("audio_url", "a1", "reference_audio"),
    ]
    frames = GenerationRequest(model=MODEL, prompt="p", first_frame="f.png", last_frame="l.png")
    assert build_generation_body(frames)["metadata"]["content"] == [
        entry("image_url", "f.png", "first_frame"), entry("image_url", "l.png", "last_frame"),
    ]


def test_create_accepts_id_but_a_2xx_without_any_id_is_malformed(api, client):
    route = api.post(f"{BASE}/video/generations").respond(201, json={"id": "task_2"})
    assert submit(client).task_id == "task_2"
    route.respond(200, json={"status": "submitted"})
    with pytest.raises(MalformedResponse):
        submit(client)


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"task_id": "t", "status": "succeeded", "url": "u1", "format": "mp4"}, ("succeeded", "u1", None)),
        ({"code": "success", "data": {"task_id": "t", "status": "SUCCESS", "result_url": "u2"}}, ("succeeded", "u2", None)),
        ({"code": "success", "data": {"task_id": "t", "status": "FAILURE", "fail_reason": "policy"}}, ("failed", None, "policy")),
        ({"task_id": "t", "status": "failed", "error": {"code": 500, "message": "crashed"}}, ("failed", None, "crashed")),
        ({"id": "t", "status": "failed", "error": "bad input"}, ("failed", None, "bad input")),
        ({"task_id": "t", "status": "failed", "message": "nsfw"}, ("failed", None, "nsfw")),
        ({"task_id": "t", "status": "failed", "error": None, "fail_reason": ""}, ("failed", None, GENERIC_FAILURE)),
        ({"task_id": "t", "status": "completed", "video_url": "u3"}, ("succeeded", "u3", None)),
        ({"task_id": "t", "status": "succeeded", "metadata": {"url": "u4"}}, ("succeeded", "u4", None)),
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


def test_get_generation_reads_the_data_envelope(api, client):
    body = {"code": "success", "data": {"status": "IN_PROGRESS", "progress": "40%"}}
    api.get(f"{BASE}/video/generations/task_9").respond(json=body)
    task = client.get_generation(KEY, "task_9")
    assert (task.task_id, task.status, task.raw_status) == ("task_9", "running", "IN_PROGRESS")


@pytest.mark.parametrize("retry_after, waited", [("7", 7.0), ("600", 60.0), (None, 1.0),
                                                 ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
def test_poll_retries_429_after_the_retry_after_delay(api, client, sleeps, retry_after, waited):
    limited = httpx.Response(429, headers={"Retry-After": retry_after} if retry_after else {})
    api.get(f"{BASE}/video/generations/t1").mock(side_effect=[limited, httpx.Response(200, json={"status": "running"})])
    assert client.get_generation(KEY, "t1").status == "running"
    assert sleeps == [waited]


def test_poll_retries_5xx_and_timeouts_with_backoff_then_raises_unavailable(api, client, sleeps):
    answers = [httpx.Response(502), raising(httpx.ReadTimeout), httpx.Response(503), httpx.Response(500)]
    route = api.get(f"{BASE}/video/generations/t1").mock(side_effect=answers)
    with pytest.raises(Unavailable) as info:
        client.get_generation(KEY, "t1")
    assert (route.call_count, sleeps, info.value.status_code) == (4, [1.0, 2.0, 4.0], 500)


@pytest.mark.parametrize(
    "answer, error",
    [(raising(httpx.ReadTimeout), OutcomeUnknown), (raising(httpx.RemoteProtocolError), OutcomeUnknown),
     (raising(httpx.ReadError), OutcomeUnknown), (httpx.Response(500), Unavailable),
     (httpx.Response(429, headers={"Retry-After": "1"}), RateLimited)],
    ids=["read-timeout", "protocol-error", "connection-reset", "500", "429"],
)
def test_create_is_not_retried_once_the_request_may_have_been_sent(api, client, sleeps, answer, error):
    route = api.post(f"{BASE}/video/generations")
    route.mock(side_effect=answer) if callable(answer) else route.mock(return_value=answer)
    with pytest.raises(error) as info:
        submit(client)
    assert (route.call_count, sleeps) == (1, [])
    assert error is not OutcomeUnknown or not info.value.retryable


def test_create_is_retried_once_on_connect_error(api, client):
    ok = httpx.Response(200, json={"task_id": "task_3", "status": "submitted"})
    route = api.post(f"{BASE}/video/generations").mock(side_effect=[raising(httpx.ConnectError), ok])
    assert submit(client).task_id == "task_3" and route.call_count == 2
    route.mock(side_effect=raising(httpx.ConnectTimeout))
    with pytest.raises(Unavailable):
        submit(client)
    assert route.call_count == 4


def test_download_streams_without_authorization_and_restarts_on_retry(api, client):
    fresh = httpx.Response(200, content=b"v" * 300_000)
    route = api.get(VIDEO).mock(side_effect=[httpx.Response(502), fresh])
    dest = io.BytesIO(b"stale bytes")
    assert client.download(VIDEO, dest, max_bytes=1_000_000) == 300_000
    assert dest.getvalue() == b"v" * 300_000
    assert all("Authorization" not in call.request.headers for call in route.calls)


def test_download_refuses_files_over_max_bytes_declared_or_streamed(api, client):
    route = api.get(VIDEO).respond(content=b"v" * 100)
    with pytest.raises(TooLarge):
        client.download(VIDEO, io.BytesIO(), max_bytes=99)
    route.respond(content=iter([b"v" * 60, b"v" * 60]))  # chunked: no Content-Length
    with pytest.raises(TooLarge):
        client.download(VIDEO, io.BytesIO(), max_bytes=99)


def upstream(status: int, text: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": f"{text} for {KEY}"}})


def test_upstream_error_message_is_shown_with_the_key_scrubbed(api, client):
    api.post(f"{BASE}/video/generations").respond(400, json={"error": {"message": "prompt is required"}})
    with pytest.raises(BadRequest, match="^prompt is required$"):
        submit(client)
    api.get(f"{BASE}/models").mock(return_value=upstream(401, "revoked"))
    with pytest.raises(KeyRejected, match=r"^revoked for \[redacted\]$"):
        client.list_models(KEY)


@pytest.mark.parametrize(
    "call, answer, error, status",
    [
        ("models", upstream(401, "revoked"), KeyRejected, 401),
        ("models", upstream(403, "balance too low"), KeyRejected, 403),
        ("create", upstream(400, "bad ratio"), BadRequest, 400),
        ("create", upstream(404, "model not found"), BadRequest, 404),
        ("poll", upstream(404, "no such task"), NotFound, 404),
        ("poll", httpx.Response(400, json={"code": "task_not_exist", "message": "task_not_exist"}), NotFound, 400),
        ("poll", upstream(429, "slow down"), RateLimited, 429),
        ("poll", upstream(502, "bad gateway"), Unavailable, 502),
        ("poll", raising(httpx.ConnectError), Unavailable, None),
        ("create", raising(httpx.ReadTimeout), OutcomeUnknown, None),
        ("poll", httpx.Response(200, text=f"<html>{KEY}</html>"), MalformedResponse, 200),
        ("download", httpx.Response(403), Gone, 403),
        ("download", httpx.Response(404), Gone, 404),
        ("download", httpx.Response(200, content=b"x" * 11), TooLarge, None),
    ],
)
def test_errors_are_typed_and_never_contain_the_key(api, client, caplog, call, answer, error, status):
    caplog.set_level("DEBUG")
    method, url, invoke = CALLS[call]
    route = api.route(method=method, url=url)
    route.mock(side_effect=answer) if callable(answer) else route.mock(return_value=answer)
    with pytest.raises(error) as info:
        invoke(client)
    err = info.value
    assert type(err) is error and err.status_code == status
    shown = str(err) + repr(err) + repr(err.args) + "".join(traceback.format_exception(err))
    assert KEY not in shown and KEY not in caplog.text
    assert err.__cause__ is None and err.__context__ is None  # no httpx request (headers) chained


def test_a_key_that_would_break_the_header_is_rejected_before_sending(client):
    with pytest.raises(KeyRejected) as info:
        client.list_models("sk-live-secret\nX-Evil: 1")
    assert "secret" not in str(info.value) and info.value.status_code is None


def test_get_client_routes_sandbox_keys_only_when_enabled(settings):
    settings.SANDBOX_ENABLED, settings.SANDBOX_KEY_PREFIX = True, "sk-sandbox-"
    settings.SANDBOX_BASE_URL = "http://sandbox.test/v1"
    settings.RELAYDANCE_BASE_URL = "https://relay.test/v1"
    assert get_client("sk-sandbox-abc").base_url == "http://sandbox.test/v1"
    assert get_client("sk-real").base_url == "https://relay.test/v1"
    assert get_client("sk-real") is get_client("sk-another")
    settings.SANDBOX_ENABLED = False
    assert get_client("sk-sandbox-abc").base_url == "https://relay.test/v1"
