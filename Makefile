# imbalance_study: the two commands of the README are `make study` and `make test`.
# Both create the virtual environment (.venv) and install the package into it when missing.
SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Real data: ../shared/data on the study's machines; override with IMBALANCE_STUDY_DATA=/path make study
export IMBALANCE_STUDY_DATA ?= $(abspath ../shared/data)
STUDY_DIR ?= runs/study

.PHONY: venv study test check-sync nbtest pytest export browser

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]" --config-settings editable_mode=compat
	@touch $(STAMP)

venv: $(STAMP)

# The default study: RetinaMNIST, all three profiles, baseline + each strategy family alone, seed 0, smoke budget.
STUDY_ARGS ?= --datasets retinamnist --profiles all --strategies single --seeds 0 --budget smoke --workers 2

## The main job: the default study on real RetinaMNIST at the smoke budget, through to the HTML report.
## Resumable: a rerun skips finished runs. The report is rendered even when some runs failed (the exit code says so).
study: $(STAMP)
	@mkdir -p $(STUDY_DIR)
	$(VENV)/bin/imbalance-study grid $(STUDY_ARGS) --store $(STUDY_DIR)/results.sqlite; status=$$?; \
	$(VENV)/bin/imbalance-study export --store $(STUDY_DIR)/results.sqlite --what results --out $(STUDY_DIR)/results.csv && \
	$(VENV)/bin/imbalance-study report $(STUDY_DIR)/results.sqlite -o $(STUDY_DIR)/report.html \
	  --note "Real RetinaMNIST (MedMNIST 28 px), smoke budget (CPU-sized: ResNet-18 width 16, 30k-60k samples); not the paper's budget." && \
	echo "study finished: $(STUDY_DIR)/results.sqlite, $(STUDY_DIR)/results.csv, $(STUDY_DIR)/report.html"; exit $$status

## The tests: notebooks clean and in sync with the package, then nbdev-test and pytest.
test: $(STAMP) check-sync nbtest pytest

# The report's browser test needs Debian's chromium; installed here when possible, else that one test is skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1) \
	  || echo "chromium is not installed and could not be installed: tests/test_report.py's browser check will be skipped"

check-sync: $(STAMP)
	@before="$$(git status --porcelain; git diff)"; \
	$(VENV)/bin/nbdev-clean && $(VENV)/bin/nbdev-export; \
	after="$$(git status --porcelain; git diff)"; \
	if [ "$$before" != "$$after" ]; then \
	  echo "FAIL: notebooks were not clean or not in sync with the package (nbdev-clean / nbdev-export changed files):"; \
	  git status --porcelain; exit 1; fi; \
	echo "notebooks clean and in sync with imbalance_study/"

# Each notebook runs in a process of its own, two at a time. nbdev-test's own pool reuses its worker processes, so
# a notebook's demo registrations (e.g. 10_augment's notebook-defined `augment` strategy) leaked into the next
# notebook that worker ran and made the outcome depend on scheduling (12_ham failed CI that way).
nbtest: $(STAMP)
	@$(PY) -c "from nbdev.doclinks import nbglob; from nbdev.test import _keep_file; print(*sorted(str(f) for f in nbglob('nbs', as_path=True) if _keep_file(f, '.notest')), sep='\n')" \
	  | xargs -P 2 -I{} $(VENV)/bin/nbdev-test --timing {}

pytest: $(STAMP) browser
	$(PY) -m pytest -q tests

export: $(STAMP)
	$(VENV)/bin/nbdev-clean && $(VENV)/bin/nbdev-export
