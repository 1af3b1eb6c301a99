# Starling: `make run` starts an instance, `make test` runs every check. Both install what they need.
VENV    := .venv
PYTHON  := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test lint fmt bench bench-load install clean

$(STAMP): pyproject.toml
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e ".[dev]"
	@touch $@

install: $(STAMP)

# The committed config.toml describes the local development instance (http://127.0.0.1:8000):
# `run` and every other command read the same file, so they mint the same URLs.
run: $(STAMP)
	$(VENV)/bin/starling run

test: lint
	$(PYTHON) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PYTHON) -m bench

# The load test (bench/load.py): 12–15 minutes; BENCH_LOAD_SECONDS shortens it.
bench-load: $(STAMP)
	$(PYTHON) -m bench load

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
