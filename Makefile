# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The main job: validate, check, simulate and render the example workflows.
run: $(STAMP)
	$(BIN)/autoflow validate models/
	$(BIN)/autoflow check models/
	@for dir in traces/*/; do \
	    model=models/$$(basename $$dir).yaml; \
	    if [ -f $$model ]; then $(BIN)/autoflow simulate $$model $$dir || exit $$?; fi; \
	done
	$(BIN)/autoflow render models/retro-bot.yaml --fence

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
