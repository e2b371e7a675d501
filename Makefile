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

.PHONY: help install run stop status test test-fast fuzz lint fmt bench clean $(addprefix bench-,$(BENCHES))

help: ## list the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) is not installed; the platform runs on Python 3.11." >&2; exit 1; }
	$(PYTHON) -m venv $(STUDIO_CACHE)/uv-$(UV_VERSION)
	$(STUDIO_CACHE)/uv-$(UV_VERSION)/bin/pip install --quiet uv==$(UV_VERSION)

install: $(UV) ## install uv, the Python packages (locked) and the local servers
	$(UV) sync --frozen --python $(PYTHON) --quiet
	$(SERVERS) install

run: install ## start the servers and the six services on 127.0.0.1, wait until ready
	STUDIO_PROFILE=run $(SERVERS) start
	STUDIO_PROFILE=run $(SERVICES) start
	@echo "The platform is up: the front door is http://127.0.0.1:8000 (make stop ends it)."

stop: ## stop everything `make run` started
	STUDIO_PROFILE=run $(SERVICES) stop
	STUDIO_PROFILE=run $(SERVERS) stop

status: ## what is running
	@STUDIO_PROFILE=run $(SERVICES) status
	@STUDIO_PROFILE=run $(SERVERS) status

# The test servers have their own ports and data (.local/test), start from empty data,
# and are stopped whatever the outcome. Tests that stop a shared server run last, alone.
test: lint ## lint, then run every test against real servers of its own, then stop them
	@STUDIO_PROFILE=test $(SERVERS) reset >/dev/null; \
	trap 'STUDIO_PROFILE=test $(SERVERS) stop >/dev/null' EXIT; \
	STUDIO_PROFILE=test $(SERVERS) start && \
	set -a && . .local/test/env && set +a && \
	.venv/bin/pytest -m "not disruptive" $(PYTEST_ARGS) && \
	.venv/bin/pytest -m disruptive $(PYTEST_ARGS)

# Schemathesis against the gateway's and every service's OpenAPI (through the gateway, a token
# per role) on fresh test servers, as `make test` starts them, and a platform of its own on
# 18100-18105 (tests/fuzz.py). FUZZ_EXAMPLES bounds the examples per operation and phase.
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
	.venv/bin/mypy libs/kit/src services/*/src gateway/src

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
