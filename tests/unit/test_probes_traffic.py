"""probes.traffic on literal histories."""

import math

import pytest

from kernel.objectives import load_objectives
from kernel.record import ReadySample, Request
from kernel.verdict import Verdict
from probes.traffic import (
    Missed,
    earliest_possible_recovery,
    error_breakdown,
    error_rate,
    judge_error_rate,
    judge_recovery,
    judge_worst_window,
    latency_percentiles,
    stop_reason,
    throughput,
    time_to_recovery,
    with_missed,
    worst_window,
    worst_window_error_rate,
)

T0 = 1_700_000_000.0
OBJECTIVES = load_objectives()


def req(t: float, ok: bool = True, latency_ms: float = 10.0, error: str | None = None, status: int | None = None,
        kind: str = "read") -> Request:
    if not ok and error is None:
        error = "http_503"
    if status is None:
        status = 200 if ok else (503 if error == "http_503" else 0)
    return Request(T0 + t, "GET /x", kind, ok, status, latency_ms, error, "task", "agent")  # type: ignore[arg-type]


def seconds(*buckets: tuple[int, int], start: float = 0.0) -> list[Request]:
    """One (ok, failed) pair per second from `start`, spread evenly inside each second."""
    records = []
    for second, (good, bad) in enumerate(buckets):
        n = good + bad
        for i in range(n):
            records.append(req(start + second + (i + 0.5) / n, ok=i >= bad))
    return records


# error_rate ----------------------------------------------------------------------------------------------------------

def test_error_rate_of_no_requests_is_none() -> None:
    assert error_rate([]) is None
    assert error_rate([req(1.0)], start=T0 + 5) is None


def test_error_rate_counts_failed_over_all() -> None:
    history = [req(0.1), req(0.2, ok=False), req(0.3), req(0.4, ok=False, error="timeout")]
    assert error_rate(history) == 0.5


def test_error_rate_of_all_errors_is_one() -> None:
    assert error_rate([req(0.1, ok=False), req(0.2, ok=False, error="connection_reset")]) == 1.0


def test_error_rate_window_is_half_open() -> None:
    history = [req(0.0, ok=False), req(1.0), req(2.0, ok=False)]
    assert error_rate(history, start=T0 + 1.0, end=T0 + 2.0) == 0.0
    assert error_rate(history, start=T0 + 0.0, end=T0 + 2.0) == 0.5
    assert error_rate(history, start=T0 + 1.0) == 0.5


def test_cancelled_requests_are_a_harness_artifact_and_not_counted() -> None:
    history = [req(0.1), req(0.2, ok=False, error="cancelled")]
    assert error_rate(history) == 0.0
    assert error_rate([req(0.2, ok=False, error="cancelled")]) is None


# worst window --------------------------------------------------------------------------------------------------------

def test_worst_window_finds_the_outage() -> None:
    history = seconds(*[(10, 0)] * 20, *[(0, 10)] * 3, *[(10, 0)] * 20)  # 3 s of total failure at 20..23 s
    worst = worst_window(history, 10.0)
    assert worst is not None
    assert worst.errors == 30 and worst.total == 100 and worst.error_rate == pytest.approx(0.3)
    assert T0 + 13 <= worst.start <= T0 + 20
    assert worst_window_error_rate(history, 10.0) == pytest.approx(0.3)


def test_a_short_outage_passes_the_average_but_fails_the_worst_window() -> None:
    """The issue's weak readiness build: 3.9% over the fault window, 25% in its worst 10 s."""
    history = seconds(*[(100, 0)] * 30, *[(75, 25)] * 10, *[(100, 0)] * 40)
    average = judge_error_rate(history, OBJECTIVES, start=T0)
    worst = judge_worst_window(history, OBJECTIVES, start=T0)
    assert average.verdict is Verdict.PASS and average.measured == pytest.approx(250 / 8000)
    assert worst.verdict is Verdict.FAIL and worst.measured == pytest.approx(0.25) and worst.limit == 0.10
    assert worst.name == "worst 10s error rate" and "250 of 1000 requests failed" in worst.detail
    assert "t+30.0s after the first fault" in worst.detail


def test_the_worst_window_within_the_objective_passes_and_too_few_requests_are_unknown() -> None:
    history = seconds(*[(96, 4)] * 20)
    assert judge_worst_window(history, OBJECTIVES, start=T0).verdict is Verdict.PASS
    assert judge_worst_window(history[:4], OBJECTIVES, start=T0).verdict is Verdict.UNKNOWN


