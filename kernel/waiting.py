"""The one way the harness waits for the system: poll a condition against a deadline, say what did not happen."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from kernel.errors import LabError

T = TypeVar("T")


def poll_until(read: Callable[[], T], done: Callable[[T], bool], timeout_s: float, poll_s: float = 0.2) -> T:
    """The first value `read` returns that is `done` (read at once, then every poll_s), else the last one read
    when timeout_s ran out."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = read()
        if done(value) or time.monotonic() >= deadline:
            return value
        time.sleep(poll_s)


def within(condition: Callable[[], bool], timeout_s: float, poll_s: float = 0.2) -> float | None:
    """Seconds until `condition` held (checked at once, then every poll_s), or None when timeout_s ran out."""
    started = time.monotonic()
    held = poll_until(condition, bool, timeout_s, poll_s)
    return time.monotonic() - started if held else None


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.2) -> float:
    """Seconds until `condition` held; LabError "<what> not within <timeout> s" when it did not."""
    took = within(condition, timeout_s, poll_s)
    if took is None:
        raise LabError(f"{what} not within {timeout_s:.0f} s")
    return took
