"""One run per lab: a second holder is refused and named; a dead holder's lock is recovered."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kernel.errors import UsageError
from kernel.runlock import lock_path, run_lock

HOLD = """
import sys, time
from kernel.runlock import run_lock
with run_lock("lab1", command="chaos360 run experiments/zone-partition.yaml"):
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
"""


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAOS360_STATE_DIR", str(tmp_path))


def _holder(seconds: float) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(seconds)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def test_a_second_run_is_refused_naming_the_holder() -> None:
    holder = _holder(30)
    try:
        busy = rf"lab lab1 is busy: .*pid {holder.pid} \(chaos360 run experiments"
        with pytest.raises(UsageError, match=busy), run_lock("lab1"):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_holders_lock_is_recovered_and_reported() -> None:
    holder = _holder(30)
    holder.kill()
    holder.wait()
    assert json.loads(lock_path("lab1").read_text())["pid"] == holder.pid
    notes = io.StringIO()
    with run_lock("lab1", notify=notes):
        assert json.loads(lock_path("lab1").read_text())["pid"] != holder.pid
    assert f"recovered a stale run lock of pid {holder.pid}" in notes.getvalue()


def test_the_lock_is_reentrant_within_a_process_and_released_after() -> None:
    with run_lock("lab1"), run_lock("lab1"):
        pass
    holder = _holder(0.1)
    holder.wait(10)
    assert holder.returncode == 0


def test_locks_of_different_labs_are_independent() -> None:
    holder = _holder(30)
    try:
        with run_lock("lab2"):
            assert json.loads(lock_path("lab2").read_text())["pid"] != holder.pid
    finally:
        holder.kill()
        holder.wait()
