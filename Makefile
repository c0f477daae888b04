# Studio: `make run` starts the whole app on the embedded defaults; `make test` passes the suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

# The first Python >= 3.12 found: python3.12, python3.13, python3, then pyenv installs.
PYTHON ?= $(shell for c in python3.12 python3.13 python3.14 python3 $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do \
	if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then command -v $$c; break; fi; done)

.PHONY: run test test-unit test-live setup browser migrate check messages bench clean

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "Studio needs Python 3.12 or newer (Django 6 does); none was found. Install one (e.g. 'pyenv install 3.12') and try again." >&2; exit 1; fi
	@test -x $(PY) && $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || (rm -rf $(VENV) && $(PYTHON) -m venv $(VENV))
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

setup: $(VENV)/.installed

migrate: setup
	DEBUG=1 $(PY) manage.py migrate --noinput

run: migrate
	@echo
	@echo "  Studio is starting: open http://127.0.0.1:$(PORT)/ (sign up, then use the key sk-sandbox-demo)"
	@echo
	DEBUG=1 SITE_URL=http://127.0.0.1:$(PORT) PORT=$(PORT) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho -f Procfile.dev start

# Browser tests need Debian's Chromium (Playwright's own browser download cannot work offline).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk; \
		else echo "Browser tests need Chromium at /usr/bin/chromium: sudo apt-get install chromium" >&2; exit 1; fi; fi

test-unit: setup
	$(PY) -m pytest -n 2 -m "not e2e and not integration" -q

test-live: setup browser
	STUDIO_LIVE_TESTS=1 $(PY) -m pytest -m "e2e or integration" -q

test: test-unit test-live

# After changing user-facing strings: extract them into locale/ (en, zh_Hans), compile the .mo
# files (committed, so a fresh clone needs no gettext), then check that nothing is left to
# translate. Needs GNU gettext (installed from Debian when run as root).
messages: setup
	@command -v xgettext >/dev/null && command -v msgfmt >/dev/null || \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q gettext; \
		else echo "make messages needs GNU gettext: sudo apt-get install gettext" >&2; exit 1; fi
	DEBUG=1 $(PY) manage.py makemessages -l en -l zh_Hans --no-wrap --add-location=file \
		--ignore=staticfiles --ignore=media --ignore=test-artifacts --ignore=tests --ignore=bench --ignore=build
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv
	$(PY) -m pytest tests/test_i18n.py -q -k catalogue

check: setup
	DEBUG=1 $(PY) manage.py check

bench: setup
	$(PY) bench/worker
	$(PY) bench/pages
	$(PY) bench/scaleout

clean:
	rm -rf $(VENV) db.sqlite3* media staticfiles test-artifacts
