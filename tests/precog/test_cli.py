"""The command line's errors: each names what is wrong, in the words of the command that was
run, before anything starts (no warehouse is reached: PGHOST points nowhere)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.helpers import precog_command


def precog_fails(*args: str, **env: str) -> tuple[int, str]:
    environment = {**os.environ, "PGHOST": "/nonexistent", **env}
    result = subprocess.run(
        precog_command(*args), env=environment, capture_output=True, text=True, timeout=60
    )
    return result.returncode, result.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["run", "--full-refesh"], "precog run: error: unrecognized arguments: --full-refesh"),
        (["db", "status", "--x"], "precog db status: error: unrecognized arguments: --x"),
        (
            ["simulate", "--trades", "abc"],
            "argument --trades: must be a positive whole number, got 'abc'",
        ),
        (["dashboard", "--port", "0"], "argument --port: must be a positive whole number"),
    ],
)
def test_a_bad_argument_is_named_by_its_command(args, said):
    code, stderr = precog_fails(*args)
    assert code == 2 and said in stderr, stderr
    assert f"usage: precog {args[0]}" in stderr, stderr


def test_a_bad_reporting_time_zone_is_named_before_the_run_starts():
    code, stderr = precog_fails("run", PRECOG_REPORTING_TIMEZONE="Mars/Olympus")
    assert code == 1
    assert stderr.strip() == (
        "precog: error: PRECOG_REPORTING_TIMEZONE='Mars/Olympus' is not a time zone: give an"
        " IANA name such as America/New_York, or unset it for UTC"
    )


@pytest.mark.parametrize(
    ("start", "said"),
    [
        ("1 Nov 2026", "is not a day: give the desk's first day as YYYY-MM-DD"),
        ("2999-01-01", "is not before today: the daily job has no finished day to run for"),
    ],
)
def test_a_bad_first_day_is_named_before_the_run_starts(start, said):
    code, stderr = precog_fails("run", PRECOG_PARTITIONS_START=start)
    assert code == 1
    assert stderr.startswith(f"precog: error: PRECOG_PARTITIONS_START={start!r} "), stderr
    assert said in stderr, stderr


def test_a_directory_to_import_is_called_a_directory(tmp_path):
    code, stderr = precog_fails("import-trades", str(tmp_path))
    assert (code, stderr.strip()) == (
        1,
        f"precog: error: {tmp_path} is a directory: give the CSV file to import",
    )
