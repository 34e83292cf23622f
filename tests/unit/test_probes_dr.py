"""probes.dr: a disaster-recovery drill judged from literal records: its moments, the windows of acknowledged
writes, and the data, RPO, RTO and queue judgements."""

import json

import pytest

from kernel.objectives import DrDrillObjective
from kernel.record import Event, Request
from kernel.verdict import Verdict
from loadtests.payloads import task_payload
from probes.dr import (
    DrillMoments,
    Windows,
    integrity_rows,
    judge_events_before,
    judge_rpo,
    judge_rpo_writes,
    judge_rto,
    judge_window,
    moments,
    windows,
)
from probes.integrity import WriteKey

WHY = "the drill's recovery objectives"


def create(t: float, latency_ms: float, task: str, agent: str = "a1", ok: bool = True, status: int = 201,
           error: str | None = None) -> Request:
    return Request(t=t, name="create", kind="create", ok=ok, status=status, latency_ms=latency_ms, error=error,
                   task_id=task, agent_id=agent)


def payload(key: WriteKey) -> str:
    return json.dumps(task_payload(*key))


def stored_as_sent(*keys: WriteKey) -> dict[WriteKey, str]:
    return {key: payload(key) for key in keys}


def objective(rto_s: float = 120.0, rpo_s: float = 60.0) -> DrDrillObjective:
    return DrDrillObjective(rto_s=rto_s, rpo_s=rpo_s, why=WHY)


def test_moments_take_the_last_backup_moment_first_disaster_last_restore_and_first_verification() -> None:
    events = [
        Event(10.0, "dr.backup", {"backup_id": "b1", "moment": 9.5}),
        Event(20.0, "dr.backup", {"backup_id": "b2", "moment": 19.5}),
        Event(25.0, "fault.inject", {"fault": "kill-app"}),
        Event(30.0, "fault.inject", {"fault": "lose-data"}),
        Event(35.0, "fault.inject", {"fault": "lose-data"}),
        Event(60.0, "fault.heal", {"fault": "lose-data"}),
        Event(70.0, "fault.heal", {"fault": "lose-data"}),
        Event(75.0, "fault.heal", {"fault": "kill-app"}),
        Event(80.0, "dr.verified", {"tasks": 3}),
        Event(90.0, "dr.verified", {"tasks": 3}),
    ]
    assert moments(events) == DrillMoments(backup=19.5, disaster=30.0, restored=70.0, verified=80.0)


def test_the_backup_moment_is_the_recorded_moment_not_the_event_time() -> None:
    assert moments([Event(50.0, "dr.backup", {"backup_id": "b", "moment": 42.25})]).backup == 42.25


def test_moments_of_a_record_without_a_drill_are_all_absent() -> None:
    found = moments(iter([Event(1.0, "fault.inject", {"fault": "kill-app"}), Event(2.0, "ready", {})]))
    assert found == DrillMoments(None, None, None, None)


def test_a_write_is_placed_by_its_acknowledgement_time_not_its_start() -> None:
    requests = [
        create(99.5, 400.0, "acked-before"),
        create(99.5, 600.0, "started-before-acked-after"),
        create(150.0, 10.0, "between"),
        create(199.9, 200.0, "acked-after-restore"),
    ]
    found = windows(requests, backup=100.0, restored=200.0)
    assert found == Windows(before=frozenset({("a1", "acked-before")}),
                            between=frozenset({("a1", "started-before-acked-after"), ("a1", "between")}),
                            after=frozenset({("a1", "acked-after-restore")}))


def test_a_write_acknowledged_exactly_at_the_backup_moment_is_not_before_it() -> None:
    found = windows([create(99.0, 1000.0, "edge")], backup=100.0, restored=200.0)
    assert found.before == frozenset()
    assert found.between == frozenset({("a1", "edge")})


def test_a_write_acknowledged_exactly_at_the_restore_is_after_it() -> None:
    found = windows([create(199.0, 1000.0, "edge")], backup=100.0, restored=200.0)
    assert found.after == frozenset({("a1", "edge")})
    assert found.between == frozenset()


def test_without_a_restore_every_write_after_the_backup_is_between() -> None:
    found = windows([create(150.0, 5.0, "t1"), create(10_000.0, 5.0, "t2")], backup=100.0, restored=None)
    assert found.between == frozenset({("a1", "t1"), ("a1", "t2")})
    assert found.after == frozenset()


