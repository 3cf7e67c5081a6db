# Archivist. `make run` and `make test` do all set-up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Bytecode caches, kept even where the environment turns them off (PYTHONDONTWRITEBYTECODE):
# without them every process compiles every module it imports, again (`archivist` starts in
# ~3 s instead of ~1.4 s; each test worker spends ~10 s more collecting). They go under
# .venv/, out of the tree and gone with the virtualenv.
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX ?= $(CURDIR)/$(VENV)/pycache
# `make test` and `make test-postgres` spread the tests over this many worker processes
# (pytest-xdist; 0 runs them in pytest's own). Each worker makes its own databases on one
# PostgreSQL that pytest starts before the workers (tests/conftest.py); tests marked
# `xdist_group` stay together on one worker (`--dist loadgroup`).
TEST_WORKERS ?= 2
PARALLEL := -n $(TEST_WORKERS) --dist loadgroup
# Coverage of src/ ([tool.coverage.*] in pyproject.toml): the total and its floor are printed;
# `.venv/bin/coverage report -m` afterwards shows it file by file.
COVERAGE := --cov --cov-report=

.PHONY: run test test-parallel test-serial lint typecheck unit contract integration api test-postgres fuzz bench clean help

help:
	@echo "make run            serve on http://127.0.0.1:8000 (embedded PostgreSQL unless DATABASE_URL)"
	@echo "make test           lint, types and every test suite (throwaway PostgreSQL unless TEST_DATABASE_URL)"
	@echo "make unit|contract|integration|api   one suite"
	@echo "make test-postgres  only the suites that need PostgreSQL"
	@echo "make fuzz           schemathesis: every check, 50 cases per operation, on the OpenAPI schema"

# --no-compile: Python compiles what is imported, on first import, into PYTHONPYCACHEPREFIX
# (~14 s less to install; what pip compiled would sit where Python no longer looks).
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/archivist serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations

typecheck: $(STAMP)
	$(BIN)/mypy

# Tests marked `serial` time subprocesses against wall-clock windows: they run after the
# parallel part, with the machine to themselves but for mypy (one core for ~13 s, where the
# serial tests mostly wait on their subprocesses; beside the parallel part it would take that
# core from the tests), and their coverage is added to its total. All of them live in
# tests/integration (tests/unit/test_test_hygiene.py), the only suite collected for them.
test: lint
	@$(MAKE) --no-print-directory test-parallel
	@$(MAKE) --no-print-directory -j2 typecheck test-serial

test-serial: $(STAMP)
	$(BIN)/pytest -q -m serial tests/integration $(COVERAGE) --cov-append

test-parallel: $(STAMP)
	$(BIN)/pytest -q $(PARALLEL) -m "not serial" $(COVERAGE) --cov-fail-under=0

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

contract: $(STAMP)
	$(BIN)/pytest -q tests/contract

integration: $(STAMP)
	$(BIN)/pytest -q tests/integration

api: $(STAMP)
	$(BIN)/pytest -q tests/api

test-postgres: $(STAMP)
	$(BIN)/pytest -q $(PARALLEL) -m "postgres and not serial"
	$(BIN)/pytest -q -m "postgres and serial" tests/integration

# Not part of `make test` (a few minutes): tests/fuzz/run_fuzz.py, called by .ci/run.
# CI runs one fixed seed, so runs stay as alike as schemathesis allows (not identical: see
# docs/decisions.md); explore by hand with `make fuzz FUZZ_SEED=` (a fresh seed each run) and
# pin what it finds as a test (tests/api/test_schema_conformance.py).
FUZZ_SEED ?= 32211588967027589331972513091072459380
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.run_fuzz --max-examples 50 $(if $(FUZZ_SEED),--seed $(FUZZ_SEED))

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis .coverage .coverage.*