def test_worst_window_of_nothing_is_none() -> None:
    assert worst_window_error_rate([], 10.0) is None


def test_worst_window_skips_windows_with_too_few_requests() -> None:
    history = [req(0.5, ok=False), req(20.0), req(20.1), req(20.2), req(20.3), req(20.4)]
    assert worst_window_error_rate(history, 5.0, min_requests=5) == 0.0
    assert worst_window_error_rate(history, 5.0, min_requests=1) == 1.0
    assert worst_window_error_rate(history[:1], 5.0) is None


def test_a_span_shorter_than_the_window_is_one_window() -> None:
    history = seconds((4, 1), (5, 0))
    worst = worst_window(history, 10.0)
    assert worst is not None and worst.total == 10 and worst.error_rate == pytest.approx(0.1)


def test_worst_window_includes_the_final_window_and_the_last_request() -> None:
    history = seconds(*[(10, 0)] * 10) + [req(10.2 + i / 100, ok=False) for i in range(5)]
    # the last 5 requests fail at 10.2..10.24 s: the window ending at the last request holds all of them
    worst = worst_window(history, 2.0)
    assert worst is not None and worst.errors == 5


def test_worst_window_respects_start_and_end() -> None:
    history = seconds((0, 10), *[(10, 0)] * 15)
    assert worst_window_error_rate(history, 5.0, start=T0 + 1) == 0.0
    assert worst_window_error_rate(history, 5.0, end=T0 + 16) == pytest.approx(0.2)


def test_worst_window_rejects_a_non_positive_window() -> None:
    with pytest.raises(ValueError):
        worst_window([req(0.0)], 0.0)


# latency and throughput ----------------------------------------------------------------------------------------------

def test_latency_percentiles_interpolate_over_ok_requests_only() -> None:
    history = [req(i * 0.01, latency_ms=float(i)) for i in range(1, 101)] + [req(5.0, ok=False, latency_ms=9999.0)]
    result = latency_percentiles(history, (50, 95, 99, 100))
    assert result[50] == pytest.approx(50.5)
    assert result[95] == pytest.approx(95.05)
    assert result[99] == pytest.approx(99.01)
    assert result[100] == 100.0


def test_latency_percentiles_without_successes_are_none() -> None:
    assert latency_percentiles([req(0.0, ok=False)]) == {50: None, 95: None, 99: None}
    assert latency_percentiles([req(0.0, latency_ms=7.0)], (50,)) == {50: 7.0}


def test_latency_percentile_out_of_range_is_rejected() -> None:
    with pytest.raises(ValueError, match="101"):
        latency_percentiles([], (101,))


def test_throughput_counts_requests_per_second() -> None:
    history = seconds((10, 0), (5, 5), (0, 0), (20, 0))
    assert throughput(history, T0, T0 + 4) == pytest.approx(40 / 4)
    assert throughput(history, T0 + 2, T0 + 3) == 0.0
    with pytest.raises(ValueError):
        throughput(history, T0 + 3, T0 + 3)


# time to recovery ----------------------------------------------------------------------------------------------------

def ttr(history: list[Request], ready: list[ReadySample] | None = None, hold: float = 5.0) -> float | None:
    return time_to_recovery(history, ready or [], T0, max_error_rate=0.1, hold_s=hold)


def test_recovery_after_an_outage() -> None:
    history = seconds((0, 10), (0, 10), (2, 8), (10, 0), (10, 0), (10, 0), (10, 0), (10, 0), (10, 0))
    assert ttr(history) == 3.0


def test_never_degraded_is_zero() -> None:
    assert ttr(seconds(*[(10, 0)] * 6)) == 0.0


def test_a_bucket_at_the_limit_counts_as_good() -> None:
    assert ttr(seconds(*[(9, 1)] * 5)) == 0.0  # 10% errors is within a 10% objective
    assert ttr(seconds(*[(8, 2)] * 5)) is None


def test_recovery_never_reached_is_none() -> None:
    assert ttr(seconds(*[(0, 10)] * 30)) is None


def test_no_requests_after_the_fault_is_none() -> None:
    assert ttr([]) is None
    assert ttr([req(-1.0)]) is None


def test_data_ending_inside_the_hold_window_is_none() -> None:
    assert ttr(seconds((0, 10), (10, 0), (10, 0), (10, 0))) is None


def test_one_bad_bucket_interrupts_the_hold_window() -> None:
    history = seconds((0, 10), (10, 0), (10, 0), (0, 10), (10, 0), (10, 0), (10, 0), (10, 0), (10, 0), (10, 0))
    assert ttr(history) == 4.0


def test_an_empty_bucket_is_not_evidence_of_recovery() -> None:
    history = seconds((0, 10), (10, 0), (10, 0), (0, 0), (10, 0), (10, 0), (10, 0), (10, 0), (10, 0))
    assert ttr(history) == 4.0


def test_requests_before_the_fault_are_ignored() -> None:
    before = seconds(*[(0, 10)] * 5, start=-5.0)
    assert ttr(before + seconds(*[(10, 0)] * 5)) == 0.0


def test_readiness_must_hold_through_the_window() -> None:
    history = seconds(*[(10, 0)] * 12)
    ready = [ReadySample(T0 + 0.5, True), ReadySample(T0 + 2.5, False), ReadySample(T0 + 4.5, True)]
    # not ready from 2.5 until 4.5: the earliest window [T, T+5] with every sample ready and the state at T ready
    assert ttr(history, ready) == 5.0


def test_readiness_state_carries_into_the_window() -> None:
    history = seconds(*[(10, 0)] * 10)
    ready = [ReadySample(T0 - 1.0, False), ReadySample(T0 + 2.5, True)]
    assert ttr(history, ready) == 3.0


def test_a_sample_exactly_at_the_window_start_decides_the_state_there() -> None:
    history = seconds(*[(10, 0)] * 12)
    ready = [ReadySample(T0, True), ReadySample(T0 + 3, False), ReadySample(T0 + 4, True)]
    assert ttr(history, ready) == 4.0


def test_no_ready_samples_means_readiness_is_ignored() -> None:
    assert ttr(seconds(*[(10, 0)] * 5), ready=[]) == 0.0


def test_never_ready_is_never_recovered() -> None:
    ready = [ReadySample(T0 + i, False) for i in range(10)]
    assert ttr(seconds(*[(10, 0)] * 10), ready) is None


def test_hold_shorter_than_a_bucket_needs_one_bucket() -> None:
    assert ttr(seconds((0, 5), (5, 0)), hold=0.5) == 1.0


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError):
        time_to_recovery([], [], T0, 0.1, hold_s=0)


# judgements ----------------------------------------------------------------------------------------------------------

def test_judge_error_rate_pass_and_fail_against_the_objective() -> None:
    passed = judge_error_rate(seconds((19, 1)), OBJECTIVES)
    assert passed.verdict is Verdict.PASS and passed.measured == pytest.approx(0.05)
    assert passed.limit == OBJECTIVES.error_rate.max and passed.objective == "HighErrorRate"
    failed = judge_error_rate(seconds((43, 7)), OBJECTIVES)
    assert failed.verdict is Verdict.FAIL
    assert failed.message == "error rate 14% > limit 10% (HighErrorRate)"
    assert "7 of 50" in failed.detail


def test_judge_error_rate_without_enough_data_is_unknown() -> None:
    assert judge_error_rate([], OBJECTIVES).verdict is Verdict.UNKNOWN
    few = judge_error_rate([req(0.0, ok=False)] * 3, OBJECTIVES)
    assert few.verdict is Verdict.UNKNOWN and few.measured is None
    assert judge_error_rate([req(0.0, ok=False)] * 3, OBJECTIVES, min_requests=1).verdict is Verdict.FAIL


def test_judge_error_rate_reads_the_limit_from_objectives() -> None:
    strict = OBJECTIVES.model_copy(update={"error_rate": OBJECTIVES.error_rate.model_copy(update={"max": 0.01})})
    assert judge_error_rate(seconds((19, 1)), strict).verdict is Verdict.FAIL


def test_judge_recovery_pass() -> None:
    history = seconds((0, 10), (0, 10), *[(10, 0)] * 8)
    judgement = judge_recovery(history, [], "redis-master-failover", T0, OBJECTIVES)
    assert judgement.verdict is Verdict.PASS and judgement.measured == 2.0 and judgement.limit == 8.0
    assert judgement.message == "recovery 2 s ≤ limit 8 s (redis-master-failover)"


