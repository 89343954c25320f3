# Developer entry points. `make test` is what CI runs (through .ci/run).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Three workers on two cores: the suite spends much of its time waiting (HTTP, databases,
# subprocesses), so a third worker fills that time. Measured on this 2-core machine, the
# whole suite (1,773 tests): 4 min 57 s with -n 3; 1,525 tests took 6 min 34 s with -n 2.
PYTEST_ARGS ?= -q -n 3

.PHONY: help .venv run lint types layers test pytest fmt bench clean

help:
	@echo "make .venv | run | lint | types | layers | test | fmt | bench | clean"

# The stamp, not the folder, is the target: a changed pyproject.toml re-installs.
.venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(STAMP)
	$(BIN)/postmortem-bot serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

# Checks first, then pytest (in that order even under `make -j`).
test: lint types layers
	@$(MAKE) --no-print-directory pytest

# pytest needs PostgreSQL. Without TEST_POSTGRES_URL, start a throwaway one and
# stop it on the way out, pass or fail. pytest's own exit status (5 = nothing
# collected included) is what this recipe exits with.
pytest: $(STAMP)
	@set -uo pipefail; \
	if [[ -n "$${TEST_POSTGRES_URL:-}" ]]; then \
	  TEST_POSTGRES_URL="$$TEST_POSTGRES_URL" REQUIRE_POSTGRES=1 $(BIN)/pytest $(PYTEST_ARGS); \
	  exit $$?; \
	fi; \
	state=$$(mktemp /tmp/pmbot-pg-state.XXXXXX); \
	trap 'scripts/pg-throwaway stop "$$state"; rm -f "$$state"' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM; \
	url=$$(PG_THROWAWAY_STATE="$$state" scripts/pg-throwaway) || exit 1; \
	TEST_POSTGRES_URL="$$url" REQUIRE_POSTGRES=1 $(BIN)/pytest $(PYTEST_ARGS)

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
