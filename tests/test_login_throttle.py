"""Password guessing is throttled per account and per client address, in the cache."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.throttle import client_address
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    settings.LOGIN_FAILURES_ALLOWED = 3
    settings.LOGIN_LOCKOUT_MINUTES = 15
    cache.clear()
    yield
    cache.clear()


def attempt(client, email, password, ip="10.0.0.1", **extra):
    return client.post(reverse("accounts:login"), {"username": email, "password": password}, REMOTE_ADDR=ip, **extra)


def test_after_too_many_failures_even_the_right_password_is_refused_with_a_clear_message(client, alice):
    for _ in range(3):
        assert attempt(client, alice.email, "wrong").status_code == 200
    response = attempt(client, alice.email, PASSWORD)
    assert response.status_code == 200  # the form again, not a redirect
    assert "Too many failed attempts. Try again in 15 minutes." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_follows_the_account_across_addresses(client, alice):
    for i in range(3):
        attempt(client, alice.email, "wrong", ip=f"10.0.1.{i}")
    assert "Too many failed attempts" in attempt(client, alice.email, PASSWORD, ip="10.9.9.9").content.decode()


def test_a_locked_account_does_not_lock_other_accounts(client, alice, bob):
    for _ in range(3):
        attempt(client, alice.email, "wrong")
    assert attempt(client, bob.email, PASSWORD).status_code == 302


def test_one_address_guessing_many_accounts_is_locked(client, alice, settings):
    for i in range(4 * 3):  # an address may fail four times the per-account limit
        attempt(client, f"user{i}@example.com", "wrong", ip="10.6.6.6")
    assert "Too many failed attempts" in attempt(client, alice.email, PASSWORD, ip="10.6.6.6").content.decode()
    assert attempt(client, alice.email, PASSWORD, ip="10.7.7.7").status_code == 302


def test_a_success_clears_the_accounts_count(client, alice):
    for _ in range(2):
        attempt(client, alice.email, "wrong")
    assert attempt(client, alice.email, PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        attempt(client, alice.email, "wrong")
    assert attempt(client, alice.email, PASSWORD).status_code == 302


def test_the_lock_ends_after_the_window(client, alice, monkeypatch):
    import accounts.throttle as throttle

    for _ in range(3):
        attempt(client, alice.email, "wrong")
    real = throttle.time.time
    monkeypatch.setattr(throttle.time, "time", lambda: real() + 15 * 60 + 1)
    assert attempt(client, alice.email, PASSWORD).status_code == 302


def test_the_admin_login_is_throttled_too(client, alice):
    for _ in range(3):
        client.post(reverse("admin:login"), {"username": alice.email, "password": "wrong"}, REMOTE_ADDR="10.0.0.2")
    response = client.post(reverse("admin:login"), {"username": alice.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.2")
    assert "Too many failed attempts" in response.content.decode()


def test_forwarded_for_is_ignored_unless_behind_a_trusted_proxy(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.TRUSTED_PROXY_HOPS = 0
    assert client_address(request) == "10.0.0.9"
    settings.TRUSTED_PROXY_HOPS = 1  # the client may prepend anything; the proxy's entry is last
    assert client_address(request) == "203.0.113.7"


def test_signup_still_logs_the_new_user_in(client, db):
    response = client.post(reverse("accounts:signup"),
                           {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD}, follow=True)
    assert response.wsgi_request.user.is_authenticated
