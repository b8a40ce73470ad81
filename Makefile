# Two commands on a fresh machine: `make run` (the demo server) and `make test` (everything).
VENV := .venv
BIN := $(VENV)/bin
# The uv that bootstraps the environment is the one the lock file pins.
UV_VERSION := $(shell sed -n '/^name = "uv"$$/{n;s/^version = "\(.*\)"$$/\1/p}' uv.lock)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint demo-dataset clean pwa-vendor bench-tools lighthouse

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(BIN)/python || python3 -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --quiet
	touch $@

# The BarcodeDetector polyfill (and its wasm), copied from npm into pwa/vendor/: served by us.
pwa/vendor/barcode-detector/ponyfill.js: pwa/package.json pwa/package-lock.json pwa/tools/vendor.mjs
	npm ci --prefix pwa --no-audit --no-fund
	npm run --prefix pwa vendor

pwa-vendor: pwa/vendor/barcode-detector/ponyfill.js

run: install pwa-vendor
	$(BIN)/tessera load demo/dataset.json
	$(BIN)/python demo/activity.py
	@$(BIN)/python demo/print_logins.py demo/dataset.json
	TESSERA_GRAPHIQL=1 $(BIN)/tessera serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

test: lint pwa-vendor
	$(BIN)/pytest

# Rebuild demo/dataset.json from ../shared/data (needs the shared folder beside the repo).
demo-dataset: install
	$(BIN)/python demo/build_dataset.py

bench-tools:
	npm ci --prefix bench --no-audit --no-fund
	command -v wrk >/dev/null || apt-get install -y wrk

lighthouse: install pwa-vendor bench-tools
	$(BIN)/python bench/lighthouse.py

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache pwa/vendor pwa/node_modules bench/node_modules
