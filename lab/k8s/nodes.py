"""The Kubernetes lab's nodes: one Docker container per zone running containerd, kubelet, kube-proxy, kube-router.

`--privileged` fails on this kind of host (its capability bounding set lacks CAP_SYS_RESOURCE), so a node gets
every other capability, unconfined seccomp/AppArmor/system paths, its own cgroup namespace and all devices.
"""

from __future__ import annotations

import contextlib
import ipaddress
import subprocess
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
from docker.models.containers import Container

from kernel.errors import LabError
from lab.containers import LABEL_LAB, LABEL_NAME, LABEL_ROLE, LABEL_ZONE

NODE_ROLE = "k8s-node"
ZONES = ("a", "b", "c")
FIRST_NODE_OCTET = 11


@dataclass(frozen=True)
class Node:
    name: str
    zone: str
    ip: str

    def container_name(self, lab_id: str) -> str:
        return f"{lab_id}-{self.name}"


def gateway(subnet: str) -> str:
    return str(next(ipaddress.ip_network(subnet).hosts()))


def plan_nodes(subnet: str) -> list[Node]:
    base = ipaddress.ip_network(subnet).network_address
    return [Node(f"node-{zone}", zone, str(base + FIRST_NODE_OCTET + index)) for index, zone in enumerate(ZONES)]


def node_containers(client: docker.DockerClient, lab_id: str) -> dict[str, Container]:
    found = client.containers.list(all=True, filters={"label": [f"{LABEL_LAB}={lab_id}", f"{LABEL_ROLE}={NODE_ROLE}"]})
    return {c.labels.get(LABEL_NAME, c.name): c for c in found}


def run_node(lab_id: str, node: Node, image: str, network: str, mounts: dict[Path, str]) -> None:
    """Start the node container with the Docker CLI: the API has no field for `systempaths=unconfined`."""
    name = node.container_name(lab_id)
    labels = {LABEL_LAB: lab_id, LABEL_ROLE: NODE_ROLE, LABEL_ZONE: node.zone, LABEL_NAME: node.name}
    command = [
        "docker", "run", "-d", "--name", name, "--hostname", node.name, "--network", network, "--ip", node.ip,
        "--network-alias", node.name, "--restart", "unless-stopped",
        "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE", "--security-opt", "seccomp=unconfined",
        "--security-opt", "apparmor=unconfined", "--security-opt", "systempaths=unconfined",
        "--cgroupns", "private", "--device", "/dev/kmsg", "--device-cgroup-rule", "a *:* rwm",
        "--tmpfs", "/run", "--tmpfs", "/tmp",
        "-v", f"{name}-containerd:/var/lib/containerd", "-v", f"{name}-kubelet:/var/lib/kubelet",
        *(arg for key, value in labels.items() for arg in ("--label", f"{key}={value}")),
        *(arg for path, inside in mounts.items() for arg in ("-v", f"{path}:{inside}:ro")),
        image, node.name, node.zone, node.ip,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LabError(f"cannot start {name}: {result.stderr.strip()[-300:]}")


def remove_node_volumes(client: docker.DockerClient, lab_id: str, node: Node) -> None:
    for suffix in ("containerd", "kubelet"):
        with contextlib.suppress(docker.errors.NotFound):
            client.volumes.get(f"{node.container_name(lab_id)}-{suffix}").remove(force=True)
