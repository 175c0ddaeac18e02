# Two commands do all set-up on a fresh machine: `make run` (the embedded system) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test unit lint typecheck bench contracts clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## run: every service, worker and the GraphQL gateway in one process (SQLite, embedded log, demo data)
run: $(STAMP)
	@# GraphiQL, Swagger UI and ReDoc from node_modules (npm ci); without npm the pages say how to install them
	-$(BIN)/python -m tools.judges npm
	$(BIN)/partnership run --port $(PORT)

## test: lint, type-check, then every test against a real Kafka broker and a real PostgreSQL server
test: $(STAMP)
	./scripts/ensure-system-packages.sh
	$(BIN)/python -m tools.realservers prefetch
	$(BIN)/python -m tools.deploytools prefetch
	$(BIN)/python -m tools.judges prefetch
	$(BIN)/ruff check .
	$(BIN)/mypy shared services tools
	$(BIN)/pytest $(PYTEST_ARGS)

unit: $(STAMP)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy shared services tools

## bench: the benchmarks under bench/ (real Kafka and PostgreSQL, started for the run)
bench: $(STAMP)
	./scripts/ensure-system-packages.sh
	$(BIN)/python -m bench.walking_skeleton

## contracts: regenerate the published contracts (event JSON Schemas, AsyncAPI, OpenAPI, GraphQL SDL)
contracts: $(STAMP)
	$(BIN)/partnership contracts --out contracts

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
