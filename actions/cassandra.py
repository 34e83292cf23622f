"""Take Cassandra nodes down: one node, or every node of a zone (a rack)."""

from __future__ import annotations

from typing import Any

from actions.instances import plan_instances, stop_instances
from kernel.fault import Arguments, Count, Declared, Zone


class StopNodes(Arguments):
    zone: Zone | None = None
    count: Count = 1



def stop_nodes(zone: str | None = None, count: int = 1,
               configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    return stop_instances("cassandra", zone=zone, count=count, configuration=configuration)


DECLARED = (Declared(stop_nodes, "fault", StopNodes, plan_instances("stop", lasting=True, role="cassandra")),)
