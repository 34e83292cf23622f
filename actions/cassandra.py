"""Take Cassandra nodes down: one node, or every node of a zone (a rack)."""

from __future__ import annotations

from typing import Any

from actions.instances import stop_instances


def stop_nodes(zone: str | None = None, count: int = 1,
               configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    return stop_instances("cassandra", zone=zone, count=count, configuration=configuration)
