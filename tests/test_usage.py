"""The usage page and its CSV: figures per month, per member and per model, who sees what."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from studio.models import Generation
from studio.usage import Month
from tests.factories import make_generation

HTMX = {"HTTP_HX_REQUEST": "true"}


def made(team, user, cost, status="ready", *, when=None, **fields) -> Generation:
    generation = make_generation(team, user, estimated_cost=Decimal(cost), status=status, **fields)
    if when is not None:  # `created` is auto_now_add: move it afterwards
        Generation.objects.filter(pk=generation.pk).update(created=when)
    return generation


@pytest.fixture
def month_of_work(team, alice, bob):
    made(team, alice, "0.50")
    made(team, alice, "1.00", seconds=10, model="doubao-seedance-2-0-1080p")
    made(team, bob, "0.25", status="running")
    made(team, bob, "2.00", status="failed", seconds=15)
    return team


def report(client, **params):
    return client.get(reverse("studio:usage"), params).context["report"]


def test_totals_count_failed_generations_as_free(login, alice, month_of_work):
    totals = report(login(alice)).totals
    assert totals["cost"] == Decimal("1.75")
    assert totals["seconds"] == 20  # 5 + 10 + 5; the failed 15 s are not billed
    assert (totals["succeeded"], totals["failed"], totals["pending"]) == (2, 1, 1)


def test_owner_sees_every_member_with_their_figures(login, alice, bob, month_of_work):
    rows = {row["name"]: row for row in report(login(alice)).members}
    assert rows["alice"]["cost"] == Decimal("1.50") and rows["bob"]["cost"] == Decimal("0.25")
    assert rows["bob"]["failed"] == 1 and rows["bob"]["seconds"] == 5


def test_member_sees_team_totals_but_only_their_own_detail(login, bob, month_of_work):
    response = login(bob).get(reverse("studio:usage"))
    figures = response.context["report"]
    assert figures.totals["cost"] == Decimal("1.75")
    assert [row["name"] for row in figures.members] == ["bob"]
    assert "alice" not in response.content.decode()


def test_owner_sees_members_who_made_nothing_and_former_members(login, alice, bob, month_of_work):
    carol = User.objects.create_user("carol@example.com", "x")
    made(month_of_work, carol, "3.00")  # made while a member, then left
    dave = User.objects.create_user("dave@example.com", "x")
    month_of_work.memberships.create(user=dave)
    rows = {row["name"]: row for row in report(login(alice)).members}
    assert rows["dave"]["generations"] == 0
    assert rows["carol"]["cost"] == Decimal("3.00") and not rows["carol"]["is_member"]


def test_per_model_rows_add_up_to_the_totals(login, alice, month_of_work):
    models = {row["model"]: row for row in report(login(alice)).models}
    assert models["doubao-seedance-2-0-1080p"]["cost"] == Decimal("1.00")
    assert models["doubao-seedance-2-0-720p"]["cost"] == Decimal("0.75")
    assert models["doubao-seedance-2-0-720p"]["failed"] == 1


def test_other_teams_never_count(login, alice, charlie, month_of_work):
    made(charlie.get_current_team(), charlie, "9.00")
    assert report(login(alice)).totals["cost"] == Decimal("1.75")
    assert report(login(charlie)).totals["cost"] == Decimal("9.00")


def test_earlier_months_are_kept_apart_and_picked_by_the_month_parameter(login, alice, team):
    this = Month.current()
    made(team, alice, "0.50")
    made(team, alice, "4.00", when=this.previous.start + timedelta(days=2))
    client = login(alice)
    assert report(client).totals["cost"] == Decimal("0.50")
    assert report(client, month=this.previous.key).totals["cost"] == Decimal("4.00")
    assert report(client, month="not-a-month").month == this


def test_month_picker_gets_only_the_report_over_htmx(login, alice, team):
    response = login(alice).get(reverse("studio:usage"), {"month": Month.current().previous.key}, **HTMX)
    page = response.content.decode()
    assert 'id="usage-report"' in page and "<html" not in page and "monthly budget" not in page
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_chart_has_a_bar_per_day_with_work(login, alice, bob, team):
    start = Month.current().start
    made(team, alice, "1.00", when=start + timedelta(hours=3))
    made(team, bob, "3.00", when=start + timedelta(hours=4))
    made(team, alice, "2.00", when=start + timedelta(days=1, hours=3))
    bars = report(login(alice)).chart.bars
    assert [(bar.day, bar.cost, bar.mine) for bar in bars] == [(1, Decimal("4.00"), Decimal("1.00")), (2, Decimal("2.00"), Decimal("2.00"))]
    assert bars[0].height > bars[1].height > 0 and bars[0].mine_height < bars[0].height


def test_month_arithmetic_wraps_around_the_year():
    assert Month(2026, 1).previous == Month(2025, 12) and Month(2025, 12).next == Month(2026, 1)
    assert Month(2024, 2).days == 29 and len(Month(2026, 3).recent(24)) == 24
    assert Month.parse("2026-13") is None and Month.parse("2026-02") == Month(2026, 2)


def test_page_costs_the_same_few_queries_however_many_generations(login, alice, bob, team, django_assert_max_num_queries):
    client = login(alice)
    Generation.objects.bulk_create([
        Generation(team=team, creator=[alice, bob][n % 2], model="grok-imagine-video", prompt="x", seconds=5,
                   ratio="16:9", resolution="720p", status="ready", estimated_cost=Decimal("0.25"),
                   webhook_token=f"t{n}")
        for n in range(300)
    ])
    with django_assert_max_num_queries(12):
        assert report(client).totals["cost"] == Decimal("75.00")


def rows_of(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_owner_exports_every_generation_of_the_month(login, alice, month_of_work):
    made(month_of_work, alice, "7.00", when=timezone.now() - timedelta(days=40))  # another month
    response = login(alice).get(reverse("studio:usage_export"))
    assert "attachment" in response["Content-Disposition"]
    rows = rows_of(response)
    assert len(rows) == 4
    failed = next(row for row in rows if row["status"] == "failed")
    assert failed["billed"] == "no" and failed["estimated_cost_usd"] == "0"


def test_member_exports_only_their_own_generations(login, bob, month_of_work):
    rows = rows_of(login(bob).get(reverse("studio:usage_export")))
    assert {row["member"] for row in rows} == {"bob@example.com"}


def test_export_defuses_spreadsheet_formulas(login, alice, team):
    made(team, alice, "0.5", model="=HYPERLINK(\"http://evil\")")
    assert rows_of(login(alice).get(reverse("studio:usage_export")))[0]["model"].startswith("'=")


@pytest.mark.parametrize("name", ["studio:usage", "studio:usage_export"])
def test_usage_needs_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_navigation_links_to_usage(login, alice, team):
    assert f'href="{reverse("studio:usage")}"' in login(alice).get(reverse("studio:home")).content.decode()


def test_models_are_named_in_the_viewers_language(login, alice, team):
    made(team, alice, "0.40", model="happyhorse-1.0-t2v")
    page = login(alice).get(reverse("studio:usage"), headers={"accept-language": "zh-hans"}).content.decode()
    assert "HappyHorse 1.0 文生视频" in page and "text-to-video" not in page
