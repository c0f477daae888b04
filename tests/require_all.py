"""A pytest plugin for CI: with REQUIRE_SERVICES=1 or REQUIRE_BROWSER=1 in the environment, a
test that would skip for a missing browser, service or tool fails instead, since a skip would
hide a gap. Only tests marked `postgres_only` may skip, on the SQLite pass (the PostgreSQL pass
of the same run runs them). No Django import here, so the plugin can be tested on its own."""

import os

import pytest


def required() -> bool:
    return any(os.environ.get(name) == "1" for name in ("REQUIRE_SERVICES", "REQUIRE_BROWSER"))


def _on_postgres() -> bool:
    from django.conf import settings

    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if required() and report.skipped and not (item.get_closest_marker("postgres_only") and not _on_postgres()):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome, report.longrepr = "failed", f"skipped, but CI must run every test: {reason}"
