"""kernel.record: the record the probes judge (requests.jsonl, events.jsonl)."""

import json
import threading
from pathlib import Path

import pytest

from kernel.errors import UsageError
from kernel.record import (
    Event,
    EventLog,
    HistoryError,
    ReadySample,
    Request,
    events_of_kind,
    read_events,
    read_requests,
    ready_samples,
)

REQUEST = {
    "t": 1700000000.25, "name": "POST /v1/agents/[id]/tasks", "kind": "create", "ok": True, "status": 201,
    "latency_ms": 12.5, "error": None, "task_id": "t1", "agent_id": "load-1",
}


def _line(**overrides: object) -> str:
    return json.dumps({**REQUEST, **overrides}) + "\n"


def test_requests_are_parsed_into_typed_records(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_text(_line() + _line(t=1700000001, ok=False, status=0, error="timeout", latency_ms=3000))
    first, second = read_requests(path)
    assert first == Request(1700000000.25, "POST /v1/agents/[id]/tasks", "create", True, 201, 12.5, None, "t1",
                            "load-1")
    assert second.t == 1700000001.0 and isinstance(second.t, float) and second.error == "timeout"


def test_a_torn_last_request_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_text(_line() + _line(task_id="t2")[:40])
    assert [r.task_id for r in read_requests(path)] == ["t1"]


def test_a_complete_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_text(_line() + _line(task_id="t2").rstrip("\n"))
    assert [r.task_id for r in read_requests(path)] == ["t1", "t2"]


@pytest.mark.parametrize("bad", [
    "not json\n", "[1]\n", _line(kind="delete"), _line(ok="yes"), _line(status=True), _line(status="201"),
    _line(t=None), _line(error=3), _line(name=None),
])
def test_a_malformed_line_in_the_middle_is_an_error_naming_the_line(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_text(_line() + bad + _line())
    with pytest.raises(HistoryError, match=r"requests\.jsonl line 2: "):
        read_requests(path)


def test_blank_lines_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_text("\n" + _line() + "\n\n")
    assert len(read_requests(path)) == 1


def test_a_missing_file_is_a_usage_error_unless_allowed(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        read_events(tmp_path / "events.jsonl")
    assert read_events(tmp_path / "events.jsonl", missing_ok=True) == []
    assert read_requests(tmp_path / "requests.jsonl", missing_ok=True) == []


def test_events_keep_their_fields_in_data(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"t": 10.5, "kind": "fault.inject", "fault": "redis-master-failover", "target": "redis-a"}\n'
        '{"t": 11, "kind": "sentinel", "event": "+sdown", "detail": "master mymaster 172.28.36.41 6379"}\n'
        '{"t": 12, "kind": "ready", "all_ready": fal'
    )
    inject, sdown = read_events(path)
    assert inject == Event(10.5, "fault.inject", {"fault": "redis-master-failover", "target": "redis-a"})
    assert sdown.get("event") == "+sdown" and sdown.get("missing", "dflt") == "dflt"
    assert hash(inject) == hash(Event(10.5, "fault.inject", {}))  # hashable although data is a dict


@pytest.mark.parametrize("bad", ['{"kind": "x"}', '{"t": 1, "kind": ""}', '{"t": 1}', '{"t": true, "kind": "x"}'])
def test_events_need_a_time_and_a_kind(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(bad + "\n")
    with pytest.raises(HistoryError, match="line 1"):
        read_events(path)


def test_event_log_appends_whole_lines_with_a_time_stamp(tmp_path: Path) -> None:
    clock = iter([100.0, 101.5])
    log = EventLog(tmp_path / "run" / "events.jsonl", clock=lambda: next(clock))
    written = log.append("fault.inject", fault="app-replica-kill", target="app-a")
    log.append("ready", all_ready=True)
    assert written == Event(100.0, "fault.inject", {"fault": "app-replica-kill", "target": "app-a"})
    lines = (tmp_path / "run" / "events.jsonl").read_text().splitlines()
    assert json.loads(lines[1]) == {"t": 101.5, "kind": "ready", "all_ready": True}
    assert log.read() == [written, Event(101.5, "ready", {"all_ready": True})]


def test_event_log_uses_wall_clock_by_default(tmp_path: Path) -> None:
    import time

    before = time.time()
    event = EventLog(tmp_path / "events.jsonl").append("note")
    assert before <= event.t <= time.time()


def test_event_log_refuses_a_caller_time_stamp_and_unserialisable_fields(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    with pytest.raises(ValueError, match="time stamp"):
        log.append("x", t=5)
    with pytest.raises(TypeError):
        log.append("x", value=object())
    assert not (tmp_path / "events.jsonl").exists() or (tmp_path / "events.jsonl").read_text() == ""


def test_event_log_is_thread_safe(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")

    def write(worker: int) -> None:
        own = EventLog(tmp_path / "events.jsonl") if worker % 2 else log
        for i in range(200):
            own.append("tick", worker=worker, i=i, pad="x" * (100 + 20_000 * (i % 10 == 0)))

    # odd workers use their own EventLog of the same file: writes are serialised per file, not per object
    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = read_events(tmp_path / "events.jsonl")
    assert len(events) == 1600
    assert {(e.get("worker"), e.get("i")) for e in events} == {(w, i) for w in range(8) for i in range(200)}


def test_ready_samples_and_events_of_kind_are_time_ordered() -> None:
    events = [
        Event(3.0, "ready", {"all_ready": True}), Event(1.0, "ready", {"all_ready": False}),
        Event(2.0, "fault.inject", {}),
    ]
    assert ready_samples(events) == [ReadySample(1.0, False), ReadySample(3.0, True)]
    assert [e.t for e in events_of_kind(events, "ready")] == [1.0, 3.0]
    assert ready_samples([]) == []


def test_a_ready_sample_without_a_boolean_is_an_error() -> None:
    with pytest.raises(HistoryError, match="all_ready"):
        ready_samples([Event(1.0, "ready", {"all_ready": "yes"})])
