"""One run at a time per lab: an flock the kernel drops when its holder dies, so a crash never leaves it stuck.

The lock file keeps the holder's pid, command and start time, to name it to the run that is refused and to say
when a crashed holder's lock was recovered.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from kernel.errors import UsageError
from kernel.inventory import state_dir

_held: dict[str, tuple[IO[str], int]] = {}


def lock_path(lab_id: str) -> Path:
    return state_dir() / f"run-{lab_id}.lock"


def _holder(handle: IO[str]) -> dict[str, object]:
    handle.seek(0)
    try:
        data = json.loads(handle.read() or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _describe(holder: dict[str, object]) -> str:
    since = holder.get("since")
    when = time.strftime("%H:%M:%S", time.localtime(float(since))) if isinstance(since, int | float) else "?"
    return f"pid {holder.get('pid', '?')} ({holder.get('command', '?')}) since {when}"


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def run_lock(lab_id: str, command: str | None = None, notify: IO[str] | None = None) -> Iterator[None]:
    """Hold the lab's run lock for the block; re-entrant within one process (the gate runs many experiments)."""
    if lab_id in _held:
        handle, depth = _held[lab_id]
        _held[lab_id] = (handle, depth + 1)
        try:
            yield
        finally:
            _release(lab_id)
        return
    handle = _acquire(lab_id, command or " ".join(["chaos360", *sys.argv[1:]])[:200], notify or sys.stderr)
    _held[lab_id] = (handle, 1)
    try:
        yield
    finally:
        _release(lab_id)


def _acquire(lab_id: str, command: str, notify: IO[str]) -> IO[str]:
    path = lock_path(lab_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - held open for the lock's lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(handle)
        handle.close()
        raise UsageError(f"lab {lab_id} is busy: another run holds {path}: {_describe(holder)}; "
                         "wait for it to end or stop it (Ctrl-C heals)") from None
    previous = _holder(handle)
    if previous.get("pid") not in (None, os.getpid()):
        state = "still running, but not holding the lock" if _pid_alive(previous.get("pid")) else "gone"
        print(f"chaos360: recovered a stale run lock of {_describe(previous)}: that process is {state}",
              file=notify, flush=True)
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"pid": os.getpid(), "command": command, "since": time.time()}))
    handle.flush()
    return handle


def _release(lab_id: str) -> None:
    handle, depth = _held[lab_id]
    if depth > 1:
        _held[lab_id] = (handle, depth - 1)
        return
    del _held[lab_id]
    handle.seek(0)
    handle.truncate()
    handle.flush()
    fcntl.flock(handle, fcntl.LOCK_UN)
    handle.close()
