# The two commands: `make run` and `make test`. Everything else is a helper of theirs.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint typecheck pytest bench lock system-deps clean

run: $(RUN_STAMP)
	$(BIN)/relaygate serve

test: $(DEV_STAMP) system-deps lint typecheck pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench scripts

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

pytest: $(DEV_STAMP) system-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: $(RUN_STAMP)
	$(BIN)/python bench/run.py

system-deps:
	@bash scripts/system-deps.sh

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	$(BIN)/python -m compileall -q src/relaygate  # start from bytecode, as a wheel install would
	touch $@

$(DEV_STAMP): requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check --require-hashes -r requirements-dev.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	$(BIN)/python -m compileall -q src/relaygate
	touch $@ $(RUN_STAMP)

# Re-pin after changing pyproject.toml (needs `uv`: pip install uv).
lock:
	uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -q -o requirements.lock
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -q -o requirements-dev.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache relaygate.db
