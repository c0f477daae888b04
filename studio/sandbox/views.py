"""The sandbox: a RelayDance-compatible fake API under /sandbox/v1/ (contract §3-§8, §10).

Any key starting "sk-sandbox-" works; only its SHA-256 is stored, and a task is visible only
to the key that made it (404 otherwise). Files and clips are served publicly under
unguessable ids, like a CDN. Special keys:
  sk-sandbox-broke    submit answers 403 "Insufficient balance".
  sk-sandbox-limited  /models lists only seedance-1-5-pro-no-audio; other models answer 403.

Tags in the prompt make behaviours reproducible for tests:
  [fail]       the task ends `failed` ("Sandbox: generation failed as requested").
  [slow]       run time ×5.
  [run=N]      run exactly N seconds (float ok; wins over [slow]).
  [429]        every other GET of the task answers 429 with Retry-After: 1 (the first one does).
  [500]        the first two GETs of the task answer 502.
  [reject]     submit answers 400 "Sandbox: rejected as requested".
  [submit429]  submit answers 429 with Retry-After: 1; nothing is created.
Default timings: SANDBOX_QUEUE_SECONDS as `submitted`, then SANDBOX_RUN_SECONDS as `running`.
Fault windows (studio/sandbox/faults.py) make every call of a kind misbehave for a while.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from studio.catalogue import CATALOGUE
from studio.sandbox import faults
from studio.sandbox.models import SandboxFile, SandboxTask, hash_key, prompt_tags, retry_locked
from studio.sandbox.validation import MAX_UPLOAD_BYTES, Invalid, parse_submission, sniff_media
from studio.sandbox.webhooks import schedule_callback

BROKE_KEY = "sk-sandbox-broke"
LIMITED_KEY = "sk-sandbox-limited"
LIMITED_MODELS = ("seedance-1-5-pro-no-audio",)
OTHER_MODELS = ("grok-imagine-image", "grok-4.3")  # not video: exercises the app's filtering
ERROR_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
    404: "not_found_error", 405: "invalid_request_error", 413: "invalid_request_error",
    416: "invalid_request_error", 429: "rate_limit_error", 502: "upstream_error",
}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def error(status: int, message: str, *, retry_after: int | None = None) -> JsonResponse:
    """An error in the documented shape (contract §10)."""
    body = {"error": {"message": message, "type": ERROR_TYPES.get(status, "api_error")}}
    response = JsonResponse(body, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def api(method: str, *, auth: bool = True) -> Callable:
    """CSRF-exempt JSON endpoint for one method; with `auth`, the view gets the bearer key."""

    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method != method:
                return error(405, f"Use {method} here.")
            if not auth:
                return view(request, *args, **kwargs)
            scheme, _, key = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not key.strip().startswith(settings.SANDBOX_KEY_PREFIX):
                return error(401, "The API key provided is invalid or has been revoked.")
            return view(request, key.strip(), *args, **kwargs)

        return wrapper

    return decorate


def _fault_answer(fault: faults.Fault | None) -> HttpResponse | None:
    """What a window in mode 429, 500, garbage or shape answers instead of the real thing."""
    if fault is None:
        return None
    if fault.mode == "429":
        return error(429, "Sandbox: rate limited (fault window)", retry_after=1)
    if fault.mode == "500":
        return error(502, "Sandbox: upstream error (fault window)")
    if fault.mode == "garbage":
        return HttpResponse("<html><body>502 Bad Gateway (fault window)</body></html>", content_type="text/html")
    if fault.mode == "shape":
        return JsonResponse({"data": ["fault window"], "status": 7}, safe=False)
    return None


def _linger(fault: faults.Fault | None) -> None:
    """A slow window holds the answer back past the client's timeout."""
    if fault is not None and fault.mode == "slow":
        time.sleep(fault.delay)


def _task_for(key: str, task_id: str) -> SandboxTask | None:
    return retry_locked(lambda: SandboxTask.objects.filter(task_id=task_id, key_hash=hash_key(key)).first())


def _media_url(request: HttpRequest, task_id: str) -> str:
    return request.build_absolute_uri(reverse("sandbox:media", args=[task_id]))


@api("GET")
def list_models(request: HttpRequest, key: str) -> JsonResponse:
    ids = LIMITED_MODELS if key == LIMITED_KEY else (
        *(spec.id for spec in CATALOGUE.values() if spec.known), *OTHER_MODELS
    )
    data = [{"id": i, "object": "model", "created": 0, "owned_by": "sandbox"} for i in ids]
    return JsonResponse({"object": "list", "data": data})


