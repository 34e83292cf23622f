"""Bring the Kubernetes lab up, report on it and take it down.

Ready means usable, not merely started: the API answers /readyz, every node is Ready with its zone label, every
node has its routes to the other nodes' pod networks (nodes turn Ready ~20 s before kube-router installs them), and
cluster DNS is available.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import docker
import docker.errors
from docker.types import IPAMConfig, IPAMPool

from kernel import inventory as inventory_store
from kernel.errors import LabError, UsageError
from kernel.inventory import Inventory, InventoryInstance
from kernel.progress import Progress
from lab.containers import LABEL_LAB
from lab.docker_lab import docker_client, remove_container
from lab.k8s import agent360, binaries, control_plane, edge, host_routes, images, manifests, pki, runner_image
from lab.k8s.control_plane import Component
from lab.k8s.nodes import NODE_ROLE, Node, gateway, node_containers, plan_nodes, remove_node_volumes, run_node
from lab.k8s.versions import KUBERNETES, PAUSE_TAG, bin_dir
from lab.readiness import Check, wait_until

PROFILE = "k8s"
DEFAULT_SUBNET = "172.31.250.0/24"
READY_TIMEOUT_S = 240
APP_READY_TIMEOUT_S = 420
ADDONS_DIR = Path(__file__).parent / "addons"


def home(lab_id: str) -> Path:
    return inventory_store.state_dir() / "k8s" / lab_id


def kubeconfig_path(lab_id: str) -> Path:
    return home(lab_id) / "pki" / "admin.kubeconfig"


def network_name(lab_id: str) -> str:
    return f"{lab_id}-k8s-net"


def kubectl(lab_id: str, *args: str, stdin: str | None = None, timeout_s: float = 30.0) -> str:
    """Run the lab's own kubectl as the lab's administrator; raises LabError with kubectl's message."""
    command = [str(bin_dir() / "kubectl"), f"--kubeconfig={kubeconfig_path(lab_id)}", *args]
    try:
        result = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise LabError(f"kubectl {' '.join(args[:3])} took longer than {timeout_s:.0f}s") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1]
        raise LabError(f"kubectl {' '.join(args[:3])}: {last}")
    return result.stdout


def _check_prerequisites() -> None:
    missing = binaries.missing()
    if missing:
        raise UsageError(f"Kubernetes {KUBERNETES} programs missing ({', '.join(missing)}): "
                         "run `chaos360 lab build --profile k8s`")
    for tag in (images.node_tag(), *_pod_images()):
        if not images.image_exists(tag):
            raise UsageError(f"image {tag} is missing: run `chaos360 lab build --profile k8s`")


def _pod_images() -> list[str]:
    return [PAUSE_TAG, images.COREDNS_TAG, images.tools_tag()]


def _ensure_network(client: docker.DockerClient, lab_id: str, subnet: str) -> None:
    name = network_name(lab_id)
    if client.networks.list(names=[name]):
        return
    try:
        client.networks.create(name, driver="bridge", ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=subnet)]),
                               labels={LABEL_LAB: lab_id})
    except docker.errors.APIError as error:
        raise UsageError(f"cannot create network {name} on {subnet}: {error.explanation}") from None


def _components(lab_id: str, subnet: str) -> list[Component]:
    return control_plane.components(bin_dir(), home(lab_id), gateway(subnet))


def _start_control_plane(lab_id: str, subnet: str, progress: Progress) -> None:
    for component in _components(lab_id, subnet):
        was_running = control_plane.running_pid(home(lab_id), component) is not None
        pid = control_plane.start(home(lab_id), component)
        if not was_running:
            progress.step(f"started {component.name} (pid {pid})")
        if component.name == "kube-apiserver":
            wait_until(lambda: [_api_check(lab_id)], 60, progress)


def _start_nodes(client: docker.DockerClient, lab_id: str, nodes: list[Node], image_dir: Path,
                 progress: Progress) -> None:
    existing = node_containers(client, lab_id)
    mounts = {bin_dir(): "/opt/k8s/bin", home(lab_id) / "pki": "/etc/kubernetes/pki", image_dir: "/opt/k8s/images"}
    for node in nodes:
        container = existing.get(node.name)
        if container is not None and container.status == "running":
            continue
        if container is not None:
            container.start()
            progress.step(f"restarted {node.name}")
            continue
        run_node(lab_id, node, images.node_tag(), network_name(lab_id), mounts)
        progress.step(f"started {node.name} (zone {node.zone}, {node.ip})")


