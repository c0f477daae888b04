import pytest
from django.urls import reverse

from studio.models import Generation
from tests.factories import give_key, make_generation

FORM = {"model": "doubao-seedance-2-0-720p", "prompt": "A lighthouse in fog", "seconds": "5", "ratio": "16:9",
        "resolution": "720p", "client_token": "tok-1"}
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def keyed_client(login, alice, team):
    give_key(alice)
    return login(alice)


def test_valid_post_saves_queued_generation_and_answers_the_card(keyed_client, team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = keyed_client.post(reverse("studio:create"), FORM, **HTMX)
    assert response.status_code == 201
    generation = Generation.objects.get()
    assert generation.status == "queued" and generation.team == team
    assert f'id="card-{generation.code}"' in response.content.decode()
    assert len(callbacks) == 2  # the submit job and the team's change count, both on commit


def test_invalid_post_shows_errors_next_to_fields_and_saves_nothing(keyed_client):
    response = keyed_client.post(reverse("studio:create"), {**FORM, "prompt": "", "seconds": "40"}, **HTMX)
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#generate-form"
    page = response.content.decode()
    assert 'id="field-prompt"' in page and "errorlist" in page
    assert not Generation.objects.exists()


def test_double_submit_creates_one_generation(keyed_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        first = keyed_client.post(reverse("studio:create"), FORM, **HTMX)
        second = keyed_client.post(reverse("studio:create"), FORM, **HTMX)
    assert (first.status_code, second.status_code) == (201, 200)
    assert Generation.objects.count() == 1


def test_without_htmx_the_post_redirects(keyed_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = keyed_client.post(reverse("studio:create"), FORM)
    assert response.status_code == 302 and Generation.objects.count() == 1


def test_user_without_key_is_told_where_to_add_it(login, bob, team):
    response = login(bob).post(reverse("studio:create"), FORM, **HTMX)
    assert response.status_code == 422
    assert reverse("accounts:api_key") in response.content.decode()


def test_retry_of_failed_generation_queues_a_copy(keyed_client, alice, team, django_capture_on_commit_callbacks):
    failed = make_generation(team, alice, status="failed", error="boom")
    with django_capture_on_commit_callbacks(execute=False):
        response = keyed_client.post(reverse("studio:retry", args=[failed.code]), **HTMX)
    assert response.status_code == 201
    retry = Generation.objects.exclude(pk=failed.pk).get()
    assert retry.retry_of == failed and retry.status == "queued" and retry.prompt == failed.prompt


def test_remix_fills_the_form(keyed_client, alice, team):
    source = make_generation(team, alice, prompt="Neon koi pond", seconds=7)
    page = keyed_client.get(reverse("studio:remix", args=[source.code])).content.decode()
    assert "Neon koi pond" in page and 'value="7"' in page


@pytest.mark.parametrize("name", ["studio:retry", "studio:remix"])
def test_outsider_gets_404(login, alice, charlie, team, name):
    generation = make_generation(team, alice, status="failed")
    client = login(charlie)
    response = client.post(reverse(name, args=[generation.code])) if name == "studio:retry" else client.get(
        reverse(name, args=[generation.code]))
    assert response.status_code == 404
    assert Generation.objects.count() == 1


def test_remix_keeps_stored_references_as_copies(keyed_client, alice, team, django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile

    from studio.models import Reference
    from tests.test_generation_form import png

    source = make_generation(team, alice, prompt="@image1 waves", mode="reference")
    ref = Reference(generation=source, kind="image", position=0, name="hand.png", content_type="image/png")
    ref.file.save("hand.png", ContentFile(png().read()), save=False)
    ref.save()
    page = keyed_client.get(reverse("studio:remix", args=[source.code])).content.decode()
    assert f'name="keep_refs" value="{ref.pk}"' in page
    with django_capture_on_commit_callbacks(execute=False):
        response = keyed_client.post(reverse("studio:create"), {**FORM, "prompt": "@image1 waves", "keep_refs": [ref.pk]}, **HTMX)
    assert response.status_code == 201, response.content.decode()[:500]
    copy = Reference.objects.exclude(pk=ref.pk).get()
    assert copy.generation.mode == "reference" and copy.file.name != ref.file.name
    assert copy.file.read() == ref.file.read()
