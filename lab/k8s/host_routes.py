"""Routes from this machine into the lab's cluster, so the harness reaches the guide's parts as a client in the
data centre would: each node's pod network through that node, each member's fixed cluster IP through the node of
its zone (a cut zone's members stay observable), the rest of the service range through the first node (kube-proxy
masquerades traffic from outside the pod network). Tagged with their own protocol number so `down` removes exactly
these."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from kernel.errors import LabError

ROUTE_PROTOCOL = "136"


@dataclass(frozen=True)
class Route:
    destination: str
    via: str


def plan_routes(node_ips: dict[str, str], node_zones: dict[str, str], pod_cidrs: dict[str, str],
                members: dict[str, tuple[str, str]], service_cidr: str) -> list[Route]:
    """node_ips, node_zones, pod_cidrs: by node name; members: cluster IP -> (name, zone)."""
    routes = [Route(pod_cidrs[node], ip) for node, ip in sorted(node_ips.items()) if pod_cidrs.get(node)]
    by_zone = {zone: node_ips[node] for node, zone in node_zones.items()}
    for cluster_ip, (name, zone) in sorted(members.items()):
        if zone not in by_zone:
            raise LabError(f"{name} belongs to zone {zone!r}, which has no node")
        routes.append(Route(f"{cluster_ip}/32", by_zone[zone]))
    routes.append(Route(service_cidr, node_ips[min(node_ips)]))
    return routes


def install(routes: list[Route]) -> None:
    for route in routes:
        _ip("route", "replace", route.destination, "via", route.via, "proto", ROUTE_PROTOCOL)


def remove() -> int:
    """Remove every route this module installed; returns how many there were."""
    listed = _ip("route", "show", "proto", ROUTE_PROTOCOL)
    destinations = [line.split()[0] for line in listed.splitlines() if line.strip()]
    for destination in destinations:
        _ip("route", "del", destination, "proto", ROUTE_PROTOCOL)
    return len(destinations)


def installed() -> list[Route]:
    found = []
    for line in _ip("route", "show", "proto", ROUTE_PROTOCOL).splitlines():
        parts = line.split()
        if "via" in parts:
            destination = parts[0] if "/" in parts[0] else f"{parts[0]}/32"
            found.append(Route(destination, parts[parts.index("via") + 1]))
    return found


def _ip(*args: str) -> str:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout
