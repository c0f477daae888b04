"""A small client for the RelayDance video API (contract: /work/shared/relaydance-api.md).

One `RelayDanceClient` (one `httpx.Client`) per base URL is shared by every user, so the
API key is an argument of each call and only ever travels in that request's
`Authorization` header. Failures become typed `RelayDanceError`s whose `retryable` says
whether trying again can help; none of them carries the key, a request object or a
chained httpx exception. Django is only imported inside `base_url_for_key()` and
`get_client()`.

Retry rules:
- GET-like calls (`list_models`, `get_generation`, `upload_file`, `download`) retry 429,
  5xx, timeouts and connection errors up to `max_get_attempts` times, sleeping 1, 2, 4 s…
  (or `Retry-After`), capped at 60 s. Uploads are free, so they are retried too.
- `create_generation` is never retried once the request may have left: only a failure to
  connect is retried, once. A timeout or broken connection after sending raises
  `OutcomeUnknown`; 429/5xx are raised for the caller to decide (no idempotency key exists).
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import IO, Any, Literal, TypeVar
from urllib.parse import quote, urlsplit

import httpx

log = logging.getLogger("studio.relaydance")

UPLOAD_TIMEOUT = httpx.Timeout(60, connect=10, read=300)
DOWNLOAD_SECONDS = 600
MAX_BACKOFF_SECONDS = 60.0
CHUNK_SIZE = 64 * 1024
LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10)
GENERIC_FAILURE = "Generation failed upstream (not billed)."

T = TypeVar("T")
Status = Literal["queued", "running", "succeeded", "failed", "unknown"]

# Contract §13 item 14, including new-api's upper-case values (compared lower-cased).
_STATUSES: dict[str, Status] = {
    **dict.fromkeys(("submitted", "queued", "pending", "not_start"), "queued"),
    **dict.fromkeys(("running", "in_progress", "processing"), "running"),
    **dict.fromkeys(("succeeded", "success", "completed"), "succeeded"),
    **dict.fromkeys(
        ("failed", "failure", "error", "cancelled", "canceled", "expired"), "failed"
    ),
}


# --- errors ---------------------------------------------------------------------------


class RelayDanceError(Exception):
    """Base error. `message` is safe to show a user; `retryable` says if retrying helps."""

    default_retryable = False

    def __init__(
        self, message: str, *, status_code: int | None = None, retryable: bool | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retryable = self.default_retryable if retryable is None else retryable

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"


class KeyRejected(RelayDanceError):
    """401 (key invalid or revoked) or 403 (balance too low / model not allowed)."""


class BadRequest(RelayDanceError):
    """400/422 and other 4xx; 404 on create (unknown model). Show the message by the form."""


class NotFound(RelayDanceError):
    """404 on a read, or 400 `task_not_exist`: the task is unknown upstream."""


class RateLimited(RelayDanceError):
    """429. `retry_after` is the server's hint in seconds, if it sent one."""

    default_retryable = True

    def __init__(
        self, message: str, *, status_code: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class Unavailable(RelayDanceError):
    """5xx, timeouts and connection errors. `connect_failed`: the request never left."""

    default_retryable = True

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retryable: bool | None = None,
        connect_failed: bool = False,
    ) -> None:
        super().__init__(message, status_code=status_code, retryable=retryable)
        self.connect_failed = connect_failed


class OutcomeUnknown(Unavailable):
    """A submit was sent but no answer came back: the task may exist. Never retry blindly."""

    default_retryable = False


class MalformedResponse(RelayDanceError):
    """The answer was not JSON or lacked a required field."""


class Gone(RelayDanceError):
    """The video URL answered 401/403/404/410: it expired. Re-poll for a fresh URL."""


class TooLarge(RelayDanceError):
    """The video is bigger than the caller's `max_bytes`."""


# --- data -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    id: str
    url: str


@dataclass(frozen=True)
class GenerationRequest:
    """One submit. Validate it with `catalogue.validate_request` first; this is sent as is."""

    model: str
    prompt: str
    seconds: int = 5
    ratio: str | None = None
    resolution: str | None = None
    generate_audio: bool | None = None  # sent only when not None (Seedance 2.0 toggle)
    callback_url: str | None = None
    images: Sequence[str] = ()
    videos: Sequence[str] = ()
    audio: Sequence[str] = ()
    first_frame: str | None = None
    last_frame: str | None = None


@dataclass(frozen=True)
class Task:
    """A task as normalised by `parse_task`. `succeeded` may still lack `video_url`
    (contract §13 item 15: treat that as not final yet)."""

    task_id: str
    status: Status
    raw_status: str
    video_url: str | None
    error: str | None  # only for failed tasks; GENERIC_FAILURE when upstream gave no text
    raw: dict[str, Any] = field(repr=False, compare=False)


def _media(kind: str, url: str, role: str) -> dict[str, Any]:
    return {"type": kind, kind: {"url": url}, "role": role}


def build_generation_body(req: GenerationRequest) -> dict[str, Any]:
    """The JSON body of `POST /video/generations` (contract §3, §4, §13 items 1, 3, 7, 8).

    `seconds` is a string; everything else lives in `metadata`, with None/empty keys left
    out. `content[]` holds all images first (so `@imageN` is the Nth entry), then videos,
    then audio, then the first and last frames.
    """
    content = [_media("image_url", url, "reference_image") for url in req.images]
    content += [_media("video_url", url, "reference_video") for url in req.videos]
    content += [_media("audio_url", url, "reference_audio") for url in req.audio]
    if req.first_frame:
        content.append(_media("image_url", req.first_frame, "first_frame"))
    if req.last_frame:
        content.append(_media("image_url", req.last_frame, "last_frame"))
    metadata: dict[str, Any] = {
        "ratio": req.ratio,
        "resolution": req.resolution,
        "generate_audio": req.generate_audio,
        "callback_url": req.callback_url,
        "content": content,
    }
    body: dict[str, Any] = {
        "model": req.model, "prompt": req.prompt, "seconds": str(int(req.seconds))
    }
    metadata = {k: v for k, v in metadata.items() if v is not None and v != "" and v != []}
    if metadata:
        body["metadata"] = metadata
    return body


def _first_text(*candidates: Any) -> str | None:
    for value in candidates:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def parse_task(body: Any) -> Task:
    """Read a task from a GET/submit answer or a webhook body (contract §13 items 13-16).

    Tolerates the documented flat shape and new-api's `{"code": …, "data": {…}}` envelope.
    Raises MalformedResponse if `body` is not a JSON object. Unknown statuses map to
    "unknown" (keep polling).
    """
    if not isinstance(body, dict):
        raise MalformedResponse("RelayDance answered with something other than a JSON object.")
    task = body["data"] if isinstance(body.get("data"), dict) else body
    raw_id = task.get("task_id") or task.get("id")
    raw_status = str(task.get("status") or "")
    status = _STATUSES.get(raw_status.strip().lower(), "unknown")
    if status == "unknown":
        log.warning("Unknown task status %r", raw_status)
    meta = task.get("metadata") if isinstance(task.get("metadata"), dict) else {}
    url = _first_text(
        task.get("url"), task.get("result_url"), task.get("video_url"), meta.get("url")
    )
    error = None
    if status == "failed":
        err = task.get("error")
        err_message = err.get("message") if isinstance(err, dict) else err
        reason = _first_text(err_message, task.get("fail_reason"), task.get("message"))
        error = reason or GENERIC_FAILURE
    return Task(
        task_id=str(raw_id) if raw_id not in (None, "") else "",
        status=status,
        raw_status=raw_status,
        video_url=url,
        error=error,
        raw=body,
    )


# --- HTTP helpers ---------------------------------------------------------------------


def _retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds from now: a number or an HTTP date; None if absent/invalid."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _upstream_message(response: httpx.Response, key: str) -> str | None:
    """`error.message` (or `error`, `message`) from an error body, scrubbed of the key."""
    try:
        data = response.json()
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    err = data.get("error")
    text = _first_text(err.get("message") if isinstance(err, dict) else err, data.get("message"))
    if text is None:
        return None
    # Some gateways echo the key in "invalid key" messages.
    return text[:500].replace(key, "[redacted]") if key else text[:500]


def _error_for(response: httpx.Response, *, op: str, key: str) -> RelayDanceError:
    """Map a non-2xx answer to a typed error (contract §10, §13 item 17)."""
    status = response.status_code
    text = _upstream_message(response, key)
    if status == 400 and op != "create" and "task_not_exist" in response.text:
        return NotFound("Task not found upstream.", status_code=status)
    if status == 401:
        return KeyRejected(
            text or "RelayDance rejected the API key (invalid or revoked).", status_code=status
        )
    if status == 403:
        return KeyRejected(
            text or "RelayDance refused: balance too low or this key may not use the model.",
            status_code=status,
        )
    if status == 404 and op == "create":
        return BadRequest(text or "RelayDance does not know this model.", status_code=status)
    if status == 404:
        return NotFound(text or "Not found upstream.", status_code=status)
    if status == 429:
        return RateLimited(
            text or "RelayDance rate limit reached; try again shortly.",
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )
    if status >= 500:
        return Unavailable(
            text or f"RelayDance is unavailable (HTTP {status}).", status_code=status
        )
    if status >= 400:
        return BadRequest(
            text or f"RelayDance rejected the request (HTTP {status}).", status_code=status
        )
    return MalformedResponse(f"Unexpected HTTP {status} from RelayDance.", status_code=status)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        pass
    # Raised outside the except block so no decoder exception is chained.
    raise MalformedResponse(
        "RelayDance answered with invalid JSON.", status_code=response.status_code
    )


def _auth(key: str) -> dict[str, str]:
    # A key with whitespace or non-ASCII would make httpx/h11 raise with the header in the message.
    if not key or not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        raise KeyRejected("The API key is empty or contains characters a key cannot have.")
    return {"Authorization": f"Bearer {key}"}


# --- the client -----------------------------------------------------------------------


