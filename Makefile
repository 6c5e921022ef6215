# The two commands a newcomer needs: `make run` and `make test` (see README.md). Both set everything up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CHROMIUM   := /usr/bin/chromium
NGINX      := /usr/sbin/nginx

.PHONY: help setup run test lint audit audit-data model validate test-core evaluate test-py chromium nginx lock clean

help:
	@echo "make run    set up, train if needed, start everything (Ctrl-C stops)"
	@echo "make test   set up, train if needed, run every check and test"

setup: $(STAMP) $(NODE_STAMP)

# A virtualenv on Python 3.10 with the exact pins of constraints.txt; redone when the pins change.
$(STAMP): pyproject.toml constraints.txt scripts/find-python310
	@python310=$$(scripts/find-python310) || exit 1; \
	if ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then \
	  rm -rf $(VENV) && "$$python310" -m venv $(VENV) || exit 1; \
	fi
	@mkdir -p var
	@echo "Installing the pinned packages into $(VENV) (the first time takes a few minutes; log: var/pip-install.log)"
	@$(BIN)/pip install --disable-pip-version-check -c constraints.txt -e '.[dev]' > var/pip-install.log 2>&1 \
	  || { grep -v ' is ignored: ' var/pip-install.log | tail -40; echo "pip install failed (full log: var/pip-install.log)"; exit 1; }
	@touch $@

# The widget's front-end packages (socket.io-client; axe-core for its tests), exactly as package-lock.json says.
# The web app serves them itself: nothing comes from a CDN at run time.
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is missing: the chat widget needs it once, at set-up (Debian: apt-get install npm)"; exit 1; }
	@mkdir -p var
	@echo "Installing the widget's npm packages into node_modules (log: var/npm-install.log)"
	@npm ci --ignore-scripts --no-audit --no-fund > var/npm-install.log 2>&1 \
	  || { tail -40 var/npm-install.log; echo "npm ci failed (full log: var/npm-install.log)"; exit 1; }
	@touch $@

# Debian packages the tests need, installed when missing if we are root (otherwise: the command to run).
# $(call apt_package,<binary>,<package>,<why>)
define apt_package
	@if [ ! -x $(1) ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "$(3) need Debian's $(2) at $(1): run 'sudo apt-get install $(2)', then make test again."; \
	    exit 1; \
	  fi; \
	  mkdir -p var; \
	  echo "Installing Debian's $(2) for $(3) (log: var/apt-$(2).log)"; \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(2); } > var/apt-$(2).log 2>&1 \
	    || { tail -20 var/apt-$(2).log; echo "apt-get install $(2) failed (full log: var/apt-$(2).log)"; exit 1; }; \
	fi
endef

# The browser tests (tests/browser/) drive Debian's Chromium.
chromium:
	$(call apt_package,$(CHROMIUM),chromium,the browser tests)

# The cluster (ijm-bot run --instances N, tests/reliability/test_cluster.py) puts nginx in front.
nginx:
	$(call apt_package,$(NGINX),nginx,the cluster tests)

run: setup
	$(BIN)/ijm-bot run

test: setup chromium nginx lint audit model validate test-core evaluate test-py
# In make test the audit reads the vendored snapshot only, so that a test run does not depend on the network or
# on the day (a target-specific variable, passed on to the audit prerequisite); `make audit` asks PyPI too.
test: AUDIT_ARGS := --snapshot-only

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

model: setup
	$(BIN)/ijm-bot train

validate: setup
	RASA_TELEMETRY_ENABLED=false $(BIN)/python -m bot.validate

# Conversation tests: every story in tests/test_stories.yml must be predicted exactly.
# `ijm-bot train` marks the current model as the newest, which is the one Rasa picks from models/.
test-core: model
	RASA_TELEMETRY_ENABLED=false $(BIN)/rasa test core --stories tests/test_stories.yml --model models \
	  --fail-on-prediction-errors --out var/test-results/core

# Understanding, on the held-out file: fails below 0.95 accuracy / macro F1, 0.90 out-of-scope recall, or if
# any safety message is missed. Report and confusion matrix in reports/.
evaluate: model
	$(BIN)/ijm-bot evaluate --check

# IJM_REQUIRE_POSTGRES: the tests run on SQLite and on PostgreSQL (localhost:5432) fail, not skip, without it.
test-py: model chromium nginx
	IJM_REQUIRE_POSTGRES=1 $(BIN)/pytest

