"""The inventory a run on Kubernetes works from: the guide's parts as the cluster runs them, at addresses the harness
reaches (member Services' fixed cluster IPs, app pods' IPs, the app Service as the load balancer), each with its
node's zone. Read from the cluster when a run starts: pods move, Services do not."""

from __future__ import annotations

from typing import Any

from kernel.errors import LabError
from kernel.inventory import Inventory, InventoryInstance

INSTANCE_LABEL = "chaos360.io/instance"
ROLE_LABEL = "chaos360.io/role"
ZONE_KEY = "topology.kubernetes.io/zone"
APP_SELECTOR = "app=agent360"
BALANCER_SERVICE, PROMETHEUS_SERVICE = "agent360", "prometheus"
PROFILE = "k8s"
APP_PORTS, SIDECAR_PORTS = {"http": 8080}, {"api": 8474}


def pod_ready(pod: Any) -> bool:
    return {c.type: c.status for c in pod.status.conditions or []}.get("Ready") == "True"


def read_inventory(core: Any, namespace: str, lab_id: str, settings: dict[str, str | int],
                   balancer: InventoryInstance | None = None) -> Inventory:
    """LabError when a part the guide names is missing from the namespace. `balancer`: the load balancer in front
    of the app Service, when the cluster has one outside it (the lab's); the Service itself otherwise."""
    zones = {n.metadata.name: (n.metadata.labels or {}).get(ZONE_KEY) for n in core.list_node().items}
    services = {s.metadata.name: s for s in core.list_namespaced_service(namespace).items}
    pods = [p for p in core.list_namespaced_pod(namespace).items if p.metadata.deletion_timestamp is None]
    instances = _members(services, pods, zones) + _apps(pods, zones) + [
        balancer or _service_instance(services, BALANCER_SERVICE, "lb"),
        _service_instance(services, PROMETHEUS_SERVICE, "prometheus"),
    ]
    return Inventory(lab_id=lab_id, profile=PROFILE, network=f"k8s:{namespace}", subnet="", settings=settings,
                     images={}, instances=tuple(instances))


def _members(services: dict[str, Any], pods: list[Any], zones: dict[str, str | None]) -> list[InventoryInstance]:
    node_of = {(p.metadata.labels or {}).get(INSTANCE_LABEL): p.spec.node_name for p in pods}
    found = []
    for name, service in sorted(services.items()):
        labels = service.metadata.labels or {}
        if labels.get(INSTANCE_LABEL) != name:
            continue
        ports = {p.name: p.port for p in service.spec.ports}
        zone = zones.get(node_of.get(name) or "") or name.rpartition("-")[2]
        found.append(InventoryInstance(name=name, role=labels.get(ROLE_LABEL, ""), zone=zone, container=name,
                                       ip=service.spec.cluster_ip, ports=ports, host_ports=ports,
                                       host=service.spec.cluster_ip))
    return found


def _apps(pods: list[Any], zones: dict[str, str | None]) -> list[InventoryInstance]:
    """One app replica per zone, named app-<zone> as in the Docker lab (the newest pod when two share a zone), and
    its Toxiproxy sidecar as toxiproxy-<zone>, through which it reaches every datastore member."""
    by_zone: dict[str, Any] = {}
    for pod in pods:
        if (pod.metadata.labels or {}).get("app") != "agent360" or not pod.status.pod_ip:
            continue
        zone = zones.get(pod.spec.node_name or "") or ""
        newest = by_zone.get(zone)
        if zone and (newest is None or pod.metadata.creation_timestamp > newest.metadata.creation_timestamp):
            by_zone[zone] = pod
    return [InventoryInstance(name=f"{role}-{zone}", role=role, zone=zone, container=pod.metadata.name,
                              ip=pod.status.pod_ip, ports=ports, host_ports=ports, host=pod.status.pod_ip)
            for zone, pod in sorted(by_zone.items())
            for role, ports in (("app", APP_PORTS), ("toxiproxy", SIDECAR_PORTS))]


def _service_instance(services: dict[str, Any], name: str, role: str) -> InventoryInstance:
    service = services.get(name)
    if service is None:
        raise LabError(f"no Service {name} in the namespace: deploy Agent360 (deploy/k8s) first")
    port = next(p.port for p in service.spec.ports if p.name == "http")
    return InventoryInstance(name=role, role=role, zone=None, container=name, ip=service.spec.cluster_ip,
                             ports={"http": port}, host_ports={"http": port}, host=service.spec.cluster_ip)
