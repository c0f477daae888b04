"""How many generations one user may start per minute (SUBMITS_PER_MINUTE).

Counted from the user's generations created in the last minute, in the database, so the
limit holds across web processes and restarts. Retries count: each one is a new generation.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import ngettext

from studio.models import Generation

WINDOW = timedelta(minutes=1)


def seconds_until_next_submit(user) -> int:
    """0 when the user may start a generation now, else how many seconds to wait."""
    allowed = settings.SUBMITS_PER_MINUTE
    since = timezone.now() - WINDOW
    recent = list(
        Generation.objects.filter(creator=user, created__gt=since)
        .order_by("-created")
        .values_list("created", flat=True)[:allowed]
    )
    if len(recent) < allowed:
        return 0
    # The oldest of the last `allowed` leaves the window first.
    return max(1, int((recent[-1] - since).total_seconds()) + 1)


def too_many_message(seconds: int) -> str:
    return ngettext(
        "You have started %(count)d videos in the last minute, the most Studio allows. "
        "Try again in %(seconds)d second.",
        "You have started %(count)d videos in the last minute, the most Studio allows. "
        "Try again in %(seconds)d seconds.",
        seconds,
    ) % {"count": settings.SUBMITS_PER_MINUTE, "seconds": seconds}
