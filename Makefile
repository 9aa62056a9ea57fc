# Two commands for a fresh clone: `make run` and `make test`.
VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install messages update-messages migrate demo-data migrations-check fixture bench-import bench-search lighthouse clean

$(INSTALLED): requirements.txt requirements-dev.txt requirements-build.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --upgrade pip==26.3
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --build-constraint requirements-build.txt -r requirements-dev.txt
	touch $@

install: $(INSTALLED)

# The translations: locale/*/LC_MESSAGES/django.po are committed, the compiled .mo files are built here
# (with Babel, so GNU gettext is not needed to run the site).
CATALOGS := $(wildcard locale/*/LC_MESSAGES/django.po)

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po | $(INSTALLED)
	$(VENV)/bin/pybabel -q compile -l $* -i $< -o $@

messages: $(CATALOGS:.po=.mo)

# After changing translatable text: refresh the catalogues (needs GNU gettext), then translate the new entries.
update-messages: install
	$(PYTHON) manage.py makemessages --all --ignore=.venv --ignore=tests --ignore=staticfiles --ignore=bench --add-location=file --no-obsolete --ignore=.lighthouse

migrate: install messages
	$(PYTHON) manage.py migrate --noinput

demo-data: migrate
	$(PYTHON) manage.py load_demo_data --if-empty

run: demo-data
	$(PYTHON) manage.py runserver $(HOST):$(PORT)

test: install messages
	$(PYTHON) -m pytest

migrations-check: install
	$(PYTHON) manage.py makemigrations --check --dry-run

# Rebuild fixtures/demo_providers.json from ../shared/data/samhsa-2015.
fixture: migrate
	$(PYTHON) manage.py build_demo_fixture

clean:
	rm -rf $(VENV) staticfiles locale/*/LC_MESSAGES/*.mo

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

# Search benchmark (server time per request) over BENCH_PROVIDERS synthetic providers, with production
# settings (cached templates, compressed static files) on scratch databases; see docs/PERFORMANCE.md.
BENCH_PROVIDERS ?= 100000
BENCH_ENV := DJANGO_DEBUG=0 DJANGO_SECRET_KEY=benchmark-only-secret-key-0123456789abcdef DJANGO_ALLOWED_HOSTS=localhost DJANGO_SECURE_SSL_REDIRECT=0 API_ANONYMOUS_RATE=1000000/minute
BENCH_SEARCH_SQLITE_URL := sqlite:///$(CURDIR)/bench/search.sqlite3
BENCH_SEARCH_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/directory_bench_search

bench-search: install
	mkdir -p bench
	$(BENCH_ENV) $(PYTHON) manage.py collectstatic --noinput -v0
	DATABASE_URL=$(BENCH_SEARCH_SQLITE_URL) $(BENCH_ENV) $(PYTHON) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_SEARCH_SQLITE_URL) $(BENCH_ENV) $(PYTHON) manage.py bench_search --providers $(BENCH_PROVIDERS) --output bench/search-sqlite.json
	psql "$(dir $(BENCH_SEARCH_POSTGRES_URL))postgres" -q -c "CREATE DATABASE $(notdir $(BENCH_SEARCH_POSTGRES_URL))" 2>/dev/null || true
	DATABASE_URL=$(BENCH_SEARCH_POSTGRES_URL) $(BENCH_ENV) $(PYTHON) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_SEARCH_POSTGRES_URL) $(BENCH_ENV) $(PYTHON) manage.py bench_search --providers $(BENCH_PROVIDERS) --output bench/search-postgresql.json

# Lighthouse mobile scores (docs/ACCESSIBILITY.md): the demo data served by gunicorn with production settings.
LIGHTHOUSE_VERSION := 13.5.0
LIGHTHOUSE_PORT ?= 8765
LIGHTHOUSE_ENV := $(BENCH_ENV) DJANGO_ALLOWED_HOSTS=127.0.0.1 DATABASE_URL=sqlite:///$(CURDIR)/bench/lighthouse.sqlite3

lighthouse: install messages
	mkdir -p bench
	test -x .lighthouse/node_modules/.bin/lighthouse || npm install --silent --no-audit --no-fund --prefix .lighthouse lighthouse@$(LIGHTHOUSE_VERSION)
	$(LIGHTHOUSE_ENV) $(PYTHON) manage.py collectstatic --noinput -v0
	$(LIGHTHOUSE_ENV) $(PYTHON) manage.py migrate --noinput -v0
	$(LIGHTHOUSE_ENV) $(PYTHON) manage.py load_demo_data --if-empty
	$(LIGHTHOUSE_ENV) $(VENV)/bin/gunicorn directory.wsgi --bind 127.0.0.1:$(LIGHTHOUSE_PORT) --workers 2 --pid bench/lighthouse-gunicorn.pid --daemon
	sleep 2
	CHROME_PATH=/usr/bin/chromium $(LIGHTHOUSE_ENV) $(PYTHON) manage.py lighthouse_scores --base-url http://127.0.0.1:$(LIGHTHOUSE_PORT) --output bench/lighthouse.json; \
	  status=$$?; kill $$(cat bench/lighthouse-gunicorn.pid); exit $$status
