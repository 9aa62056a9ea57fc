# Two commands for a fresh clone: `make run` and `make test`.
VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format install messages update-messages migrate demo-data migrations-check fixture bench-import bench-search bench-memory bench lighthouse clean loadtest loadtest-sqlite loadtest-postgresql

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

# Beside the server, the worker that runs imports confirmed in the admin (directory/settings.py, TASKS):
# the database queue's, or RQ's when REDIS_URL is set. It does not reload on code changes (a reload
# would kill the import it is running): restart `make run` after changing the import code. The trap
# stops it however the server stops; an import it is running then stops too, and its run is marked
# failed with nothing written.
WORKER = $(if $(REDIS_URL),rqworker --job-class django_tasks_rq.Job default,db_worker --no-reload)

# And the scheduler, which queues a pull of every partner feed that is due (docs/DEPLOYMENT.md).
FEED_SYNC_SECONDS ?= 300

run: demo-data
	$(PYTHON) manage.py $(WORKER) & worker=$$!; \
	  $(PYTHON) manage.py sync_sources --every $(FEED_SYNC_SECONDS) & scheduler=$$!; \
	  trap 'kill $$worker $$scheduler 2>/dev/null; wait $$worker $$scheduler' EXIT; trap 'exit 130' INT TERM; \
	  $(PYTHON) manage.py runserver $(HOST):$(PORT)

test: install messages
	$(PYTHON) -m pytest

# ruff's checks and its formatting (pyproject.toml); `make format` rewrites what `make lint` refuses.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: install
	$(PYTHON) manage.py makemigrations --check --dry-run

# Rebuild fixtures/demo_providers.json from ../shared/data (SAMHSA 2015, FindTreatment.gov, NHS England).
fixture: migrate
	$(PYTHON) manage.py build_demo_fixture

