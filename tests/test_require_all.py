"""CI must run every test: the plugin that turns skips into failures (tests/require_all.py)."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["pytester"]

SKIPPING = """
import pytest

def test_needs_a_browser():
    pytest.skip("no Chromium here")
"""


def run(pytester, monkeypatch, **env):
    for name in ("REQUIRE_SERVICES", "REQUIRE_BROWSER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pytester.makeconftest('pytest_plugins = ["tests.require_all"]')
    pytester.makepyfile(SKIPPING)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # for `tests.require_all`
    return pytester.runpytest_subprocess("-p", "no:django", "-p", "no:playwright", "-p", "no:cacheprovider")


@pytest.mark.parametrize("flag", ["REQUIRE_SERVICES", "REQUIRE_BROWSER"])
def test_in_ci_a_skipped_test_fails(pytester, monkeypatch, flag):
    result = run(pytester, monkeypatch, **{flag: "1"})
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*skipped, but CI must run every test*no Chromium here*"])


def test_on_a_laptop_a_skipped_test_skips(pytester, monkeypatch):
    run(pytester, monkeypatch).assert_outcomes(skipped=1)
