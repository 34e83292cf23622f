"""Blind the load balancer to one zone's replicas: their health checks off, so they stay in rotation whatever they
answer. Alone it changes nothing users see; with a fault of that zone it is the failure no balancer hides, the
case the guide's HighErrorRate alert is there for."""

from __future__ import annotations

import time
from typing import Any

from kernel.errors import UsageError
from kernel.fault import Arguments, Call, Declared, Footprint, Lab, Zone
from kernel.inventory import Inventory
from kernel.ledger import Undo
from kernel.problems import Invalid
from kernel.run import current_run


class BlindChecks(Arguments):
    zone: Zone


def _servers(inventory: Inventory, zone: str) -> list[str]:
    if zone not in inventory.zones:
        raise UsageError(f"zone {zone!r} is not one of {', '.join(inventory.zones)}")
    return [app.name for app in inventory.in_zone(zone, "app")]


def blind_health_checks(zone: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Turn off the load balancer's health checks of the zone's app replicas until healed."""
    run = current_run(configuration)
    servers = _servers(run.inventory, zone)
    for server in servers:
        run.record_fault("checks-off", Undo(op="enable_checks", args={"server": server}), server=server)
        run.target.set_balancer_checks(server, False)
    checked = run.target.balancer_checks()
    blind = [server for server in servers if checked.get(server) is False]
    run.record_effect("checks-off", bool(servers) and blind == servers, servers=servers, blind=blind)
    return {"zone": zone, "servers": servers, "blind": blind, "at": time.time()}


def _plan_blind(call: Call, lab: Lab) -> Footprint:
    try:
        servers = _servers(lab.inventory, call.get("zone"))
    except UsageError as error:
        raise Invalid(call.field("zone"), str(error)) from None
    return Footprint(f"turn off the load balancer's health checks of {', '.join(servers)} until healed "
                     "(they stay in rotation whatever they answer)")


DECLARED = (Declared(blind_health_checks, "fault", BlindChecks, _plan_blind),)