# Known vulnerabilities in the exact pins of constraints.txt, against the PyPA advisory database snapshot vendored in
# security/advisories/pypa/ (PyPI only: package-lock.json's npm packages are not covered) and, when it answers,
# PyPI's JSON API. Fails on a finding not accepted in security/audit-exceptions.toml. See scripts/audit.py.
AUDIT_ARGS ?=
audit: $(STAMP)
	$(BIN)/python scripts/audit.py $(AUDIT_ARGS)

# Refresh the vendored advisories (the pinned packages' folders) from a full snapshot of the PyPA database, e.g.
# make audit-data SNAPSHOT=../shared/advisories/pypa COMMIT=<its 40-digit commit> DATE=<its date, YYYY-MM-DD>
audit-data: $(STAMP)
	$(BIN)/python scripts/audit.py --refresh-from "$(SNAPSHOT)" --commit "$(COMMIT)" --date "$(DATE)"

# `rasa test nlu --cross-validation` of the whole pipeline (3 folds, about 15 minutes here; not part of make test):
# the intent figures per fold in var/cross-validation/, summed up by bot/cross_validation.py (the cards' own
# cross-validation is in ijm-bot evaluate's report).
.PHONY: cross-validate
cross-validate: $(STAMP)
	RASA_TELEMETRY_ENABLED=false $(BIN)/rasa test nlu --nlu data/nlu --config config.yml --cross-validation --folds 3 \
	  --out var/cross-validation > var/cross-validation.log 2>&1 || { tail -30 var/cross-validation.log; exit 1; }
	$(BIN)/python -m bot.cross_validation var/cross-validation.log

# Regenerate constraints.txt from a clean resolve of pyproject.toml (then commit it).
lock:
	@python310=$$(scripts/find-python310) && rm -rf var/lock-venv && "$$python310" -m venv var/lock-venv
	var/lock-venv/bin/pip install --disable-pip-version-check -q -e '.[dev]'
	var/lock-venv/bin/pip freeze --exclude-editable --disable-pip-version-check > constraints.txt
	rm -rf var/lock-venv

clean:
	rm -rf $(VENV) var/test-results .rasa

# The speed benchmark (issue #8; a benchmark, not a test): our assistant against the same data trained with the
# config.yml `rasa init` writes, in the same run: training time, held-out accuracy / macro F1, conversation tests,
# start to first answer, REST and socket.io throughput and latency at 1, 10 and 50 conversations, memory
# (bench/speed.py). Report and plots in bench/results/speed.*; fails when a goal is missed. About 25 minutes, plus
# about 15 to train the baseline model the first time (kept in var/baseline-models/ until the data changes).
# Options: make bench BENCH_ARGS='--seconds 60 --retrain-baseline'
BENCH_ARGS ?=
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python -m bench.speed $(BENCH_ARGS)

# The console's "Scale" benchmark (a benchmark, not a test): fills the PostgreSQL database BENCH_DATABASE_URL with
# 100,000 conversations (about 2 million events) unless it is filled already, then times the conversation list
# and the statistics on the real web app; report in bench/results/console-scale.md, fails if a median is >= 300 ms.
BENCH_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/ijm_bench
.PHONY: bench-console
bench-console: $(STAMP)
	$(BIN)/python -m bench.console_data --if-empty $(BENCH_DATABASE_URL)
	$(BIN)/python -m bench.console_scale $(BENCH_DATABASE_URL)

# Several Rasa servers and action servers behind nginx (README, "Several instances"): needs PostgreSQL in
# DATABASE_URL, Redis in REDIS_URL and nginx (apt-get install -y nginx-light). make run-cluster INSTANCES=3
INSTANCES ?= 2
.PHONY: run-cluster
run-cluster: setup
	$(BIN)/ijm-bot run --instances $(INSTANCES)

# The load benchmark (issue #7; a benchmark, not a test): `ijm-bot run --instances 2` on a fresh PostgreSQL database
# (ijm_load_<time> on localhost, dropped at the end) and Redis, 50 visitors holding conversations over REST through
# nginx for 5 minutes, then every turn and sign-up looked for in the database (bench/load.py; about 7 minutes).
# Report in bench/results/load.md; fails on any error or anything not stored.
.PHONY: bench-load
bench-load: $(STAMP) nginx
	$(BIN)/python -m bench.load
