"""Monthly budgets: set by a member for themselves or by an owner for the team; the form warns
at 80 % and refuses a video that would pass one (this video's quote included)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from studio.models import Generation
from studio.usage import Month
from tests.factories import give_key, make_generation

# Seedance 2.0 720p, silent, 10 s: $1.00 at the seeded price.
FORM = {"model": "doubao-seedance-2-0-720p", "prompt": "A lighthouse in fog", "seconds": "10", "ratio": "16:9",
        "resolution": "720p", "client_token": "tok-1"}
QUOTE = {key: FORM[key] for key in ("model", "seconds", "resolution")}
HTMX = {"HTTP_HX_REQUEST": "true"}


def spend(team, user, cost, **fields):
    return make_generation(team, user, estimated_cost=Decimal(cost), status=fields.pop("status", "ready"), **fields)


def set_budget(user, amount):
    user.monthly_budget = Decimal(amount)
    user.save()


@pytest.fixture
def bob_client(login, bob, team):
    give_key(bob)
    return login(bob)


def post_form(client, capture):
    with capture(execute=False):
        return client.post(reverse("studio:create"), FORM, **HTMX)


def test_quote_warns_from_80_percent_of_the_members_budget(bob_client, bob, team):
    set_budget(bob, "10")
    spend(team, bob, "6.50")
    quiet = bob_client.get(reverse("studio:quote"), QUOTE).content.decode()  # 7.50 of 10 with it
    assert "quote-alert" not in quiet
    spend(team, bob, "0.50")
    warned = bob_client.get(reverse("studio:quote"), QUOTE).content.decode()  # 8.00 of 10
    assert "80% of your monthly budget: $8.00 of $10.00." in warned


def test_studio_page_form_shows_the_warning_without_javascript(bob_client, bob, team):
    set_budget(bob, "10")
    spend(team, bob, "8.00")
    assert "of your monthly budget" in bob_client.get(reverse("studio:home")).content.decode()


def test_video_that_would_pass_the_budget_is_refused_with_a_clear_message(
    bob_client, bob, team, django_capture_on_commit_callbacks
):
    set_budget(bob, "10")
    spend(team, bob, "9.50")
    response = post_form(bob_client, django_capture_on_commit_callbacks)
    assert response.status_code == 422
    page = response.content.decode()
    assert "would take you past your monthly budget of $10.00" in page and "$9.50 is spent already" in page
    assert Generation.objects.count() == 1


def test_retrying_a_failed_video_past_the_budget_is_refused(bob_client, bob, team):
    set_budget(bob, "10")
    spend(team, bob, "9.50")
    failed = spend(team, bob, "0", status="failed", seconds=10, error="Timed out")
    response = bob_client.post(reverse("studio:retry", args=[failed.code]), **HTMX)
    assert response.status_code == 422
    assert "would take you past your monthly budget of $10.00" in response.content.decode()
    assert Generation.objects.count() == 2


def test_video_that_lands_exactly_on_the_budget_is_allowed(bob_client, bob, team, django_capture_on_commit_callbacks):
    set_budget(bob, "10")
    spend(team, bob, "9.00")
    assert post_form(bob_client, django_capture_on_commit_callbacks).status_code == 201


def test_team_budget_applies_to_every_member(bob_client, alice, team, django_capture_on_commit_callbacks):
    team.monthly_budget = Decimal("5")
    team.save()
    spend(team, alice, "4.50")
    response = post_form(bob_client, django_capture_on_commit_callbacks)
    assert response.status_code == 422 and "past its monthly budget of $5.00" in response.content.decode()


def test_failed_and_last_months_videos_do_not_count(bob_client, bob, team, django_capture_on_commit_callbacks):
    set_budget(bob, "10")
    spend(team, bob, "9.50", status="failed")
    old = spend(team, bob, "9.50")
    Generation.objects.filter(pk=old.pk).update(created=Month.current().start - timedelta(hours=1))
    assert post_form(bob_client, django_capture_on_commit_callbacks).status_code == 201


def test_a_members_budget_counts_their_spending_in_every_team(bob_client, bob, team, django_capture_on_commit_callbacks):
    set_budget(bob, "10")
    personal = bob.teams().get(personal=True)
    spend(personal, bob, "9.50")
    assert post_form(bob_client, django_capture_on_commit_callbacks).status_code == 422


def test_member_sets_and_clears_their_own_budget(login, bob, team):
    client = login(bob)
    response = client.post(reverse("studio:my_budget"), {"me-monthly_budget": "25.50"})
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.monthly_budget == Decimal("25.50")
    page = client.get(reverse("studio:usage")).content.decode()
    assert "of $25.50 this month" in page
    client.post(reverse("studio:my_budget"), {"me-monthly_budget": ""})
    bob.refresh_from_db()
    assert bob.monthly_budget is None


def test_a_negative_budget_is_refused(login, bob, team):
    response = login(bob).post(reverse("studio:my_budget"), {"me-monthly_budget": "-3"}, follow=True)
    assert "Enter a budget of 0 or more" in response.content.decode()
    bob.refresh_from_db()
    assert bob.monthly_budget is None


def test_owner_sets_the_team_budget(login, alice, team):
    response = login(alice).post(reverse("studio:team_budget", args=[team.code]), {"team-monthly_budget": "100"})
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.monthly_budget == Decimal("100")


def test_member_cannot_set_the_team_budget(login, bob, team):
    response = login(bob).post(reverse("studio:team_budget", args=[team.code]), {"team-monthly_budget": "1"})
    assert response.status_code == 403
    team.refresh_from_db()
    assert team.monthly_budget is None


def test_outsider_gets_404_for_the_team_budget(login, charlie, team):
    response = login(charlie).post(reverse("studio:team_budget", args=[team.code]), {"team-monthly_budget": "1"})
    assert response.status_code == 404


def test_members_see_the_team_budget_but_no_form_for_it(login, bob, team):
    team.monthly_budget = Decimal("50")
    team.save()
    page = login(bob).get(reverse("studio:usage")).content.decode()
    assert "of $50.00 this month" in page
    assert reverse("studio:team_budget", args=[team.code]) not in page


def test_budget_changes_need_post(login, bob, team):
    assert login(bob).get(reverse("studio:my_budget")).status_code == 405
