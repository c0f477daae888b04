"""The gallery's queries: filters from the URL, keyset pagination and the live poll.

Pages never use OFFSET. A cursor names the last card shown, and the next page is the cards
strictly older than it on (created, id), read in the order of the `gallery_order` index
(team, -created, -id), so page 400 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django import forms
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership
from studio import catalogue, search
from studio.models import Generation

PAGE_SIZE = 24
MAX_NEW = 24  # new team cards sent per live poll; the rest follow on the next polls
MAX_STATES = 200  # pending cards one live poll may ask about

CARD_KEY_FIELDS = ("pk", "code", "version", "status", "creator_id", "created")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STATUS_FILTERS = {
    "pending": Q(status__in=Generation.PENDING),
    "ready": Q(status=Generation.Status.READY),
    "failed": Q(status=Generation.Status.FAILED),
}


@dataclass(frozen=True)
class Cursor:
    created: datetime
    pk: int

    def older(self) -> Q:
        # Written as a range on `created` plus a tie-break, so the index range starts at the cursor.
        return Q(created__lte=self.created) & (Q(created__lt=self.created) | Q(pk__lt=self.pk))


def encode_cursor(generation) -> str:
    """An opaque token for a card's place in the gallery order (a Generation or a page row)."""
    micros = (generation.created - _EPOCH) // timedelta(microseconds=1)
    return base64.urlsafe_b64encode(struct.pack(">qq", micros, generation.pk)).decode().rstrip("=")


def decode_cursor(token: str | None) -> Cursor | None:
    """The place a token names, or None for a missing or mangled one."""
    if not token or len(token) > 32:
        return None
    try:
        micros, pk = struct.unpack(">qq", base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return Cursor(_EPOCH + timedelta(microseconds=micros), pk)
    except (ValueError, struct.error, OverflowError):
        return None


class GalleryFilters(forms.Form):
    """The gallery tools, read from the query string; invalid values are simply not applied."""

    STATUS_CHOICES = [("", _("Any status")), ("pending", _("In progress")), ("ready", _("Ready")), ("failed", _("Failed"))]
    FIELDS = ("q", "model", "status", "creator", "favourites")

    q = forms.CharField(required=False, max_length=200, strip=True)
    model = forms.CharField(required=False, max_length=100)
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)
    creator = forms.IntegerField(required=False, min_value=1)
    favourites = forms.BooleanField(required=False)
    after = forms.CharField(required=False, max_length=32)

    def __init__(self, data=None):
        super().__init__(data if data is not None else {})
        self.is_valid()  # fills cleaned_data with the valid fields only

    def value(self, name: str):
        return self.cleaned_data.get(name) or None

    @property
    def cursor(self) -> Cursor | None:
        return decode_cursor(self.value("after"))

    @property
    def active(self) -> bool:
        return any(self.value(name) for name in self.FIELDS)

    def q_object(self) -> Q:
        """The filters as one condition on Generation."""
        cond = Q()
        if text := self.value("q"):
            cond &= search.prompt_contains(text)
        if model := self.value("model"):
            cond &= Q(model=model)
        if status := self.value("status"):
            cond &= _STATUS_FILTERS[status]
        if creator := self.value("creator"):
            cond &= Q(creator_id=creator)
        if self.value("favourites"):
            cond &= Q(favourite=True)
        return cond

    def query_string(self) -> str:
        """The applied filters for a URL (without the cursor), e.g. for load-more and sharing."""
        pairs = [(name, self.value(name)) for name in self.FIELDS if self.value(name)]
        return urlencode([(name, "1" if value is True else value) for name, value in pairs])


def model_choices(selected: str | None = None) -> list[tuple[str, str]]:
    """The catalogue's models for the model filter (no query), plus an unknown selected one."""
    choices = [(spec.id, spec.display_label) for spec in catalogue.CATALOGUE.values()]
    if selected and selected not in catalogue.CATALOGUE:
        choices.append((selected, selected))
    return choices


def prepare_cards(generations, user, *, is_owner: bool = False) -> list[Generation]:
    """Decide per card what the viewer may do and how long its video is (for the card partial).

    The creator and the team's owners may delete a card; everyone in the team may do the rest.
    """
    for generation in generations:
        generation.can_delete = is_owner or generation.creator_id == user.pk
        if generation.duration:
            minutes, seconds = divmod(round(generation.duration), 60)
            generation.duration_label = f"{minutes}:{seconds:02d}"
    return generations


def page(team_id: int, filters: GalleryFilters, size: int = PAGE_SIZE) -> tuple[list, str | None]:
    """One page of the team's gallery, newest first, and the cursor of the next page (or None).

    Only the few columns that say which version of which card to show: most cards come out
    of the card cache, and the views fetch whole rows for the others.
    """
    qs = Generation.objects.filter(team_id=team_id).filter(filters.q_object())
    if cursor := filters.cursor:
        qs = qs.filter(cursor.older())
    rows = list(qs.order_by("-created", "-pk").values_list(*CARD_KEY_FIELDS, named=True)[: size + 1])
    cards = rows[:size]
    return cards, (encode_cursor(cards[-1]) if len(rows) > size else None)


