# The two commands of the README. Each sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-clock lint test-tools clean

# The main job on the embedded default: start the warehouse, simulate a desk (kept if one is
# there already), run the pipeline (a second demo finds nothing new and does nothing).
# The demo desk goes live with its first run: its first day (.env, read by precog, dagster and
# dg) is two days back, so a whole day has ended in any reporting zone and the daily job has a
# window; the first run marks every window since as done.
demo: $(VENV)/.installed
	@grep -qs '^PRECOG_PARTITIONS_START=' .env || \
		echo "PRECOG_PARTITIONS_START=$$(date -u -d '2 days ago' +%F)" >> .env
	$(BIN)/precog db start
	$(BIN)/precog simulate --trades 20000 --seed 3 --if-empty
	$(BIN)/precog run
	@echo "The dashboard: .venv/bin/precog dashboard, then open http://127.0.0.1:8050/"

# Lint, then every test against a real PostgreSQL (PGHOST if set, else the embedded default).
test: $(VENV)/.installed lint test-tools
	$(BIN)/pytest

# The clock-sensitive tests at fake clock times (Debian's faketime), each ZONE@TIME in UTC:
# midnight UTC (an hour and a day boundary) reporting in UTC, then midnight in New York and the
# end of its daylight saving time (the repeated hour) reporting in New York. No verdict may
# change. Each clock has a private embedded server, started on the real clock: PostgreSQL's
# timers (lock_timeout, deadlock detection) never fire under libfaketime. What a test reads as
# "now" is the fake clock (Python, dbt, Dagster) or the warehouse's, as the code under test does.
CLOCKS := "UTC@2026-12-06 23:59:45" "America/New_York@2026-12-07 04:59:45" \
	"America/New_York@2026-11-01 05:59:30"
CLOCK_TESTS := tests/models/test_marts.py tests/precog/bench/test_bench.py \
	tests/orchestration/defs/checks/test_checks.py::test_source_and_rollup_freshness \
	tests/precog/simulator/test_simulator.py::test_an_append_past_now_is_refused \
	tests/precog/simulator/test_simulator.py::test_an_append_without_history_and_a_future_end_are_refused

test-clock: $(VENV)/.installed
	@command -v faketime >/dev/null || { echo "test-clock needs faketime (apt-get install faketime)" >&2; exit 1; }
	@for clock in $(CLOCKS); do \
		zone=$${clock%%@*}; time=$${clock#*@}; data=$$(mktemp -d); \
		echo "== the clock starts at $$time UTC, reporting in $$zone"; \
		env -u PGHOST PRECOG_DATA_DIR=$$data $(BIN)/precog db start >/dev/null && \
		env -u PGHOST PRECOG_DATA_DIR=$$data PRECOG_REPORTING_TIMEZONE=$$zone TZ=UTC \
			faketime -f "@$$time" $(BIN)/pytest -q -p no:cacheprovider $(CLOCK_TESTS); \
		status=$$?; env -u PGHOST PRECOG_DATA_DIR=$$data $(BIN)/precog db stop >/dev/null; \
		rm -rf $$data; [ $$status = 0 ] || exit $$status; \
	done

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Debian's Chromium, which the browser tests drive headless (the Dagster UI, the dashboard), and
# promtool, which checks the alert rules: taken out of Debian's prometheus package into
# .venv/tools, not installed, so no Prometheus server starts. Without apt-get, install them
# yourself: the tests skip without them, and fail when CI is set.
CHROMIUM := /usr/bin/chromium
PROMTOOL := $(VENV)/tools/usr/bin/promtool
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

test-tools: $(VENV)/.installed
	@if [ -x $(CHROMIUM) ]; then :; \
	elif command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			chromium fonts-liberation; \
	else \
		echo "warning: no $(CHROMIUM) and no apt-get; the browser tests need Chromium" >&2; \
	fi
	@if [ -x $(PROMTOOL) ] || command -v promtool >/dev/null; then :; \
	elif command -v apt-get >/dev/null; then \
		echo "unpacking promtool from Debian's prometheus package into $(VENV)/tools"; \
		mkdir -p $(VENV)/tools && cd $(VENV)/tools && \
		{ apt-get download -q prometheus 2>/dev/null || \
			{ $(SUDO) apt-get update -q && apt-get download -q prometheus; }; } && \
		dpkg-deb -x prometheus_*.deb . && rm prometheus_*.deb; \
	else \
		echo "warning: no promtool and no apt-get; the alert rules' test needs it" >&2; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

clean:
	-$(BIN)/precog db stop
	rm -rf $(VENV) .precog target logs
