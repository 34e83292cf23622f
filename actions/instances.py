"""Crash, stop and pause instances by role, zone and count; each fault's undo is in the ledger first."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from actions.selection import Selector, listed, planned, select
from kernel.fault import Call, Declared, Footprint, Lab, Seconds
from kernel.ledger import Undo
from kernel.run import current_run


class KillInstances(Selector):
    wait_restart_s: Seconds = 60.0


def kill_instances(role: str, zone: str | None = None, count: int = 1, wait_restart_s: float = 60.0,
                   configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Crash instances (SIGKILL of their main process); they come back by restart policy, as pods would."""
    run = current_run(configuration)
    chosen = select(run.inventory, role, zone, count, allow_majority=run.allow_majority)
    before = {i.name: run.target.restart_count(i.name) for i in chosen}
    for instance in chosen:
        run.record_fault("kill", Undo(op="start", args={"name": instance.name}), affects=[instance.name],
                         instance=instance.name, zone=instance.zone or "")
        run.target.kill(instance.name)
    restarted = {}
    for instance in chosen:
        restarted[instance.name] = round(run.target.wait_restarted(instance.name, before[instance.name],
                                                                  wait_restart_s), 2)
    run.record_effect("kill", len(restarted) == len(chosen) > 0, restarted_after_s=restarted)
    return {"killed": [i.name for i in chosen], "restarted_after_s": restarted, "at": time.time()}


def _down(fault: str, undo_op: str, role: str, zone: str | None, count: int,
          configuration: dict[str, Any] | None) -> dict[str, Any]:
    run = current_run(configuration)
    chosen = select(run.inventory, role, zone, count, allow_majority=run.allow_majority)
    for instance in chosen:
        run.record_fault(fault, Undo(op=undo_op, args={"name": instance.name}), affects=[instance.name],
                         instance=instance.name, zone=instance.zone or "")
        if fault == "pause":
            run.target.pause(instance.name)
        else:
            run.target.stop(instance.name, timeout_s=0)
    effective = [i.name for i in chosen if not run.target.is_running(i.name)]
    run.record_effect(fault, bool(effective), down=effective)
    return {fault: [i.name for i in chosen], "down": effective, "at": time.time()}


def stop_instances(role: str, zone: str | None = None, count: int = 1,
                   configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stop instances; they stay down until healed."""
    return _down("stop", "start", role, zone, count, configuration)


def pause_instances(role: str, zone: str | None = None, count: int = 1,
                    configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Freeze instances (every process stopped in place) until healed."""
    return _down("pause", "resume", role, zone, count, configuration)


def plan_instances(verb: str, lasting: bool, role: str | None = None) -> Callable[[Call, Lab], Footprint]:
    def plan(call: Call, lab: Lab) -> Footprint:
        chosen = planned(call, lab, role or call.get("role"))
        hit = frozenset((i.role, i.name) for i in chosen)
        return Footprint(f"{verb} {listed(chosen)}" + (" until healed" if lasting else ""), hit=hit,
                      down=hit if lasting else frozenset(), blame="count")

    return plan


DECLARED = (
    Declared(kill_instances, "fault", KillInstances, plan_instances("kill", lasting=False)),
    Declared(stop_instances, "fault", Selector, plan_instances("stop", lasting=True)),
    Declared(pause_instances, "fault", Selector, plan_instances("pause", lasting=True)),
)
