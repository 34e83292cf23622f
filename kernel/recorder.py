"""A background thread that records while a run goes on, and stops on request."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Recorder:
    """A daemon thread that runs `loop(stop_event)` until stopped; stopping twice is harmless.

    `cancel` unblocks a loop that waits on a stream rather than on the stop event.
    """

    def __init__(self, name: str, loop: Callable[[threading.Event], None],
                 cancel: Callable[[], None] | None = None) -> None:
        self._stop = threading.Event()
        self._cancel = cancel
        self._thread = threading.Thread(target=loop, args=(self._stop,), name=name, daemon=True)

    def start(self) -> Recorder:
        self._thread.start()
        return self

    def signal_stop(self) -> None:
        self._stop.set()
        if self._cancel is not None:
            self._cancel()

    def stop(self, timeout_s: float = 3.0) -> None:
        self.signal_stop()
        if self._thread.is_alive():
            self._thread.join(timeout_s)


def stop_all(recorders: list[Recorder]) -> None:
    """Signal every recorder first, so that their last waits overlap."""
    for recorder in recorders:
        recorder.signal_stop()
    for recorder in recorders:
        recorder.stop()