def to_inventory(lab_id: str, subnet: str, nodes: list[Node]) -> Inventory:
    instances = tuple(
        InventoryInstance(name=n.name, role=NODE_ROLE, zone=n.zone, container=n.container_name(lab_id), ip=n.ip,
                          ports={"kubelet": 10250}, host_ports={}) for n in nodes
    )
    return Inventory(lab_id=lab_id, profile=PROFILE, network=network_name(lab_id), subnet=subnet,
                     settings={"api_server": f"https://{gateway(subnet)}:{control_plane.API_PORT}",
                               "kubeconfig": str(kubeconfig_path(lab_id)), "kubernetes": KUBERNETES},
                     images={"node": images.node_tag(), "pause": PAUSE_TAG, "coredns": images.COREDNS_TAG,
                             "tools": images.tools_tag()},
                     instances=instances)


def up(lab_id: str, subnet: str, progress: Progress) -> Inventory:
    """Start (or reuse) the control plane and the three nodes; return only when the cluster is ready."""
    _check_prerequisites()
    client = docker_client()
    nodes = plan_nodes(subnet)
    _ensure_network(client, lab_id, subnet)
    pki.ensure(home(lab_id) / "pki", gateway(subnet), {n.name: n.ip for n in nodes})
    agent360_images = agent360.tag_images()
    runner_image.ensure(progress)
    image_dir = images.saved_images({"cluster": _pod_images(),
                                     "agent360": [*agent360_images, runner_image.STABLE_TAG]})
    _start_control_plane(lab_id, subnet, progress)
    _start_nodes(client, lab_id, nodes, image_dir, progress)
    agent360.import_images(node_containers(client, lab_id), image_dir, progress)
    kubectl(lab_id, "apply", "-f", str(ADDONS_DIR / "coredns.yaml"))
    inventory = to_inventory(lab_id, subnet, nodes)
    wait_until(lambda: checks(inventory), READY_TIMEOUT_S, progress)
    host_routes.install(planned_host_routes(inventory))
    host_routes.refuse_unserved(subnet, control_plane.SERVICE_CIDR)
    edge.ensure(client, lab_id, network_name(lab_id), nodes)
    progress.step("cluster ready; deploying Agent360 (deploy/k8s)")
    agent360.apply(lambda *args, **kw: kubectl(lab_id, *args, **kw))
    wait_until(lambda: checks(inventory, with_app=True), APP_READY_TIMEOUT_S, progress)
    path = inventory_store.save(inventory)
    progress.step(f"Kubernetes lab {lab_id} is ready; kubeconfig {kubeconfig_path(lab_id)}, inventory at {path}")
    return inventory


def down(lab_id: str, progress: Progress) -> int:
    """Remove the nodes, stop the control plane, remove the network and the lab's state; returns what was removed."""
    client = docker_client()
    containers = node_containers(client, lab_id)
    for container in containers.values():
        remove_container(container, volumes=True)
    for node in plan_nodes(_subnet_of(lab_id)):
        remove_node_volumes(client, lab_id, node)
    stopped = [c.name for c in reversed(_components(lab_id, _subnet_of(lab_id)))
               if control_plane.stop(home(lab_id), c)]
    edge.remove(client, lab_id)
    for network in client.networks.list(names=[network_name(lab_id)]):
        with contextlib.suppress(docker.errors.APIError):
            network.remove()
    host_routes.remove()
    host_routes.remove_refusals()
    shutil.rmtree(home(lab_id), ignore_errors=True)
    running = inventory_store.find(lab_id)
    if running is not None and running.profile == PROFILE:
        inventory_store.inventory_path(lab_id).unlink()
    if stopped or containers:
        progress.step(f"removed {len(containers)} nodes and stopped {len(stopped)} control-plane processes "
                      f"of Kubernetes lab {lab_id}")
    return len(containers) + len(stopped)


def _subnet_of(lab_id: str) -> str:
    try:
        return inventory_store.load(lab_id).subnet
    except UsageError:
        return DEFAULT_SUBNET


def _api_check(lab_id: str) -> Check:
    try:
        answer = kubectl(lab_id, "get", "--raw", "/readyz", timeout_s=5).strip()
    except LabError as error:
        failing = re.findall(r"\[-\]([\w/-]+) failed", str(error))
        return Check("api", False, f"/readyz failing: {', '.join(failing)}" if failing else str(error)[:200])
    return Check("api", answer == "ok", f"/readyz {answer}")


def _control_plane_check(inventory: Inventory) -> Check:
    down_ = [c.name for c in _components(inventory.lab_id, inventory.subnet)
             if control_plane.running_pid(home(inventory.lab_id), c) is None]
    return Check("control", not down_, f"not running: {', '.join(down_)}" if down_ else "4 processes running")


def _node_check(inventory: Inventory) -> Check:
    try:
        listed = json.loads(kubectl(inventory.lab_id, "get", "nodes", "-o", "json", timeout_s=10))["items"]
    except LabError as error:
        return Check("nodes", False, str(error))
    problems = node_problems(listed, {i.name: i.zone or "" for i in inventory.instances})
    return Check("nodes", not problems, "; ".join(problems) or f"{len(listed)} Ready, zones a/b/c")


