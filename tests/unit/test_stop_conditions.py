"""Stop conditions: defaults from the objectives, overrides per experiment, trips on error rate and lost writes."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from kernel.errors import UsageError
from kernel.objectives import load_objectives
from kernel.record import EventLog, JsonlTail, Request, read_events, request_from_dict
from probes.stop_conditions import conditions_for, error_rate_trip, lost_write_trip, watch


def _request(t: float, ok: bool = True, kind: str = "read", status: int = 200) -> Request:
    return Request(t, "GET x", kind, ok, status if ok else (status if status != 200 else 503), 5.0,
                   None if ok else "http_503", "task-1", "agent-1")  # type: ignore[arg-type]


def _line(request: Request) -> str:
    return json.dumps(request.__dict__) + "\n"


def test_defaults_come_from_the_objectives() -> None:
    assert conditions_for({}) == load_objectives().stop_conditions


def test_an_experiment_overrides_single_fields() -> None:
    conditions = conditions_for({"extensions": [{"name": "chaos360", "stop_conditions": {"window_s": 3}}]})
    assert conditions.window_s == 3
    assert conditions.max_error_rate == load_objectives().stop_conditions.max_error_rate


@pytest.mark.parametrize("bad", [{"max_error_rate": 2}, {"window_s": "soon"}, {"min_requests": 0}, ["x"]])
def test_a_bad_override_is_one_usage_line(bad: object) -> None:
    with pytest.raises(UsageError, match=r"extensions\[chaos360\]\.stop_conditions"):
        conditions_for({"extensions": [{"name": "chaos360", "stop_conditions": bad}]})


def test_error_rate_trips_only_above_the_limit_with_enough_requests() -> None:
    conditions = conditions_for({"extensions": [{"name": "chaos360", "stop_conditions": {"window_s": 10}}]})
    now = 1000.0
    half_failing = [_request(now - 5 + i * 0.1, ok=i % 2 == 0) for i in range(40)]
    mostly_failing = [_request(now - 5 + i * 0.1, ok=i % 4 == 0) for i in range(40)]
    assert error_rate_trip(half_failing, conditions, now) is None
    trip = error_rate_trip(mostly_failing, conditions, now)
    assert trip is not None and trip.measured == pytest.approx(0.75) and trip.limit == conditions.max_error_rate
    assert error_rate_trip(mostly_failing[:2], conditions, now) is None


def test_a_404_on_reading_an_acknowledged_task_is_a_lost_write() -> None:
    conditions = load_objectives().stop_conditions
    assert lost_write_trip([_request(1.0), _request(2.0, ok=False)], conditions) is None
    trip = lost_write_trip([_request(1.0), _request(2.0, ok=False, status=404)], conditions)
    assert trip is not None and trip.condition == "acknowledged write lost" and trip.measured == 1
    relaxed = conditions.model_copy(update={"abort_on_lost_write": False})
    assert lost_write_trip([_request(2.0, ok=False, status=404)], relaxed) is None


def test_the_tail_returns_only_new_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    tail = JsonlTail(path, request_from_dict)
    assert tail.read_new() == []
    path.write_text(_line(_request(1.0)) + _line(_request(2.0))[:20])
    assert [r.t for r in tail.read_new()] == [1.0]
    with open(path, "a") as handle:
        handle.write(_line(_request(2.0))[20:] + _line(_request(3.0)))
    assert [r.t for r in tail.read_new()] == [2.0, 3.0]


def test_the_watcher_logs_the_abort_and_trips_once(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    events = EventLog(tmp_path / "events.jsonl")
    tripped = threading.Event()
    conditions = conditions_for({"extensions": [{"name": "chaos360", "stop_conditions": {"window_s": 5}}]})
    watcher = watch(path, events, conditions, tripped.set, poll_s=0.05)
    now = time.time()
    path.write_text("".join(_line(_request(now - 1 + i * 0.01, ok=False)) for i in range(20)))
    assert tripped.wait(10)
    watcher.stop()
    aborted = [e for e in read_events(tmp_path / "events.jsonl") if e.kind == "run.aborted"]
    assert len(aborted) == 1
    assert aborted[0].get("measured") == 1.0 and "error rate above 50%" in aborted[0].get("condition")


def test_the_blast_radius_override_is_explicit() -> None:
    from probes.stop_conditions import allows_majority

    assert allows_majority({"extensions": [{"name": "chaos360", "allow_majority": True}]})
    assert not allows_majority({"extensions": [{"name": "chaos360", "allow_majority": "yes"}]})
    assert not allows_majority({"extensions": [{"name": "other", "allow_majority": True}]})
    assert not allows_majority({})
