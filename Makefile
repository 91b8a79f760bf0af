# Commands for a newcomer: `make demo` (set up, then watch the daemon on a local demo network),
# `make run` (set up, create the database, classify the seed), `make test` (run the whole suite) and
# `make lint` (ruff: lint and format check, configured in pyproject.toml).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run demo test lint bench clean

$(BIN)/rjwatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/rjwatch
	$(BIN)/rjwatch init
	$(BIN)/rjwatch classify rjwatch/data/seeds/000_2726ccec86287c13.txt

demo: $(BIN)/rjwatch
	$(BIN)/rjwatch demo $(DEMO_ARGS)

# The desk's browser tests need chromium (Debian's package; installed here when running as root).
test: $(BIN)/rjwatch
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		apt-get update -qq && apt-get install -y -qq chromium fonts-ipafont-gothic; } || \
		echo "chromium is not installed: the desk's browser tests will skip"
	$(BIN)/pytest

lint: $(BIN)/rjwatch
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every benchmark, one table (docs/benchmarks.md); `make bench BENCH_ARGS=--quick` for smoke sizes.
bench: $(BIN)/rjwatch
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache
