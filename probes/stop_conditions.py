"""Stop conditions, watched while the load runs: when one trips, the run is aborted and healed.

Defaults come from objectives.yaml (`stop_conditions`); an experiment narrows or widens them in its chaos360
extension:

    extensions:
      - name: chaos360
        stop_conditions: {max_error_rate: 0.3, window_s: 5}
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kernel.errors import UsageError
from kernel.objectives import StopConditions, load_objectives
from kernel.record import EventLog, JsonlTail, Request, request_from_dict
from kernel.recorder import Recorder
from probes import traffic

EXTENSION = "chaos360"
POLL_S = 0.5
NOT_FOUND = 404
MAX_REQUEST_S = 60.0


@dataclass(frozen=True)
class Trip:
    condition: str
    measured: float
    limit: float
    detail: str


def chaos360_extension(experiment: dict[str, Any]) -> dict[str, Any]:
    """The experiment's `extensions` entry named chaos360, or an empty one."""
    for extension in experiment.get("extensions") or []:
        if isinstance(extension, dict) and extension.get("name") == EXTENSION:
            return extension
    return {}


def allows_majority(experiment: dict[str, Any]) -> bool:
    """The experiment's explicit blast-radius override (checked by chaos360.validation before the run)."""
    return chaos360_extension(experiment).get("allow_majority") is True


def conditions_for(experiment: dict[str, Any]) -> StopConditions:
    """The objectives' stop conditions, overridden field by field by the experiment's chaos360 extension."""
    defaults = load_objectives().stop_conditions
    overrides = chaos360_extension(experiment).get("stop_conditions") or {}
    if not isinstance(overrides, dict):
        raise UsageError("extensions[chaos360].stop_conditions: expected a mapping")
    try:
        return StopConditions.model_validate({**defaults.model_dump(), **overrides})
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"extensions[chaos360].stop_conditions.{field}: {first['msg']}") from None


def error_rate_trip(window: Iterable[Request], conditions: StopConditions, now: float) -> Trip | None:
    reason = traffic.stop_reason(window, conditions, now)
    if reason is None:
        return None
    ended = traffic.ended_within(window, conditions.window_s, now)
    rate = sum(not r.ok for r in ended) / len(ended)
    return Trip(f"error rate above {conditions.max_error_rate:.0%} for {conditions.window_s:g} s", rate,
                conditions.max_error_rate, reason)


def lost_write_trip(new: Iterable[Request], conditions: StopConditions) -> Trip | None:
    """A read of an acknowledged task (the load only reads what it was acknowledged) that answers 404."""
    if not conditions.abort_on_lost_write:
        return None
    lost = [r for r in new if r.kind == "read" and r.status == NOT_FOUND]
    if not lost:
        return None
    return Trip("acknowledged write lost", float(len(lost)), 0.0,
                f"{len(lost)} read(s) of acknowledged tasks answered 404, e.g. task {lost[0].task_id}")


def watch(requests_file: Path, events: EventLog, conditions: StopConditions,
          on_trip: Callable[[], None], poll_s: float = POLL_S) -> Recorder:
    """A recorder thread that logs `run.aborted` and calls on_trip once, when the first condition trips."""
    tail = JsonlTail(requests_file, request_from_dict)
    window: deque[Request] = deque()

    def loop(stop: threading.Event) -> None:
        while not stop.wait(poll_s):
            new = tail.read_new()
            now = time.time()
            window.extend(new)
            while window and window[0].t < now - conditions.window_s - MAX_REQUEST_S:
                window.popleft()
            trip = lost_write_trip(new, conditions) or error_rate_trip(window, conditions, now)
            if trip is not None and not stop.is_set():
                events.append("run.aborted", condition=trip.condition, measured=trip.measured, limit=trip.limit,
                              detail=trip.detail)
                on_trip()
                return

    return Recorder("stop-conditions", loop).start()
