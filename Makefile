# Two commands on a fresh clone: `make demo` and `make test`. Both create and use .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench bench-api venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/make_sample_media.py out/media
	$(BIN)/compositor render examples/promo.json -o out/promo.mp4 --json

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy compositor api
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy compositor api

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

bench-api: $(STAMP)
	$(BIN)/python scripts/bench_api.py

clean:
	rm -rf out .pytest_cache