clean:
	rm -rf $(VENV) staticfiles locale/*/LC_MESSAGES/*.mo

# Benchmarks run with production settings: with DEBUG on, Django logs every query it runs
# (docs/PERFORMANCE.md says what that cost an import).
BENCH_ENV := DJANGO_DEBUG=0 DJANGO_DEVTOOLS=1 DJANGO_SECRET_KEY=benchmark-only-secret-key-0123456789abcdef DJANGO_ALLOWED_HOSTS=localhost DJANGO_SECURE_SSL_REDIRECT=0 API_ANONYMOUS_RATE=1000000/minute

# Import benchmark (rows per second) on scratch databases; results in bench/ and docs/PERFORMANCE.md.
# BENCH_IMPORT_ARGS="--only samhsa-shaped" measures only the large SAMHSA-shaped file.
BENCH_SQLITE_URL := sqlite:///$(CURDIR)/bench/import.sqlite3
BENCH_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/directory_bench
BENCH_SAMHSA_ROWS ?= 100000
BENCH_IMPORT_ARGS ?=

bench-import: install
	mkdir -p bench
	rm -f bench/import.sqlite3 bench/import.sqlite3-wal bench/import.sqlite3-shm
	DATABASE_URL=$(BENCH_SQLITE_URL) $(BENCH_ENV) $(PYTHON) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_SQLITE_URL) $(BENCH_ENV) $(PYTHON) manage.py bench_import --samhsa-rows $(BENCH_SAMHSA_ROWS) $(BENCH_IMPORT_ARGS) --output bench/import-sqlite.json
	psql "$(dir $(BENCH_POSTGRES_URL))postgres" -q -c "DROP DATABASE IF EXISTS $(notdir $(BENCH_POSTGRES_URL))" -c "CREATE DATABASE $(notdir $(BENCH_POSTGRES_URL))"
	DATABASE_URL=$(BENCH_POSTGRES_URL) $(BENCH_ENV) $(PYTHON) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_POSTGRES_URL) $(BENCH_ENV) $(PYTHON) manage.py bench_import --samhsa-rows $(BENCH_SAMHSA_ROWS) $(BENCH_IMPORT_ARGS) --output bench/import-postgresql.json

# Search benchmark (server time per request) over BENCH_PROVIDERS providers of the BENCH_DATA shape (real:
# the real data sets repeated and moved; synthetic), with production settings (cached templates, compressed
# static files) on scratch databases, one per shape; see docs/PERFORMANCE.md.
BENCH_PROVIDERS ?= 100000
BENCH_DATA ?= real
BENCH_SEARCH_SQLITE_URL := sqlite:///$(CURDIR)/bench/search-$(BENCH_DATA).sqlite3
BENCH_SEARCH_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/directory_bench_search_$(BENCH_DATA)

bench-search: install
	mkdir -p bench
	$(BENCH_ENV) $(PYTHON) manage.py collectstatic --noinput -v0
	DATABASE_URL=$(BENCH_SEARCH_SQLITE_URL) $(BENCH_ENV) $(PYTHON) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_SEARCH_SQLITE_URL) $(BENCH_ENV) $(PYTHON) manage.py bench_search --providers $(BENCH_PROVIDERS) --data $(BENCH_DATA) --output bench/search-$(BENCH_DATA)-sqlite.json
	psql "$(dir $(BENCH_SEARCH_POSTGRES_URL))postgres" -q -c "CREATE DATABASE $(notdir $(BENCH_SEARCH_POSTGRES_URL))" 2>/dev/null || true
	DATABASE_URL=$(BENCH_SEARCH_POSTGRES_URL) $(BENCH_ENV) $(PYTHON) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_SEARCH_POSTGRES_URL) $(BENCH_ENV) $(PYTHON) manage.py bench_search --providers $(BENCH_PROVIDERS) --data $(BENCH_DATA) --output bench/search-$(BENCH_DATA)-postgresql.json

# An app server process's memory after a mix of requests, and its first place search (bench_memory), on the
# bench-search SQLite database; see docs/PERFORMANCE.md.
bench-memory: install messages
	mkdir -p bench
	$(BENCH_ENV) $(PYTHON) manage.py collectstatic --noinput -v0
	DATABASE_URL=$(BENCH_SEARCH_SQLITE_URL) $(BENCH_ENV) $(PYTHON) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_SEARCH_SQLITE_URL) $(BENCH_ENV) DJANGO_ALLOWED_HOSTS=127.0.0.1 $(PYTHON) manage.py bench_memory --providers $(BENCH_PROVIDERS) --data $(BENCH_DATA) --output bench/memory-$(BENCH_DATA)-sqlite.json

# The search and API matrix (bench_search) at each size: BENCH_SIZES on SQLite and PostgreSQL,
# BENCH_LARGE_SIZES on PostgreSQL only; one scratch database per size, kept for the next run.
BENCH_SIZES ?= 10000 100000
BENCH_LARGE_SIZES ?= 1000000
BENCH_REQUESTS ?= 200

bench: install messages
	mkdir -p bench
	$(BENCH_ENV) $(PYTHON) manage.py collectstatic --noinput -v0
	for n in $(BENCH_SIZES); do \
	  DATABASE_URL=sqlite:///$(CURDIR)/bench/matrix-$(BENCH_DATA)-$$n.sqlite3 $(BENCH_ENV) $(PYTHON) manage.py migrate --noinput -v0 && \
	  DATABASE_URL=sqlite:///$(CURDIR)/bench/matrix-$(BENCH_DATA)-$$n.sqlite3 $(BENCH_ENV) $(PYTHON) manage.py bench_search --providers $$n --data $(BENCH_DATA) --requests $(BENCH_REQUESTS) --output bench/matrix-$(BENCH_DATA)-sqlite-$$n.json || exit 1; \
	done
	for n in $(BENCH_SIZES) $(BENCH_LARGE_SIZES); do \
	  psql "$(dir $(BENCH_SEARCH_POSTGRES_URL))postgres" -q -c "CREATE DATABASE directory_matrix_$(BENCH_DATA)_$$n" 2>/dev/null; \
	  DATABASE_URL=$(dir $(BENCH_SEARCH_POSTGRES_URL))directory_matrix_$(BENCH_DATA)_$$n $(BENCH_ENV) $(PYTHON) manage.py migrate --noinput -v0 && \
	  DATABASE_URL=$(dir $(BENCH_SEARCH_POSTGRES_URL))directory_matrix_$(BENCH_DATA)_$$n $(BENCH_ENV) $(PYTHON) manage.py bench_search --providers $$n --data $(BENCH_DATA) --requests $(BENCH_REQUESTS) --output bench/matrix-$(BENCH_DATA)-postgresql-$$n.json || exit 1; \
	done

# Load test (docs/PERFORMANCE.md): gunicorn with production settings on the bench-search databases
# (filled with BENCH_PROVIDERS providers of the BENCH_DATA shape if they hold another number), locust headless on
# loopback, LOADTEST_SECONDS at each of LOADTEST_USERS; prints req/s, p50/p99 and failures, writes
# bench/loadtest-<database>.json. One database only: make loadtest LOADTEST_DATABASES=sqlite
LOADTEST_SECONDS ?= 60
LOADTEST_USERS ?= 8 32 64
LOADTEST_DATABASES ?= sqlite postgresql
# Seconds of traffic first, not counted: each worker loads the gazetteer and fills its caches.
LOADTEST_WARMUP ?= 10
LOADTEST_PORT ?= 8766
# 2 cores, shared with locust: 4 sync workers, two per core, so that a worker waiting on PostgreSQL
# does not leave a core idle. A request is CPU-bound Python (filters, template), so gthread threads
# would only take turns on the GIL; connections beyond 4 wait in the listen backlog (2048).
LOADTEST_GUNICORN ?= --workers 4 --worker-class sync
LOADTEST_ENV := $(BENCH_ENV) DJANGO_ALLOWED_HOSTS=127.0.0.1
LOADTEST_LOCUST := $(VENV)/bin/locust -f loadtest/locustfile.py --headless --only-summary --exit-code-on-error 0 --host http://127.0.0.1:$(LOADTEST_PORT)

loadtest: install messages
	mkdir -p bench
	$(BENCH_ENV) $(PYTHON) manage.py collectstatic --noinput -v0
	for database in $(LOADTEST_DATABASES); do $(MAKE) --no-print-directory loadtest-$$database || exit 1; done
	$(PYTHON) manage.py loadtest_report $(LOADTEST_DATABASES:%=bench/loadtest-%) --seconds $(LOADTEST_SECONDS) --server "gunicorn $(LOADTEST_GUNICORN)"

loadtest-sqlite: LOADTEST_DATABASE_URL = $(BENCH_SEARCH_SQLITE_URL)
loadtest-postgresql: LOADTEST_DATABASE_URL = $(BENCH_SEARCH_POSTGRES_URL)

# One database: fill it, sample the plan, serve it, run locust at each concurrency; the trap stops
# gunicorn however the recipe ends.
loadtest-sqlite loadtest-postgresql: loadtest-%: install
	[ $* != postgresql ] || psql "$(dir $(BENCH_SEARCH_POSTGRES_URL))postgres" -q -c "CREATE DATABASE $(notdir $(BENCH_SEARCH_POSTGRES_URL))" 2>/dev/null || true
	DATABASE_URL=$(LOADTEST_DATABASE_URL) $(BENCH_ENV) $(PYTHON) manage.py migrate --noinput -v0
	rm -rf bench/loadtest-$* && mkdir -p bench/loadtest-$*
	DATABASE_URL=$(LOADTEST_DATABASE_URL) $(BENCH_ENV) $(PYTHON) manage.py loadtest_plan --providers $(BENCH_PROVIDERS) --data $(BENCH_DATA) --output bench/loadtest-$*/plan.json
	DATABASE_URL=$(LOADTEST_DATABASE_URL) $(LOADTEST_ENV) $(VENV)/bin/gunicorn directory.wsgi --bind 127.0.0.1:$(LOADTEST_PORT) --no-control-socket $(LOADTEST_GUNICORN) >bench/loadtest-$*/gunicorn.log 2>&1 & \
	  server=$$!; trap 'kill $$server 2>/dev/null; wait $$server' EXIT; trap 'exit 130' INT TERM; \
	  for try in $$(seq 100); do curl -sf -o /dev/null http://127.0.0.1:$(LOADTEST_PORT)/ && break; kill -0 $$server 2>/dev/null || break; sleep 0.2; done; \
	  curl -sf -o /dev/null http://127.0.0.1:$(LOADTEST_PORT)/ || { echo "gunicorn did not answer; see bench/loadtest-$*/gunicorn.log"; exit 1; }; \
	  export LOADTEST_PLAN=bench/loadtest-$*/plan.json; \
	  echo "$*: warm-up, $(LOADTEST_WARMUP) s"; \
	  $(LOADTEST_LOCUST) --users 8 --spawn-rate 8 --run-time $(LOADTEST_WARMUP)s >bench/loadtest-$*/warmup.log 2>&1 || { tail bench/loadtest-$*/warmup.log; exit 1; }; \
	  for users in $(LOADTEST_USERS); do \
	    echo "$*: $$users users, $(LOADTEST_SECONDS) s"; \
	    $(LOADTEST_LOCUST) --users $$users --spawn-rate $$users --run-time $(LOADTEST_SECONDS)s --csv bench/loadtest-$*/u$$users >bench/loadtest-$*/u$$users.log 2>&1 || { tail bench/loadtest-$*/u$$users.log; exit 1; }; \
	  done

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
	$(LIGHTHOUSE_ENV) $(VENV)/bin/gunicorn directory.wsgi --bind 127.0.0.1:$(LIGHTHOUSE_PORT) --workers 2 --pid bench/lighthouse-gunicorn.pid --no-control-socket --daemon
	sleep 2
	CHROME_PATH=/usr/bin/chromium $(LIGHTHOUSE_ENV) $(PYTHON) manage.py lighthouse_scores --base-url http://127.0.0.1:$(LIGHTHOUSE_PORT) --output bench/lighthouse.json; \
	  status=$$?; kill $$(cat bench/lighthouse-gunicorn.pid); exit $$status
