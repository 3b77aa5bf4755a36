# Tagwright developer commands. `make run` serves the app, `make test` checks everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.NOTPARALLEL:

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tagwright-install-stamp
FLASK := $(BIN)/flask --app wsgi
PYTEST := $(BIN)/pytest
TEST_OUTPUT := test-output
# Extra pytest options for every leg, e.g. `make test PYTEST_ARGS="-x -k tags"`.
PYTEST_ARGS ?=

PORT ?= 5000
export PORT

.PHONY: help install run lint test test-sqlite test-postgres system-packages clean distclean

help:
	@echo "make run              install, migrate, load the demo data, serve on 127.0.0.1:$(PORT)"
	@echo "make test             install, system packages, ruff, pytest on SQLite and PostgreSQL"
	@echo "make install          create $(VENV) and install the project (idempotent)"
	@echo "make lint             ruff check ."
	@echo "make test-sqlite      pytest on SQLite only"
	@echo "make test-postgres    pytest on a throwaway PostgreSQL cluster only"
	@echo "make fuzz             schemathesis, 200 examples per API operation (DB=postgres too)"
	@echo "make bench            benchmarks (issue 5) on SQLite; DB=postgres on a throwaway cluster"
	@echo "make clean            remove caches and test output (keeps $(VENV) and instance/)"
	@echo "make distclean        clean, and remove $(VENV)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(FLASK) db upgrade
	$(FLASK) demo
	@echo "Serving Tagwright at http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

system-packages:
	@scripts/ensure-system-packages.sh

lint: install
	$(BIN)/ruff check .

# Both legs always run; the summary prints their counts and fails if either failed.
test: install system-packages lint
	@rm -rf $(TEST_OUTPUT) && mkdir -p $(TEST_OUTPUT)
	@echo "=== pytest leg 1/2: SQLite ==="
	@echo "$(PYTEST) tests --db=sqlite --junitxml=$(TEST_OUTPUT)/sqlite.xml $(PYTEST_ARGS)"
	@$(PYTEST) tests --db=sqlite --junitxml=$(TEST_OUTPUT)/sqlite.xml $(PYTEST_ARGS); \
		echo $$? > $(TEST_OUTPUT)/sqlite.exit
	@if scripts/ensure-system-packages.sh --check postgresql; then \
		echo "=== pytest leg 2/2: PostgreSQL (throwaway cluster) ==="; \
		echo "$(PYTEST) tests --db=postgres --junitxml=$(TEST_OUTPUT)/postgres.xml $(PYTEST_ARGS)"; \
		$(PYTEST) tests --db=postgres --junitxml=$(TEST_OUTPUT)/postgres.xml $(PYTEST_ARGS); \
		echo $$? > $(TEST_OUTPUT)/postgres.exit; \
	elif [[ "$${CI:-}" =~ ^(true|TRUE|True|1|yes)$$ ]]; then \
		echo "!!! ERROR: PostgreSQL server binaries not found; CI must run the PostgreSQL leg" >&2; \
	else \
		echo "PostgreSQL server binaries not installed" > $(TEST_OUTPUT)/postgres.skipped; \
		echo "!!! WARNING: PostgreSQL is not installed: the PostgreSQL leg is SKIPPED !!!" >&2; \
	fi
	@$(BIN)/python scripts/test-summary.py $(TEST_OUTPUT) sqlite postgres

test-sqlite: install
	$(PYTEST) tests --db=sqlite $(PYTEST_ARGS)

test-postgres: install system-packages
	$(PYTEST) tests --db=postgres $(PYTEST_ARGS)

# Builds its own data sets in a temp dir, prints one line per figure, writes
# benchmarks/results.json. Extra options: BENCH_ARGS="--cases 1,3 --small".
DB ?= sqlite
BENCH_ARGS ?=
.PHONY: bench fuzz
bench: install
	$(BIN)/python -m benchmarks --db=$(DB) $(BENCH_ARGS)

# The OpenAPI fuzz leg of `make test`, longer: FUZZ_EXAMPLES examples per operation.
FUZZ_EXAMPLES ?= 200
fuzz: install
	TAGWRIGHT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTEST) tests/http/api/test_openapi_fuzz.py \
		--db=$(DB) -p no:cacheprovider $(PYTEST_ARGS)

clean:
	rm -rf $(TEST_OUTPUT) .pytest_cache .ruff_cache build dist
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
