# Two commands for a fresh clone: `make run` and `make test`.
VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install migrate demo-data migrations-check fixture clean

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
