"""Choosing instances for a fault: by role, zone and count, refused when empty or beyond the blast radius."""

from __future__ import annotations

from kernel.errors import UsageError
from kernel.inventory import Inventory, InventoryInstance

ROLES = ("app", "lb", "redis", "sentinel", "cassandra", "toxiproxy", "prometheus")


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
