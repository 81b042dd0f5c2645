# jixiao — the README's commands. Only Python 3.11 and make are needed: uv is bootstrapped
# into .tools/ when it is not on PATH, and everything else comes from uv.lock.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.8
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/uv/bin/uv)
export JIXIAO_HOME ?= $(CURDIR)/var
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/.venv
RUN := $(UV) run --frozen --no-sync

.PHONY: help install demo test test-fast lint airflow bench clean template docs bi

help:
	@echo "make demo     - install, build sample workbooks, run the nightly + yearly DAGs, print a summary"
	@echo "make test     - install and run the whole test suite"
	@echo "make airflow  - airflow standalone (web UI on http://127.0.0.1:8080, this machine only) on this project"
	@echo "make lint     - ruff + mypy + sqlfluff (dbt models)"
	@echo "make bench    - ingest and nightly benchmarks (docs/benchmarks.md)"
	@echo "make bi       - Superset 6.1 with the jixiao dashboard on the published marts (http://127.0.0.1:8088, this machine only; after make demo)"

$(CURDIR)/.tools/uv/bin/uv:
	$(PYTHON) -m venv $(CURDIR)/.tools/uv
	$(CURDIR)/.tools/uv/bin/pip install --quiet "uv==$(UV_VERSION)"

# --compile-bytecode: every installed module gets its .pyc now, once, so no process compiles
# its imports at start (where PYTHONDONTWRITEBYTECODE is set, none would ever be cached).
# The project's own src/ and dags/ are an editable install: compile them too.
.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	$(CURDIR)/.venv/bin/python -m compileall -q -j 0 $(CURDIR)/src $(CURDIR)/dags
	@touch $@

install: .venv/.synced

# DuckDB 1.4 in its own venv: the test that a BI driver's older DuckDB opens the published file
OLD_DUCKDB := $(CURDIR)/.tools/duckdb14
$(OLD_DUCKDB)/bin/python: | $(UV)
	$(UV) venv --quiet --python $(PYTHON) $(OLD_DUCKDB)
	$(UV) pip install --quiet --python $(OLD_DUCKDB)/bin/python "duckdb==1.4.4"

# Apache Superset in its own venv, pinned (bi/superset/requirements.txt): `make bi` and
# tests/e2e/test_superset_dashboard.py. The stamp keeps the install (~470 wheels, 11 s from
# an empty uv cache on a fast registry mirror, minutes on a slow link) cached.
SUPERSET := $(CURDIR)/.tools/superset
$(SUPERSET)/.installed: bi/superset/requirements.txt | $(UV)
	$(UV) venv --quiet --clear --python $(PYTHON) $(SUPERSET)
	$(UV) pip install --quiet --compile-bytecode --python $(SUPERSET)/bin/python -r bi/superset/requirements.txt
	@touch $@

# metadata (SQLite) under $(JIXIAO_HOME)/superset, admin user with a generated password,
# the bundle in bi/superset/bundle imported, served on 127.0.0.1:$(JIXIAO_SUPERSET_PORT)
bi: $(SUPERSET)/.installed
	$(SUPERSET)/bin/python bi/superset/jixiao_bi.py serve --port $${JIXIAO_SUPERSET_PORT:-8088}

demo: install
	$(RUN) jixiao demo

test: install $(OLD_DUCKDB)/bin/python $(SUPERSET)/.installed
	JIXIAO_OLD_DUCKDB_PYTHON=$(OLD_DUCKDB)/bin/python $(RUN) pytest

test-fast: install
	$(RUN) pytest -m "not slow and not e2e and not browser"

lint: install
	$(RUN) ruff check src tests dags scripts
	$(RUN) mypy
	$(RUN) sqlfluff lint dbt_project/models --processes 2

airflow: install
	$(RUN) jixiao airflow standalone

template: install
	$(RUN) jixiao template jixiao-template.xlsx

bench: install
	$(RUN) python scripts/bench_ingest.py
	$(RUN) python scripts/bench_night.py --shares 1,5

docs: install
	$(RUN) python -c "from jixiao.warehouse.dbt import docs_generate; from jixiao.config import get_settings; print(docs_generate(get_settings().ensure()))"

clean:
	rm -rf var .venv .tools
