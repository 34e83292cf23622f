"""probes.integrity: acknowledged-write loss as set arithmetic, on literal histories."""

import pytest

from kernel.record import Request
from kernel.verdict import Verdict
from probes.integrity import (
    acknowledged_writes,
    is_acknowledged,
    is_outcome_unknown,
    judge_lost_events,
    judge_lost_writes,
    judge_read_your_writes,
    lost_writes,
    unknown_writes,
)


def create(task: str, status: int, error: str | None = None, agent: str | None = "a1", kind: str = "create") -> Request:
    ok = 200 <= status < 300 and error is None
    return Request(1.0, "POST", kind, ok, status, 5.0, error, task, agent)  # type: ignore[arg-type]


HISTORY = [
    create("ack1", 201),
    create("ack2", 201),
    create("timeout", 0, "timeout"),
    create("reset", 0, "connection_reset"),
    create("other", 0, "other"),
    create("http503", 503, "http_503"),
    create("refused", 0, "connection_refused"),
    create("bad", 400, "http_400"),
    create("read", 200, kind="read"),
    create("noagent", 201, agent=None),
]


def test_acknowledged_writes_are_creates_answered_2xx() -> None:
    assert acknowledged_writes(HISTORY) == {("a1", "ack1"), ("a1", "ack2")}


def test_unknown_writes_are_unanswered_or_5xx_creates() -> None:
    assert unknown_writes(HISTORY) == {("a1", "timeout"), ("a1", "reset"), ("a1", "other"), ("a1", "http503")}


@pytest.mark.parametrize(("record", "acknowledged", "unknown"), [
    (create("x", 201), True, False),
    (create("x", 0, "timeout"), False, True),
    (create("x", 0, "connection_reset"), False, True),
    (create("x", 0, "cancelled"), False, True),
    (create("x", 502, "http_502"), False, True),
    (create("x", 0, "connection_refused"), False, False),
    (create("x", 404, "http_404"), False, False),
    (create("x", 0, "timeout", kind="read"), False, False),
])
def test_each_create_is_acknowledged_unknown_or_not_applied(record: Request, acknowledged: bool, unknown: bool) -> None:
    assert is_acknowledged(record) is acknowledged
    assert is_outcome_unknown(record) is unknown
    assert not (acknowledged and unknown)


def test_a_key_acknowledged_by_a_retry_is_not_unknown() -> None:
    history = [create("same", 0, "timeout"), create("same", 201)]
    assert acknowledged_writes(history) == {("a1", "same")}
    assert unknown_writes(history) == set()


def test_no_requests_means_no_writes() -> None:
    assert acknowledged_writes([]) == set() and unknown_writes([]) == set()


def test_lost_is_acknowledged_minus_read_back() -> None:
    acknowledged = {("a", "1"), ("a", "2"), ("b", "1")}
    assert lost_writes(acknowledged, {("a", "1"), ("b", "1"), ("z", "9")}) == {("a", "2")}
    assert lost_writes(acknowledged, set()) == acknowledged
    assert lost_writes(set(), {("a", "1")}) == set()


def test_judge_passes_when_every_acknowledged_write_is_read_back() -> None:
    acknowledged = acknowledged_writes(HISTORY)
    judgement = judge_lost_writes(acknowledged, acknowledged | {("a1", "timeout")}, unknown_writes(HISTORY))
    assert judgement.verdict is Verdict.PASS and judgement.measured == 0
    assert "2 acknowledged, 2 read back, 0 lost" in judgement.detail
    assert "4 unknown outcome (1 of them present)" in judgement.detail


def test_unknown_writes_missing_after_heal_are_not_lost() -> None:
    acknowledged, unknown = acknowledged_writes(HISTORY), unknown_writes(HISTORY)
    judgement = judge_lost_writes(acknowledged, set(acknowledged), unknown)
    assert judgement.verdict is Verdict.PASS and judgement.measured == 0.0


def test_judge_fails_on_one_lost_write() -> None:
    judgement = judge_lost_writes({("a1", "ack1"), ("a1", "ack2")}, {("a1", "ack1")}, set())
    assert judgement.verdict is Verdict.FAIL and judgement.measured == 1.0 and judgement.limit == 0
    assert "lost e.g. a1/ack2" in judgement.detail
    assert judgement.message == "lost acknowledged writes 1 > limit 0 (no acknowledged write lost or changed)"


def test_judge_fails_on_a_changed_payload_and_counts_lost_and_changed_once_each() -> None:
    acknowledged = {("a1", "ack1"), ("a1", "ack2"), ("a1", "ack3")}
    judgement = judge_lost_writes(acknowledged, {("a1", "ack1"), ("a1", "ack2")}, set(),
                                  changed={("a1", "ack2"), ("a1", "ack3"), ("a1", "not-acked")})
    assert judgement.verdict is Verdict.FAIL and judgement.measured == 2.0
    assert "1 lost, 1 changed" in judgement.detail and "changed e.g. a1/ack2" in judgement.detail


def test_judge_is_unknown_when_nothing_was_acknowledged() -> None:
    judgement = judge_lost_writes(set(), set(), {("a1", "timeout")})
    assert judgement.verdict is Verdict.UNKNOWN and judgement.measured is None
    assert "1 with unknown outcome" in judgement.detail


def test_stray_read_backs_are_reported_not_failed() -> None:
    judgement = judge_lost_writes({("a", "1")}, {("a", "1"), ("a", "ghost")})
    assert judgement.verdict is Verdict.PASS and "1 read back although neither" in judgement.detail


def test_an_acknowledged_write_without_its_queue_event_fails() -> None:
    acknowledged = {("a", "1"), ("a", "2")}
    judgement = judge_lost_events(acknowledged, {("a", "1"), ("a", "ghost"), ("b", "other-run")}, {("a", "u")})
    assert judgement.verdict is Verdict.FAIL and judgement.measured == 1.0
    assert "2 acknowledged, 1 without an event" in judgement.detail and "e.g. a/2" in judgement.detail
    assert "1 events of no acknowledged or unknown-outcome write" in judgement.detail


def test_queue_events_pass_when_complete_and_are_unknown_when_trimmed_or_nothing_acknowledged() -> None:
    assert judge_lost_events({("a", "1")}, {("a", "1"), ("a", "u")}, {("a", "u")}).verdict is Verdict.PASS
    assert judge_lost_events({("a", "1")}, set(), trimmed=True).verdict is Verdict.UNKNOWN
    assert judge_lost_events(set(), {("a", "1")}).verdict is Verdict.UNKNOWN


def _read(t: float, status: int, task: str = "t1") -> Request:
    return Request(t, "GET /x", "read", status == 200, status, 5.0, None if status == 200 else f"http_{status}",
                   task, "a")


def test_a_read_of_an_acknowledged_task_answered_404_fails_read_your_writes() -> None:
    judgement = judge_read_your_writes([_read(2.0, 200), _read(3.0, 404, "t2"), _read(1.0, 404, "t3")])
    assert judgement.verdict is Verdict.FAIL and judgement.measured == 2.0
    assert judgement.detail == "3 reads of acknowledged tasks, 2 answered 404; first a/t3"


def test_read_your_writes_passes_on_other_failures_and_is_unknown_without_reads() -> None:
    assert judge_read_your_writes([_read(1.0, 200), _read(2.0, 503)]).verdict is Verdict.PASS
    assert judge_read_your_writes([]).verdict is Verdict.UNKNOWN
