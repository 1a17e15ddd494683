# One-command setup: every target that needs Python builds .venv first, once.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# jsii (aws-cdk-lib) warns loudly on Node versions it has not tested; the warning is noise here.
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

.PHONY: demo test lint synth bench clean venv tools

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# checkov gets its own venv: it pins boto3 exactly, packaging<24 and networkx<2.7, which would
# downgrade what the project uses. infra/template_checks.py runs it from here.
CHECKOV_VERSION := 3.3.30
CHECKOV := .tools/checkov/bin/checkov
tools: $(CHECKOV)

$(CHECKOV):
	$(PYTHON) -m venv .tools/checkov
	.tools/checkov/bin/python -m pip install --quiet "checkov==$(CHECKOV_VERSION)"

demo: $(STAMP)
	$(BIN)/tray-agent demo

lint: $(STAMP)
	$(BIN)/ruff check functions infra tests
	$(BIN)/ruff format --check functions infra tests
	$(BIN)/mypy

test: lint $(CHECKOV)
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15

# The CDK CLI, as `cdk deploy` runs it: cdk.json's app, context and feature flags, asset metadata
# (SAM reads it to find each function's code). STAGE=prod names and tags a second stack.
STAGE ?= dev
synth: $(STAMP)
	npx --yes aws-cdk@2 synth --quiet -c stage=$(STAGE)
	@echo "wrote cdk.out/TrayAgent-$(STAGE).template.json"

bench: $(STAMP) $(CHECKOV)
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) .tools cdk.out bench-results.json .pytest_cache .mypy_cache .ruff_cache
