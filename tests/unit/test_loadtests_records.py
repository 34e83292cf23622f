import json
from pathlib import Path

import pytest

from loadtests.records import RequestRecord, parse_line, read_requests, record_from_dict, summarize, tail_requests


def _line(**overrides: object) -> str:
    fields: dict[str, object] = {
        "t": 1700000000.25, "name": "POST /v1/agents/[id]/tasks", "kind": "create", "ok": True, "status": 201,
        "latency_ms": 12.5, "error": None, "task_id": "abc", "agent_id": "load-1",
    }
    fields.update(overrides)
    return json.dumps(fields) + "\n"


def test_a_complete_line_parses_to_a_typed_record() -> None:
    record = parse_line(_line())
    assert record == RequestRecord(1700000000.25, "POST /v1/agents/[id]/tasks", "create", True, 201, 12.5, None,
                                   "abc", "load-1")
    assert record.acknowledged_write and not record.outcome_unknown


def test_to_json_round_trips() -> None:
    record = parse_line(_line(ok=False, status=0, error="timeout"))
    assert record is not None
    assert parse_line(record.to_json()) == record


def test_integers_are_accepted_for_float_fields() -> None:
    record = parse_line(_line(t=1700000000, latency_ms=3))
    assert record is not None and record.t == 1700000000.0 and isinstance(record.latency_ms, float)


@pytest.mark.parametrize("bad", [
    "not json", "[1, 2]", "{}", _line(kind="delete"), _line(ok="yes"), _line(status=True), _line(status="201"),
    _line(t=None), _line(latency_ms=False), _line(error=3), _line(task_id=["x"]), _line(name=None),
])
def test_malformed_lines_are_skipped(bad: str) -> None:
    assert parse_line(bad) is None


def test_record_from_dict_names_the_bad_field() -> None:
    with pytest.raises(ValueError, match="status"):
        record_from_dict(json.loads(_line(status="201")))


def test_read_requests_skips_a_torn_last_line_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_text(_line(task_id="a") + "garbage\n\n" + _line(task_id="b") + _line(task_id="c")[:40])
    assert [r.task_id for r in read_requests(path)] == ["a", "b"]


def test_tail_requests_returns_only_complete_lines_and_resumes(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    assert tail_requests(path, 0) == ([], 0)
    torn = _line(task_id="b")
    path.write_text(_line(task_id="a") + torn[:20])
    records, offset = tail_requests(path, 0)
    assert [r.task_id for r in records] == ["a"] and offset == len(_line(task_id="a"))
    with open(path, "a") as file:
        file.write(torn[20:] + "oops\n" + _line(task_id="c"))
    records, offset = tail_requests(path, offset)
    assert [r.task_id for r in records] == ["b", "c"] and offset == path.stat().st_size
    assert tail_requests(path, offset) == ([], offset)


@pytest.mark.parametrize(("error", "status", "unknown"), [
    ("timeout", 0, True), ("connection_reset", 0, True), ("cancelled", 0, True), ("http_503", 503, True),
    ("connection_refused", 0, False), ("http_400", 400, False),
])
def test_outcome_unknown_only_for_creates_that_may_have_been_applied(error: str, status: int, unknown: bool) -> None:
    record = parse_line(_line(ok=False, status=status, error=error))
    assert record is not None and record.outcome_unknown is unknown and not record.acknowledged_write
    read = parse_line(_line(kind="read", ok=False, status=status, error=error))
    assert read is not None and not read.outcome_unknown


def test_summarize_counts_and_rate() -> None:
    lines = [_line(t=100.0), _line(t=101.0, ok=False, status=503, error="http_503"), _line(t=102.0)]
    summary = summarize([r for r in map(parse_line, lines) if r is not None])
    assert (summary.total, summary.ok, summary.errors, summary.span_s) == (3, 2, {"http_503": 1}, 2.0)
    assert summary.rps == 1.5
    assert summarize([]).rps == 0.0