def node_problems(listed: list[dict[str, object]], expected: dict[str, str]) -> list[str]:
    """Which expected nodes are absent, not Ready, or lack their zone label."""
    found: dict[str, dict[str, object]] = {str(n["metadata"]["name"]): n for n in listed}  # type: ignore[index]
    problems = []
    for name, zone in expected.items():
        node = found.get(name)
        if node is None:
            problems.append(f"{name} not registered")
            continue
        labels = node["metadata"].get("labels", {})  # type: ignore[attr-defined]
        if labels.get("topology.kubernetes.io/zone") != zone:
            problems.append(f"{name} lacks zone label {zone}")
        conditions = {c["type"]: c["status"] for c in node["status"].get("conditions", [])}  # type: ignore[attr-defined]
        if conditions.get("Ready") != "True":
            problems.append(f"{name} not Ready")
    return problems


def _route_check(inventory: Inventory) -> Check:
    client = docker_client()
    containers = node_containers(client, inventory.lab_id)
    others = len(inventory.instances) - 1
    missing = []
    for instance in inventory.instances:
        container = containers.get(instance.name)
        if container is None or container.status != "running":
            missing.append(f"{instance.name} down")
            continue
        code, output = container.exec_run(["ip", "route"])
        routes = sum(1 for line in output.decode().splitlines() if "proto 17" in line)
        if code != 0 or routes < others:
            missing.append(f"{instance.name} {routes}/{others}")
    return Check("routes", not missing, f"pod routes missing: {', '.join(missing)}" if missing
                 else f"every node routes to {others} others")


MEMBER_ROLES = ("redis", "sentinel", "cassandra")


def planned_host_routes(inventory: Inventory) -> list[host_routes.Route]:
    listed = json.loads(kubectl(inventory.lab_id, "get", "nodes", "-o", "json", timeout_s=10))["items"]
    pod_cidrs = {n["metadata"]["name"]: n["spec"].get("podCIDR", "") for n in listed}
    members = {i.ip: (i.name, i.zone or "") for i in manifests.topology().instances if i.role in MEMBER_ROLES}
    return host_routes.plan_routes({i.name: i.ip for i in inventory.instances},
                                   {i.name: i.zone or "" for i in inventory.instances}, pod_cidrs, members,
                                   control_plane.SERVICE_CIDR)


def _host_route_check(inventory: Inventory) -> Check:
    """The harness reaches pods and members from this machine (see host_routes)."""
    try:
        missing = set(planned_host_routes(inventory)) - set(host_routes.installed())
    except LabError as error:
        return Check("harness routes", False, str(error))
    refusing = host_routes.refuses_unserved(inventory.subnet, control_plane.SERVICE_CIDR)
    gaps = sorted(r.destination for r in missing) + ([] if refusing else ["the refusal of unserved Services"])
    return Check("harness routes", not gaps, f"missing: {', '.join(gaps)}" if gaps else "installed")


def _dns_check(inventory: Inventory) -> Check:
    try:
        found = json.loads(kubectl(inventory.lab_id, "-n", "kube-system", "get", "deployment", "coredns", "-o",
                                   "json", timeout_s=10))
    except LabError as error:
        return Check("dns", False, str(error))
    available = found.get("status", {}).get("availableReplicas", 0)
    return Check("dns", available >= 1, f"CoreDNS {available} available")


def checks(inventory: Inventory, with_app: bool = False) -> list[Check]:
    api = _api_check(inventory.lab_id)
    if not api.ok:
        return [_control_plane_check(inventory), api]
    found = [_control_plane_check(inventory), api, _node_check(inventory), _route_check(inventory),
             _dns_check(inventory)]
    if with_app:
        found += [_host_route_check(inventory), edge.check(len(inventory.instances))]
        found += agent360.checks(inventory, lambda *args, **kw: kubectl(inventory.lab_id, *args, **kw))
    return found


def status(inventory: Inventory) -> dict[str, object]:
    client = docker_client()
    containers = node_containers(client, inventory.lab_id)
    found = checks(inventory, with_app=True)
    instances = [{**i.model_dump(), "state": containers[i.name].status if i.name in containers else "missing",
                  "restarts": containers[i.name].attrs.get("RestartCount", 0) if i.name in containers else 0}
                 for i in inventory.instances]
    return {"lab_id": inventory.lab_id, "profile": PROFILE, "ready": all(c.ok for c in found),
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in found],
            "instances": instances, "images": inventory.images, "kubeconfig": str(kubeconfig_path(inventory.lab_id))}
