"""The usage page, its CSV export, monthly budgets, and the form's live quote."""

import csv
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.models import Membership
from accounts.views import _get_owned_team
from studio import usage
from studio.models import Generation
from studio.pricing import currency
from studio.views import _current_membership, _fragment, _wants_fragment


class BudgetForm(forms.Form):
    monthly_budget = forms.DecimalField(
        label=_lazy("Monthly budget"), required=False, min_value=Decimal(0), max_digits=10, decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )


def _budget_status(month: usage.Month, budget: Decimal | None, **whose) -> usage.BudgetCheck | None:
    return usage.BudgetCheck("", budget, usage.spent(month, **whose), Decimal(0)) if budget is not None else None


@login_required
@require_GET
@vary_on_headers("HX-Request")
def usage_page(request: HttpRequest) -> HttpResponse:
    """The current team's month: totals, the daily chart, per model and per member (every member
    for owners, only themselves for members), and the budgets. htmx gets the month's report."""
    membership = _current_membership(request)
    team, is_owner = membership.team, membership.role == Membership.Role.OWNER
    current = usage.Month.current()
    month = usage.Month.parse(request.GET.get("month")) or current
    memberships = list(team.memberships.select_related("user").order_by("created"))
    context = {
        "team": team, "is_owner": is_owner, "month": month, "current": current,
        "months": current.recent(), "report": usage.report(team, month, request.user, every_member=is_owner, memberships=memberships),
        "currency": currency(),
    }
    if _wants_fragment(request):
        return _fragment(request, "studio/usage.html#report", context)
    context.update(
        my_budget=BudgetForm(initial={"monthly_budget": request.user.monthly_budget}, prefix="me", label_suffix=""),
        team_budget=BudgetForm(initial={"monthly_budget": team.monthly_budget}, prefix="team", label_suffix=""),
        my_status=_budget_status(current, request.user.monthly_budget, user=request.user),
        team_status=_budget_status(current, team.monthly_budget, team=team),
    )
    return render(request, "studio/usage.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    # A spreadsheet runs a cell that starts with one of these as a formula.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@login_required
@require_GET
def usage_export(request: HttpRequest) -> StreamingHttpResponse:
    """The month's generations as CSV, one per row: every member's for owners, else the viewer's."""
    membership = _current_membership(request)
    team = membership.team
    month = usage.Month.parse(request.GET.get("month")) or usage.Month.current()
    rows = usage.team_month(team.pk, month)
    if membership.role != Membership.Role.OWNER:
        rows = rows.filter(creator=request.user)
    columns = ("created", "creator__email", "model", "seconds", "resolution", "generate_audio", "status", "estimated_cost")
    data = rows.order_by("created", "pk").values_list(*columns).iterator(chunk_size=2000)
    tz, code = timezone.get_current_timezone(), currency()
    failed = Generation.Status.FAILED

    def lines():
        writer = csv.writer(_Echo())
        yield writer.writerow(["created", "member", "model", "seconds", "resolution", "audio", "status",
                               "billed", f"estimated_cost_{code.lower()}"])
        for created, email, model, seconds, resolution, audio, status, cost in data:
            billed = status != failed
            yield writer.writerow([
                created.astimezone(tz).isoformat(timespec="seconds"), _cell(email or ""), _cell(model), seconds,
                _cell(resolution), "yes" if audio else "no", status, "yes" if billed else "no",
                (cost if billed else Decimal(0)) if cost is not None else "",
            ])

    name = f"usage-{slugify(team.name) or 'team'}-{month.key}.csv"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def my_budget(request: HttpRequest) -> HttpResponse:
    """The user's own monthly budget (for their key, across all their teams); empty clears it."""
    return _save_budget(request, request.user, "me", _("Your monthly budget was saved."),
                        _("Your monthly budget was removed."))


@login_required
@require_POST
def team_budget(request: HttpRequest, code) -> HttpResponse:
    """A team's monthly budget: owners only (404 for outsiders, 403 for members); empty clears it."""
    return _save_budget(request, _get_owned_team(request, code), "team", _("The team's monthly budget was saved."),
                        _("The team's monthly budget was removed."))


def _save_budget(request: HttpRequest, holder, prefix: str, saved: str, removed: str) -> HttpResponse:
    """Set `holder.monthly_budget` (a user or a team) from the posted BudgetForm, and say so."""
    form = BudgetForm(request.POST, prefix=prefix)
    if form.is_valid():
        holder.monthly_budget = form.cleaned_data["monthly_budget"]
        holder.save(update_fields=["monthly_budget"])
        messages.success(request, saved if holder.monthly_budget is not None else removed)
    else:
        messages.error(request, _("Enter a budget of 0 or more, with at most two decimals."))
    return redirect("studio:usage")


@login_required
@require_GET
def quote(request: HttpRequest) -> HttpResponse:
    """The form's live quote for the settings in the query string (a fragment)."""
    team = _current_membership(request).team
    params = request.GET
    audio = params.get("generate_audio", "") in ("on", "true", "1")
    form_quote = usage.form_quote(
        request.user, team, params.get("model", "")[:100], params.get("seconds"), params.get("resolution"), audio
    )
    return _fragment(request, "studio/_quote.html", {"quote": form_quote})
