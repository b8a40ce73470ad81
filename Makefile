# Two commands on a fresh machine: `make run` (the demo server) and `make test` (everything).
VENV := .venv
BIN := $(VENV)/bin
# The uv that bootstraps the environment is the one the lock file pins.
UV_VERSION := $(shell sed -n '/^name = "uv"$$/{n;s/^version = "\(.*\)"$$/\1/p}' uv.lock)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint demo-dataset clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(BIN)/python || python3 -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --quiet
	touch $@

run: install
	$(BIN)/tessera load demo/dataset.json
	$(BIN)/python demo/activity.py
	@$(BIN)/python demo/print_logins.py demo/dataset.json
	TESSERA_GRAPHIQL=1 $(BIN)/tessera serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

test: lint
	$(BIN)/pytest

# Rebuild demo/dataset.json from ../shared/data (needs the shared folder beside the repo).
demo-dataset: install
	$(BIN)/python demo/build_dataset.py

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
