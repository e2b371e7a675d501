# The studio platform's tasks. `make run` and `make test` are the two that matter;
# both install whatever is missing first (uv, the Python packages, the servers).

SHELL := /bin/bash
.DEFAULT_GOAL := help

STUDIO_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/studio-platform
export STUDIO_CACHE
UV_VERSION := 0.13.9
UV := $(STUDIO_CACHE)/uv-$(UV_VERSION)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_CACHE_DIR := $(STUDIO_CACHE)/uv-cache
PYTHON ?= python3.11
SERVERS := infra/local/servers.sh
SERVICES := infra/local/services.sh
BENCHES := $(patsubst bench/%.py,%,$(filter-out bench/_%.py,$(wildcard bench/*.py)))

.PHONY: help install web-assets browser run stop status test test-fast fuzz lint fmt bench clean $(addprefix bench-,$(BENCHES))

help: ## list the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) is not installed; the platform runs on Python 3.11." >&2; exit 1; }
	$(PYTHON) -m venv $(STUDIO_CACHE)/uv-$(UV_VERSION)
	$(STUDIO_CACHE)/uv-$(UV_VERSION)/bin/pip install --quiet uv==$(UV_VERSION)

install: $(UV) web-assets ## install uv, the Python packages (locked), the local servers, the web app's browser libraries
	$(UV) sync --frozen --python $(PYTHON) --quiet
	services/maps/vendor-assets.sh
	$(SERVERS) install

# The web app's browser libraries: npm packages at the versions pinned in web/package-lock.json,
# copied into the static folder it serves (no CDN at run time, no bundler).
WEB_VENDOR := web/src/web/static/vendor
web-assets: $(WEB_VENDOR)/.installed ## the web app's browser libraries from npm (pinned)
$(WEB_VENDOR)/.installed: web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "make: npm is not installed; the web app's browser libraries come from the npm registry." >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error --cache "$(STUDIO_CACHE)/npm-cache"
	rm -rf $(WEB_VENDOR) && mkdir -p $(WEB_VENDOR)
	cp web/node_modules/htmx.org/dist/htmx.min.js $(WEB_VENDOR)/htmx.min.js
	cp web/node_modules/@alpinejs/csp/dist/cdn.min.js $(WEB_VENDOR)/alpine-csp.min.js
	cp web/node_modules/sortablejs/Sortable.min.js $(WEB_VENDOR)/sortable.min.js
	cp web/node_modules/tinykeys/dist/tinykeys.umd.js $(WEB_VENDOR)/tinykeys.umd.js
	touch $@

# Debian's chromium for the web app's browser tests (Playwright cannot download its own here).
browser: ## install Debian's chromium for the browser tests when it is missing
	@command -v chromium >/dev/null || { \
	  echo "make: installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: install ## start the servers, the services and the web app on 127.0.0.1, wait until ready
	STUDIO_PROFILE=run $(SERVERS) start
	STUDIO_PROFILE=run $(SERVICES) start
	@echo ""
	@echo "The studio is up: open http://127.0.0.1:$${WEB_PORT:-8080} (the first visit creates the owner)."
	@echo "The API's front door is http://127.0.0.1:8000 (docs: /docs/all). make stop ends it all."

stop: ## stop everything `make run` started
	STUDIO_PROFILE=run $(SERVICES) stop
	STUDIO_PROFILE=run $(SERVERS) stop

status: ## what is running
	@STUDIO_PROFILE=run $(SERVICES) status
	@STUDIO_PROFILE=run $(SERVERS) status

# The test servers have their own ports and data (.local/test), start from empty data,
# and are stopped whatever the outcome. Tests that stop a shared server run last, alone.
test: lint browser ## lint, then run every test against real servers of its own, then stop them
	@STUDIO_PROFILE=test $(SERVERS) reset >/dev/null; \
	trap 'STUDIO_PROFILE=test $(SERVERS) stop >/dev/null' EXIT; \
	STUDIO_PROFILE=test $(SERVERS) start && \
	set -a && . .local/test/env && set +a && \
	.venv/bin/pytest -m "not disruptive" $(PYTEST_ARGS) && \
	.venv/bin/pytest -m disruptive $(PYTEST_ARGS)

# Schemathesis against the gateway's and every service's OpenAPI (through the gateway, a token
# per role) on fresh test servers, as `make test` starts them, and a platform of its own on
# 18100-18107 (tests/fuzz.py). FUZZ_EXAMPLES bounds the examples per operation and phase.
FUZZ_EXAMPLES ?= 20
export FUZZ_EXAMPLES
fuzz: install ## fuzz every API through the gateway: no 5xx, answers as documented
	@STUDIO_PROFILE=test $(SERVERS) reset >/dev/null; \
	trap 'STUDIO_PROFILE=test $(SERVERS) stop >/dev/null' EXIT; \
	STUDIO_PROFILE=test $(SERVERS) start && \
	set -a && . .local/test/env && set +a && \
	.venv/bin/python tests/fuzz.py

lint: install ## ruff and mypy
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy libs/kit/src services/*/src gateway/src web/src

fmt: install ## format and fix what ruff can
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

bench: $(addprefix bench-,$(BENCHES)) ## run every benchmark (figures in bench/results/)

$(addprefix bench-,$(BENCHES)): bench-%: install
	@STUDIO_PROFILE=bench $(SERVERS) reset >/dev/null; \
	trap 'STUDIO_PROFILE=bench $(SERVERS) stop >/dev/null' EXIT; \
	STUDIO_PROFILE=bench $(SERVERS) start >/dev/null && \
	set -a && . .local/bench/env && set +a && \
	.venv/bin/python bench/$*.py

clean: stop ## stop everything and delete local data and logs (not the download cache)
	STUDIO_PROFILE=test $(SERVERS) stop
	rm -rf .local
