# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck layers pytest demo bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

test: install lint typecheck layers pytest

lint: install
	$(BIN)/ruff check flowapp tests bench
	$(BIN)/ruff format --check flowapp tests bench

typecheck: install
	$(BIN)/mypy flowapp

layers: install
	$(BIN)/lint-imports

# Most tests run in parallel, one file per worker (the machine's cores mostly wait on
# subprocesses and servers); tests that restart a shared server run alone afterwards.
PYTEST_WORKERS ?= 4

pytest: install
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile -m 'not serial'
	$(BIN)/pytest -q -m serial

# Runs an example workflow once, then starts the platform with examples/append-display
# deployed, and prints what to open and what to try. Ctrl-C stops it.
demo: install
	$(BIN)/flowapp run examples/hello/workflow.yaml --input '{"name": "world"}' --db sqlite:///.flowapp/demo/hello.db
	$(BIN)/flowapp up --data-dir .flowapp/demo --app examples/append-display

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
