# RAG vs Fine-Tuning, hands-on. Quick start:  make course   and   make test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# --link-mode copy: uv's default hard-links files from its cache, and nltk (under llama-index) refuses to open a
# file with more than one link, as a guard against links that lead outside the install.
UV_INSTALL := $(VENV)/bin/uv pip install --python $(PY) --link-mode copy
PORT   ?= 8888

.PHONY: setup course lint test lab prefetch lock data closed-book bench budget figures determinism clean vectordb vectordb-stop

## setup: create .venv with the pinned dependencies, and prepare the offline models
setup: $(STAMP)
$(STAMP): requirements.lock requirements-nodeps.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "The course needs Python 3.11: run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	# torch first, with pip: its pinned CPU build is what pip finds (uv would fetch a multi-GB CUDA build).
	$(PY) -m pip install --quiet torch==2.13.0 uv==0.13.9
	# uv installs the ~180 pinned packages in parallel: about 1 minute, against several with pip.
	$(UV_INSTALL) --quiet -r requirements.lock
	$(UV_INSTALL) --quiet --no-deps -r requirements-nodeps.txt
	$(UV_INSTALL) --quiet --no-deps -e .
	$(PY) -m course_utils.models
	touch $@

## course: run every notebook headless into build/ and print the summary
course: setup
	$(PY) -m course_utils.run_course

## lint: ruff, the layer order of course_utils (import-linter) and a check that no code is said twice
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pylint --disable=all --enable=duplicate-code --min-similarity-lines=6 --score=n course_utils

## test: the lint checks, then the whole test suite, notebooks included
test: lint
	$(PY) -m pytest

## bench: run the benchmarks; writes build/bench.json, and records its course run as the budget (notebooks/budget.json)
bench: setup
	$(PY) scripts/bench.py

## budget: run the course and record its times as the reference budget (notebooks/budget.json)
budget: setup
	$(PY) -m course_utils.run_course --record

## figures: quote the measured figures in README.md and docs/ (run after budget, bench or closed-book)
figures: setup
	$(PY) scripts/quote_figures.py

## determinism: run every notebook twice and check the printed numbers are identical
determinism: setup
	$(PY) scripts/check_determinism.py

## lab: JupyterLab on 127.0.0.1 with a token (printed in the URL), with no news prompt and no network calls
# lab-settings/overrides.json turns off the Jupyter news prompt and feed, the update check and the extension
# manager (which asks PyPI): a classroom lab may have no network and must not try it. It is a settings file,
# not a command-line option, so that Binder and JupyterHub can use the same file (postBuild installs it).
lab: setup
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) \
	  --IdentityProvider.token=$$($(PY) -c 'import secrets; print(secrets.token_hex(16))') \
	  --LabApp.app_settings_dir=$(CURDIR)/lab-settings \
	  --ServerApp.open_browser=False --ServerApp.root_dir=notebooks $$([ "$$(id -u)" = 0 ] && echo --allow-root)

## prefetch: download the Hub models named in COURSE_GENERATOR / COURSE_EMBEDDER (online only)
prefetch: setup
	$(PY) -m course_utils.models --prefetch

## lock: rewrite requirements.lock and environment.yml from .venv
lock:
	$(PY) scripts/lock.py

## data: regenerate data/ from the generator script
data: setup
	$(PY) -m course_utils.worldgen

## closed-book: measure the base model on the questions; updates data/README.md
closed-book: setup
	$(PY) scripts/measure_closed_book.py

## vectordb: start Chroma's server on 127.0.0.1 (COURSE_CHROMA_PORT, default 8765), data in the course cache dir
# Telemetry is off; use it with COURSE_VECTOR_STORE=chroma. Notebook 07 and the tests start their own.
vectordb: setup
	$(PY) -m course_utils.vectordb start

## vectordb-stop: stop the server `make vectordb` started
vectordb-stop:
	$(PY) -m course_utils.vectordb stop

clean:
	rm -rf build .cache
