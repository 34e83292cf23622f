"""A replica cut off from its datastore must take itself out of the balancer and stay out until the link is back:
judged from the readiness samples (each replica's own /ready, the answer HAProxy acts on) after each link cut."""

from __future__ import annotations

from collections.abc import Sequence

from kernel.record import Event
from kernel.verdict import Judgement, Verdict

NAME = "cut-off replicas leave the balancer"
# The heal event is logged once every undo is applied: a replica ready within this slack before it came back with
# its link, not while cut off.
HEAL_SLACK_S = 1.0


def _cut_end(events: Sequence[Event], fault: str, after: float) -> float:
    heals = [e.t for e in events if e.kind == "fault.heal" and e.get("fault") == fault and e.t >= after]
    return min(heals) - HEAL_SLACK_S if heals else float("inf")


def _replica_verdict(ready: Sequence[Event], name: str, cut_at: float, cut_end: float) -> tuple[float | None, str]:
    """Seconds from the cut until the replica answered unready, or None with why it did not stay out."""
    states = [(e.t, e.get("instances", {}).get(name)) for e in ready if cut_at <= e.t < cut_end]
    states = [(t, state) for t, state in states if isinstance(state, bool)]
    first_out = next((t for t, state in states if not state), None)
    if first_out is None:
        return None, f"{name} answered ready in all {len(states)} samples while cut off"
    back_in = next((t for t, state in states if state and t > first_out), None)
    if back_in is not None:
        return None, f"{name} answered ready again {back_in - cut_at:.1f}s after the cut, before the link was back"
    return first_out - cut_at, f"{name} out after {first_out - cut_at:.1f}s"


def judge_cut_off_unready(events: Sequence[Event], limit_s: float) -> Judgement:
    """Every replica a link cut cut off answers unready within limit_s of the cut and until the heal; UNKNOWN when
    no link was cut."""
    cuts = [e for e in events if e.kind == "fault.effect" and e.get("cut_off")]
    if not cuts:
        return Judgement(NAME, "a cut-off replica is unready", None, limit_s, "s", Verdict.UNKNOWN, "no link was cut")
    ready = sorted((e for e in events if e.kind == "ready"), key=lambda e: e.t)
    delays, details = [], []
    for cut in cuts:
        for name in cut.get("cut_off"):
            delay, detail = _replica_verdict(ready, name, cut.t, _cut_end(events, str(cut.get("fault")), cut.t))
            delays.append(delay)
            details.append(detail)
    measured = None if None in delays else max(d for d in delays if d is not None)
    verdict = Verdict.FAIL if measured is None or measured > limit_s else Verdict.PASS
    return Judgement(NAME, "a cut-off replica is unready", measured, limit_s, "s", verdict, "; ".join(details))
