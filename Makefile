# Two commands for a fresh clone: `make run` and `make test`.
VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install migrate demo-data migrations-check fixture bench-import clean

$(INSTALLED): requirements.txt requirements-dev.txt requirements-build.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --upgrade pip==26.3
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --build-constraint requirements-build.txt -r requirements-dev.txt
	touch $@

install: $(INSTALLED)

migrate: install
	$(PYTHON) manage.py migrate --noinput

demo-data: migrate
	$(PYTHON) manage.py load_demo_data --if-empty

run: demo-data
	$(PYTHON) manage.py runserver $(HOST):$(PORT)

test: install
	$(PYTHON) -m pytest

migrations-check: install
	$(PYTHON) manage.py makemigrations --check --dry-run

# Rebuild fixtures/demo_providers.json from ../shared/data/samhsa-2015.
fixture: migrate
	$(PYTHON) manage.py build_demo_fixture

clean:
	rm -rf $(VENV) staticfiles

# Import benchmark (rows per second) on scratch databases; results in bench/ and docs/PERFORMANCE.md.
BENCH_SQLITE_URL := sqlite:///$(CURDIR)/bench/import.sqlite3
BENCH_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/directory_bench

bench-import: install
	mkdir -p bench
	rm -f bench/import.sqlite3
	DATABASE_URL=$(BENCH_SQLITE_URL) $(PYTHON) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_SQLITE_URL) $(PYTHON) manage.py bench_import --output bench/import-sqlite.json
	psql "$(dir $(BENCH_POSTGRES_URL))postgres" -q -c "DROP DATABASE IF EXISTS $(notdir $(BENCH_POSTGRES_URL))" -c "CREATE DATABASE $(notdir $(BENCH_POSTGRES_URL))"
	DATABASE_URL=$(BENCH_POSTGRES_URL) $(PYTHON) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_POSTGRES_URL) $(PYTHON) manage.py bench_import --output bench/import-postgresql.json
