# Two commands set everything up on a fresh machine (Python 3.11 + the package registries):
#   make run    the main job: the course's examples, end to end (glassnet example ...)
#   make test   ruff + the import contract (lint-imports) + the test suite, once with the fast kernels and once with
#               plain NumPy (GLASSNET_KERNELS=numpy): what CI runs
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
DOCS_STAMP := $(VENV)/.installed-docs

# The second pass checks the math without the fast kernels; the browser, playground-server, example, notebook, docs
# and sweep tests run no kernel of their own (they drive the same models as the first pass) and are left to the first
NUMPY_PASS_SKIPS := --ignore=tests/playground --ignore=tests/examples --ignore=tests/test_notebooks.py \
	--ignore=tests/test_docs.py --ignore=tests/sweep

# Tests run in this many worker processes (pytest-xdist): on 2 cores the suite takes 3 min instead of 5 ½
TEST_WORKERS ?= 2

export GLASSNET_DATA_DIR ?= $(abspath ../shared/datasets):/usr/share/datasets
export KERAS_BACKEND ?= torch

.PHONY: run test quick-test lint bench notebooks docs clean system-deps

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# make run installs what it runs: glassnet, its fast kernels (Numba) and matplotlib for the training-curve PNG;
# make test adds the tools and the reference peers. pip shows its progress: the first install takes minutes.
$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -e '.[fast,plot]'
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -e '.[fast,dev,test]'
	touch $(TEST_STAMP)

system-deps:
	bash scripts/system-deps.sh

# the example writes its PNG and results.json under runs/mnist/ (git ignores runs/) and prints where they went
run: $(RUN_STAMP)
	$(VENV)/bin/glassnet example mnist --out runs/mnist

test: $(TEST_STAMP) system-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/python -m pytest -n $(TEST_WORKERS)
	GLASSNET_KERNELS=numpy $(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS) $(NUMPY_PASS_SKIPS)

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# runs the notebooks in full and saves them with their outputs (minutes; commit the result)
notebooks: $(TEST_STAMP)
	$(PY) notebooks/run_notebooks.py

$(DOCS_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -e '.[docs]'
	touch $(DOCS_STAMP)

# the documentation site (mkdocs.yml) into build/site; --strict: a broken link or reference fails the build
docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

bench: $(TEST_STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
