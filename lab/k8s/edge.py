"""The lab's external load balancer, as a cloud gives one to a Service: HAProxy outside the cluster sends to every
node's NodePort and health-checks `/ready` through it. The app Service's `externalTrafficPolicy: Local` makes a
node's NodePort reach only that node's replica, so a node whose replica is down or cut off leaves the rotation, as
behind a cloud balancer. When every node fails its check (all replicas unready at once, as in a Redis failover), it
fails open to all of them, like the Docker lab's HAProxy. A canary's NodePort, when a run starts one, gets 10 of
every 100 requests (the nodes 30 each), steered on the balancer's admin socket. The harness (and Locust) reach it on
loopback."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import urllib.request

import docker
import docker.errors

from kernel.errors import LabError
from kernel.inventory import InventoryInstance
from lab import build
from lab.configs import CANARY_WEIGHTS, FAIL_OPEN_SUFFIX, balancer_cfg
from lab.containers import LABEL_LAB, LABEL_NAME, LABEL_ROLE
from lab.k8s.manifests import APP_NODE_PORT, CANARY_NODE_PORT
from lab.k8s.nodes import Node
from lab.readiness import Check

NAME, ROLE = "lb", "lb"
HOST_PORTS = {"http": 18080, "stats": 18404, "admin": 18999}
CONTAINER_PORTS = {"http": 80, "stats": 8404, "admin": 9999}
CANARY = "canary"
EDGE_IP_OCTET = 5


def edge_cfg(nodes: list[Node]) -> str:
    weight = CANARY_WEIGHTS[0] // len(nodes)
    servers = "\n".join(f"  server {n.name} {n.ip}:{APP_NODE_PORT} check weight {weight}" for n in nodes)
    servers += "".join(f"\n  server {n.name}{FAIL_OPEN_SUFFIX} {n.ip}:{APP_NODE_PORT} backup" for n in nodes)
    servers += f"\n  server {CANARY} {nodes[0].ip}:{CANARY_NODE_PORT} check disabled weight {CANARY_WEIGHTS[1]}"
    return balancer_cfg(servers)


def container_name(lab_id: str) -> str:
    return f"{lab_id}-k8s-{NAME}"


def edge_ip(nodes: list[Node]) -> str:
    prefix = nodes[0].ip.rsplit(".", 1)[0]
    return f"{prefix}.{EDGE_IP_OCTET}"


def ensure(client: docker.DockerClient, lab_id: str, network: str, nodes: list[Node]) -> None:
    """Start the balancer, or replace it when its configuration changed; idempotent."""
    config = edge_cfg(nodes)
    name = container_name(lab_id)
    with contextlib.suppress(docker.errors.NotFound):
        existing = client.containers.get(name)
        if existing.status == "running" and existing.labels.get("chaos360.config") == hash_of(config):
            return
        existing.remove(force=True)
    image = build.image_tags()["base"]
    command = ["sh", "-c", 'printf "%s" "$EDGE_CFG" > /tmp/haproxy.cfg && exec haproxy -W -db -f /tmp/haproxy.cfg']
    try:
        container = client.containers.create(
            image, command, name=name, environment={"EDGE_CFG": config}, restart_policy={"Name": "unless-stopped"},
            labels={LABEL_LAB: lab_id, LABEL_ROLE: ROLE, LABEL_NAME: NAME, "chaos360.config": hash_of(config)},
            ports={f"{CONTAINER_PORTS[p]}/tcp": ("127.0.0.1", HOST_PORTS[p]) for p in HOST_PORTS},
            network=network, networking_config={network: client.api.create_endpoint_config(
                ipv4_address=edge_ip(nodes))})
        container.start()
    except docker.errors.APIError as error:
        raise LabError(f"cannot start the lab's load balancer {name}: {error.explanation or error}") from None


def remove(client: docker.DockerClient, lab_id: str) -> bool:
    with contextlib.suppress(docker.errors.NotFound):
        client.containers.get(container_name(lab_id)).remove(force=True, v=True)
        return True
    return False


def hash_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def instance(lab_id: str, nodes: list[Node]) -> InventoryInstance:
    return InventoryInstance(name=NAME, role=ROLE, zone=None, container=container_name(lab_id), ip=edge_ip(nodes),
                             ports=dict(CONTAINER_PORTS), host_ports=dict(HOST_PORTS))


def _server_rows() -> list[dict[str, str]]:
    """The balancer's statistics row of each server (the nodes, the canary); the fail-open backups left out."""
    url = f"http://127.0.0.1:{HOST_PORTS['stats']}/stats;csv"
    with urllib.request.urlopen(url, timeout=2) as response:
        text = response.read().decode()
    rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
    return [row for row in rows if row["pxname"] == "agent360" and row["svname"] not in ("FRONTEND", "BACKEND")
            and not row["svname"].endswith(FAIL_OPEN_SUFFIX)]


def server_states() -> dict[str, str]:
    """Each node (and the canary) as the balancer's health checks see it (UP, DOWN, MAINT...)."""
    return {row["svname"]: row["status"] for row in _server_rows()}


def check(nodes: int) -> Check:
    try:
        rows = [row for row in _server_rows() if row["svname"] != CANARY]
    except OSError as error:
        return Check("balancer", False, f"stats unreachable: {error}")
    return judge_nodes(rows, nodes)


def judge_nodes(rows: list[dict[str, str]], nodes: int) -> Check:
    """Every node UP; a node that is not says how its last health check ended (L4TOUT: no answer; L7STS: status)."""
    up = sorted(row["svname"] for row in rows if row["status"].startswith("UP"))
    down = [f"{row['svname']} {row['status']} ({row.get('check_status', '')} {row.get('check_code', '')}".rstrip()
            + ")" for row in rows if not row["status"].startswith("UP")]
    detail = f"{len(up)}/{nodes} nodes UP ({', '.join(up) or 'none'})"
    return Check("balancer", len(up) == nodes, detail + (f"; {', '.join(down)}" if down else ""))
