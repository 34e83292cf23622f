"""Find and end Locust processes that chaos360 started, by the marker in their environment."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from kernel.waiting import within

MARKER_ENV = "CHAOS360_LOAD_MARKER"
PROC = Path("/proc")
POLL_S = 0.05


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs}


def _alive(pid: int) -> bool:
    """True while pid runs (a zombie counts as ended)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def find_load_processes(marker: str | None = None) -> list[int]:
    """Pids of live processes carrying the load marker (any value, or exactly marker), except this one."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        value = _environ(int(entry.name)).get(MARKER_ENV)
        if value is not None and (marker is None or value == marker) and _alive(int(entry.name)):
            found.append(int(entry.name))
    return sorted(found)


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def kill_load_processes(marker: str | None = None, grace_s: float = 5.0) -> list[int]:
    """SIGTERM every marked process, SIGKILL those still alive after grace_s; the pids found."""
    pids = find_load_processes(marker)
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    within(lambda: not any(_alive(pid) for pid in pids), grace_s, poll_s=POLL_S)
    for pid in pids:
        if _alive(pid):
            _signal(pid, signal.SIGKILL)
    return pids