def _stalled(base: int, stall: tuple[int, ...], after: int, slow_ms: float = 10.0) -> list[Request]:
    """2 s of `base` ok requests a second before the fault at T0 + 2, then `stall` ok requests a second (each
    `slow_ms` slow), then `after` seconds back at `base`; no request fails."""
    history = seconds(*[(base, 0)] * 2)
    for second, count in enumerate(stall):
        history += [req(2 + second + (i + 0.5) / count, latency_ms=slow_ms) for i in range(count)]
    return history + seconds(*[(base, 0)] * after, start=2 + len(stall))


def test_a_stall_without_errors_is_not_a_recovery_until_throughput_is_back() -> None:
    """The closed loop's blind spot: 100 -> 3 requests/s for 3 s at 0% errors used to be "recovered +0 s"."""
    history = _stalled(100, (30, 3, 20), 8)
    errors_only = time_to_recovery(history, [], T0 + 2, 0.1, 5.0)
    judgement = judge_recovery(history, [], "redis-master-failover", T0 + 2, OBJECTIVES, baseline_end=T0 + 2)
    assert errors_only == 0.0
    assert judgement.verdict is Verdict.PASS and judgement.measured == 3.0
    assert "throughput >= 50/s from 3 s" in judgement.detail and "errors <= 0.1 from 0 s" in judgement.detail


def test_slow_answers_without_errors_are_not_a_recovery_until_p95_is_back() -> None:
    history = _stalled(100, (100, 100, 100, 100), 8, slow_ms=2500.0)
    judgement = judge_recovery(history, [], "redis-master-failover", T0 + 2, OBJECTIVES, baseline_end=T0 + 2)
    assert judgement.measured == 4.0 and "p95 <= 510 ms from 4 s" in judgement.detail


def test_without_requests_before_the_fault_only_errors_and_readiness_are_judged() -> None:
    history = _stalled(100, (30, 3, 20), 8)
    judgement = judge_recovery(history, [], "redis-master-failover", T0 + 2, OBJECTIVES, baseline_end=T0)
    assert judgement.measured == 0.0 and "not judged (no requests before the fault)" in judgement.detail


def test_judge_recovery_too_slow_fails() -> None:
    history = seconds(*[(0, 10)] * 10, *[(10, 0)] * 6)
    judgement = judge_recovery(history, [], "redis-master-failover", T0, OBJECTIVES)
    assert judgement.verdict is Verdict.FAIL and judgement.measured == 10.0


def test_judge_recovery_never_recovered_with_enough_data_fails() -> None:
    history = seconds(*[(0, 10)] * 14)  # 8 s limit + 5 s hold are covered
    judgement = judge_recovery(history, [], "redis-master-failover", T0, OBJECTIVES)
    assert judgement.verdict is Verdict.FAIL and judgement.measured is None
    assert "not recovered" in judgement.message


def test_judge_recovery_with_data_too_short_is_unknown() -> None:
    history = seconds(*[(0, 10)] * 6)
    judgement = judge_recovery(history, [], "redis-master-failover", T0, OBJECTIVES)
    assert judgement.verdict is Verdict.UNKNOWN and "recovery at 6 s (+5 s hold) is not ruled out" in judgement.detail
    assert judge_recovery([], [], "redis-master-failover", T0, OBJECTIVES).verdict is Verdict.UNKNOWN


def test_judge_recovery_fails_once_the_data_rules_out_the_limit_although_it_ends_early() -> None:
    history = seconds(*[(0, 10)] * 10)  # 10 s of errors: a recovery could start at 10 s at the earliest, limit 8 s
    judgement = judge_recovery(history, [], "redis-master-failover", T0, OBJECTIVES)
    assert judgement.verdict is Verdict.FAIL and "not within 8 s" in judgement.detail
    assert earliest_possible_recovery(history, [], T0, 0.1, 5.0) == 10.0


def test_judge_recovery_does_not_assume_a_last_not_ready_sample_lasts() -> None:
    history = seconds((0, 10), (0, 10), *[(10, 0)] * 4)
    judgement = judge_recovery(history, [ReadySample(T0 + 1, False)], "redis-master-failover", T0, OBJECTIVES)
    assert judgement.verdict is Verdict.UNKNOWN


def test_judge_recovery_fails_on_readiness_that_stays_down_past_the_limit() -> None:
    history = seconds(*[(10, 0)] * 20)
    ready = [ReadySample(T0 + i, False) for i in range(15)] + [ReadySample(T0 + 15, True)]
    judgement = judge_recovery(history, ready, "redis-master-failover", T0, OBJECTIVES)
    assert judgement.verdict is Verdict.FAIL and judgement.measured == 15.0


