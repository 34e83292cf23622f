"""The live view of a run: phase, elapsed time, request rate and error rate, read from the run's own record.

On a terminal one status line is rewritten in place; otherwise (CI logs) a plain line is printed when the phase
changes and every PLAIN_EVERY_S seconds; `json` prints the same as JSON lines; `quiet` prints nothing.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import TextIO

from kernel.record import Event, JsonlTail, Request, event_from_dict, request_from_dict
from probes import traffic

TICK_S = 0.5
RATE_WINDOW_S = 5.0
PLAIN_EVERY_S = 10.0


class Mode(StrEnum):
    AUTO = "auto"
    PLAIN = "plain"
    JSON = "json"
    QUIET = "quiet"


PHASES = {
    "run.start": "steady state",
    "load.start": "load on",
    "fault.inject": "injecting",
    "fault.effect": "under fault, waiting for recovery",
    "recovery": "recovered",
    "fault.heal": "healing",
    "lab.repair": "repairing the lab",
    "lab.ready": "healed",
    "load.stop": "steady state (after)",
    "run.aborted": "ABORTING",
    "run.end": "done",
}


@dataclass(frozen=True)
class Status:
    experiment: str
    phase: str
    elapsed_s: float
    rps: float
    error_rate: float | None

    def line(self) -> str:
        errors = "-" if self.error_rate is None else f"{self.error_rate:.1%}"
        return f"[{self.elapsed_s:6.1f}s] {self.experiment}: {self.phase:<34} {self.rps:6.0f} req/s  errors {errors}"


def phase_of(event: Event, current: str) -> str:
    """The phase an event starts, with what it hit when the event names it."""
    phase = PHASES.get(event.kind)
    if phase is None:
        return current
    if event.kind == "fault.inject":
        target = event.get("instance") or event.get("zone") or event.get("proxy") or event.get("link")
        return f"under fault: {event.get('fault')}" + (f" ({target})" if target else "")
    if event.kind == "run.aborted":
        return f"ABORTING: {event.get('condition')}"
    return phase


def rates(window: deque[Request], now: float) -> tuple[float, float | None]:
    """Requests per second and error rate of the requests that ended in the last RATE_WINDOW_S seconds."""
    ended = traffic.ended_within(window, RATE_WINDOW_S, now)
    if not ended:
        return 0.0, None
    return len(ended) / RATE_WINDOW_S, sum(not r.ok for r in ended) / len(ended)


class LiveView:
    """A daemon thread that follows one run directory until stopped."""

    def __init__(self, run_dir: Path, experiment: str, mode: Mode, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._mode = Mode.PLAIN if mode is Mode.AUTO and not self._stream.isatty() else mode
        self._experiment = experiment
        self._events = JsonlTail(run_dir / "events.jsonl", event_from_dict)
        self._requests = JsonlTail(run_dir / "requests.jsonl", request_from_dict)
        self._window: deque[Request] = deque()
        self._phase = "starting"
        self._started = time.monotonic()
        self._last_printed = (-PLAIN_EVERY_S, "")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="live-view", daemon=True)

    def __enter__(self) -> LiveView:
        if self._mode is not Mode.QUIET:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2 * TICK_S)
            self._show(self.status(), final=True)

    def status(self) -> Status:
        for event in self._events.read_new():
            self._phase = phase_of(event, self._phase)
        now = time.time()
        self._window.extend(self._requests.read_new())
        while self._window and self._window[0].t < now - 60:
            self._window.popleft()
        rps, error_rate = rates(self._window, now)
        return Status(self._experiment, self._phase, time.monotonic() - self._started, rps, error_rate)

    def _loop(self) -> None:
        while not self._stop.wait(TICK_S):
            self._show(self.status())

    def _show(self, status: Status, final: bool = False) -> None:
        if self._mode is Mode.AUTO:
            self._stream.write("\r\033[K" + status.line() + ("\n" if final else ""))
        elif self._due(status) or final:
            text = json.dumps(asdict(status) | {"kind": "progress"}) if self._mode is Mode.JSON else status.line()
            self._stream.write(text + "\n")
            self._last_printed = (status.elapsed_s, status.phase)
        self._stream.flush()

    def _due(self, status: Status) -> bool:
        at, phase = self._last_printed
        return status.phase != phase or status.elapsed_s - at >= PLAIN_EVERY_S


_mode = Mode.QUIET


def configure(mode: Mode) -> None:
    """Chosen by the CLI (--quiet, --json); runs started elsewhere (a bare pytest) show nothing."""
    global _mode
    _mode = mode


def view(run_dir: Path, experiment: str) -> LiveView:
    return LiveView(run_dir, experiment, _mode)
