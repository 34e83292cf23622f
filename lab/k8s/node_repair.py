"""A lab node whose app replica is Ready while the external balancer sees the node drop its traffic has stale
network plumbing: kube-proxy's NodePort rules, or kube-router's pod firewall. The two rewrite the same filter table,
and kube-router restores a whole-table snapshot (kube-router issue #1248): a snapshot taken while the node had no
ready replica brings back kube-proxy's "no local endpoints" DROP after kube-proxy removed it, and kube-proxy does not
look again until a Service or endpoint changes. The kubelet probes the pod from its own node, so only the balancer
notices. The lab's heals restart both daemons on such a node, as a node auto-repair would. Agent360 itself cannot
look like this: a replica that does not serve fails its readiness probe as it fails the balancer's check."""

from __future__ import annotations

import time
from collections.abc import Callable

from kernel.errors import LabError
from kernel.progress import Progress
from lab.k8s.node_faults import LabNodes
from lab.readiness import Check, wait_until

DAEMONS = ("kube-router", "kube-proxy")
"""In restart order: kube-proxy's full sync at start comes after kube-router's, so it writes last."""
SETTLE_S = 5.0
STALE_AFTER_S = 30.0
"""Longer than the balancer and the kubelet may disagree while a replica turns ready (a few seconds)."""
REPAIR_WAIT_S = 45.0


def stale_nodes(balancer: dict[str, str], ready_replicas: dict[str, bool]) -> list[str]:
    """balancer: node -> state as its health checks see it; ready_replicas: node -> whether its replica is Ready."""
    return sorted(node for node, state in balancer.items()
                  if not state.startswith("UP") and ready_replicas.get(node, False))


def restart_network_daemons(nodes: LabNodes, names: list[str]) -> None:
    """SIGKILL each daemon (a stopped one too); each node's supervisor starts it again within seconds."""
    for position, daemon in enumerate(DAEMONS):
        if position and names:
            time.sleep(SETTLE_S)
        for name in names:
            nodes.run(name, f"pkill -KILL -x {daemon}; true")


def wait_ready(repair: Callable[[], list[str]], checks: Callable[[], list[Check]], timeout_s: float,
               progress: Progress) -> list[str]:
    """Wait for the lab's checks; when they still fail after STALE_AFTER_S, `repair` (the target's repair_stale)
    once and wait on.
    Returns what was repaired; raises LabError when the lab is not ready in time."""
    started = time.monotonic()
    try:
        wait_until(checks, min(timeout_s, STALE_AFTER_S), progress)
        return []
    except LabError:
        repaired = repair()
        for line in repaired:
            progress.step(f"repaired {line}")
        wait_until(checks, max(timeout_s - (time.monotonic() - started), REPAIR_WAIT_S), progress)
        return repaired
