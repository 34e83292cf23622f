"""Zone partitions: every instance of a zone cut from the other zones, both ways; LB and clients still reach it."""

from __future__ import annotations

import time
from typing import Any

from kernel.errors import UsageError
from kernel.ledger import Undo
from kernel.run import current_run


def isolate_zone(zone: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    run = current_run(configuration)
    if zone not in run.inventory.zones:
        raise UsageError(f"zone {zone!r} is not one of {', '.join(run.inventory.zones)}")
    if len(run.inventory.zones) < 2:
        raise UsageError("a partition needs at least two zones (use the ha profile)")
    members = [i.name for i in run.inventory.instances if i.zone == zone]
    run.record_fault("isolate", Undo(op="rejoin", args={"zone": zone}), affects=members, zone=zone)
    cut = run.target.isolate(zone)
    rules = {name: len(run.target.isolation_rules(name)) for name in cut}
    run.record_effect("isolate", bool(rules) and all(n > 0 for n in rules.values()), zone=zone, rules=rules)
    return {"isolated_zone": zone, "instances": cut, "rules": rules, "at": time.time()}


def rejoin_zone(zone: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    run = current_run(configuration)
    names = run.target.rejoin(zone)
    run.events.append("fault.heal", fault="isolate", zone=zone)
    return {"rejoined_zone": zone, "instances": names, "at": time.time()}
