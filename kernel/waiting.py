"""The one way the harness waits for the system: poll a condition against a deadline, say what did not happen."""

from __future__ import annotations

import time
from collections.abc import Callable

from kernel.errors import LabError


def within(condition: Callable[[], bool], timeout_s: float, poll_s: float = 0.2) -> float | None:
    """Seconds until `condition` held (checked at once, then every poll_s), or None when timeout_s ran out."""
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started >= timeout_s:
            return None
        time.sleep(poll_s)


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.2) -> float:
    """Seconds until `condition` held; LabError "<what> not within <timeout> s" when it did not."""
    took = within(condition, timeout_s, poll_s)
    if took is None:
        raise LabError(f"{what} not within {timeout_s:.0f} s")
    return took
