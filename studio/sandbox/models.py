"""Tables of the built-in sandbox upstream (a fake RelayDance inside the app)."""

from django.db import models


class SandboxFile(models.Model):
    file_id = models.CharField(max_length=64, unique=True)
    key_hash = models.CharField(max_length=64, db_index=True)
    file = models.FileField(upload_to="sandbox/files/", max_length=300)
    name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "studio"


class SandboxTask(models.Model):
    task_id = models.CharField(max_length=64, unique=True)
    key_hash = models.CharField(max_length=64, db_index=True)
    model = models.CharField(max_length=100)
    body = models.JSONField()
    outcome = models.CharField(max_length=16, default="succeed")  # what the task will do
    error = models.TextField(blank=True)
    queue_seconds = models.FloatField(default=1)
    run_seconds = models.FloatField(default=4)
    video = models.FileField(upload_to="sandbox/videos/", blank=True, max_length=300)
    callback_url = models.TextField(blank=True)
    callback_sent_at = models.DateTimeField(null=True, blank=True)
    polls = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "studio"