def test_unacknowledged_requests_are_in_no_window() -> None:
    requests = [
        create(50.0, 5.0, "timeout", ok=False, status=0, error="timeout"),
        create(50.0, 5.0, "http503", ok=False, status=503, error="http_503"),
        create(150.0, 5.0, "refused", ok=False, status=0, error="connection_refused"),
        Request(t=50.0, name="read", kind="read", ok=True, status=200, latency_ms=5.0, error=None, task_id="read",
                agent_id="a1"),
        Request(t=50.0, name="create", kind="create", ok=True, status=201, latency_ms=5.0, error=None, task_id=None,
                agent_id="a1"),
        create(50.0, 5.0, "kept"),
    ]
    found = windows(requests, backup=100.0, restored=200.0)
    assert found == Windows(frozenset({("a1", "kept")}), frozenset(), frozenset())


def test_a_key_acknowledged_twice_counts_in_its_earliest_window_only() -> None:
    requests = [create(250.0, 5.0, "t"), create(150.0, 5.0, "t"), create(50.0, 5.0, "t"),
                create(250.0, 5.0, "u"), create(150.0, 5.0, "u")]
    found = windows(requests, backup=100.0, restored=200.0)
    assert found.before == frozenset({("a1", "t")})
    assert found.between == frozenset({("a1", "u")})
    assert found.after == frozenset()


def test_windows_keep_the_agent_in_the_key() -> None:
    found = windows([create(50.0, 5.0, "t", agent="a1"), create(150.0, 5.0, "t", agent="a2")], 100.0, 200.0)
    assert found.before == frozenset({("a1", "t")})
    assert found.between == frozenset({("a2", "t")})


def test_a_window_whose_writes_are_all_present_with_their_payload_passes() -> None:
    keys = frozenset({("a1", "t1"), ("a2", "t2")})
    judgement = judge_window("data before the backup", keys, stored_as_sent(*keys, ("a3", "unrelated")))
    assert judgement.verdict is Verdict.PASS
    assert judgement.measured == 0.0
    assert judgement.name == "data before the backup"
    assert "2 acknowledged, 2 present, 0 lost, 0 changed" in judgement.detail


def test_a_window_with_lost_and_changed_writes_fails_counting_both() -> None:
    keys = frozenset({("a1", "ok"), ("a1", "lost1"), ("a1", "lost2"), ("a1", "altered")})
    stored = stored_as_sent(("a1", "ok"))
    stored[("a1", "altered")] = json.dumps(task_payload("a1", "someone-else"))
    judgement = judge_window("data before the backup", keys, stored)
    assert judgement.verdict is Verdict.FAIL
    assert judgement.measured == 3.0
    assert "4 acknowledged, 2 present, 2 lost, 1 changed" in judgement.detail
    assert "lost e.g. a1/lost1, a1/lost2" in judgement.detail


def test_a_stored_payload_that_is_not_json_counts_as_changed() -> None:
    judgement = judge_window("w", frozenset({("a1", "t")}), {("a1", "t"): "not json"})
    assert judgement.verdict is Verdict.FAIL
    assert "0 lost, 1 changed" in judgement.detail


def test_the_lost_examples_are_at_most_three() -> None:
    keys = frozenset(("a1", f"t{i}") for i in range(5))
    judgement = judge_window("w", keys, {})
    assert judgement.measured == 5.0
    assert judgement.detail.endswith("lost e.g. a1/t0, a1/t1, a1/t2")


def test_an_empty_window_is_unknown() -> None:
    judgement = judge_window("data after the restore", frozenset(), stored_as_sent(("a1", "t")))
    assert judgement.verdict is Verdict.UNKNOWN
    assert judgement.measured is None


def test_rpo_writes_counts_the_missing_without_failing() -> None:
    keys = frozenset({("a1", "t1"), ("a1", "t2"), ("a1", "t3")})
    judgement = judge_rpo_writes(keys, stored_as_sent(("a1", "t1")))
    assert judgement.verdict is Verdict.PASS
    assert judgement.measured == 2.0
    assert "3 acknowledged after the backup's moment, 1 of them present" in judgement.detail


def test_rpo_is_backup_moment_to_disaster_within_the_objective() -> None:
    found = DrillMoments(backup=100.0, disaster=130.25, restored=200.0, verified=210.0)
    judgement = judge_rpo(found, objective(rpo_s=60.0))
    assert judgement.measured == 30.25
    assert judgement.limit == 60.0
    assert judgement.verdict is Verdict.PASS


def test_rpo_over_the_objective_fails() -> None:
    found = DrillMoments(backup=100.0, disaster=190.0, restored=200.0, verified=210.0)
    judgement = judge_rpo(found, objective(rpo_s=60.0))
    assert judgement.measured == 90.0
    assert judgement.verdict is Verdict.FAIL


def test_rpo_without_an_objective_is_reported_and_passes() -> None:
    judgement = judge_rpo(DrillMoments(100.0, 190.0, None, None), None)
    assert judgement.measured == 90.0
    assert judgement.limit is None
    assert judgement.verdict is Verdict.PASS


