# The verbs people and workflows call. Every target sets itself up, so each works on a fresh machine.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV)/bin)
UV := $(PYTHON) -m uv
PYTEST_ARGS ?= -n auto --dist loadfile

export PATH := $(BIN):$(PATH)
export DVC_NO_ANALYTICS := 1
export ITERATIVE_DO_NOT_TRACK := 1
export UV_COMPILE_BYTECODE := 1

.PHONY: help setup data run repro test test-fast lint format bench clean

help: ## list the verbs
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --all-extras
	@touch $@

setup: $(VENV)/.synced ## create .venv and install the locked dependencies

data: setup ## pull the raw data from the DVC remote (pipeline outputs are rebuilt, not stored)
	dvc pull data.dvc

run: data ## the whole loop on the demo data: pull the data, reproduce the pipeline, show the metrics
	dvc repro
	dvc metrics show

repro: setup ## reproduce the pipeline (only the stages whose inputs changed)
	dvc repro

test: data ## the whole test suite, end-to-end runs included
	pytest $(PYTEST_ARGS)

test-fast: data ## the suite without the slow end-to-end runs
	pytest -m "not slow" $(PYTEST_ARGS)

lint: setup ## ruff lint and format check
	ruff check .
	ruff format --check .

format: setup ## apply ruff fixes and formatting
	ruff check --fix .
	ruff format .

bench: setup ## benchmarks (see bench/README.md)
	python bench/pipeline.py

clean: ## remove the environment and pipeline outputs (the data and its cache stay)
	rm -rf $(VENV) outputs

# ---- pull requests: data checks, report, gate, comment (.github/workflows/pr.yml calls these)
SLIPWAY_BASE ?= main
export SLIPWAY_BASE

.PHONY: data-check report gate comment check-workflows

data-check: data ## data checks: the validate stage (pandera schema) on the pulled data
	dvc repro validate

report: setup ## the PR report vs SLIPWAY_BASE (default main): report/report.md + PNGs
	slipway report

gate: setup ## the quality gate vs SLIPWAY_BASE: exits 1 naming the metric that fell and by how much
	slipway gate

comment: setup ## post report/report.md as the PR's sticky comment (skipped without a token or on a fork)
	slipway comment report/report.md

check-workflows: setup ## static checks of .github: workflow schema, actionlint (with shellcheck), zizmor
	check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	actionlint
	zizmor --offline --no-progress .github

# ---- bring your own data, train on a bigger machine (docs/own-data.md, docs/scale-out.md)
.PHONY: cloud-runner

cloud-runner: setup ## launch a CML cloud runner when CML_CLOUD and its secrets are set, else say why not
	slipway cloud-runner
