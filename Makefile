# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Every target bootstraps .venv itself and is idempotent.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINT_PATHS := src tests examples $(wildcard benchmarks)
# The peer libraries (pydantic-ai, the OpenAI Agents SDK, LangGraph...) live in their
# own environment, never in gai's dependencies: the benchmarks and the docs' side-by-side
# pages run them.
PEERS := benchmarks/.venv-peers

.PHONY: demo test lint install clean docs docs-serve docs-screenshots ui-screenshots bench bench-instructions bench-soak bench-checkpoint bench-durable bench-durable-peers

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The demo needs only gai and its core dependencies; the tests need the dev extras.
CORE_STAMP := $(VENV)/.installed-core

$(CORE_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $(CORE_STAMP)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The JS clients the UI protocol tests drive (tests/ui); skipped where Node is absent.
NODE_STAMP := tests/ui/node/node_modules/.installed

$(NODE_STAMP): tests/ui/node/package.json tests/ui/node/package-lock.json
	if command -v npm >/dev/null; then npm ci --prefix tests/ui/node --no-audit --no-fund --loglevel=error && touch $@; fi

demo: $(CORE_STAMP)
	$(BIN)/python examples/morning_briefing.py

test: $(STAMP) $(NODE_STAMP) $(PEERS)/.installed
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest --cov --cov-report=term-missing:skip-covered

lint: $(STAMP)
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)


$(PEERS)/.installed:
	$(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet --upgrade pip
	$(PEERS)/bin/python -m pip install --quiet "pydantic-ai-slim[openai,dbos]==2.78.0" openai-agents==0.24.0 langgraph==1.2.24 langchain-openai==1.8.1 aiohttp "psycopg[binary]"
	touch $@

# The peers live in their own environment, never in gai's dependencies.
bench: $(STAMP) $(PEERS)/.installed
	$(BIN)/python benchmarks/run.py --runs 200 1000 --repeat 3

# Needs valgrind (Debian: apt-get install valgrind).
bench-instructions: $(STAMP)
	$(BIN)/python benchmarks/instructions.py --runs 200 1000

bench-soak: $(STAMP)
	$(BIN)/python benchmarks/soak_faults.py --runs 200

bench-checkpoint: $(STAMP)
	$(BIN)/python benchmarks/checkpoint_overhead.py

# Uses PostgreSQL when GAI_TEST_POSTGRES_DSN is set (eval "$$(.ci/services.sh)").
bench-durable: $(STAMP) $(PEERS)/.installed
	$(BIN)/python benchmarks/durable_throughput.py --runs 300 --workers 1 2 3
	$(BIN)/python benchmarks/durable_peers.py --jobs 50 200 --workers 1 2 3 --repeat 3

# Only the comparison with pydantic-ai's DBOSAgent (each library in its own environment).
bench-durable-peers: $(STAMP) $(PEERS)/.installed
	$(BIN)/python benchmarks/durable_peers.py --jobs 50 200 --workers 1 2 3 --repeat 3

# The documentation site (MkDocs Material; the reference from the docstrings).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

# PNGs of the site's home page and one reference page, in headless Chromium.
docs-screenshots: docs
	$(BIN)/python -m tests.docs_screenshots --site build/site --out build/screenshots

# PNGs of `gai ui` (needs Chromium: apt-get install chromium).
ui-screenshots: $(STAMP)
	$(BIN)/python -m tests.ui.screenshots --out build/screenshots

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage
