# The README's commands. `make demo` and `make test` each set everything up from nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system python warehouse demo dev test lint format stop status doctor bench

setup: system python warehouse

system:  ## PostgreSQL 15 and TimescaleDB (apt; a no-op when present)
	scripts/install_system_deps.sh

python: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

warehouse:  ## start the project-private cluster (or check GROWTH_WAREHOUSE_URL)
	scripts/warehouse start

demo: setup  ## build the demo warehouse end to end and print a summary
	$(BIN)/growth-assets demo

dev: setup  ## dagster dev (webserver + daemon) on the warehouse: http://127.0.0.1:3000
	$(BIN)/growth-assets dev

test: setup lint  ## lint, type-check and run the test suite against a real warehouse
	$(BIN)/pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

status:
	$(BIN)/growth-assets status

doctor:  ## health and configuration: warehouse, migrations, Dagster, sources, alerts
	$(BIN)/growth-assets doctor

stop:
	scripts/warehouse stop

bench: setup  ## benchmarks: every measurement at default scale, 3 repetitions each
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python -m bench.run --scale default --repeat 3