def parse_states(values: list[str]) -> dict[uuid.UUID, int]:
    """`code:version` pairs from pending cards; malformed ones are dropped."""
    states = {}
    for value in values[:MAX_STATES]:
        code, _sep, version = value.partition(":")
        try:
            states[uuid.UUID(code)] = int(version)
        except ValueError:
            continue
    return states


@dataclass
class LiveChanges:
    changed: list[int]  # pks of cards on the page whose version moved
    new: list[int]  # pks of team cards newer than the page's top card, oldest first
    gone: list[uuid.UUID]  # codes the page asked about (pending cards, the top one) that are not the team's now
    more_new: bool  # more new cards than one poll sends
    pending: bool  # something on the page (after this poll) is still pending


def parse_code(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


_LIVE_SQL = """
SELECT u.id, u.code, u.version, u.status, u.team_id, u.created FROM ({parts}) u
WHERE EXISTS (SELECT 1 FROM {membership} m WHERE m.user_id = %s AND m.team_id = u.team_id)
"""
# Codes come back as text and only new cards bring their time: parsing 24 UUIDs and
# timestamps on every poll cost more than the database's answer.
_KNOWN_SQL = (
    "SELECT k.id, CAST(k.code AS text) AS code, k.version, k.status, k.team_id, NULL AS created"
    " FROM {generation} k WHERE k.code IN ({codes})"
)
_NEWER_SQL = (
    "SELECT t.id, CAST(t.code AS text) AS code, t.version, t.status, t.team_id, t.created FROM ("
    "SELECT n.id, n.code, n.version, n.status, n.team_id, n.created FROM {generation} n"
    " WHERE n.team_id = %s{after} ORDER BY n.created, n.id LIMIT %s) t"
)
# One row comparison: both databases turn it into the start of a `gallery_order` index range.
_AFTER_TOP_SQL = " AND (n.created, n.id) > (SELECT a.created, a.id FROM {generation} a WHERE a.code = %s AND a.team_id = %s)"


def live_changes(user, states: dict[uuid.UUID, int], top: uuid.UUID | None, filtered: bool) -> LiveChanges:
    """What one live poll must send, from ONE query of a few columns.

    `top` is the code of the page's first card: the team's cards after it are new, oldest
    first, at most MAX_NEW + 1 (the next poll sends the rest). A filtered gallery gets no new
    cards: they would have to match the filters, and the user sees them on clearing them.
    Membership is checked in the same query and other teams' codes are dropped. Codes asked
    about that are not the team's cards any more (deleted) come back in `gone`, for the page
    to drop: a deleted top card would otherwise keep new cards from ever arriving.

    Hand-written SQL because this runs every 2 s for every open page: the ORM took 15 times
    longer to build the query than the database took to answer it. Each part is an index
    lookup (the codes; a range of `gallery_order` after the top card), so neither SQLite nor
    PostgreSQL reads the rest of the team.
    """
    # Codes as the database writes them as text (a uuid, or 32 hex digits on SQLite).
    stored = str if connection.features.has_native_uuid_field else (lambda code: code.hex)
    known_codes = {stored(code): code for code in [*states, *([top] if top else [])]}
    parts, params = [], []
    if known_codes:
        parts.append(_KNOWN_SQL.replace("{codes}", ", ".join(["%s"] * len(known_codes))))
        params += list(known_codes)
    if not filtered:
        parts.append(_NEWER_SQL.replace("{after}", _AFTER_TOP_SQL if top else ""))
        params += [user.current_team_id, *([stored(top), user.current_team_id] if top else []), MAX_NEW + 1]
    if not parts:
        return LiveChanges(changed=[], new=[], gone=[], more_new=False, pending=False)
    tables = {"generation": Generation._meta.db_table, "membership": Membership._meta.db_table}
    sql = _LIVE_SQL.replace("{parts}", " UNION ALL ".join(parts)).format(**tables)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, user.pk])
        rows = [row for row in cursor.fetchall() if row[4] == user.current_team_id]
    mine = [(row, known_codes[row[1]]) for row in rows if known_codes.get(row[1]) in states]
    new = sorted((row for row in rows if row[1] not in known_codes), key=lambda row: (row[5], row[0]))
    found = {row[1] for row in rows}
    return LiveChanges(
        changed=[row[0] for row, code in mine if row[2] != states[code]],
        new=[row[0] for row in new[:MAX_NEW]],
        gone=[code for stored_code, code in known_codes.items() if stored_code not in found],
        more_new=len(new) > MAX_NEW,
        pending=any(row[3] in Generation.PENDING for row in [*(row for row, _code in mine), *new[:MAX_NEW]]),
    )
