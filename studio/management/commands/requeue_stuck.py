"""Find generations stuck by a dead worker or a lost queue message and set them going again.

The repairs are the sweep's own (studio.tasks.housekeeping), run now and on demand: useful
after an outage, or when no worker has been sweeping. One more: a running task with no
next poll is polled at once. A create that may have reached RelayDance is never re-sent
(`create_sent_at`): such a generation fails as "outcome unknown", and its user may retry.
Only claims older than the job timeout are touched, so a live worker's work is left alone.
"""

from django.core.management.base import BaseCommand
from django.db.models import QuerySet
from django.utils import timezone

from studio import pipeline, tasks
from studio.models import Generation

S = Generation.Status


def stuck(now) -> dict[str, QuerySet]:
    """What needs repair, by what will be done to it: housekeeping's repairs, and running
    tasks with no poll planned."""
    repairs = tasks.needing_repair(now)
    return {
        "submit again (never sent)": repairs["dead_submits"].filter(create_sent_at__isnull=True),
        "fail as outcome unknown (may have been sent)": repairs["dead_submits"].filter(create_sent_at__isnull=False),
        "submit (queued, not picked up)": repairs["unsubmitted"],
        "download again (finished upstream)": repairs["unfetched"],
        "poll now (running, no poll planned)": Generation.objects.filter(status=S.RUNNING, next_poll_at__isnull=True),
    }


class Command(BaseCommand):
    help = "Re-queue generations left stuck by dead workers or lost queue messages (--dry-run to only list them)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list what would be done, change nothing")

    def handle(self, *args, dry_run: bool = False, **options):
        now = timezone.now()
        found = {label: list(qs.values_list("code", flat=True)[:200]) for label, qs in stuck(now).items()}
        for label, codes in found.items():
            if codes:
                shown = ", ".join(str(code) for code in codes[:10]) + (" …" if len(codes) > 10 else "")
                self.stdout.write(f"{len(codes)} to {label}: {shown}")
        total = sum(len(codes) for codes in found.values())
        if dry_run:
            self.stdout.write(f"Dry run: {total} generation(s) would be repaired; nothing was changed.")
            return
        if total:
            pipeline.bump(
                Generation.objects.filter(status=S.RUNNING, next_poll_at__isnull=True), next_poll_at=now
            )
            tasks.housekeeping()
            pipeline.kick_sweep()
        self.stdout.write(f"Repaired {total} generation(s).")
