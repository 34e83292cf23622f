"""Rollbacks: heal every fault in the ledger, newest first."""

from __future__ import annotations

from typing import Any

from kernel.errors import LabError
from kernel.fault import Arguments, Call, Declared, Footprint, Lab, Seconds
from kernel.run import current_run
from kernel.waiting import within

REPAIR_AFTER_S = 30.0
"""A lab still unready this long after a heal has its own plumbing checked for staleness (Target.repair_stale)."""


def heal_all(wait_ready_s: float = 120.0, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Undo every recorded fault, then wait until the whole lab is ready again."""
    run = current_run(configuration)
    report = run.heal()
    if report.failed:
        raise LabError(report.summary())
    if not report.healed:
        return {"healed": [], "ready_after_s": 0.0}
    problems: list[str] = []

    def ready() -> bool:
        problems[:] = run.target.unready()
        return not problems

    took = within(ready, min(wait_ready_s, REPAIR_AFTER_S), poll_s=1.0)
    if took is None:
        if repaired := run.target.repair_stale():
            run.events.append("lab.repair", repaired=repaired, problems=list(problems))
        rest = within(ready, max(wait_ready_s - REPAIR_AFTER_S, 0.0), poll_s=1.0)
        took = None if rest is None else REPAIR_AFTER_S + rest
    if took is None:
        raise LabError(f"lab not ready {wait_ready_s:.0f} s after the heal: {'; '.join(problems)}")
    ready_after = round(took, 1)
    run.events.append("lab.ready", after_heal_s=ready_after)
    return {"healed": [e.fault for e in report.healed], "ready_after_s": ready_after}


class HealAll(Arguments):
    wait_ready_s: Seconds = 120.0


def _plan(call: Call, lab: Lab) -> Footprint:
    wait = call.get("wait_ready_s")
    return Footprint(f"heal every recorded fault, then wait up to {wait:g} s for the lab", heals=True)


DECLARED = (Declared(heal_all, "restore", HealAll, _plan),)
