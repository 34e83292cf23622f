"""The live progress view in a real terminal (through script(1)) and as plain lines in a log."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from kernel.inventory import Inventory

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
RUN = [sys.executable, "-m", "chaos360", "run", "experiments/app-replica-kill.yaml"]


def test_a_terminal_gets_one_rewritten_status_line(lab: Inventory) -> None:
    result = subprocess.run(["script", "-qec", shlex.join(RUN), "/dev/null"], cwd=ROOT, capture_output=True,
                            timeout=300)
    screen = result.stdout.decode(errors="replace")
    assert result.returncode == 0, screen
    assert screen.count("\r\x1b[K") >= 10
    for phase in ("steady state", "under fault: kill", "healing", "done"):
        assert phase in screen, phase
    assert "req/s" in screen and "app-replica-kill: PASS" in screen


def test_a_log_gets_plain_lines_per_phase(lab: Inventory) -> None:
    result = subprocess.run(RUN, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if "req/s" in line]
    assert "\r" not in result.stderr
    assert any("under fault: kill" in line for line in progress) and progress[-1].split(": ", 1)[1].startswith("done")
    assert len(progress) < 30, "plain mode prints on phase changes and every 10 s, not every tick"
