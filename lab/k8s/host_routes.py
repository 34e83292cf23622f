"""Routes from this machine into the lab's cluster, so the harness reaches the guide's parts as a client in the
data centre would: each node's pod network through that node, each member's fixed cluster IP through the node of
its zone (a cut zone's members stay observable), the rest of the service range through the first node (kube-proxy
masquerades traffic from outside the pod network). Tagged with their own protocol number so `down` removes exactly
these.

Those routes bring back what a node sends to a Service address it did not translate: a pod's connection to a member
with no endpoints (stopped) leaves its node as is, because the lab's kube-router accepts pod traffic before
kube-proxy's reject. Looping between node and host it hung in SYN_SENT for two minutes, and a Toxiproxy sidecar
dialling it could not be disabled meanwhile (its accept loop dials without a timeout, and a disable waits for it). A
rule in Docker's DOCKER-USER chain refuses it, as kube-proxy refuses a Service without endpoints on a cluster."""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass

from kernel.errors import LabError

ROUTE_PROTOCOL = "136"
UNSERVED_TAG = "chaos360-k8s: a Service without endpoints refuses"


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


def _unserved_rule(node_subnet: str, service_cidr: str) -> list[str]:
    return ["DOCKER-USER", "-s", node_subnet, "-d", service_cidr, "-p", "tcp", "-m", "comment", "--comment",
            UNSERVED_TAG, "-j", "REJECT", "--reject-with", "tcp-reset"]


def refuse_unserved(node_subnet: str, service_cidr: str) -> None:
    """Idempotent: the refusal first in DOCKER-USER, once."""
    rule = _unserved_rule(node_subnet, service_cidr)
    if not refuses_unserved(node_subnet, service_cidr):
        _iptables("-I", *rule)


def refuses_unserved(node_subnet: str, service_cidr: str) -> bool:
    return subprocess.run(["iptables", "-C", *_unserved_rule(node_subnet, service_cidr)], capture_output=True,
                          check=False).returncode == 0


def remove_refusals() -> int:
    """Remove every refusal this module inserted (whatever the subnet); returns how many there were."""
    rules = [shlex.split(line)[1:] for line in _iptables("-S", "DOCKER-USER").splitlines()
             if UNSERVED_TAG in line and line.startswith("-A ")]
    for rule in rules:
        _iptables("-D", *rule)
    return len(rules)


def _iptables(*args: str) -> str:
    return _run("iptables", *args)


def _ip(*args: str) -> str:
    return _run("ip", *args)


def _run(tool: str, *args: str) -> str:
    result = subprocess.run([tool, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LabError(f"{tool} {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout
