# The two commands of the README. Each sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-clock lint chromium clean

# The main job on the embedded default: start the warehouse, simulate a desk (kept if one is
# there already), run the pipeline (a second demo finds nothing new and does nothing).
demo: $(VENV)/.installed
	$(BIN)/precog db start
	$(BIN)/precog simulate --trades 20000 --seed 3 --if-empty
	$(BIN)/precog run

# Lint, then every test against a real PostgreSQL (PGHOST if set, else the embedded default).
test: $(VENV)/.installed lint chromium
	$(BIN)/pytest

# The clock-sensitive tests at fake clock times (Debian's faketime), each with a private embedded
# server started under the same clock: midnight UTC (an hour and a day boundary), midnight in
# New York, and the end of daylight saving time in New York. No verdict may change.
CLOCKS := "2026-12-06 23:59:45" "2026-12-07 04:59:45" "2026-11-01 05:59:30"
CLOCK_TESTS := tests/models/test_marts.py tests/precog/bench/test_bench.py \
	tests/orchestration/test_checks.py::test_source_and_rollup_freshness \
	tests/precog/simulator/test_simulator.py::test_an_append_past_now_is_refused \
	tests/precog/simulator/test_simulator.py::test_an_append_without_history_and_a_future_end_are_refused

test-clock: $(VENV)/.installed
	@command -v faketime >/dev/null || { echo "test-clock needs faketime (apt-get install faketime)" >&2; exit 1; }
	@for clock in $(CLOCKS); do \
		data=$$(mktemp -d); echo "== the clock starts at $$clock UTC"; \
		env -u PGHOST PRECOG_DATA_DIR=$$data TZ=UTC \
			faketime -f "@$$clock" $(BIN)/pytest -q -p no:cacheprovider $(CLOCK_TESTS); \
		status=$$?; rm -rf $$data; [ $$status = 0 ] || exit $$status; \
	done

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Debian's Chromium, which tests/orchestration/test_e2e_dagster.py drives headless to screenshot the asset
# graph (about 10 s and 120 MB from the Debian mirror). Without apt-get, install it yourself:
# the test skips without it, and fails when CI is set.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

chromium:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for tests/orchestration/test_e2e_dagster.py"; \
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