class RelayDanceClient:
    """Thread-safe client for one base URL. Methods raise `RelayDanceError` subclasses only."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_get_attempts: int = 4,
        timeout: float = 60,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_get_attempts = max(1, max_get_attempts)
        self._sleep = sleep
        # `timeout` bounds each read of an API call or a download (uploads get 300 s).
        self._timeout = httpx.Timeout(timeout, connect=min(10.0, timeout))
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            timeout=self._timeout,
            limits=LIMITS,
            transport=transport,
            headers={"User-Agent": "Studio (RelayDance client)"},
        )

    def close(self) -> None:
        self._http.close()

    def list_models(self, key: str, *, attempts: int | None = None) -> list[str]:
        """Model ids this key may use (`GET /models`: `data[].id` or a bare list).
        A 401 means the key is invalid, a 403 valid but restricted (contract §13 item 27).
        `attempts` overrides `max_get_attempts` (e.g. 1 inside a web request)."""
        data = self._with_retries(
            lambda: _json(self._call("GET", "models", key=key, op="models")), attempts
        )
        items = data.get("data") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise MalformedResponse("RelayDance sent no model list.")
        return [str(item["id"]) for item in items if isinstance(item, dict) and item.get("id")]

    def upload_file(
        self, key: str, fileobj: IO[bytes], *, filename: str, content_type: str
    ) -> UploadedFile:
        """`POST /files` as multipart field `file`, streamed from `fileobj` (rewound before
        each attempt). Retried like a GET. MalformedResponse if the answer has no `url`."""

        def attempt() -> Any:
            fileobj.seek(0)
            files = {"file": (filename, fileobj, content_type)}
            response = self._call(
                "POST", "files", key=key, op="upload", files=files, timeout=UPLOAD_TIMEOUT
            )
            return _json(response)

        data = self._with_retries(attempt)
        if isinstance(data, dict) and isinstance(data.get("data"), dict):
            data = data["data"]
        url = data.get("url") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url:
            raise MalformedResponse("RelayDance stored the file but sent no URL.")
        return UploadedFile(id=str(data.get("id") or ""), url=url)

    def create_generation(self, key: str, req: GenerationRequest) -> Task:
        """Submit a task. Retried once only if the connection never opened; otherwise raises
        OutcomeUnknown (sent, no answer), RateLimited/Unavailable (429/5xx, not retried),
        KeyRejected, BadRequest (incl. 404 unknown model) or MalformedResponse (2xx without
        a task id: the task may exist)."""
        body = build_generation_body(req)
        for attempt in (1, 2):
            try:
                response = self._call("POST", "video/generations", key=key, op="create", json=body)
                break
            except Unavailable as err:
                if attempt == 2 or not err.connect_failed:
                    raise
                log.warning("Submit could not connect; retrying once (nothing was sent)")
            self._sleep(1.0)
        data = _json(response)
        task = parse_task(data) if isinstance(data, dict) else None
        if task is None or not task.task_id:
            raise MalformedResponse(
                "RelayDance accepted the request but sent no task id; the task may exist.",
                status_code=response.status_code,
            )
        return task

    def get_generation(self, key: str, task_id: str, *, attempts: int | None = None) -> Task:
        """Poll one task, retrying 429/5xx/timeouts (`attempts` overrides the client's
        default; the sweep passes 1 and schedules its own back-off). NotFound for 404 or
        400 `task_not_exist`; MalformedResponse for a non-JSON answer."""
        path = f"video/generations/{quote(task_id, safe='')}"
        task = self._with_retries(
            lambda: parse_task(_json(self._call("GET", path, key=key, op="poll"))), attempts
        )
        return task if task.task_id else replace(task, task_id=task_id)

    def download(self, url: str, dest: IO[bytes], *, max_bytes: int) -> int:
        """Stream a finished video into `dest` and return the bytes written. Sends no
        Authorization header. Gone on 401/403/404/410 (expired URL), TooLarge past
        `max_bytes`, Unavailable after retries or past the 600 s overall limit."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise MalformedResponse("The video URL is not an http(s) URL.")
        attempts = 0

        def attempt() -> int:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                dest.seek(0)
                dest.truncate()
            return self._download_once(url, dest, max_bytes)

        return self._with_retries(attempt)

    # --- internals ---

    def _call(self, method: str, path: str, *, key: str, op: str, **kwargs: Any) -> httpx.Response:
        """One attempt at an API call: a 2xx response, or a typed error."""
        kwargs.setdefault("timeout", self._timeout)
        request = self._http.build_request(method, path, headers=_auth(key), **kwargs)
        response = self._transmit(request, op=op)
        if response.is_success:
            return response
        raise _error_for(response, op=op, key=key)

    def _transmit(
        self, request: httpx.Request, *, op: str, stream: bool = False
    ) -> httpx.Response:
        started = time.monotonic()
        outcome = self._send(request, op=op, stream=stream)
        elapsed_ms = (time.monotonic() - started) * 1000
        where = f"{request.url.host}{request.url.path}" if op == "download" else request.url.path
        if isinstance(outcome, RelayDanceError):
            log.warning(
                "%s %s failed after %.0f ms: %s",
                request.method, where, elapsed_ms, type(outcome).__name__,
            )
            raise outcome  # outside any except block: no httpx exception (or its headers) chained
        log.info("%s %s -> %s in %.0f ms", request.method, where, outcome.status_code, elapsed_ms)
        return outcome

    def _send(
        self, request: httpx.Request, *, op: str, stream: bool
    ) -> httpx.Response | RelayDanceError:
        host = "the video host" if op == "download" else "RelayDance"
        try:
            return self._http.send(request, stream=stream, follow_redirects=op == "download")
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return Unavailable(
                f"Could not connect to {host} ({type(exc).__name__}).", connect_failed=True
            )
        except httpx.TransportError as exc:
            if op == "create":
                return OutcomeUnknown(
                    "The request was sent but no answer came back; the task may or may not exist."
                )
            return Unavailable(f"The connection to {host} failed ({type(exc).__name__}).")

    def _download_once(self, url: str, dest: IO[bytes], max_bytes: int) -> int:
        request = self._http.build_request("GET", url, timeout=self._timeout)
        response = self._transmit(request, op="download", stream=True)
        try:
            status = response.status_code
            if status in (401, 403, 404, 410):
                raise Gone("The video link has expired upstream.", status_code=status)
            if status == 429:
                retry_after = _retry_after(response.headers.get("Retry-After"))
                raise RateLimited("The video host is rate limiting.", retry_after=retry_after)
            if status >= 500:
                raise Unavailable(
                    f"The video host is unavailable (HTTP {status}).", status_code=status
                )
            if not response.is_success:
                raise BadRequest(f"The video host answered HTTP {status}.", status_code=status)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise TooLarge(f"The video is larger than {max_bytes} bytes.")
            return self._stream_into(response, dest, max_bytes)
        finally:
            response.close()

    def _stream_into(self, response: httpx.Response, dest: IO[bytes], max_bytes: int) -> int:
        deadline = time.monotonic() + DOWNLOAD_SECONDS
        written = 0
        failure: RelayDanceError | None = None
        try:
            for chunk in response.iter_bytes(CHUNK_SIZE):
                written += len(chunk)
                if written > max_bytes:
                    raise TooLarge(f"The video is larger than {max_bytes} bytes.")
                if time.monotonic() > deadline:
                    raise Unavailable("The video download took too long.", retryable=False)
                dest.write(chunk)
        except httpx.TransportError as exc:
            failure = Unavailable(f"The video download broke off ({type(exc).__name__}).")
        if failure is not None:
            raise failure
        return written

    def _with_retries(self, attempt: Callable[[], T], attempts: int | None = None) -> T:
        """Run `attempt`, retrying retryable RateLimited/Unavailable with back-off."""
        limit = max(1, attempts or self.max_get_attempts)
        delay = 1.0
        for number in range(1, limit + 1):
            try:
                return attempt()
            except (RateLimited, Unavailable) as err:
                if not err.retryable or number == limit:
                    raise
                hint = err.retry_after if isinstance(err, RateLimited) else None
                wait = min(hint if hint is not None else delay, MAX_BACKOFF_SECONDS)
                log.info("Retry after %s in %.1f s (attempt %d)", type(err).__name__, wait, number)
            self._sleep(wait)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)
        raise AssertionError("unreachable")


# --- per-process clients --------------------------------------------------------------

_clients: dict[str, RelayDanceClient] = {}
_clients_lock = threading.Lock()


def base_url_for_key(key: str) -> str:
    """The sandbox for `sk-sandbox-…` keys when the sandbox is enabled, else RelayDance."""
    from django.conf import settings

    if settings.SANDBOX_ENABLED and key.startswith(settings.SANDBOX_KEY_PREFIX):
        return settings.SANDBOX_BASE_URL
    return settings.RELAYDANCE_BASE_URL


def get_client(key: str) -> RelayDanceClient:
    """The shared client for the base URL this key belongs to (one per URL per process)."""
    from django.conf import settings

    base_url = base_url_for_key(key)
    with _clients_lock:
        client = _clients.get(base_url)
        if client is None:
            client = _clients[base_url] = RelayDanceClient(base_url, timeout=settings.RELAYDANCE_TIMEOUT_SECONDS)
        return client
