# cx_pipeline: `make run` and `make test` do all set-up on a fresh machine with Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

PEOPLE ?= 10000
SCALE  ?= 10000
SEED   ?= 42

# Everything the pipeline writes lives under one folder; move it with CX_DATA_DIR.
export CX_DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(CX_DATA_DIR)/dagster_home
# Telemetry off for dbt and Dagster; bytecode compiled at install (halves the GX import time).
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_DISABLE_TELEMETRY := 1
export UV_COMPILE_BYTECODE := 1

.PHONY: install run generate test ui publish bench docs report clean help

help:
	@echo "make run     - install, generate sample data if absent, materialize everything, publish"
	@echo "make test    - install and run the test suite"
	@echo "make ui      - start the Dagster UI on http://127.0.0.1:3000"
	@echo "make generate PEOPLE=N SEED=S - (re)write the sample landing data"
	@echo "make publish - publish the marts already built, without rebuilding"
	@echo "make bench SCALE=N - measure a full run on N people: time, peak RSS, rows/s per stage (data/bench/)"
	@echo "make docs    - dbt docs, offline: data/dbt_docs/static_index.html"
	@echo "make report  - rebuild the CX report: data/published/report/index.html"

MANIFEST := dbt_project/target/manifest.json
DBT_FILES := $(shell find dbt_project/dbt_project.yml dbt_project/models dbt_project/macros dbt_project/tests dbt_project/seeds dbt_project/snapshots -type f 2>/dev/null)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev,spark]'
	touch $(STAMP)

# Dagster builds the asset graph from dbt's manifest: re-parse whenever a dbt file changes.
$(MANIFEST): $(STAMP) $(DBT_FILES)
	cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir .
	touch $(MANIFEST)

install: $(STAMP) $(MANIFEST)

run: install
	$(BIN)/cx-pipeline run --people $(PEOPLE) --seed $(SEED)

generate: install
	$(BIN)/cx-pipeline generate --people $(PEOPLE) --seed $(SEED)

publish: install
	$(BIN)/cx-pipeline publish

# The CX report's test renders the page in headless Chromium, Debian's package. Installed here when
# missing and we may (root, apt); otherwise the message says what to install.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the CX report's browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "make test needs $(CHROMIUM): install Debian's chromium package (apt-get install chromium) as root"; exit 1; \
	fi

test: install $(CHROMIUM)
	$(BIN)/python -m pytest

bench: install
	$(BIN)/cx-pipeline bench --people $(SCALE) --seed $(SEED)

ui: install
	$(BIN)/cx-pipeline ui

docs: install
	$(BIN)/cx-pipeline docs

report: install
	$(BIN)/cx-pipeline report

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs
