"""Usage and spending: a team's month in figures, the daily chart, and monthly budgets.

Every figure is an aggregate computed by the database (one GROUP BY per table, over the
`gallery_order` index for a team's month, `creator_month` for a member's spending). Failed
generations cost nothing: RelayDance does not bill them. Pending ones count, as they will
most likely be billed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from django.db import connection
from django.db.models import Count, DateField, F, Func, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from studio import catalogue
from studio.models import Generation
from studio.pricing import Quote, money, quote

WARN_SHARE = Decimal("0.8")  # warn on the form from 80 % of a budget
BILLED = ~Q(status=Generation.Status.FAILED)
SUCCEEDED = Q(status__in=[Generation.Status.SUCCEEDED, Generation.Status.READY])
FAILED = Q(status=Generation.Status.FAILED)


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def current(cls) -> Month:
        now = timezone.localtime()
        return cls(now.year, now.month)

    @classmethod
    def parse(cls, value: str | None) -> Month | None:
        """A month from "YYYY-MM"; None for anything else."""
        try:
            year, month = (int(part) for part in (value or "").split("-"))
            return cls(year, month) if 2000 <= year <= 9999 and 1 <= month <= 12 else None
        except ValueError:
            return None

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return date_format(self.start, "YEAR_MONTH_FORMAT")

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime(self.year, self.month, 1))

    @property
    def end(self) -> datetime:
        return self.next.start

    @property
    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    @property
    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def recent(self, count: int = 24) -> list[Month]:
        """This month and the `count - 1` before it, newest first (the month picker)."""
        months = [self]
        while len(months) < count:
            months.append(months[-1].previous)
        return months


def figures(**extra) -> dict:
    """The aggregates every usage row has."""
    return {
        "generations": Count("pk"),
        "succeeded": Count("pk", filter=SUCCEEDED),
        "failed": Count("pk", filter=FAILED),
        "seconds": Sum("seconds", filter=BILLED, default=0),
        "cost": Sum("estimated_cost", filter=BILLED, default=Decimal(0)),
        **extra,
    }


def in_month(month: Month) -> Q:
    return Q(created__gte=month.start, created__lt=month.end)


def local_day(month: Month):
    """The local calendar day of `created`, computed by the database."""
    if connection.vendor == "sqlite":
        # Django's TruncDate calls back into Python for every row on SQLite (10x slower here);
        # SQLite's own date() does not know time zones, so it shifts by the month's UTC offset
        # (exact for UTC, the default; off by an hour around a DST change elsewhere).
        offset = int(month.start.utcoffset().total_seconds())
        return Func(F("created"), Value(f"{offset:+d} seconds"), function="date", output_field=DateField())
    return TruncDate("created", tzinfo=timezone.get_current_timezone())


def team_month(team_id: int, month: Month) -> QuerySet:
    return Generation.objects.filter(in_month(month), team_id=team_id)


@dataclass
class Bar:
    """One day's bar, in the plot's units: 10 wide per day, 100 high."""

    day: int
    x: float
    y: float
    height: float
    mine_y: float
    mine_height: float
    cost: Decimal
    mine: Decimal
    label: str


@dataclass
class Chart:
    """The team's daily cost as SVG bars, the viewer's share inside each. The plot stretches to
    any width; its labels are HTML beside it, so text never stretches with it."""

    days: int
    bars: list[Bar] = field(default_factory=list)
    scale: list[str] = field(default_factory=list)  # y labels: top, middle, zero
    labels: list[str] = field(default_factory=list)  # x labels: one per day, most empty

    @property
    def width(self) -> int:
        return self.days * 10

    @property
    def empty(self) -> bool:
        return not self.bars


def _nice_ceiling(value: Decimal) -> Decimal:
    """1, 2 or 5 times a power of ten, at least `value` (the chart's top)."""
    if value <= 0:
        return Decimal(1)
    step = Decimal(10) ** value.adjusted()
    return next(step * factor for factor in (1, 2, 5, 10) if value <= step * factor)


def daily_chart(rows: list[dict], month: Month) -> Chart:
    """Bars from the GROUP BY day rows (`day`, `generations`, `cost`, `mine`, `seconds`)."""
    chart = Chart(days=month.days)
    by_day = {row["day"].day: row for row in rows if row["day"] is not None and row["generations"]}
    top = _nice_ceiling(max((row["cost"] for row in by_day.values()), default=Decimal(0)))

    def y_of(amount: Decimal) -> float:
        return round(100 - float(amount / top) * 100, 2)

    for day, row in sorted(by_day.items()):
        cost, mine = row["cost"], row["mine"]
        label = _("%(day)s: %(cost)s, %(seconds)s s (yours: %(mine)s)") % {
            "day": date_format(row["day"], "MONTH_DAY_FORMAT"), "cost": money(cost),
            "seconds": row["seconds"], "mine": money(mine),
        }
        chart.bars.append(Bar(
            day=day, x=(day - 1) * 10 + 1.5, y=y_of(cost), height=round(100 - y_of(cost), 2),
            mine_y=y_of(mine), mine_height=round(100 - y_of(mine), 2), cost=cost, mine=mine, label=label,
        ))
    chart.scale = [money(top), money(top / 2), money(Decimal(0))]
    chart.labels = [str(day) if day in (1, 5, 10, 15, 20, 25) or day == month.days else "" for day in range(1, month.days + 1)]
    return chart


@dataclass
class Report:
    month: Month
    totals: dict
    models: list[dict]
    members: list[dict]
    chart: Chart


def _with_derived(row: dict) -> dict:
    """A figures row (or the totals) with what the page derives from it: pending, the cost label."""
    row["pending"] = row["generations"] - row["succeeded"] - row["failed"]
    row["cost_label"] = money(row["cost"])
    return row


def _member_row(row: dict, names: dict) -> dict:
    creator, email = row["creator_id"], row.get("creator__email")
    name = names.get(creator) or (email.split("@")[0] if email else _("Deleted account"))
    return {**row, "name": name, "is_member": creator in names}


def report(team, month: Month, viewer, *, every_member: bool, memberships) -> Report:
    """The usage page's figures: team totals (from the per-model rows), per model, per member
    (every member for owners, else only the viewer), and the daily chart. Three queries."""
    rows = team_month(team.pk, month)
    models = list(rows.values("model").annotate(**figures()).order_by("-cost", "-seconds", "model"))
    totals = {key: sum(row[key] for row in models) for key in ("generations", "succeeded", "failed", "seconds")}
    totals = _with_derived({**totals, "cost": sum((row["cost"] for row in models), Decimal(0))})
    for row in map(_with_derived, models):
        row["share"] = round(100 * row["cost"] / totals["cost"]) if totals["cost"] else 0
        row["label"] = catalogue.get_spec(row["model"]).display_label

    names = {m.user_id: m.user.display_name for m in memberships}
    member_rows = rows if every_member else rows.filter(creator=viewer)
    grouped = {
        row["creator_id"]: row
        for row in member_rows.values("creator_id", "creator__email").annotate(**figures()).order_by()
    }
    zero = {"generations": 0, "succeeded": 0, "failed": 0, "seconds": 0, "cost": Decimal(0)}
    shown = [m.user_id for m in memberships] if every_member else [viewer.pk]
    members = [_member_row({**zero, "creator_id": pk, **grouped.get(pk, {})}, names) for pk in shown]
    members += [_member_row(row, names) for pk, row in grouped.items() if pk not in shown]  # former members
    members.sort(key=lambda row: (-row["cost"], -row["seconds"], row["name"]))
    for row in map(_with_derived, members):
        row["is_viewer"] = row["creator_id"] == viewer.pk

    by_day = rows.annotate(day=local_day(month)).values("day")
    days = list(by_day.annotate(**figures(
        mine=Sum("estimated_cost", filter=BILLED & Q(creator=viewer), default=Decimal(0)),
    )).order_by("day"))
    return Report(month, totals, models, members, daily_chart(days, month))


def spent(month: Month, *, user=None, team=None) -> Decimal:
    """What a user (with their key, in every team) or a team spent in `month`."""
    rows = Generation.objects.filter(in_month(month), BILLED)
    rows = rows.filter(creator=user) if user is not None else rows.filter(team=team)
    return rows.aggregate(total=Sum("estimated_cost", default=Decimal(0)))["total"]


@dataclass(frozen=True)
class BudgetCheck:
    """One budget against this month's spending with one more video."""

    scope: str  # "member" | "team"
    budget: Decimal
    spent: Decimal
    quote: Decimal

    @property
    def after(self) -> Decimal:
        return self.spent + self.quote

    @property
    def after_label(self) -> str:
        return money(self.after)

    @property
    def budget_label(self) -> str:
        return money(self.budget)

    @property
    def percent(self) -> int:
        if not self.budget:
            return 100 if self.after else 0
        return int((100 * self.after / self.budget).to_integral_value(ROUND_FLOOR))

    @property
    def over(self) -> bool:
        return self.after > self.budget

    @property
    def warn(self) -> bool:
        return not self.over and self.after >= self.budget * WARN_SHARE

    @property
    def short(self) -> str:
        """One line for the form's quote."""
        values = {"percent": self.percent, "spent": money(self.after), "budget": money(self.budget)}
        if self.over and self.scope == "team":
            return _("Past the team's monthly budget: %(spent)s of %(budget)s.") % values
        if self.over:
            return _("Past your monthly budget: %(spent)s of %(budget)s.") % values
        if self.scope == "team":
            return _("%(percent)s%% of the team's monthly budget: %(spent)s of %(budget)s.") % values
        return _("%(percent)s%% of your monthly budget: %(spent)s of %(budget)s.") % values

    @property
    def message(self) -> str:
        """Why the form refuses the video (for a check that is `over`)."""
        values = {"budget": money(self.budget), "quote": money(self.quote), "before": money(self.spent)}
        if self.scope == "team":
            return _("This video (about %(quote)s) would take the team past its monthly budget of %(budget)s: "
                     "%(before)s is spent already. An owner can raise it on the usage page.") % values
        return _("This video (about %(quote)s) would take you past your monthly budget of %(budget)s: "
                 "%(before)s is spent already. Raise it on the usage page, or wait until next month.") % values


def budget_checks(user, team, amount: Decimal | None) -> list[BudgetCheck]:
    """The budgets that apply to one more video costing `amount` (queries only for set budgets)."""
    month, cost = Month.current(), amount or Decimal(0)
    checks = []
    if user.monthly_budget is not None:
        checks.append(BudgetCheck("member", user.monthly_budget, spent(month, user=user), cost))
    if team.monthly_budget is not None:
        checks.append(BudgetCheck("team", team.monthly_budget, spent(month, team=team), cost))
    return checks


@dataclass(frozen=True)
class FormQuote:
    """What the form shows beside the Generate button: the price and any budget warning."""

    quote: Quote
    checks: list[BudgetCheck]

    @property
    def refusal(self) -> BudgetCheck | None:
        return next((check for check in self.checks if check.over), None)

    @property
    def alerts(self) -> list[BudgetCheck]:
        """The budgets at 80 % or past, this video included."""
        return [check for check in self.checks if check.warn or check.over]


def form_quote(user, team, model: str, seconds, resolution, audio) -> FormQuote:
    priced = quote(model, seconds, resolution, audio)
    return FormQuote(priced, budget_checks(user, team, priced.amount))


def budget_refusal(user, team, model: str, seconds, resolution, audio) -> str | None:
    """Why one more video with these settings may not be made (a budget it would pass), or None."""
    if user.monthly_budget is None and team.monthly_budget is None:
        return None  # no budget: not even a price lookup
    refusal = form_quote(user, team, model, seconds, resolution, audio).refusal
    return refusal.message if refusal else None
