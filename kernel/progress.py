"""Progress lines for long work, on stderr so that stdout stays machine-readable."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Prints timestamped steps relative to when the work started."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self._stream = stream or sys.stderr
        self._quiet = quiet
        self._started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def step(self, message: str) -> None:
        if not self._quiet:
            print(f"[{self.elapsed:6.1f}s] {message}", file=self._stream, flush=True)
