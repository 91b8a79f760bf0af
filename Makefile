# Two commands for a newcomer: `make run` (set up, create the database, classify the seed)
# and `make test` (set up with test dependencies, run the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test bench clean

$(BIN)/rjwatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/rjwatch
	$(BIN)/rjwatch init
	$(BIN)/rjwatch classify rjwatch/data/seeds/000_2726ccec86287c13.txt

test: $(BIN)/rjwatch
	$(BIN)/pytest

bench: $(BIN)/rjwatch
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/poll_bench.py
	$(BIN)/python bench/crawl_bench.py
	$(BIN)/python bench/daemon_bench.py
	$(BIN)/python bench/neardup_params.py
	$(BIN)/python bench/cluster_bench.py

clean:
	rm -rf $(VENV) data .pytest_cache
