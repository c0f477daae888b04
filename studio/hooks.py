"""The RelayDance webhook receiver. Webhooks are unsigned, so one is only a hint: the right
per-generation token and task id make the sweep poll that task now, and the authenticated
poll, not the body, decides the new state."""

import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from studio import pipeline, relaydance
from studio.models import Generation

log = logging.getLogger("studio.hooks")


@csrf_exempt
@require_POST
def relaydance_hook(request: HttpRequest, token: str) -> HttpResponse:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > settings.WEBHOOK_MAX_BYTES:
        return JsonResponse({"error": "body too large"}, status=413)
    body = request.read(settings.WEBHOOK_MAX_BYTES + 1)
    if len(body) > settings.WEBHOOK_MAX_BYTES:
        return JsonResponse({"error": "body too large"}, status=413)
    try:
        task = relaydance.parse_task(json.loads(body))
    except (ValueError, relaydance.RelayDanceError):
        return JsonResponse({"error": "not a task"}, status=400)
    generation = Generation.objects.filter(webhook_token=token).only("pk", "code", "task_id", "status").first()
    if generation is None or not task.task_id or task.task_id != generation.task_id:
        return JsonResponse({"error": "unknown"}, status=404)
    if generation.status == Generation.Status.RUNNING:
        Generation.objects.filter(pk=generation.pk, status=Generation.Status.RUNNING).update(next_poll_at=timezone.now())
        pipeline.kick_sweep()
        log.info("generation=%s webhook status=%s: polling now", generation.code, task.raw_status)
    return JsonResponse({"ok": True})
