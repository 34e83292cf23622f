"""Choosing instances for a fault: by role, zone and count, refused when empty or beyond the blast radius."""

from __future__ import annotations

from typing import Annotated

from kernel.errors import UsageError
from kernel.fault import Arguments, Call, Count, Lab, Zone, one_of
from kernel.inventory import Inventory, InventoryInstance
from kernel.problems import Invalid

ROLES = ("app", "lb", "redis", "sentinel", "cassandra", "toxiproxy", "prometheus")
OVERRIDE_HINT = "set allow_majority: true in the chaos360 extension to override"
Role = Annotated[str, one_of(ROLES, "role")]


class Selector(Arguments):
    role: Role
    zone: Zone | None = None
    count: Count = 1


def blast_radius(total: int) -> int:
    """At most a minority of a role's instances, so that the role keeps a quorum."""
    return max(1, (total - 1) // 2)


def select(
    inventory: Inventory, role: str, zone: str | None = None, count: int = 1, allow_majority: bool = False
) -> list[InventoryInstance]:
    if role not in ROLES:
        raise UsageError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if zone is not None and zone not in inventory.zones:
        raise UsageError(f"zone {zone!r} is not one of {', '.join(inventory.zones)}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise UsageError(f"count {count!r} must be a whole number of at least 1")
    members = inventory.by_role(role)
    candidates = [i for i in members if zone is None or i.zone == zone]
    if not candidates:
        raise UsageError(f"no {role} instance in zone {zone}")
    limit = len(members) if allow_majority else blast_radius(len(members))
    if count > min(limit, len(candidates)):
        raise UsageError(
            f"count {count} of role {role} exceeds the blast radius ({limit} of {len(members)}; "
            "set allow_majority: true to override)"
            if count > limit else f"count {count} exceeds the {len(candidates)} {role} instances in zone {zone}"
        )
    return candidates[:count]


def listed(instances: list[InventoryInstance]) -> str:
    return ", ".join(f"{i.name} (zone {i.zone})" if i.zone else i.name for i in instances)


def planned(call: Call, lab: Lab, role: str) -> list[InventoryInstance]:
    """What `select` will choose for this call at run time, and never every instance of a role by default."""
    count = call.get("count")
    try:
        chosen = select(lab.inventory, role, call.get("zone"), count, allow_majority=lab.allow_majority)
    except UsageError as error:
        blamed = str(error).split(" ", 1)[0]
        raise Invalid(call.field(blamed if blamed in ("role", "count") else "zone"), str(error)) from None
    members = lab.inventory.by_role(role)
    if len(chosen) == len(members) and not lab.allow_majority:
        raise Invalid(call.field("count"), f"{count} of {len(members)} {role} instances is every {role} instance, "
                                           f"beyond the blast radius; {OVERRIDE_HINT}")
    return chosen
