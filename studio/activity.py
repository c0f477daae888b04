"""The team's change count, which lets an unchanged live poll answer without a query.

Every change a gallery shows (a card's state, a favourite, a new card) moves its team's count
once the change has committed. The count comes with the user on every request (the auth
backend loads it), and a live answer hands the page the count it has seen: a poll whose count
is still current has nothing to fetch. Counting after the commit means a page that sees the
new count also sees the change; counting inside the transaction would lock the team's row for
as long as the transaction runs (a create saves its uploads in it). A change whose count was
lost (a process killed between the commit and the count, an edit in the admin) shows up at the
next change in the team, or at one of the occasional full checks the live view makes anyway.
"""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F

from accounts.models import TeamActivity


def gallery_changed(team_ids: Iterable[int]) -> None:
    """Count a change in these teams' galleries once the current transaction commits (at once
    outside one)."""
    team_ids = sorted(set(team_ids))
    if team_ids:
        transaction.on_commit(lambda: _count(team_ids))


def _count(team_ids: list[int]) -> None:
    if TeamActivity.objects.filter(team_id__in=team_ids).update(changes=F("changes") + 1) < len(team_ids):
        # A team's first change. A row another process made meanwhile is kept: its count moved
        # after this change committed too, which is all a page needs.
        TeamActivity.objects.bulk_create([TeamActivity(team_id=pk, changes=1) for pk in team_ids], ignore_conflicts=True)


def seen_changes(user) -> str:
    """What a page rendered now has seen, for its live poller: the current team and its count
    (as the auth backend loaded them with the user). Empty before the team's first change, for
    a user loaded some other way, or once the request has moved the user to another team: such
    a page's polls always check."""
    changes = getattr(user, "team_changes", None)
    if changes is None or user.current_team_id != getattr(user, "team_changes_of", None):
        return ""
    return f"{user.current_team_id}.{changes}"
