"""Faults only a node's owner can inject: a container's process killed or frozen from its node, and packet filters
that cut a zone's nodes off the others (the way a real zone outage looks). The Kubernetes lab owns its nodes (Docker
containers); on another cluster these are refused rather than approximated.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from kernel.errors import LabError, UsageError

CHAIN = "CHAOS360-ZONE"
"""In the raw table, ahead of everything kube-proxy and kube-router install: nothing they sync can bypass it."""
HOOKS = ("PREROUTING", "OUTPUT")


@dataclass(frozen=True)
class LabNode:
    name: str
    zone: str
    ip: str
    container: str
    pod_cidr: str


class LabNodes:
    """Shell access to the lab's node containers, by node name."""

    def __init__(self, nodes: list[LabNode]) -> None:
        self.nodes = {n.name: n for n in nodes}

    def run(self, node: str, script: str, check: bool = True) -> str:
        if node not in self.nodes:
            raise UsageError(f"node {node!r} is not a node of the Kubernetes lab")
        result = subprocess.run(["docker", "exec", self.nodes[node].container, "sh", "-c", script],
                                capture_output=True, text=True, timeout=60, check=False)
        if check and result.returncode != 0:
            raise LabError(f"{node}: {script.split()[0]} failed: {(result.stderr or result.stdout).strip()[-300:]}")
        return result.stdout

    def task_pid(self, node: str, container_id: str) -> int:
        listed = self.run(node, "ctr -n k8s.io task ls")
        for line in listed.splitlines():
            fields = line.split()
            if fields and fields[0] == container_id:
                return int(fields[1])
        raise LabError(f"container {container_id[:12]} has no running task on {node}")

    def crash(self, node: str, container_id: str) -> int:
        """SIGKILL the container's process from its node: the kubelet sees a crash and restarts it."""
        pid = self.task_pid(node, container_id)
        self.run(node, f"ctr -n k8s.io task kill -s SIGKILL {container_id}")
        return pid

    def freeze(self, node: str, container_id: str, frozen: bool) -> None:
        verb = "pause" if frozen else "resume"
        state = self.run(node, "ctr -n k8s.io task ls")
        status = next((line.split()[2] for line in state.splitlines() if line.startswith(container_id)), "")
        if (status == "PAUSED") == frozen:
            return
        self.run(node, f"ctr -n k8s.io task {verb} {container_id}")

    def forget_connections(self, addresses: list[str]) -> None:
        """Drop every node's connection-tracking entries to and from `addresses`: the next packet of an established
        connection is judged afresh by the packet filters (a NetworkPolicy otherwise cuts only new connections)."""
        flags = ("-s", "-d", "-r", "-q")
        script = "; ".join(f"conntrack -D {flag} {address} >/dev/null 2>&1" for address in addresses for flag in flags)
        for node in self.nodes:
            self.run(node, f"{script}; true")

    def in_zone(self, zone: str) -> list[LabNode]:
        return [n for n in self.nodes.values() if n.zone == zone]

    def isolate(self, zone: str) -> list[str]:
        """Drop every packet between the zone's nodes (and their pods) and the other zones', both ways."""
        inside = self.in_zone(zone)
        if not inside:
            raise UsageError(f"no node in zone {zone!r}")
        outside = [n for n in self.nodes.values() if n.zone != zone]
        for node in inside:
            self._drop(node, outside)
        for node in outside:
            self._drop(node, inside)
        return [n.name for n in inside]

    def _drop(self, node: LabNode, peers: list[LabNode]) -> None:
        addresses = [a for peer in peers for a in (peer.ip, peer.pod_cidr)]
        rules = [f"iptables -t raw -N {CHAIN} 2>/dev/null || true"]
        for address in addresses:
            rules.append(f"iptables -t raw -A {CHAIN} -s {address} -j DROP")
            rules.append(f"iptables -t raw -A {CHAIN} -d {address} -j DROP")
        for hook in HOOKS:
            rules.append(f"iptables -t raw -C {hook} -j {CHAIN} 2>/dev/null || iptables -t raw -I {hook} 1 -j {CHAIN}")
        self.run(node.name, " && ".join(rules))

    def rejoin(self) -> list[str]:
        """Remove the zone filters from every node (idempotent)."""
        script = "; ".join([*(f"iptables -t raw -D {hook} -j {CHAIN} 2>/dev/null" for hook in HOOKS),
                            f"iptables -t raw -F {CHAIN} 2>/dev/null", f"iptables -t raw -X {CHAIN} 2>/dev/null",
                            "true"])
        for node in self.nodes:
            self.run(node, script)
        return list(self.nodes)

    def rules(self, node: str) -> list[str]:
        listed = self.run(node, "iptables -t raw -S", check=False)
        return [line for line in listed.splitlines() if re.search(CHAIN, line)]
