# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

NPM ?= npm
DASHBOARD := dashboard
NODE_STAMP := $(DASHBOARD)/node_modules/.installed
ASSETS := flowapp/server/dashboard_assets/index.html
DASHBOARD_SOURCES := $(shell find $(DASHBOARD)/src -type f 2>/dev/null) $(DASHBOARD)/index.html $(DASHBOARD)/vite.config.ts $(DASHBOARD)/tsconfig.json

.PHONY: install dashboard test lint typecheck layers dashboard-test pytest demo bench dashboards clean

install: $(STAMP) dashboard

# The web dashboard (dashboard/, served by `flowapp up` at /) is built when npm is here.
# Without npm it is not: `flowapp up` serves the API as usual, and / says how to build it.
dashboard:
	@if command -v $(NPM) >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(ASSETS); \
	else \
	  echo "make: npm not found: the dashboard is not built (the API works; install Node.js 20+ with npm and run make install again)" >&2; \
	fi

$(NODE_STAMP): $(DASHBOARD)/package.json $(DASHBOARD)/package-lock.json
	@echo "make: installing the dashboard's npm packages (dashboard/node_modules)"
	cd $(DASHBOARD) && $(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

$(ASSETS): $(NODE_STAMP) $(DASHBOARD_SOURCES)
	@echo "make: building the dashboard (flowapp/server/dashboard_assets)"
	cd $(DASHBOARD) && $(NPM) run --silent build

# pip lists each package as it goes: a first install takes a minute or two.
$(STAMP): pyproject.toml
	@echo "make: creating $(VENV) and installing flowapp with its dependencies (a minute or two the first time)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)
	@echo "make: flowapp is installed: $(BIN)/flowapp"

test: install lint typecheck layers dashboard-test pytest

lint: install
	$(BIN)/ruff check flowapp tests bench deploy
	$(BIN)/ruff format --check flowapp tests bench deploy

typecheck: install
	$(BIN)/mypy flowapp

layers: install
	$(BIN)/lint-imports

# The dashboard's unit tests (Vitest); its browser tests run with pytest (tests/e2e/dashboard).
# Without npm they cannot run: CI fails, elsewhere they are skipped with a warning.
dashboard-test: install
	@if command -v $(NPM) >/dev/null 2>&1; then \
	  cd $(DASHBOARD) && $(NPM) run --silent typecheck && $(NPM) test --silent; \
	elif [ -n "$$CI" ]; then \
	  echo "make: npm not found: the dashboard's tests cannot run" >&2; exit 1; \
	else \
	  echo "make: npm not found: the dashboard's unit tests are skipped" >&2; \
	fi

# Most tests run in parallel, one file per worker (the machine's cores mostly wait on
# subprocesses and servers); tests that restart a shared server run alone afterwards.
PYTEST_WORKERS ?= 4

pytest: install
	$(BIN)/pytest -q -rs -n $(PYTEST_WORKERS) --dist loadfile -m 'not serial'
	$(BIN)/pytest -q -rs -m serial

# Runs an example workflow once, then starts the platform with examples/append-display
# deployed, and prints what to open and what to try. Ctrl-C stops it.
demo: install
	@mkdir -p .flowapp/demo
	@echo "make: running examples/hello once (flowapp run)"
	$(BIN)/flowapp run examples/hello/workflow.yaml --input '{"name": "world"}' --db sqlite:///.flowapp/demo/hello.db
	@echo "make: starting the platform with examples/append-display (flowapp up)"
	$(BIN)/flowapp up --data-dir .flowapp/demo --app examples/append-display

bench: install
	$(BIN)/python -m bench

# The Grafana dashboards in deploy/grafana, written again from their code (deploy/grafana/*.py);
# a test fails while the committed JSON differs from what the code makes.
dashboards: install
	$(BIN)/python -m deploy.grafana

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(DASHBOARD)/node_modules flowapp/server/dashboard_assets
