# Two commands on a fresh clone: `make demo` (the whole product over HTTP) and `make test`.
# `make run` keeps the API and a compositor worker running; `make render-example` renders the
# engine's example job without any service. All create and use .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo run render-example test lint bench bench-api venv constraints clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

run: $(STAMP)
	$(BIN)/python scripts/run_local.py

render-example: $(STAMP)
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

# Re-pin: the newest versions pyproject.toml allows, frozen into constraints.txt.
constraints:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet -e '.[dev]'
	{ sed -n '/^#/p' constraints.txt; .venv-lock/bin/python -m pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf out .pytest_cache
