"""Security headers, the Content Security Policy and cookie flags on every page."""

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.test_deploy import PRODUCTION_ENV, manage

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("url", ["/accounts/login/", "/accounts/signup/"])
def test_pages_carry_a_strict_csp_without_inline_script(client, db, url):
    csp = directives(client.get(url))
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"] and csp["form-action"] == ["'self'"]
    assert not any("unsafe" in source for sources in csp.values() for source in sources)


def test_the_studio_page_allows_blob_previews_and_same_origin_media_only(alice_client, team):
    csp = directives(alice_client.get(reverse("studio:home")))
    assert csp["img-src"] == ["'self'", "blob:"]
    assert csp["media-src"] == ["'self'"]


def test_the_other_headers(client, db):
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_session_and_csrf_cookies_are_httponly(client, alice):
    client.get("/accounts/login/")
    assert client.cookies["csrftoken"]["httponly"]
    client.post("/accounts/login/", {"username": alice.email, "password": PASSWORD})
    assert client.cookies["sessionid"]["httponly"]


def test_htmx_still_gets_the_csrf_token_from_the_page(alice_client, team):
    page = alice_client.get(reverse("studio:home")).content.decode()
    assert re.search(r'<body hx-headers=\'\{"X-CSRFToken": "[\w-]{32,}"\}\'', page)


def test_htmx_injects_no_styles_and_evaluates_nothing(client, db):
    page = client.get("/accounts/login/").content.decode()
    config = json.loads(re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', page).group(1))
    assert config["includeIndicatorStyles"] is False and config["allowEval"] is False


def test_no_template_has_inline_script_style_or_event_handlers():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for pattern in [r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", r"\sstyle=", r"\son[a-z]+=", r"<style"]:
            offenders += [f"{path.relative_to(TEMPLATES)}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert offenders == []


def test_https_is_enforced_behind_the_proxy(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    assert client.get("/accounts/login/").status_code == 301  # plain http is redirected
    secure = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
    assert client.get("/health").status_code == 200  # the PaaS checks over plain http


def test_production_settings_mark_cookies_secure_and_send_hsts():
    code = ("from django.conf import settings as s; import json; print(json.dumps([s.SESSION_COOKIE_SECURE, "
            "s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_HTTPONLY, s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, "
            "s.SECURE_PROXY_SSL_HEADER]))")
    result = manage("shell", "-c", code, env=PRODUCTION_ENV)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        True, True, True, 31536000, True, ["HTTP_X_FORWARDED_PROTO", "https"]]


def test_object_storage_host_is_allowed_for_media():
    code = "from django.conf import settings as s; print(s.SECURE_CSP['media-src'])"
    env = {**PRODUCTION_ENV, "AWS_STORAGE_BUCKET_NAME": "clips", "AWS_S3_ENDPOINT_URL": "https://s3.example.net"}
    result = manage("shell", "-c", code, env=env)
    assert "'https://s3.example.net', 'https://*.s3.example.net'" in result.stdout, result.stderr
