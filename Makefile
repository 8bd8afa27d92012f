# The two commands of the README. Each sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint chromium clean

# The main job on the embedded default: start the warehouse, simulate a desk, run the pipeline.
demo: $(VENV)/.installed
	$(BIN)/precog db start
	$(BIN)/precog simulate --trades 20000 --seed 3
	$(BIN)/precog run

# Lint, then every test against a real PostgreSQL (PGHOST if set, else the embedded default).
test: $(VENV)/.installed lint chromium
	$(BIN)/pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Debian's Chromium, which tests/test_e2e_dagster.py drives headless to screenshot the asset
# graph (about 10 s and 120 MB from the Debian mirror). Without apt-get, install it yourself:
# the test skips without it, and fails when CI is set.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

chromium:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for tests/test_e2e_dagster.py"; \
		$(SUDO) apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			chromium fonts-liberation; \
	else \
		echo "warning: no $(CHROMIUM) and no apt-get; the end-to-end test needs Chromium" >&2; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

clean:
	-$(BIN)/precog db stop
	rm -rf $(VENV) .precog target logs