@api("POST")
def upload(request: HttpRequest, key: str) -> JsonResponse:
    fault = faults.active("upload")
    if (answer := _fault_answer(fault)) is not None:
        return answer
    _linger(fault)
    too_big = f"Files may be at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_UPLOAD_BYTES + 64 * 1024:
        return error(413, too_big)  # refuse before reading the body
    incoming = request.FILES.get("file")
    if incoming is None:
        return error(400, 'Send the file as the multipart/form-data field "file".')
    if incoming.size > MAX_UPLOAD_BYTES:
        return error(413, too_big)
    try:
        content_type = sniff_media(incoming)
    except Invalid as exc:
        return error(exc.status, exc.message)
    stored = SandboxFile(file_id=SandboxFile.new_id(), key_hash=hash_key(key),
                         name=(incoming.name or "")[:255], content_type=content_type)
    stored.file.save(stored.file_id, incoming)
    url = request.build_absolute_uri(reverse("sandbox:file", args=[stored.file_id]))
    return JsonResponse({"id": stored.file_id, "url": url})


@api("GET", auth=False)
def serve_file(request: HttpRequest, file_id: str) -> HttpResponse:
    stored = SandboxFile.objects.filter(file_id=file_id).first()
    if stored is None:
        return error(404, "File not found.")
    return _serve(request, stored.file.name, stored.content_type)


@api("POST")
def create_generation(request: HttpRequest, key: str) -> JsonResponse:
    if key == BROKE_KEY:
        return error(403, "Insufficient balance: top up in the console.")
    try:
        body = json.loads(request.body)
    except (ValueError, RequestDataTooBig):
        return error(400, "The request body must be JSON.")
    try:
        submission = parse_submission(body)
    except Invalid as exc:
        return error(exc.status, exc.message)
    if key == LIMITED_KEY and submission.spec.id not in LIMITED_MODELS:
        return error(403, f"This key may not use model {submission.spec.id}.")
    tags = prompt_tags(submission.prompt)
    if "submit429" in tags:
        return error(429, "Sandbox: rate limited as requested", retry_after=1)
    if "reject" in tags:
        return error(400, "Sandbox: rejected as requested")
    fault = faults.active("create", submission.prompt)
    if fault is not None and fault.mode in ("429", "500"):
        return _fault_answer(fault)  # refused: nothing is created
    task = SandboxTask.create_from(hash_key(key), body, queue_seconds=settings.SANDBOX_QUEUE_SECONDS,
                                   run_seconds=settings.SANDBOX_RUN_SECONDS)
    if fault is not None and fault.mode == "fail":
        retry_locked(lambda: SandboxTask.objects.filter(pk=task.pk).update(
            outcome=SandboxTask.FAIL, error=faults.UPSTREAM_OUTAGE))
    if task.callback_url:
        media_url = _media_url(request, task.task_id)
        transaction.on_commit(lambda: schedule_callback(task, media_url))
    # From here on the task exists: a garbled or late answer loses only its id.
    if (answer := _fault_answer(fault)) is not None:
        return answer
    _linger(fault)
    return JsonResponse({"task_id": task.task_id, "status": "submitted"})


@api("GET")
def generation(request: HttpRequest, key: str, task_id: str) -> JsonResponse:
    task = _task_for(key, task_id)
    if task is None:
        return error(404, "Task not found.")
    polls, tags = task.count_poll(), task.tags
    fault = faults.active("poll", task.body.get("prompt", ""))
    if (answer := _fault_answer(fault)) is not None:
        return answer
    if "429" in tags and polls % 2 == 1:
        return error(429, "Sandbox: rate limited as requested", retry_after=1)
    if "500" in tags and polls <= 2:
        return error(502, "Sandbox: upstream error as requested")
    now = timezone.now()
    if task.is_due(now) and task.outcome != SandboxTask.FAIL:
        task.ensure_video()  # a poll that loses the claim reports `running` meanwhile
    answer = JsonResponse(task.as_json(now, _media_url(request, task.task_id)))
    _linger(fault)
    return answer


@api("GET", auth=False)
def serve_media(request: HttpRequest, task_id: str) -> HttpResponse:
    task = SandboxTask.objects.filter(task_id=task_id).exclude(video="").first()
    if task is None:
        return error(404, "Video not found.")
    fault = faults.active("media", task.body.get("prompt", ""))
    if (answer := _fault_answer(fault)) is not None:
        return answer
    _linger(fault)
    return _serve(request, task.video.name, "video/mp4")


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    return error(404, "Unknown sandbox endpoint.")


def _serve(request: HttpRequest, name: str, content_type: str) -> HttpResponse:
    """A stored file, honouring a single `Range: bytes=a-b` (video players seek with it)."""
    size = default_storage.size(name)
    match = _RANGE.fullmatch(request.headers.get("Range", "").strip())
    if match is None or match.groups() == ("", ""):
        response: HttpResponse = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    else:
        first, last = match.groups()
        start = int(first) if first else max(0, size - int(last))
        end = min(int(last), size - 1) if first and last else size - 1
        if start >= size or start > end:
            response = error(416, "Range not satisfiable.")
            response["Content-Range"] = f"bytes */{size}"
            return response
        with default_storage.open(name, "rb") as handle:
            handle.seek(start)
            response = HttpResponse(handle.read(end - start + 1), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    return response
