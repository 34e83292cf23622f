"""What a dry run shows on Kubernetes: the pods, nodes and policies each activity would touch, read from the cluster
as it is now (the run resolves them again when it acts)."""

from __future__ import annotations

from kernel.errors import Chaos360Error
from lab.k8s.target import POLICY_PREFIX, KubernetesTarget, is_runner


def pod_lines(target: KubernetesTarget, names: list[str]) -> list[str]:
    """`app-b: pod agent360-7d9-x2 on node-b (zone b)` per instance that is a pod; others (the balancer) left out."""
    zones = target.node_zones()
    lines = []
    for name in sorted(names):
        try:
            pod = target.pod(name)
        except Chaos360Error:
            continue
        node = pod.spec.node_name or "?"
        lines.append(f"{name}: pod {pod.metadata.name} on {node} (zone {zones.get(node, '?')})")
    return lines


def zone_lines(target: KubernetesTarget, zone: str) -> list[str]:
    """The zone cut as this target makes it: a NetworkPolicy over the zone's pods, or packet filters on its nodes."""
    zones = target.node_zones()
    inside = sorted(node for node, z in zones.items() if z == zone)
    outside = sorted(node for node, z in zones.items() if z != zone)
    if target.isolation == "node":
        return [f"packet filters on {', '.join(inside)} and {', '.join(outside)} dropping traffic between them"]
    pods = sorted(p.metadata.name for p in target.pods() if zones.get(p.spec.node_name or "") == zone
                  and not is_runner(p))
    return [f"NetworkPolicy {POLICY_PREFIX}{zone} over the pods of {', '.join(inside)}: {', '.join(pods)}"]


def footprint_lines(target: KubernetesTarget, names: list[str], zones: list[str]) -> list[str]:
    lines = pod_lines(target, names)
    for zone in sorted(zones):
        lines += zone_lines(target, zone)
    return lines
