"""Ctrl-C and SIGTERM end a run by healing it: the first signal interrupts, none can interrupt a heal."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """A user's or a supervisor's signal; a KeyboardInterrupt so that chaoslib and pytest unwind as for Ctrl-C."""

    def __init__(self, signame: str, run_dir: Path | None = None) -> None:
        super().__init__(signame)
        self.signame = signame
        self.run_dir = run_dir


class Aborted(KeyboardInterrupt):
    """A stop condition tripped; the run unwinds like an interrupt but is reported as aborted."""


class _State:
    def __init__(self) -> None:
        self.received: str | None = None
        self.aborting = False
        self.shield_depth = 0
        self.deferred: str | None = None


_state = _State()


def _signame(signum: int) -> str:
    return signal.Signals(signum).name


def _handler(signum: int, _frame: FrameType | None) -> None:
    name = _signame(signum)
    if _state.shield_depth:
        _state.deferred = _state.deferred or name
        return
    if _state.aborting and signum == signal.SIGINT:
        _state.aborting = False
        raise Aborted("stop condition")
    if _state.received is not None:
        print(f"chaos360: {name} ignored: still healing after {_state.received} (SIGKILL abandons the heal; "
              "then run `chaos360 heal`)", file=sys.stderr, flush=True)
        return
    _state.received = name
    raise Interrupted(name)


def install() -> None:
    """Route SIGINT and SIGTERM through the handler (main thread only; elsewhere signals cannot be set)."""
    if threading.current_thread() is threading.main_thread():
        for signum in HANDLED:
            signal.signal(signum, _handler)


def received() -> str | None:
    """The name of the first signal that interrupted this process, if any."""
    return _state.received


def note(signame: str) -> None:
    """Record an interruption that arrived through someone else's handler (chaoslib's SIGTERM one)."""
    _state.received = _state.received or signame


def reset() -> None:
    global _state
    _state = _State()


def request_abort() -> None:
    """Interrupt the main thread for a stop condition (from a watcher thread): a real signal wakes its sleeps."""
    _state.aborting = True
    os.kill(os.getpid(), signal.SIGINT)


@contextmanager
def shielded() -> Iterator[None]:
    """Signals in the block wait until it is done (a heal is never abandoned); a first one is raised then."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in HANDLED}
    for signum in HANDLED:
        signal.signal(signum, _handler)
    _state.shield_depth += 1
    try:
        yield
    finally:
        _state.shield_depth -= 1
        if not _state.shield_depth:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    deferred, _state.deferred = _state.deferred, None
    if deferred and not _state.shield_depth and _state.received is None:
        _state.received = deferred
        raise Interrupted(deferred)


def forget_orphaned_modules() -> list[str]:
    """An interrupt inside an import removes the package whose import failed but keeps the submodules it had already
    imported; importing the package again would not attach them (`requests.exceptions` missing, so `import docker`
    fails in the heal). Forget them, so the heal imports afresh; returns their names."""
    orphans = [name for name in list(sys.modules) if "." in name and not _ancestors_loaded(name)]
    for name in orphans:
        sys.modules.pop(name, None)
    return orphans


def _ancestors_loaded(name: str) -> bool:
    parts = name.split(".")
    return all(".".join(parts[:depth]) in sys.modules for depth in range(1, len(parts)))
