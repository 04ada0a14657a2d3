# imbalance_study: the two commands of the README are `make study` and `make test`.
# Both create the virtual environment (.venv) and install the package into it when missing.
SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Data: $IMBALANCE_STUDY_DATA when set (IMBALANCE_STUDY_DATA=/path make study), else ../shared/data where it exists
# (the study's machines), else ~/.cache/imbalance_study/data: the library's `data_root` rule.
STUDY_DIR ?= runs/study

.PHONY: venv study test check-sync docs-check nbtest pytest export browser lab

# Everything (the extras of `[all]` and the dev tools, JupyterLab included) at the versions of constraints.txt, the
# ones the study was run and tested with; pyproject.toml itself asks only for version ranges.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[all,dev]" --config-settings editable_mode=compat
	@touch $(STAMP)

venv: $(STAMP)

# The default study: RetinaMNIST, all three profiles, baseline + each strategy family alone, seed 0, smoke budget;
# missing MedMNIST files are downloaded (MD5-checked) into the data root when the network is there.
STUDY_ARGS ?= --datasets retinamnist --profiles all --strategies single --seeds 0 --budget smoke --workers 2 --download

## The main job: the default study on real RetinaMNIST at the smoke budget, through to the HTML report.
## Resumable: a rerun skips finished runs. The report is rendered even when some runs failed (the exit code says so).
## Bad input or missing data (exit 2: nothing ran) stops it before the export and the report.
study: $(STAMP)
	@mkdir -p $(STUDY_DIR)
	$(VENV)/bin/imbalance-study grid $(STUDY_ARGS) --store $(STUDY_DIR)/results.sqlite; status=$$?; \
	if [ $$status -eq 2 ]; then exit 2; fi; \
	$(VENV)/bin/imbalance-study export --store $(STUDY_DIR)/results.sqlite --what results --out $(STUDY_DIR)/results.csv && \
	$(VENV)/bin/imbalance-study report $(STUDY_DIR)/results.sqlite -o $(STUDY_DIR)/report.html \
	  --note "Real RetinaMNIST (MedMNIST 28 px), smoke budget (CPU-sized: ResNet-18 width 16, 30k-60k samples); not the paper's budget." && \
	echo "study finished: $(STUDY_DIR)/results.sqlite, $(STUDY_DIR)/results.csv, $(STUDY_DIR)/report.html"; exit $$status

## The tests: notebooks clean and in sync with the package, the docs step, then nbdev-test and pytest.
test: $(STAMP) check-sync docs-check nbtest pytest

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

# The documentation site's notebook step: `nbdev-proc-nbs` (what `nbdev-docs` runs before Quarto) executes each
# notebook's export, import and show_doc cells in _proc/ and must succeed on every notebook. Quarto itself runs only in
# .github/workflows/docs.yml, so nbdev's attempt to install it is skipped here. A hash of the notebooks, the package
# and pyproject.toml is kept after a success: an unchanged tree is not processed again.
DOCS_STAMP := _proc/.docs-check
docs-check: $(STAMP)
	@h="$$(cat pyproject.toml nbs/*.ipynb nbs/*.yml $$(find imbalance_study -name '*.py' | sort) | sha256sum | cut -c1-64)"; \
	if [ "$$(cat $(DOCS_STAMP) 2>/dev/null)" = "$$h" ]; then echo "docs step: unchanged since it last succeeded"; exit 0; fi; \
	PYTHONWARNINGS=ignore $(PY) -c "import nbdev.quarto as q; q._ensure_quarto = lambda: None; q.nbdev_proc_nbs.__wrapped__(n_workers=2, force=True)" \
	  >$(VENV)/docs-check.log 2>&1 || { grep -E '^(Exception: Error in notebook|[A-Za-z]*Error)' $(VENV)/docs-check.log | tail -4; \
	  echo "FAIL: nbdev-proc-nbs (the docs step) failed; full output in $(VENV)/docs-check.log"; exit 1; }; \
	rm -f $(VENV)/docs-check.log; echo "$$h" > $(DOCS_STAMP); echo "docs step (nbdev-proc-nbs): every notebook processed"

## JupyterLab on the notebooks (nbs/), no browser: open the URL with the token that it prints.
lab: $(STAMP)
	cd nbs && $(abspath $(VENV))/bin/jupyter lab --no-browser $(if $(filter 0,$(shell id -u)),--allow-root,) $(LAB_ARGS)

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
