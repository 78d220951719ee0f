# mnist-mlops: every target runs inside .venv, created and synced from requirements.lock on demand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synced
export UV_LINK_MODE := copy
export PATH := $(CURDIR)/$(BIN):$(PATH)
export VIRTUAL_ENV := $(CURDIR)/$(VENV)
PYTEST_ARGS ?=
UI_PORT ?= 5000
SERVE_PORT ?= 5001
SERVE_MAX_BODY_MB ?= 20
SERVE_READ_TIMEOUT_S ?= 30
SERVE_MAX_CONCURRENCY ?= 32
PREFECT_PORT ?= 4200
PREFECT_HOME_DIR ?= $(CURDIR)/.prefect

.PHONY: help install repro test test-fast lint format ui prefect-ui prefect-stop serve serve-guarded serve-mlflow bench bench-scale clean-venv

# The ## comments name variables as $(NAME): help prints their values (make help UI_PORT=5050).
HELP_VARS := UI_PORT SERVE_PORT PREFECT_PORT
help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed -e 's/:.*## /\t/' \
	  $(foreach var,$(HELP_VARS),-e 's/$$($(var))/$($(var))/g')

# --compile-bytecode: TensorFlow, MLflow and Prefect are imported from .pyc files even where
# PYTHONDONTWRITEBYTECODE is set (without them every process compiles them anew: ~20 s).
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (requirements.lock is resolved for it), found " + sys.version + "; run make PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet "$$(grep -E '^uv==' requirements.lock | cut -d' ' -f1)"
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install the locked dependency set (no-op when up to date)

repro: $(STAMP)  ## run the whole DVC pipeline (the same as plain dvc repro: the stages share the project's Prefect server)
	$(BIN)/dvc repro $(REPRO_ARGS)
	@echo; $(BIN)/mnist-mlops summary --ui-port $(UI_PORT) --serve-port $(SERVE_PORT)

# pytest-xdist workers (TEST_WORKERS=0: one process); loadgroup keeps the tests that share the
# Prefect server and the pipeline's repro in one worker. --durations: the 15 slowest, every run.
TEST_WORKERS ?= 2
PYTEST_RUN := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15

test: $(STAMP)  ## run the test suite (6-15 minutes on 2 cores, machine-dependent)
	$(PYTEST_RUN) $(PYTEST_ARGS)

test-fast: $(STAMP)  ## run the tests not marked slow (about 1 minute on 2 cores)
	$(PYTEST_RUN) -m "not slow" $(PYTEST_ARGS)

# Every check runs (one report of all problems); the target fails if any of them failed.
LINT_CHECKS := "ruff check ." "ruff format --check ." "deptry src pipelines" "mypy"
lint: $(STAMP)  ## ruff (lint, format), deptry (declared deps), mypy (types of src/ pipelines/)
	@failed=; for check in $(LINT_CHECKS); do \
	  echo "+ $$check"; $(BIN)/$$check || failed="$$failed [$$check]"; \
	done; \
	if [ -n "$$failed" ]; then echo "lint failed:$$failed" >&2; exit 1; fi

format: $(STAMP)  ## apply ruff formatting and safe fixes
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

# One uvicorn worker and no job-execution (huey) consumers: the UI of one user answers in
# seconds on 2 cores instead of minutes (MLflow 3 defaults to 4 workers + 7 consumers).
UI_WORKERS ?= 1
ui: $(STAMP)  ## MLflow UI on 127.0.0.1:$(UI_PORT) over the project's tracking store
	@echo "MLflow UI: http://127.0.0.1:$(UI_PORT)/#/experiments/1/runs?viewStateShareKey=comparison&workflowType=machine_learning (experiment 1 = the first one created; make repro's summary prints this project's link)"
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow ui --host 127.0.0.1 --port $(UI_PORT) --workers $(UI_WORKERS) --backend-store-uri "$${MLFLOW_TRACKING_URI:-sqlite:///mlflow.db}" --default-artifact-root ./mlartifacts

# The project's flow runs live in .prefect/ (PREFECT_HOME_DIR): the UI is a second server over
# that database, API only (no scheduler or other services), that tells the browser its own port.
prefect-ui: $(STAMP)  ## Prefect UI over the project's flow runs (.prefect/) on 127.0.0.1:$(PREFECT_PORT)
	@echo "Prefect UI: http://127.0.0.1:$(PREFECT_PORT)"
	PREFECT_HOME="$(PREFECT_HOME_DIR)" PREFECT_UI_API_URL="http://127.0.0.1:$(PREFECT_PORT)/api" PREFECT_SERVER_ANALYTICS_ENABLED=false $(BIN)/prefect server start --host 127.0.0.1 --port $(PREFECT_PORT) --no-services

prefect-stop: $(STAMP)  ## stop the project's Prefect server now (it stops itself after 10 idle minutes)
	@$(BIN)/python -m pipelines.prefect_server stop

SERVE_MODEL ?= models:/mnist-classifier@champion
serve: $(STAMP)  ## serve the champion on 127.0.0.1:$(SERVE_PORT): MLflow's scoring protocol behind the guard (body limit, read timeout, bound on requests in progress, Host check, JSON errors), 28x28 inputs, pictures, the draw-a-digit page at /
	MLFLOW_TRACKING_URI="$${MLFLOW_TRACKING_URI:-sqlite:///mlflow.db}" $(BIN)/mnist-mlops serve -m "$(SERVE_MODEL)" -H 127.0.0.1 -p $(SERVE_PORT) --max-body-mb $(SERVE_MAX_BODY_MB) --read-timeout-s $(SERVE_READ_TIMEOUT_S) --max-concurrency $(SERVE_MAX_CONCURRENCY)

serve-guarded: serve  ## the same as serve (its former name)

serve-mlflow: $(STAMP)  ## the same model with MLflow's bare `mlflow models serve` (same protocol, none of the guard)
	MLFLOW_TRACKING_URI="$${MLFLOW_TRACKING_URI:-sqlite:///mlflow.db}" $(BIN)/mlflow models serve -m "$(SERVE_MODEL)" --env-manager local -h 127.0.0.1 -p $(SERVE_PORT)

bench: $(STAMP)  ## run every benchmark and print its figures (see benchmarks/README.md)
	$(BIN)/python -m benchmarks.orchestration
	$(BIN)/python -m benchmarks.repro_reliability
	$(BIN)/python -m benchmarks.train_overhead
	$(BIN)/python -m benchmarks.tune_pruning
	$(BIN)/python -m benchmarks.tune_workers
	$(BIN)/python -m benchmarks.tune_dispatch
	$(BIN)/python -m benchmarks.serving_latency
	$(BIN)/python -m benchmarks.onnx_runtime
	$(BIN)/python -m benchmarks.handwriting
	$(BIN)/python -m benchmarks.feedback_loop
	$(BIN)/python -m benchmarks.predict_latency
	$(BIN)/python -m benchmarks.accuracy_targets
	$(MAKE) bench-scale

# ~15-25 min on 2 cores: the default pipeline on Fashion-MNIST 60k beside plain fits, then the
# training seed's spread on the checkout's last repro
bench-scale: $(STAMP)  ## only the issue-31 benchmarks: baseline_threads, pipeline_scale, seed_spread
	$(BIN)/python -m benchmarks.baseline_threads
	$(BIN)/python -m benchmarks.pipeline_scale
	$(BIN)/python -m benchmarks.seed_spread  # the checkout's last repro (data/processed, tuning/)

clean-venv:  ## remove .venv
	rm -rf $(VENV)
