"""Production settings pass `manage.py check --deploy` with no warnings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "production-like-secret-key-0123456789-abcdefghijklmnop",
    "STUDIO_ENCRYPTION_KEYS": "JjNZa1bRFHKp1VtMvPCf_5MfMrLfe-sS2A2rD0ZKEcE=",
    "SITE_URL": "https://studio.example.com",
    "ALLOWED_HOSTS": "studio.example.com",
    "EMAIL_HOST": "smtp.example.com",
}
NOT_INHERITED = {"DEBUG", "SECRET_KEY", "SANDBOX_ENABLED", "SITE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "studio.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr and "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "STUDIO_ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_secrets(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = manage("check", env={**env, missing: ""})
    assert result.returncode != 0
    assert missing in result.stderr


def test_sandbox_left_on_in_production_is_flagged():
    result = manage("check", "--deploy", env={**PRODUCTION_ENV, "SANDBOX_ENABLED": "1"})
    assert "studio.W001" in result.stderr + result.stdout
