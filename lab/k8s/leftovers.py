"""What a fault can leave behind on the Kubernetes lab, looked for in the cluster itself, and how each is undone:
entries of the cluster's ledger, and what a harness killed before its record leaves (zone filters on nodes, isolation
policies, frozen containers, members scaled to zero, a canary)."""

from __future__ import annotations

from kernel.errors import LabError
from kernel.target import CANARY_SLOT
from lab.k8s.canary import CANARY, SERVER
from lab.k8s.target import KubernetesTarget
from lab.leftovers import toxic_leftovers


def paused_tasks(target: KubernetesTarget) -> dict[str, list[str]]:
    """Node -> ids of frozen containers."""
    if target.nodes is None:
        return {}
    found: dict[str, list[str]] = {}
    for node in target.nodes.nodes:
        listed = target.nodes.run(node, "ctr -n k8s.io task ls", check=False)
        paused = [line.split()[0] for line in listed.splitlines()[1:] if "PAUSED" in line.split()]
        if paused:
            found[node] = paused
    return found


def scaled_down(target: KubernetesTarget) -> list[str]:
    members = target.apps.list_namespaced_stateful_set(target.namespace).items
    return sorted(m.metadata.name for m in members if (m.spec.replicas or 0) == 0)


def canary_in_rotation(target: KubernetesTarget) -> list[str]:
    """The balancer in front still sending to the canary's port (its server not in maintenance)."""
    if target.external_balancer is None:
        return []
    try:
        state = target.external_balancer.server_states().get(SERVER, "MAINT")
    except OSError:
        return []
    return [] if state.startswith("MAINT") else [f"balancer server {SERVER} in rotation ({state})"]


def find_leftovers(target: KubernetesTarget) -> list[str]:
    return [f"ledger entry {e.fault} ({e.id})" for e in target.ledger().entries()] + fault_traces(target)


def fault_traces(target: KubernetesTarget) -> list[str]:
    """What faults left in the cluster itself, whether the ledger recorded them or not."""
    found = []
    for node in (target.nodes.nodes if target.nodes else {}):
        rules = target.nodes.rules(node) if target.nodes else []
        if rules:
            found.append(f"{node}: {len(rules)} zone filter rule(s)")
    found += [f"NetworkPolicy {name}" for name in target.isolation_policies()]
    found += [f"{node}: container {cid[:12]} frozen" for node, ids in paused_tasks(target).items() for cid in ids]
    found += [f"member {name} scaled to 0" for name in scaled_down(target)]
    found += [f"canary {CANARY} (slot {slot}): its Deployment or Service" for slot in target.variant_slots()]
    found += canary_in_rotation(target)
    return found + toxic_leftovers(target.inventory, target) if _deployed(target) else found


def _deployed(target: KubernetesTarget) -> bool:
    """Whether the namespace runs Agent360 (its sidecars are where link faults stay)."""
    try:
        return bool(target.inventory.by_role("toxiproxy"))
    except LabError:
        return False


def clear_links(target: KubernetesTarget) -> None:
    for sidecar in target.inventory.by_role("toxiproxy"):
        for proxy, toxics in target.toxics(sidecar.name).items():
            name = proxy.removesuffix(":disabled")
            if proxy.endswith(":disabled"):
                target.set_proxy_enabled(sidecar.name, name, True)
            for toxic in toxics:
                target.remove_toxic(sidecar.name, name, toxic)


def heal(target: KubernetesTarget) -> list[str]:
    """Undo every leftover found outside the ledger (heal the ledger first); returns what was undone."""
    undone = fault_traces(target)
    if target.nodes is not None:
        target.nodes.rejoin()
        for node, ids in paused_tasks(target).items():
            for container_id in ids:
                target.nodes.run(node, f"ctr -n k8s.io task resume {container_id}")
    for name in target.isolation_policies():
        target.networking.delete_namespaced_network_policy(name, target.namespace)
    for name in scaled_down(target):
        target.start(name)
    if target.variant_slots() or canary_in_rotation(target):
        target.remove_variant(CANARY_SLOT)
    if _deployed(target):
        clear_links(target)
    return undone
