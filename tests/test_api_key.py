import logging

import httpx
import pytest
import respx
from django.core.management import call_command
from django.urls import reverse

from accounts import crypto
from accounts.models import ApiKey

REAL_KEY = "sk-live-SECRETVALUE-1234567890abcdWXYZ"
MODELS = {"object": "list", "data": [{"id": "doubao-seedance-2-0-1080p"}, {"id": "seedance-1-5-pro-no-audio"}]}


@pytest.fixture
def relaydance():
    with respx.mock(base_url="https://relaydance.com/v1", assert_all_called=False) as mock:
        yield mock


def save(client, key=REAL_KEY):
    return client.post(reverse("accounts:api_key"), {"key": key}, follow=True)


def test_saving_a_good_key_stores_it_encrypted_with_its_models(alice_client, alice, relaydance):
    relaydance.get("/models").respond(200, json=MODELS)
    response = save(alice_client)
    api_key = ApiKey.objects.get(user=alice)
    assert REAL_KEY not in api_key.ciphertext
    assert api_key.reveal() == REAL_KEY
    assert api_key.model_ids == ["doubao-seedance-2-0-1080p", "seedance-1-5-pro-no-audio"]
    assert "sk-…WXYZ" in response.content.decode()
    assert relaydance.calls.last.request.headers["Authorization"] == f"Bearer {REAL_KEY}"


def test_rejected_key_shows_error_and_saves_nothing(alice_client, relaydance):
    relaydance.get("/models").respond(401, json={"error": {"message": "invalid", "type": "authentication_error"}})
    response = save(alice_client)
    assert "This key was rejected" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_unreachable_relaydance_saves_nothing(alice_client, relaydance):
    relaydance.get("/models").mock(side_effect=httpx.ConnectError("boom"))
    response = save(alice_client)
    assert "could not be reached" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_replacing_and_deleting_the_key(alice_client, alice, relaydance):
    relaydance.get("/models").respond(200, json=MODELS)
    save(alice_client)
    save(alice_client, "sk-live-another-key-0000")
    assert ApiKey.objects.get(user=alice).reveal() == "sk-live-another-key-0000"
    alice_client.post(reverse("accounts:api_key_delete"))
    assert not ApiKey.objects.filter(user=alice).exists()


def test_sandbox_key_is_checked_against_the_sandbox(alice_client, alice, settings):
    with respx.mock(base_url=settings.SANDBOX_BASE_URL) as mock:
        mock.get("/models").respond(200, json=MODELS)
        save(alice_client, "sk-sandbox-demo")
    assert ApiKey.objects.get(user=alice).is_sandbox


def test_raw_key_never_appears_in_pages_or_logs(alice_client, relaydance, caplog):
    caplog.set_level(logging.DEBUG)
    relaydance.get("/models").respond(200, json=MODELS)
    pages = [save(alice_client).content, alice_client.get(reverse("accounts:api_key")).content]
    relaydance.get("/models").respond(401, json={"error": {"message": "bad", "type": "authentication_error"}})
    pages.append(save(alice_client, REAL_KEY + "x").content)
    for page in pages:
        assert REAL_KEY.encode() not in page
        assert b"SECRETVALUE" not in page
    assert "SECRETVALUE" not in caplog.text


def test_team_mates_never_see_each_others_keys(login, alice, bob, team, relaydance):
    relaydance.get("/models").respond(200, json=MODELS)
    save(login(alice))
    page = login(bob).get(reverse("accounts:api_key")).content.decode()
    assert "WXYZ" not in page and "Add a key" in page


def test_rotation_reencrypts_with_the_newest_key(alice, settings):
    api_key = ApiKey(user=alice)
    api_key.set_key(REAL_KEY)
    api_key.save()
    old = api_key.ciphertext
    settings.STUDIO_ENCRYPTION_KEYS = ["Dx0fN-lG5eFr6kkwbbf79gP7ul_5OHjJK5Tz8qrZiP8=", *settings.STUDIO_ENCRYPTION_KEYS]
    call_command("rotate_api_keys")
    api_key.refresh_from_db()
    assert api_key.ciphertext != old
    settings.STUDIO_ENCRYPTION_KEYS = settings.STUDIO_ENCRYPTION_KEYS[:1]
    assert api_key.reveal() == REAL_KEY


def test_wrong_encryption_key_raises_instead_of_leaking_ciphertext(alice, settings):
    api_key = ApiKey(user=alice)
    api_key.set_key(REAL_KEY)
    settings.STUDIO_ENCRYPTION_KEYS = ["Dx0fN-lG5eFr6kkwbbf79gP7ul_5OHjJK5Tz8qrZiP8="]
    with pytest.raises(crypto.DecryptionError):
        api_key.reveal()
