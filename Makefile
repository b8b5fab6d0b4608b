# Switchboard 311. Everything installs into .venv; nothing is needed by hand first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
TEST_STAMP := $(VENV)/.test-installed
# Two workers on a two-core machine; PostgreSQL tests get a schema per worker.
PYTEST_WORKERS ?= 2
# The browser tests drive Debian's Chromium; `make test` installs it when it is missing.
CHROMIUM := /usr/bin/chromium
# The deploy tests load deploy/ with Debian's nginx and promtool (the prometheus package).
NGINX := /usr/sbin/nginx
PROMTOOL := /usr/bin/promtool

.PHONY: install run try test lint format bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/switchboard serve

# The whole trial in one command: a throwaway server, staff account and simulated calls.
TRY_PORT ?= 8000
try: $(RUN_STAMP)
	$(BIN)/switchboard try --port $(TRY_PORT)

$(CHROMIUM):
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null

$(NGINX):
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null

$(PROMTOOL):
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null

test: $(TEST_STAMP) lint $(CHROMIUM) $(NGINX) $(PROMTOOL)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

lint: $(TEST_STAMP)
	$(BIN)/ruff check telephony services storage tests benchmarks
	$(BIN)/ruff format --check telephony services storage tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(TEST_STAMP)
	$(BIN)/ruff format telephony services storage tests benchmarks
	$(BIN)/ruff check --fix telephony services storage tests benchmarks

# The full scale takes hours (README, "Benchmarks"); bench-quick runs the same code small.
bench: $(TEST_STAMP) $(NGINX)
	$(BIN)/python -m benchmarks.webhook_ingest
	$(BIN)/python -m benchmarks.request_search
	$(BIN)/python -m benchmarks.recording_processing
	$(BIN)/python -m benchmarks.sms_throughput
	$(BIN)/python -m benchmarks.retention_purge
	$(BIN)/python -m benchmarks.contacts
	$(BIN)/python -m benchmarks.knowledge_search
	$(BIN)/python -m benchmarks.alerts
	$(BIN)/python -m benchmarks.topology
	# The topology test's long version: more calls through the same faults.
	CI=true SWITCHBOARD_TOPOLOGY_CALLS=300 $(BIN)/pytest -q -n 0 -m topology tests/e2e/test_topology.py

bench-quick: $(TEST_STAMP)
	$(BIN)/python -m benchmarks.webhook_ingest --requests 300 --connections 8
	$(BIN)/python -m benchmarks.request_search --requests 2000 --calls 5000 --queries 20
	$(BIN)/python -m benchmarks.recording_processing --minutes 1 --runs 1
	$(BIN)/python -m benchmarks.sms_throughput --appointments 40
	$(BIN)/python -m benchmarks.retention_purge --rows 4000 --recordings 100 --baseline-requests 200
	$(BIN)/python -m benchmarks.contacts --contacts 20000 --baseline 2000 --wrap-ups 50 --reports 6
	$(BIN)/python -m benchmarks.knowledge_search --quick
	$(BIN)/python -m benchmarks.alerts --quick

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
