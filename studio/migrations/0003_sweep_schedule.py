"""The one-minute safety-net schedule for the sweep (created idempotently on migrate)."""

from django.db import migrations


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="studio-sweep",
        defaults={"func": "studio.tasks.sweep", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="studio-sweep").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("studio", "0002_pipeline_bookkeeping"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
