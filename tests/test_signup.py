import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Membership, User
from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_signup_creates_user_with_personal_team_and_logs_in(client):
    response = client.post(
        reverse("accounts:signup"),
        {"email": "Dana@Example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    user = User.objects.get(email="dana@example.com")
    membership = Membership.objects.get(user=user)
    assert membership.team.personal and membership.role == "owner"
    assert user.current_team == membership.team
    assert client.get(reverse("studio:home")).status_code == 200


@pytest.mark.django_db
def test_signup_page_mentions_sandbox_key(client):
    assert b"sk-sandbox-" in client.get(reverse("accounts:signup")).content


@pytest.mark.django_db
def test_signup_errors_show_next_to_fields(client, alice):
    response = client.post(
        reverse("accounts:signup"), {"email": "alice@example.com", "password1": "x", "password2": "y"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "email" in form.errors and "password2" in form.errors
    assert User.objects.count() == 1


def test_login_and_logout(client, alice):
    response = client.post(reverse("accounts:login"), {"username": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("studio:home")).status_code == 200
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("studio:home")).status_code == 302


def test_wrong_password_is_refused(client, alice):
    response = client.post(reverse("accounts:login"), {"username": "alice@example.com", "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_password_change(alice_client, alice):
    response = alice_client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a brand new passphrase")


def test_password_reset_sends_a_working_link(client, alice):
    client.post(reverse("accounts:password_reset"), {"email": "alice@example.com"})
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line)
    path = link.split("testserver", 1)[1]
    response = client.get(path, follow=True)
    form_url = response.redirect_chain[-1][0]
    client.post(form_url, {"new_password1": "fresh secret phrase", "new_password2": "fresh secret phrase"})
    alice.refresh_from_db()
    assert alice.check_password("fresh secret phrase")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["studio:home", "accounts:api_key", "accounts:teams", "accounts:password_change"]
)
def test_private_pages_require_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_public_pages_answer_without_login(client):
    for url in [reverse("accounts:login"), reverse("accounts:signup"), reverse("accounts:password_reset"), "/health"]:
        assert client.get(url).status_code == 200, url
