# The two commands of the README. Each sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint clean

# The main job on the embedded default: start the warehouse, simulate a desk, run the pipeline.
demo: $(VENV)/.installed
	$(BIN)/precog db start
	$(BIN)/precog simulate --trades 20000 --seed 3
	$(BIN)/precog run

# Lint, then every test against a real PostgreSQL (PGHOST if set, else the embedded default).
test: $(VENV)/.installed lint
	$(BIN)/pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

clean:
	-$(BIN)/precog db stop
	rm -rf $(VENV) .precog target logs
