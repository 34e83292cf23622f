"""The alert drill's judgements over the record: time to fire from the first fault, time to resolve from the heal."""

from __future__ import annotations

from typing import Any

import pytest

from kernel.objectives import AlertDrillObjective, load_objectives
from kernel.record import Event
from kernel.verdict import Verdict
from probes.alerts import judge_fired, judge_resolved

T0 = 1_800_000_000.0
DRILL = AlertDrillObjective(alert="HighErrorRate", fire_within_s=420, resolve_within_s=330,
                            why="fires within for: 5m plus the rate window crossing")


def _event(t: float, kind: str, **data: Any) -> Event:
    return Event(T0 + t, kind, data)


def _drill(fired_at: float | None, healed_at: float, resolved_at: float | None) -> list[Event]:
    events = [_event(0, "fault.inject", fault="checks-off"), _event(0.2, "fault.inject", fault="link-down"),
              _event(40, "alert.state", alert="HighErrorRate", state="pending", reached=True, waited_s=40)]
    events.append(_event(fired_at if fired_at is not None else 460, "alert.state", alert="HighErrorRate",
                         state="firing", reached=fired_at is not None, timeout_s=420))
    events += [_event(healed_at, "fault.heal", fault="checks-off"), _event(healed_at + 0.1, "fault.heal",
                                                                             fault="link-down")]
    events.append(_event(resolved_at if resolved_at is not None else healed_at + 390, "alert.state",
                         alert="HighErrorRate", state="inactive", reached=resolved_at is not None, timeout_s=390))
    return events


def test_an_alert_that_fires_and_resolves_in_time_passes_with_both_durations() -> None:
    events = _drill(fired_at=342.5, healed_at=345, resolved_at=345.1 + 212)
    fired, resolved = judge_fired(events, DRILL), judge_resolved(events, DRILL)
    assert (fired.verdict, fired.measured) == (Verdict.PASS, 342.5)
    assert (resolved.verdict, resolved.measured) == (Verdict.PASS, 212.0)


def test_resolution_is_timed_from_the_last_heal_before_it() -> None:
    events = _drill(fired_at=300, healed_at=301, resolved_at=301.1 + 100)
    events.append(_event(900, "fault.heal", fault="link-down"))
    assert judge_resolved(events, DRILL).measured == 100.0


@pytest.mark.parametrize(("fired_at", "resolved_after"), [(421, 100), (300, 331)])
def test_a_late_alert_or_a_late_resolution_fails(fired_at: float, resolved_after: float) -> None:
    events = _drill(fired_at=fired_at, healed_at=fired_at + 1, resolved_at=fired_at + 1.1 + resolved_after)
    verdicts = {judge_fired(events, DRILL).verdict, judge_resolved(events, DRILL).verdict}
    assert Verdict.FAIL in verdicts


def test_an_alert_that_never_fires_fails_both_and_says_so() -> None:
    events = _drill(fired_at=None, healed_at=461, resolved_at=462)
    fired, resolved = judge_fired(events, DRILL), judge_resolved(events, DRILL)
    assert fired.verdict is Verdict.FAIL and "not firing within the drill's wait of 420 s" in fired.message
    assert resolved.verdict is Verdict.FAIL and "never fired" in resolved.message


def test_an_alert_that_never_resolves_fails() -> None:
    judgement = judge_resolved(_drill(fired_at=330, healed_at=331, resolved_at=None), DRILL)
    assert judgement.verdict is Verdict.FAIL and "not inactive" in judgement.message


def test_another_alert_does_not_count() -> None:
    events = [_event(0, "fault.inject", fault="x"),
              _event(310, "alert.state", alert="PodRestart", state="firing", reached=True)]
    assert judge_fired(events, DRILL).verdict is Verdict.FAIL


def test_without_a_drill_objective_or_a_fault_nothing_is_claimed() -> None:
    assert judge_fired([], None).verdict is Verdict.UNKNOWN
    assert judge_fired([_event(300, "alert.state", alert="HighErrorRate", state="firing", reached=True)],
                       DRILL).verdict is Verdict.UNKNOWN


def test_the_shipped_objective_allows_the_rules_own_for_duration() -> None:
    drill = load_objectives().alert_drill
    assert drill is not None and drill.alert == "HighErrorRate"
    assert 300 < drill.fire_within_s <= 600 and 300 <= drill.resolve_within_s <= 600
