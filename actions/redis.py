"""Drop the Redis master in one of four ways and wait for the Sentinels' verdict."""

from __future__ import annotations

import time
from typing import Annotated, Any

from pydantic import Field

from kernel.errors import LabError, UsageError
from kernel.fault import Arguments, Call, Declared, Footprint, Lab, Seconds, one_of
from kernel.ledger import Undo
from kernel.run import Run, current_run
from kernel.waiting import poll_until

MODES = ("kill", "stop", "pause", "isolate")
REDIS_MASTER = "the redis master"


class DropMaster(Arguments):
    mode: Annotated[str, one_of(MODES, "mode")] = "stop"
    wait_failover_s: Seconds = 20.0


class ReturnMaster(Arguments):
    down_s: Annotated[float, Field(gt=0, le=30, allow_inf_nan=False)] = 1.5
    wait_failover_s: Seconds = 20.0


def _inject(run: Run, mode: str, master: str) -> None:
    zone = run.inventory.get(master).zone or ""
    if mode == "kill":
        run.record_fault("redis-master-kill", Undo(op="start", args={"name": master}), affects=[master],
                         instance=master)
        run.target.kill(master)
    elif mode == "stop":
        run.record_fault("redis-master-stop", Undo(op="start", args={"name": master}), affects=[master],
                         instance=master)
        run.target.stop(master, timeout_s=0)
    elif mode == "pause":
        run.record_fault("redis-master-pause", Undo(op="resume", args={"name": master}), affects=[master],
                         instance=master)
        run.target.pause(master)
    else:
        members = [i.name for i in run.inventory.in_zone(zone)]
        run.record_fault("redis-master-isolate", Undo(op="rejoin", args={"zone": zone}), affects=members,
                         instance=master, zone=zone)
        run.target.isolate(zone)


def drop_master(mode: str = "stop", wait_failover_s: float = 20.0,
                configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Take the master away; returns old and new master and how long the Sentinels took to switch."""
    if mode not in MODES:
        raise UsageError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    run = current_run(configuration)
    old = run.target.redis_master()
    injected_at = time.time()
    _inject(run, mode, old)
    new = _master_other_than(run, old, wait_failover_s)
    switched_after = round(time.time() - injected_at, 2) if new != old else None
    run.record_effect(f"redis-master-{mode}", new != old, old_master=old, new_master=new,
                      switched_after_s=switched_after)
    return {"mode": mode, "old_master": old, "new_master": new, "switched_after_s": switched_after,
            "at": injected_at}


def return_master(down_s: float = 1.5, wait_failover_s: float = 20.0,
                  configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stop the master and start it again after down_s, while the Sentinels fail over: until it is made a replica
    of the new master, the old one accepts writes that the conversion then discards (Sentinel's split brain). The
    ledger entry stays until the closing heal, so the fault window runs until then, as for drop_master."""
    run = current_run(configuration)
    old = run.target.redis_master()
    injected_at = time.time()
    run.record_fault("redis-master-return", Undo(op="start", args={"name": old}), affects=[old],
                     instance=old, down_s=down_s)
    run.target.stop(old, timeout_s=0)
    time.sleep(down_s)
    run.target.start(old)
    run.events.append("redis.master.returned", instance=old)
    returned_after = round(time.time() - injected_at, 2)
    new = _master_other_than(run, old, wait_failover_s)
    switched_after = round(time.time() - injected_at, 2) if new != old else None
    run.record_effect("redis-master-return", new != old and run.target.is_running(old), old_master=old,
                      new_master=new, returned_after_s=returned_after, switched_after_s=switched_after)
    return {"old_master": old, "new_master": new, "returned_after_s": returned_after,
            "switched_after_s": switched_after, "at": injected_at}


def _master_other_than(run: Run, old: str, timeout_s: float) -> str:
    """The master the Sentinels name once it is not `old`; `old` when they did not switch within timeout_s."""
    return poll_until(lambda: _master_now(run, old), lambda master: master != old, timeout_s, poll_s=0.1)


def _planned_master(lab: Lab) -> tuple[str | None, str, str]:
    """The master the Sentinels name now (None when they cannot say), its name for the plan, and how it is known."""
    master = lab.master(lab.inventory)
    return master, master or REDIS_MASTER, f"now {master} per Sentinel" if master else "unknown now"


def _plan_return(call: Call, lab: Lab) -> Footprint:
    _, name, now = _planned_master(lab)
    hit = frozenset({("redis", name)})
    return Footprint(f"redis master: stop the current master ({now}; resolved at run time) and start it again after "
                     f"{call.get('down_s'):g} s, while the Sentinels fail over", hit=hit, blame="down_s")


def _master_now(run: Run, last_known: str) -> str:
    """The master the Sentinels name, or `last_known` while they cannot say."""
    try:
        return run.target.redis_master()
    except LabError:
        return last_known


def _plan(call: Call, lab: Lab) -> Footprint:
    mode = call.get("mode")
    master, name, now = _planned_master(lab)
    zone = (lab.inventory.get(master).zone if master else None) or f"the zone of {REDIS_MASTER}"
    text = f"redis master: {mode} the current master ({now}; resolved at run time)"
    if mode == "isolate":
        return Footprint(text + f", isolating {zone}", isolated=frozenset({zone}), blame="mode")
    hit = frozenset({("redis", name)})
    return Footprint(f"{text}; wait up to {call.get('wait_failover_s'):g} s for a failover", hit=hit,
                  down=hit if mode in ("stop", "pause") else frozenset(), blame="mode")


DECLARED = (
    Declared(drop_master, "fault", DropMaster, _plan),
    Declared(return_master, "fault", ReturnMaster, _plan_return),
)
