from reports.history import HistoryEntry
from reports.regression import compare_with_history, limit_from


def entry(n: int, recovery: float | None, worst: float | None, verdict: str = "pass",
          experiment: str = "zone-partition") -> HistoryEntry:
    return HistoryEntry(experiment, f"2026-12-04T08:{n:02d}:00+00:00", verdict, recovery, worst, None, 30.0, f"run-{n}")


HISTORY = [entry(n, r, w) for n, (r, w) in enumerate([(3, 0.02), (4, 0.025), (3, 0.03), (4, 0.022), (4, 0.035)])]


def test_the_limit_comes_from_the_spread_of_earlier_runs_with_a_floor_of_one_resolution():
    assert limit_from([3, 4, 3, 4, 4], 1.0) == 4 + 3 * 1.0
    assert limit_from([1.0, 2.0, 3.0, 10.0, 2.0], 0.1) == 10.0 + 0.1
    assert limit_from([0.02, 0.03, 0.01, 0.02, 0.02], 0.005) == 0.02 + 3 * 0.005


def test_a_clearly_slower_run_regresses_and_names_what_it_was_compared_with():
    recovery, worst = compare_with_history(entry(9, 9.0, 0.03), HISTORY)
    assert recovery.regressed and recovery.limit == 7.0
    assert recovery.detail.startswith("recovery 9 s > 7 s (last 5 passing runs: median 4 s, max 4 s)")
    assert len(recovery.compared_with) == 5 and recovery.compared_with[0] == "2026-12-04T08:00:00+00:00"
    assert not worst.regressed


def test_a_run_within_the_spread_passes_and_failed_runs_are_not_a_baseline():
    history = [*HISTORY, entry(7, 30.0, 0.5, verdict="fail")]
    assert not any(c.regressed for c in compare_with_history(entry(9, 6.0, 0.04), history))


def test_too_little_history_or_a_missing_value_is_not_judged():
    few = compare_with_history(entry(9, 99.0, 0.9), HISTORY[:4])
    assert not any(c.regressed for c in few) and "4 earlier passing runs, need 5" in few[0].detail
    missing = compare_with_history(entry(9, None, 0.02), HISTORY)
    assert not missing[0].regressed and "no value in this run" in missing[0].detail


def test_other_experiments_and_the_run_itself_are_not_compared():
    others = [entry(n, 1.0, 0.0, experiment="app-replica-kill") for n in range(5)]
    current = entry(9, 9.0, 0.03)
    (recovery, _) = compare_with_history(current, [*others, *HISTORY[:4], current])
    assert not recovery.regressed and "4 earlier passing runs" in recovery.detail
