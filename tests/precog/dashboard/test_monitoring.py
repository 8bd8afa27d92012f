"""The alert rules (monitoring/alerts.yml) are valid Prometheus rules whose thresholds fire on
the right side of each (monitoring/alerts_test.yml), checked by Prometheus' own promtool."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from precog import PROJECT_ROOT

MONITORING = PROJECT_ROOT / "monitoring"
# Where `make test-tools` unpacks it from Debian's prometheus package.
UNPACKED = PROJECT_ROOT / ".venv" / "tools" / "usr" / "bin" / "promtool"


@pytest.fixture
def promtool() -> str:
    found = str(UNPACKED) if UNPACKED.exists() else shutil.which("promtool")
    if found is None:
        reason = "promtool is missing (`make test-tools` unpacks it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.mark.parametrize(
    "command", [["check", "rules", "alerts.yml"], ["test", "rules", "alerts_test.yml"]]
)
def test_the_alert_rules(promtool, command):
    result = subprocess.run(
        [promtool, *command], cwd=MONITORING, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
