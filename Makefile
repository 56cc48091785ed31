# MedVigil. `make run` and `make test` are all a new machine needs (Python 3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export MEDVIGIL_DEV ?= 1

.PHONY: run test test-pg lint format trace messages migrations-check benchmarks clean

$(STAMP): requirements/base.txt requirements/dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

## run: install, migrate the SQLite database, load demo data once, start web app + worker
run: $(STAMP)
	$(BIN)/medvigil migrate --noinput
	$(BIN)/medvigil demo --if-empty
	$(BIN)/medvigil serve

## test: the whole suite on SQLite (browser tests run where Chromium is installed)
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

## test-pg: the same suite on the local PostgreSQL
test-pg: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/medvigil} \
	  $(BIN)/python -m pytest -n 2 --dist loadfile -q --create-db

lint: $(STAMP)
	$(BIN)/ruff check src benchmarks
	$(BIN)/ruff format --check src benchmarks
	$(BIN)/mypy src

format: $(STAMP)
	$(BIN)/ruff format src benchmarks
	$(BIN)/ruff check --fix src benchmarks

## trace: which DOMAIN.md requirements have tests and which have none
trace: $(STAMP)
	$(BIN)/python -m medvigil.tools.trace

## messages: extract and compile translations (compiled .mo files are committed)
messages: $(STAMP)
	cd src/medvigil && ../../$(BIN)/medvigil makemessages -l zh_Hans --no-obsolete
	cd src/medvigil && ../../$(BIN)/medvigil compilemessages -l zh_Hans

migrations-check: $(STAMP)
	$(BIN)/medvigil makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var
