"""The guide's alerts as the lab's Prometheus evaluates them: wait for an alert's state, and judge the drill from the
record. Contract: `alert.state` events (written by `wait_for_alert`, `reached` false when its wait ran out) are
timed against the run's first `fault.inject` (to fire) and the last `fault.heal` before them (to resolve)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from kernel.errors import LabError
from kernel.fault import Arguments, Declared
from kernel.objectives import AlertDrillObjective
from kernel.record import Event
from kernel.run import current_run
from kernel.verdict import Judgement, Verdict, compare
from kernel.waiting import within
from probes import prometheus

POLL_S = 1.0


def wait_for_alert(alert: str, state: str, timeout_s: float,
                   configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Poll Prometheus until `alert` is in `state` (pending also when it went on to fire) or timeout_s passes."""
    run = current_run(configuration)
    url = run.inventory.host_url("prometheus")
    wanted = {"pending": ("pending", "firing")}.get(state, (state,))
    took = within(lambda: _state(url, alert) in wanted, timeout_s, POLL_S)
    run.events.append("alert.state", alert=alert, state=state, reached=took is not None, waited_s=took,
                      timeout_s=timeout_s)
    return {"alert": alert, "state": state, "reached": took is not None, "waited_s": took}


def _state(url: str, alert: str) -> str | None:
    try:
        return prometheus.alert_states(url).get(alert, "missing")
    except LabError:
        return None


def judge_fired(events: list[Event], drill: AlertDrillObjective | None) -> Judgement:
    """Seconds from the first fault until the drill's alert was seen firing."""
    if drill is None:
        return _no_objective("alert fired")
    start = next((e.t for e in events if e.kind == "fault.inject"), None)
    fired = _reached(events, drill.alert, "firing")
    return _timed("alert fired", drill.alert, "firing", start, fired, drill.fire_within_s, "the first fault")


def judge_resolved(events: list[Event], drill: AlertDrillObjective | None) -> Judgement:
    """Seconds from the heal until the drill's alert was seen inactive again; an alert that never fired has nothing
    to resolve."""
    if drill is None:
        return _no_objective("alert resolved")
    fired = _reached(events, drill.alert, "firing")
    resolved = _reached(events, drill.alert, "inactive")
    if fired is None or not fired.get("reached"):
        return Judgement("alert resolved", f"{drill.alert} inactive", None, drill.resolve_within_s, "s",
                         Verdict.FAIL, f"{drill.alert} never fired, so its resolution was not seen")
    until = resolved.t if resolved is not None else float("inf")
    heals = [e.t for e in events if e.kind == "fault.heal" and fired.t <= e.t <= until]
    return _timed("alert resolved", drill.alert, "inactive", heals[-1] if heals else None, resolved,
                  drill.resolve_within_s, "the heal")


def _reached(events: list[Event], alert: str, state: str) -> Event | None:
    """The first wait for `state` of `alert`; its outcome is in `reached`."""
    return next((e for e in events if e.kind == "alert.state" and e.get("alert") == alert
                 and e.get("state") == state), None)


def _timed(name: str, alert: str, state: str, since: float | None, seen: Event | None, limit: float,
           anchor: str) -> Judgement:
    objective = f"{alert} {state}"
    if since is None:
        return Judgement(name, objective, None, limit, "s", Verdict.UNKNOWN, f"no {anchor} in the record")
    if seen is None or not seen.get("reached"):
        waited = f" within the drill's wait of {seen.get('timeout_s')} s" if seen is not None else " (not waited for)"
        return Judgement(name, objective, None, limit, "s", Verdict.FAIL, f"{alert} not {state}{waited}")
    measured = round(seen.t - since, 1)
    return Judgement(name, objective, measured, limit, "s", compare(measured, limit), f"from {anchor}")


def _no_objective(name: str) -> Judgement:
    return Judgement(name, "alert_drill", None, None, "s", Verdict.UNKNOWN, "objectives.yaml has no alert_drill")


class WaitForAlert(Arguments):
    alert: Annotated[str, Field(min_length=1, max_length=80)]
    state: Literal["inactive", "pending", "firing"]
    timeout_s: Annotated[float, Field(gt=0, le=1800, allow_inf_nan=False)]


DECLARED = (Declared(wait_for_alert, "probe", WaitForAlert),)
