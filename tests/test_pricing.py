"""The price table, quotes, the cost a generation keeps, and where people see it."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import User
from studio import catalogue
from studio.models import Generation
from studio.pricing import Price, estimate, price_for, quote
from tests.factories import give_key, make_generation

FORM = {"model": "doubao-seedance-2-0-720p", "prompt": "A lighthouse in fog", "seconds": "8", "ratio": "16:9",
        "resolution": "720p", "client_token": "tok-1"}
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.django_db
def test_seeded_prices_cover_every_catalogue_model_with_a_row_of_its_own():
    for spec in catalogue.CATALOGUE.values():
        for resolution in spec.resolutions:
            for audio in (False, True):
                price = price_for(spec.id, resolution, audio)
                assert price is not None and price.model == spec.id, (spec.id, resolution, audio)


@pytest.mark.django_db
def test_most_specific_price_wins_and_unknown_models_get_the_fallback():
    Price.objects.create(model="m", unit="second", amount=Decimal("0.1"))
    Price.objects.create(model="m", resolution="1080p", unit="second", amount=Decimal("0.3"))
    Price.objects.create(model="m", resolution="1080p", audio="with", unit="second", amount=Decimal("0.4"))
    assert price_for("m", "720p", False).amount == Decimal("0.1")
    assert price_for("m", "1080p", False).amount == Decimal("0.3")
    assert price_for("m", "1080p", True).amount == Decimal("0.4")
    assert price_for("some-new-video-model", "720p", False).model == ""  # the seeded fallback


@pytest.mark.django_db
def test_per_second_price_scales_with_length_and_per_clip_does_not():
    assert estimate("doubao-seedance-2-0-720p", 8, "720p", False) == Decimal("0.8000")
    assert estimate("doubao-seedance-2-0-720p", 8, "720p", True) == Decimal("1.0000")
    assert estimate("grok-imagine-video", 5, "720p", False) == estimate("grok-imagine-video", 10, "720p", False)


@pytest.mark.django_db
def test_quote_applies_the_models_rules_like_the_form():
    priced = quote("seedance-1-5-pro-with-audio", "99", "4k", None)
    assert (priced.settings.seconds, priced.settings.resolution, priced.settings.audio) == (12, "720p", True)
    assert priced.amount == Decimal("0.6000")  # 12 s at the 720p rate
    assert quote("doubao-seedance-2-0-1080p", "abc", "480p", "on").settings.resolution == "1080p"


@pytest.mark.django_db
def test_created_generation_keeps_its_estimate_when_prices_change(login, alice, team, django_capture_on_commit_callbacks):
    give_key(alice)
    with django_capture_on_commit_callbacks(execute=False):
        login(alice).post(reverse("studio:create"), FORM, **HTMX)
    generation = Generation.objects.get()
    assert generation.estimated_cost == Decimal("0.8000")
    Price.objects.filter(model="doubao-seedance-2-0-720p").update(amount=Decimal("9"))
    generation.refresh_from_db()
    assert generation.estimated_cost == Decimal("0.8000")


@pytest.mark.django_db
def test_retry_gets_an_estimate_at_todays_price(login, alice, team, django_capture_on_commit_callbacks):
    give_key(alice)
    failed = make_generation(team, alice, status="failed", seconds=4, estimated_cost=Decimal("0.4"))
    Price.objects.filter(model="doubao-seedance-2-0-720p", audio="without").update(amount=Decimal("0.2"))
    with django_capture_on_commit_callbacks(execute=False):
        login(alice).post(reverse("studio:retry", args=[failed.code]), **HTMX)
    assert Generation.objects.exclude(pk=failed.pk).get().estimated_cost == Decimal("0.8000")


@pytest.mark.django_db
def test_card_shows_its_creator_and_estimated_cost(login, alice, bob, team):
    make_generation(team, bob, estimated_cost=Decimal("0.5"), status="ready")
    page = login(alice).get(reverse("studio:home")).content.decode()
    assert '<span class="who">bob</span>' in page
    assert "≈ $0.50" in page


@pytest.mark.django_db
def test_failed_card_and_detail_say_it_is_not_billed(login, alice, team):
    failed = make_generation(team, alice, estimated_cost=Decimal("0.5"), status="failed", error="boom")
    client = login(alice)
    assert "not billed" in client.get(reverse("studio:home")).content.decode()
    detail = client.get(reverse("studio:detail", args=[failed.code])).content.decode()
    assert "not billed (failed)" in detail and "$0.50" not in detail


@pytest.mark.django_db
def test_detail_shows_the_estimated_cost(login, alice, team):
    generation = make_generation(team, alice, estimated_cost=Decimal("1.25"))
    assert "≈ $1.25" in login(alice).get(reverse("studio:detail", args=[generation.code])).content.decode()


@pytest.mark.django_db
def test_form_shows_a_quote_that_htmx_refreshes_from_the_fields(login, alice, team):
    give_key(alice)
    client = login(alice)
    page = client.get(reverse("studio:home")).content.decode()
    assert 'id="quote"' in page and f'hx-get="{reverse("studio:quote")}"' in page
    assert "≈ $0.50" in page  # the form's defaults: Seedance 2.0 720p, 5 s, silent
    fragment = client.get(reverse("studio:quote"), {"model": "doubao-seedance-2-0-720p", "seconds": "10",
                                                    "resolution": "720p", "generate_audio": "on"}, **HTMX)
    assert fragment.status_code == 200
    assert "≈ $1.25" in fragment.content.decode() and "<html" not in fragment.content.decode()


@pytest.mark.django_db
def test_quote_needs_login(client):
    response = client.get(reverse("studio:quote"), {"model": "grok-imagine-video"})
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


@pytest.fixture
def staff_client(login, db):
    staff = User.objects.create_superuser("staff@example.com", "x")
    return login(staff)


def test_staff_edit_prices_in_the_admin(staff_client):
    price = Price.objects.get(model="grok-imagine-video")
    assert staff_client.get(reverse("admin:studio_price_changelist")).status_code == 200
    response = staff_client.post(reverse("admin:studio_price_change", args=[price.pk]), {
        "model": "grok-imagine-video", "resolution": "", "audio": "", "unit": "clip", "amount": "0.35",
    })
    assert response.status_code == 302
    price.refresh_from_db()
    assert price.amount == Decimal("0.35")


def test_generation_admin_is_read_only_and_never_shows_tokens(staff_client, alice, team):
    generation = make_generation(team, alice, client_token="secret-form-token")
    page = staff_client.get(reverse("admin:studio_generation_change", args=[generation.pk])).content.decode()
    assert generation.webhook_token not in page and "secret-form-token" not in page
    assert 'name="prompt"' not in page  # shown, not editable
    assert staff_client.get(reverse("admin:studio_generation_add")).status_code == 403
    assert staff_client.get(reverse("admin:studio_generation_changelist")).status_code == 200


@pytest.mark.django_db
def test_seed_migration_prices_generations_made_before_it(alice, team):
    import importlib

    from django.apps import apps

    seed = importlib.import_module("studio.migrations.0006_seed_prices").seed
    old = make_generation(team, alice, seconds=8, generate_audio=True)
    priced = make_generation(team, alice, estimated_cost=Decimal("3"))
    seed(apps, None)
    old.refresh_from_db()
    priced.refresh_from_db()
    assert old.estimated_cost == Decimal("1.0000") and priced.estimated_cost == Decimal("3")
