# distillguard developer commands. Every target sets up what it needs (venv, deps, broker jars).
# A `## ` line right above a target is its one-line description for `make help`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install browser test unit lint format kafka-up kafka-down run demo bench soak matrix clean
# Plain `make` explains itself; CI (.ci/run) names its targets (`make lint`, `make test`).
.DEFAULT_GOAL := help

## List the targets with their one-line descriptions.
help:
	@awk '/^## /{desc = substr($$0, 4); next} \
	  /^[a-zA-Z0-9_-]+:/ && desc {sub(/:.*/, "", $$1); printf "  make %-11s %s\n", $$1, desc} \
	  {desc = ""}' $(MAKEFILE_LIST)

## Create .venv and install distillguard with the dev (incl. plots) and rocksdb extras.
install: $(STAMP)

# Re-installs whenever pyproject.toml is newer than the stamp (dependencies or extras changed).
$(STAMP): pyproject.toml
	@echo "==> creating virtualenv in $(VENV) and installing distillguard with dev extras"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --disable-pip-version-check --progress-bar on -q --upgrade pip
	@$(BIN)/pip install --disable-pip-version-check --progress-bar on -e '.[dev,rocksdb]'
	@touch $(STAMP)

# Playwright drives it; nothing downloads its own browser here.
## Debian's chromium for the operator-page browser test (apt-get, when missing).
browser:
	@command -v chromium >/dev/null || { echo "==> installing Debian chromium (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

## The test command (README, CI): unit + integration tests; starts its own broker.
test: install browser
	@deploy/kafka/kafka.sh fetch
	$(BIN)/pytest -v

## Unit tests and doctests only (no broker).
unit: install
	$(BIN)/pytest -v -m 'not integration'

## Ruff (lint and format check) and strict mypy, as CI runs them.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Apply ruff's fixes and formatting (what is left unfixed is printed; `make lint` gates).
format: install
	$(BIN)/ruff check --fix --exit-zero .
	$(BIN)/ruff format .

## Start the local broker alone (deploy/kafka/kafka.sh start).
kafka-up:
	@deploy/kafka/kafka.sh start

## Stop the local broker.
kafka-down:
	@deploy/kafka/kafka.sh stop

## Start the local broker (unless KAFKA_BOOTSTRAP_SERVERS is set), create topics, run the worker.
run: install
	@scripts/run-worker.sh

## The newcomer's first command: broker, worker, simulated campaigns, live view, report.
demo: install
	@deploy/kafka/kafka.sh fetch
	$(BIN)/distillguard demo

## Throughput, latency and state size through the real broker -> docs/benchmarks.md
bench: install
	@deploy/kafka/kafka.sh fetch
	$(BIN)/distillguard bench

## One worker at half its maximum for MINUTES (default 30): RSS growth < 5% after warm-up, lag bounded.
soak: install
	@deploy/kafka/kafka.sh fetch
	$(BIN)/distillguard soak --minutes $(or $(MINUTES),30)

## Robustness matrix: backtest over seeds x tactic cells -> reports/matrix (SIZE=ci|full, SEEDS=holdout|dev|all).
matrix: install
	$(BIN)/distillguard evaluate --matrix --size $(or $(SIZE),full) --seeds $(or $(SEEDS),holdout) \
	  --out reports/matrix$(if $(SIZE),-$(SIZE))$(if $(SEEDS),-$(SEEDS))

## Reset the local broker and remove the venv and tool caches.
clean:
	deploy/kafka/kafka.sh reset || true
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
