# distillguard developer commands. Every target sets up what it needs (venv, deps, broker jars).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser test unit lint kafka-up kafka-down run demo bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@echo "==> creating virtualenv in $(VENV) and installing distillguard with dev extras"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --disable-pip-version-check --progress-bar on -q --upgrade pip
	@$(BIN)/pip install --disable-pip-version-check --progress-bar on -e '.[dev,rocksdb]'
	@touch $(STAMP)

## Debian's chromium for the operator-page browser test (Playwright drives it; nothing
## downloads its own browser here).
browser:
	@command -v chromium >/dev/null || { echo "==> installing Debian chromium (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

## The test command (README, CI): unit + integration tests; starts its own broker.
test: install browser
	@deploy/kafka/kafka.sh fetch
	$(BIN)/pytest -v

unit: install
	$(BIN)/pytest -v -m 'not integration'

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

kafka-up:
	@deploy/kafka/kafka.sh start

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

clean:
	deploy/kafka/kafka.sh reset || true
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
