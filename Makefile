# Gradients course: one Makefile for students, instructors and contributors.
# Needs only GNU make and python3 >= 3.10; everything else goes into .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
# Jupyter refuses to run as root (containers, CI) unless told it is intended.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
# Tests may use both cores; override with `make test PYTEST_ARGS=...`.
PYTEST_ARGS ?= -n 2 --dist loadgroup

export PATH := $(abspath $(BIN)):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.DEFAULT_GOAL := help
.PHONY: help setup system-deps lab hub test test-variants test-fresh exercises grade bench strip clean

help: ## List the targets
	@echo "Gradients course - make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-13s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python >= 3.10 is needed, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the project description, the lock or the student settings changed.
# One venv for every target: the course plus the grading layer (make grade, make test), the
# demo hub's JupyterHub (make hub) and the test tools. Students without make: `pip install .`; Binder installs that student set only.
# The lab settings (no news prompt, kernels start and stop with their notebooks) go where
# JupyterLab reads overrides.json: <prefix>/share/jupyter/lab/settings/.
$(STAMP): pyproject.toml constraints.txt autograder/student_nbgrader_config.py autograder/student_lab_overrides.json | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[grading,hub,test]'
	$(BIN)/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader:create-assignment @jupyter/nbgrader:formgrader @jupyter/nbgrader:course-list >/dev/null 2>&1 || true
	mkdir -p $(VENV)/etc/jupyter && cp autograder/student_nbgrader_config.py $(VENV)/etc/jupyter/nbgrader_config.py
	mkdir -p $(VENV)/share/jupyter/lab/settings && cp autograder/student_lab_overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@touch $(STAMP)

setup: $(STAMP) ## Create .venv and install the pinned project (no-op when up to date)

system-deps: ## Install Chromium and PostgreSQL for the browser and PostgreSQL tests (as root or with sudo)
	@sh tools/system-deps.sh

lab: $(STAMP) ## Open JupyterLab on the course chapters
	$(BIN)/jupyter lab --notebook-dir=. --ServerApp.default_url=/lab/tree/course/00-welcome.ipynb --port=$(PORT) $(ROOT_FLAG) $(LAB_ARGS)

# PORT only when given (the lab's default 8888 is not the hub's): otherwise a free port.
hub: $(STAMP) ## Start a demo JupyterHub for the course (instructor, ta, alice, bob); Ctrl-C stops it
	$(BIN)/python deploy/local/demo_hub.py $(if $(filter command line environment,$(origin PORT)),--port $(PORT)) $(HUB_ARGS)

# system-deps first: without the rights to install, it says so in one line and the rest still runs.
test: $(STAMP) ## Run the whole test suite (notebooks, nbgrader pipeline, browser); installs system-deps first
	@sh tools/system-deps.sh --best-effort
	$(BIN)/python -m pytest $(PYTEST_ARGS) $(ARGS)

test-variants: $(STAMP) ## The slow sweep over many variants of every exercise (SWEEP=200 per exercise)
	NABLAKIT_SLOW=1 NABLAKIT_SWEEP_VARIANTS=$(or $(SWEEP),200) $(BIN)/python -m pytest tests/test_variant_sweep.py $(PYTEST_ARGS) $(ARGS)

test-fresh: ## A newcomer's path in a fresh clone of HEAD, no bwrap on PATH: set-up (FULL=1: make test), grading, make lab
	$(PYTHON) tests/fresh_machine.py $(if $(FULL),--full) $(if $(KEEP),--keep)

exercises: $(STAMP) ## Regenerate exercises/ (STUDENT=id: render that student's variants into autograder/variants/id/)
	$(BIN)/python -m nablakit.grading.release $(if $(STUDENT),--student $(STUDENT)) $(EX)

grade: $(STAMP) ## Autograde all submissions: make grade EX="ex01-partials" [WORKERS=2]
	$(BIN)/nablakit-grade $(EX) $(if $(WORKERS),--workers $(WORKERS))

bench: $(STAMP) ## Run the benchmarks (ratios measured in one run)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

strip: $(STAMP) ## Remove outputs and execution counts from all notebooks
	$(BIN)/nbstripout --keep-id $$(git ls-files '*.ipynb') course/*.ipynb solutions/*/*.ipynb exercises/*/*.ipynb 2>/dev/null || true

clean: ## Remove .venv, caches and grading artefacts
	rm -rf $(VENV) .pytest_cache build src/*.egg-info
	rm -rf autograder/submitted autograder/autograded autograder/feedback autograder/gradebook.db
	find . -name __pycache__ -prune -exec rm -rf {} +
