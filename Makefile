# imbalance_study: the two commands of the README are `make study` and `make test`.
# Both create the virtual environment (.venv) and install the package into it when missing.
SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Real data: ../shared/data on the study's machines; override with IMBALANCE_STUDY_DATA=/path make study
export IMBALANCE_STUDY_DATA ?= $(abspath ../shared/data)
STUDY_DIR ?= runs/study

.PHONY: venv study test check-sync nbtest pytest clean-nbs export

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]" --config-settings editable_mode=compat
	@touch $(STAMP)

venv: $(STAMP)

## The main job: the default study on real RetinaMNIST at the smoke budget, through to the HTML report.
study: $(STAMP)
	$(PY) -m imbalance_study.study --out $(STUDY_DIR)

## The tests: notebooks clean and in sync with the package, then nbdev-test and pytest.
test: $(STAMP) check-sync nbtest pytest

check-sync: $(STAMP)
	@before="$$(git status --porcelain; git diff)"; \
	$(VENV)/bin/nbdev-clean && $(VENV)/bin/nbdev-export; \
	after="$$(git status --porcelain; git diff)"; \
	if [ "$$before" != "$$after" ]; then \
	  echo "FAIL: notebooks were not clean or not in sync with the package (nbdev-clean / nbdev-export changed files):"; \
	  git status --porcelain; exit 1; fi; \
	echo "notebooks clean and in sync with imbalance_study/"

nbtest: $(STAMP)
	$(VENV)/bin/nbdev-test --n-workers 2 --timing

pytest: $(STAMP)
	$(PY) -m pytest -q tests

export: $(STAMP)
	$(VENV)/bin/nbdev-clean && $(VENV)/bin/nbdev-export
