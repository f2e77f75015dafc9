# Papercrane: `make demo` to run it, `make test` to test it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PAPERCRANE_DATA_DIR ?= ./var
export HOST PORT PAPERCRANE_DATA_DIR

.PHONY: demo install test test-browser lint format messages bench clean

$(BIN)/papercrane: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/papercrane

demo: install
	$(BIN)/papercrane migrate --noinput
	$(BIN)/papercrane collectstatic --noinput --verbosity 0
	$(BIN)/papercrane seed-demo
	$(BIN)/papercrane serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

test-browser: install
	$(BIN)/pytest -m browser $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/papercrane makemigrations --check --dry-run
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python scripts/check_catalogs.py

format: install
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

# Refresh the message catalogs from the code, then compile them (commit both .po and .mo).
messages: install
	$(BIN)/papercrane makemessages -l en -l zh_Hans --no-obsolete --ignore .venv --ignore var \
		--ignore tests --ignore bench --ignore src/papercrane/notes/demo
	$(BIN)/papercrane compilemessages --ignore .venv

bench: install
	$(BIN)/papercrane bench signup
	$(BIN)/papercrane bench media
	$(BIN)/papercrane bench engagement

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
