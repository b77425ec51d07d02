# podium: the two commands of the quick start are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DB ?= podium.db

.PHONY: run order test lint bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The main job: the payment saga (four services, faults injected, compensations) on SQLite,
## no broker: a batch of payments with a progress bar, then the table of outcomes and calls.
run: $(STAMP)
	$(BIN)/podium demo --payments 50

## The order example: one durable execution (Map, Parallel, Retry, Catch, Wait, Python tasks).
order: $(STAMP)
	$(BIN)/podium run examples/order/order.asl.yaml --functions examples/order/functions.py \
		--input @examples/order/input.json --db $(DB) --history

## Lint, type-check and the whole test suite (conformance floors and crash recovery included).
test: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check --fix src tests bench examples
	$(BIN)/ruff format src tests bench examples

## Benchmarks (on demand, not part of the tests): podium against moto and raw SQLite.
BENCH_STAMP := $(VENV)/.bench-stamp

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.core_bench

clean:
	rm -rf $(VENV) $(DB) $(DB)-wal $(DB)-shm
