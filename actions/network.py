"""Zone partitions: every instance of a zone cut from the other zones, both ways; LB and clients still reach it."""

from __future__ import annotations

import time
from typing import Any

from kernel.errors import UsageError
from kernel.fault import Arguments, Call, Declared, Footprint, Lab, Zone
from kernel.ledger import Undo
from kernel.problems import Invalid
from kernel.run import current_run


class ZoneArgument(Arguments):
    zone: Zone


def isolate_zone(zone: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    run = current_run(configuration)
    if zone not in run.inventory.zones:
        raise UsageError(f"zone {zone!r} is not one of {', '.join(run.inventory.zones)}")
    if len(run.inventory.zones) < 2:
        raise UsageError("a partition needs at least two zones (use the ha profile)")
    members = [i.name for i in run.inventory.in_zone(zone)]
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


def _planned_zone(call: Call, lab: Lab) -> str:
    zone = str(call.get("zone"))
    if zone not in lab.inventory.zones:
        raise Invalid(call.field("zone"), f"zone {zone!r} is not one of {', '.join(lab.inventory.zones)}")
    if len(lab.inventory.zones) < 2:
        raise Invalid(call.field("zone"), "a partition needs at least two zones (use the ha profile)")
    return zone


def _members(lab: Lab, zone: str) -> str:
    return ", ".join(i.name for i in lab.inventory.in_zone(zone))


def _plan_isolate(call: Call, lab: Lab) -> Footprint:
    zone = _planned_zone(call, lab)
    others = ", ".join(z for z in lab.inventory.zones if z != zone)
    return Footprint(f"isolate zone {zone} ({_members(lab, zone)}) from zones {others}", isolated=frozenset({zone}),
                  blame="zone")


def _plan_rejoin(call: Call, lab: Lab) -> Footprint:
    zone = _planned_zone(call, lab)
    return Footprint(f"rejoin zone {zone} ({_members(lab, zone)})", rejoined=frozenset({zone}))


DECLARED = (
    Declared(isolate_zone, "fault", ZoneArgument, _plan_isolate),
    Declared(rejoin_zone, "restore", ZoneArgument, _plan_rejoin),
)