def test_earliest_possible_recovery_looks_past_the_last_readiness_sample() -> None:
    history = seconds(*[(10, 0)] * 3)
    ready = [ReadySample(T0 + i, False) for i in range(12)]
    assert earliest_possible_recovery(history, ready, T0, 0.1, 5.0) == 12.0
    assert time_to_recovery(history, ready, T0, 0.1, 5.0) is None


def test_judge_recovery_uses_the_faults_own_limit() -> None:
    history = seconds(*[(0, 10)] * 12, *[(10, 0)] * 6)
    assert judge_recovery(history, [], "zone-partition", T0, OBJECTIVES).verdict is Verdict.PASS
    assert judge_recovery(history, [], "redis-master-failover", T0, OBJECTIVES).verdict is Verdict.FAIL


# stop conditions -----------------------------------------------------------------------------------------------------

def test_stop_reason_on_sustained_errors() -> None:
    stop = OBJECTIVES.stop_conditions
    history = seconds(*[(10, 0)] * 10, *[(2, 8)] * 10)
    reason = stop_reason(history, stop, now=T0 + 20)
    assert reason is not None and reason.startswith("error rate 80% > 50% over the last 10 s")
    assert stop_reason(history, stop, now=T0 + 10) is None
    assert stop_reason([req(0.0, ok=False)] * 4, stop, now=T0 + 1) is None  # too few requests to abort on
    assert math.isclose(stop.max_error_rate, 0.5)


def test_stop_reason_names_the_kinds_of_error() -> None:
    history = [req(0.5 + i / 10, ok=False) for i in range(6)] + [req(1.0, ok=False, error="timeout"), req(1.1)]
    reason = stop_reason(history, OBJECTIVES.stop_conditions, now=T0 + 5)
    assert reason is not None and reason.endswith("(8 requests; 7 failed: 6 http_503, 1 timeout)")
    assert error_breakdown([req(0.0)]) == "0 failed"


def test_a_not_ready_state_lasts_until_the_next_sample_even_past_the_data() -> None:
    history = seconds((0, 10), (0, 10), *[(10, 0)] * 4)
    ready = [ReadySample(T0 + 1, False), ReadySample(T0 + 20, True)]
    assert earliest_possible_recovery(history, ready, T0, 0.1, 5.0) == 20.0
    assert judge_recovery(history, ready, "redis-master-failover", T0, OBJECTIVES).verdict is Verdict.FAIL


def test_a_request_slower_than_the_pace_adds_the_slots_that_came_due_meanwhile() -> None:
    slow, quick, cancelled = req(1.0, latency_ms=400.0), req(2.0, latency_ms=150.0), req(3.0, False, 900.0, "cancelled")
    scheduled = with_missed([slow, quick, cancelled], pace_s=0.15)
    added = [r for r in scheduled if isinstance(r, Missed)]
    assert [(round(r.t - T0, 2), round(r.latency_ms)) for r in added] == [(1.15, 250), (1.3, 100)]
    assert with_missed([slow], pace_s=None) == [slow]


def test_missed_slots_are_neither_errors_nor_throughput() -> None:
    failed = req(1.0, ok=False, latency_ms=3000.0, error="timeout")
    scheduled = with_missed([failed, *[req(1.0 + n / 10) for n in range(1, 30)]], pace_s=0.15)
    assert len(scheduled) > 30
    assert error_rate(scheduled) == pytest.approx(1 / 30)


def test_a_third_of_users_stalled_is_not_recovered_until_they_are_served() -> None:
    """20 users, one request every 0.15 s; from t=10 a third of them hang for 3 s on a replica, then all is well.
    Throughput stays above half and no request fails, so only the waits from the intended starts show the stall."""
    history = []
    for user in range(20):
        t = user * 0.15 / 20
        while t < 20:
            stalled = user < 7 and 10 <= t < 10.15
            history.append(req(t, latency_ms=3000.0 if stalled else 10.0))
            t += 3.0 if stalled else 0.15
    closed_loop = judge_recovery(history, [], "zone-partition", T0 + 10, OBJECTIVES, baseline_end=T0 + 10)
    open_loop = judge_recovery(with_missed(history, 0.15), [], "zone-partition", T0 + 10, OBJECTIVES,
                               baseline_end=T0 + 10)
    assert closed_loop.measured == 1.0
    assert open_loop.measured == 3.0