@pytest.mark.parametrize("found", [DrillMoments(None, 130.0, 200.0, 210.0), DrillMoments(100.0, None, None, None)])
def test_rpo_without_a_backup_or_a_disaster_is_unknown(found: DrillMoments) -> None:
    judgement = judge_rpo(found, objective())
    assert judgement.verdict is Verdict.UNKNOWN
    assert judgement.measured is None


def test_rto_runs_from_the_disaster_to_the_later_of_ready_and_verified() -> None:
    found = DrillMoments(backup=100.0, disaster=130.0, restored=200.0, verified=215.5)
    judgement = judge_rto(found, objective(rto_s=90.0))
    assert judgement.measured == 85.5
    assert judgement.limit == 90.0
    assert judgement.verdict is Verdict.PASS
    assert "restored (ready) after 70.0 s, data verified after 85.5 s" in judgement.detail


def test_rto_counts_the_restore_when_it_ends_after_the_verification() -> None:
    found = DrillMoments(backup=100.0, disaster=130.0, restored=220.0, verified=210.0)
    assert judge_rto(found, objective(rto_s=300.0)).measured == 90.0


def test_rto_over_the_objective_fails() -> None:
    found = DrillMoments(backup=100.0, disaster=130.0, restored=200.0, verified=215.5)
    judgement = judge_rto(found, objective(rto_s=60.0))
    assert judgement.verdict is Verdict.FAIL
    assert judgement.measured == 85.5


def test_rto_without_an_objective_passes_with_its_value() -> None:
    judgement = judge_rto(DrillMoments(100.0, 130.0, 200.0, 210.0), None)
    assert judgement.verdict is Verdict.PASS
    assert judgement.measured == 80.0
    assert judgement.limit is None


@pytest.mark.parametrize("found", [DrillMoments(100.0, 130.0, 200.0, None), DrillMoments(100.0, 130.0, None, 210.0),
                                   DrillMoments(100.0, 130.0, None, None)])
def test_a_disaster_without_a_restore_or_its_verification_fails_the_rto(found: DrillMoments) -> None:
    judgement = judge_rto(found, objective())
    assert judgement.verdict is Verdict.FAIL
    assert judgement.measured is None


def test_rto_without_a_disaster_is_unknown() -> None:
    judgement = judge_rto(DrillMoments(100.0, None, None, None), objective())
    assert judgement.verdict is Verdict.UNKNOWN


def test_events_before_the_backup_all_restored_pass() -> None:
    keys = frozenset({("a1", "t1"), ("a1", "t2")})
    judgement = judge_events_before(keys, keys | {("a9", "later")})
    assert judgement.verdict is Verdict.PASS
    assert judgement.measured == 0.0


def test_events_before_the_backup_missing_fail_naming_them() -> None:
    keys = frozenset({("a1", "t1"), ("a1", "t2"), ("a1", "t3")})
    judgement = judge_events_before(keys, frozenset({("a1", "t2")}))
    assert judgement.verdict is Verdict.FAIL
    assert judgement.measured == 2.0
    assert "3 acknowledged before the backup, 2 without their event" in judgement.detail
    assert judgement.detail.endswith("e.g. a1/t1, a1/t3")


def test_events_before_an_empty_window_are_unknown() -> None:
    judgement = judge_events_before(frozenset(), frozenset({("a1", "t")}))
    assert judgement.verdict is Verdict.UNKNOWN
    assert judgement.measured is None


def test_integrity_rows_count_each_window() -> None:
    found = Windows(before=frozenset({("a1", "b1"), ("a1", "b2")}),
                    between=frozenset({("a1", "m1"), ("a1", "m2"), ("a1", "m3")}),
                    after=frozenset({("a1", "r1")}))
    stored = stored_as_sent(("a1", "b1"), ("a1", "m1"), ("a1", "r1"))
    stored[("a1", "b2")] = json.dumps({"changed": True})
    assert integrity_rows(found, stored) == {"rows": [
        {"window": "before the backup", "acknowledged": 2, "present": 2, "lost": 0, "changed": 1,
         "expected": "all present"},
        {"window": "after the backup, before the restore (RPO)", "acknowledged": 3, "present": 1, "lost": 2,
         "changed": 0, "expected": "may be lost"},
        {"window": "after the restore", "acknowledged": 1, "present": 1, "lost": 0, "changed": 0,
         "expected": "all present"},
    ]}


def test_integrity_rows_of_empty_windows_are_zero() -> None:
    rows = integrity_rows(Windows(frozenset(), frozenset(), frozenset()), {})["rows"]
    assert [row["acknowledged"] for row in rows] == [0, 0, 0]
    assert [row["lost"] for row in rows] == [0, 0, 0]
