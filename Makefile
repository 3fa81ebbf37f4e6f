# Two commands set everything up on a fresh machine (Python 3.11 + the package registries):
#   make run    the main job: the course's examples, end to end (glassnet example ...)
#   make test   ruff + the import contract (lint-imports) + the test suite (what CI runs)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS ?= dev,test

export GLASSNET_DATA_DIR ?= $(abspath ../shared/datasets):/usr/share/datasets
export KERAS_BACKEND ?= torch

.PHONY: run test quick-test lint bench clean system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	touch $(STAMP)

system-deps:
	bash scripts/system-deps.sh

run: $(STAMP)
	$(VENV)/bin/glassnet example mnist

test: $(STAMP) system-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/python -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
