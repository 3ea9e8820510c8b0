# dEMiSA: `make run` starts the server with demo content, `make test` runs linters and tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test lint pytest bench clean help node-check

help:
	@echo "make run    start the server on http://127.0.0.1:8000 with the embedded PostgreSQL"
	@echo "make test   install the test tools, run ruff, mypy and pytest"
	@echo "make bench  run the benchmarks"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "dEMiSA needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

# Reinstall when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/fedi serve

lint: $(VENV)/.installed-test
	$(BIN)/ruff check activitypub storage fedi tests
	$(BIN)/mypy activitypub storage fedi

# The browser tests (tests/web/test_browser.py) drive Debian's Chromium through Playwright;
# Playwright cannot download a browser here. Installed once, then this is a file check.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ -n "$$DEMISA_SKIP_BROWSER" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else \
	  echo "The browser tests need Debian's chromium at $(CHROMIUM): install it as root" \
	       "(apt-get install chromium) or set DEMISA_SKIP_BROWSER=1 to skip them." >&2; \
	  exit 1; \
	fi

# The interop tests (tests/interop) run a Fedify peer on Node.js: npm ci installs it from
# its package-lock.json, again whenever that changes.
PEER := tests/interop/peer
node-check:
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { \
	  echo "The interop tests (tests/interop) need Node.js 20 or newer and npm:" \
	       "install them (apt-get install nodejs npm), then run make test again." >&2; \
	  exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { \
	  echo "The interop tests need Node.js 20 or newer; this is $$(node --version)." >&2; \
	  exit 1; }

$(PEER)/node_modules/.package-lock.json: $(PEER)/package-lock.json | node-check
	cd $(PEER) && npm ci --no-audit --no-fund
	@touch $@

pytest: $(VENV)/.installed-test $(CHROMIUM) node-check $(PEER)/node_modules/.package-lock.json
	$(BIN)/pytest -q

test: lint pytest

bench: $(VENV)/.installed-test
	$(BIN)/python -m tests.bench $(BENCH)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache $(PEER)/node_modules
