"""Agent360 deployed into the Kubernetes lab: images imported into every node, local storage, the manifests applied,
and a readiness that means the service answers through its Service from outside the cluster."""

from __future__ import annotations

import json
import tempfile
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import redis

from kernel.errors import LabError
from kernel.inventory import Inventory
from kernel.progress import Progress
from lab import build
from lab.build import run_step
from lab.configs import MASTER_NAME
from lab.k8s import edge, manifests
from lab.k8s.manifests import IMAGES, INSTANCE_LABEL, NAMESPACE, STORAGE_CLASS
from lab.readiness import Check, judge_redis_roles, redis_role
from lab.topology import Role

CLAIMS = {Role.REDIS: "1Gi", Role.CASSANDRA: "5Gi"}
NODE_DATA_DIR = "/var/lib/chaos360"
REPORTS_DIR, REPORTS_ZONE = f"{NODE_DATA_DIR}/runner-reports", "a"
REDIS_PORT, SENTINEL_PORT = 6379, 26379


def tag_images() -> list[str]:
    """Give the lab's current builds the stable names the manifests use; returns those names."""
    tags = build.image_tags()
    for name, stable in IMAGES.items():
        if not build.image_exists(tags[name]):
            raise LabError(f"image {tags[name]} is missing: run `chaos360 lab build --profile k8s`")
        run_step(["docker", "tag", tags[name], stable])
    return list(IMAGES.values())


def storage() -> list[dict[str, Any]]:
    """A class without a provisioner and one volume per member's claim, on its zone's node (pre-bound)."""
    documents: list[dict[str, Any]] = [{
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": STORAGE_CLASS, "labels": {"chaos360": "lab"}},
        "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer",
        "reclaimPolicy": "Delete"}]
    for instance in manifests.topology().instances:
        if instance.role in CLAIMS:
            documents.append(_volume(f"chaos360-{instance.name}", f"data-{instance.name}-0", CLAIMS[instance.role],
                                     f"{NODE_DATA_DIR}/{instance.name}", instance.zone or "", STORAGE_CLASS))
    # the runner's reports and drill history, on zone a's node (read back there by the tests); its claim names no
    # class, so the volume has none
    documents.append(_volume(f"chaos360-{manifests.REPORTS_CLAIM}", manifests.REPORTS_CLAIM, "1Gi", REPORTS_DIR,
                             REPORTS_ZONE, ""))
    return documents


def _volume(name: str, claim: str, size: str, path: str, zone: str, storage_class: str) -> dict[str, Any]:
    """A node-local volume pre-bound to `claim`, on a node of `zone`."""
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name, "labels": {"chaos360": "lab"}},
            "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                     "storageClassName": storage_class, "persistentVolumeReclaimPolicy": "Retain",
                     "claimRef": {"namespace": NAMESPACE, "name": claim},
                     "hostPath": {"path": path, "type": "DirectoryOrCreate"},
                     "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                         {"key": manifests.ZONE_KEY, "operator": "In", "values": [zone]}]}]}}}}


def apply(kubectl: Any) -> None:
    """Storage first, then the rendered manifests with kustomize, as a user would apply deploy/k8s."""
    kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": storage()}))
    with tempfile.TemporaryDirectory(prefix="chaos360-deploy-") as directory:
        manifests.write(Path(directory))
        kubectl("apply", "-k", directory, timeout_s=120)


def _pods(kubectl: Any) -> list[dict[str, Any]]:
    return list(json.loads(kubectl("-n", NAMESPACE, "get", "pods", "-o", "json", timeout_s=15))["items"])


def _ready(pod: dict[str, Any]) -> bool:
    conditions = {c["type"]: c["status"] for c in pod.get("status", {}).get("conditions", [])}
    return conditions.get("Ready") == "True" and pod["metadata"].get("deletionTimestamp") is None


def member_problems(pods: list[dict[str, Any]]) -> list[str]:
    """Which members (one pod each) or app replicas are not ready; empty when all are."""
    members = {i.name for i in manifests.topology().instances if i.role not in (Role.APP, Role.LB, Role.TOXIPROXY,
                                                                               Role.PROMETHEUS)}
    ready_members = {p["metadata"]["labels"].get(INSTANCE_LABEL) for p in pods if _ready(p)}
    problems = [f"{name} not ready" for name in sorted(members - ready_members)]
    apps = [p for p in pods if p["metadata"]["labels"].get("app") == "agent360" and _ready(p)]
    if len(apps) < 3:
        problems.append(f"app {len(apps)}/3 ready")
    if not any(p["metadata"]["labels"].get("app") == "prometheus" and _ready(p) for p in pods):
        problems.append("prometheus not ready")
    return problems


def _members_check(kubectl: Any) -> Check:
    try:
        problems = member_problems(_pods(kubectl))
    except LabError as error:
        return Check("agent360", False, str(error))
    return Check("agent360", not problems, "; ".join(problems) or "every member and 3 app replicas ready")


def _sentinel_master(ip: str) -> str:
    client = redis.Redis(ip, SENTINEL_PORT, socket_timeout=2, decode_responses=True)
    try:
        return str(client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)[0])
    finally:
        client.close()


def _redis_check() -> Check:
    """The Sentinels agree on a master and every Redis member with them, replicas linked (through host routes)."""
    topology = manifests.topology()
    try:
        votes = Counter(_sentinel_master(s.ip) for s in topology.by_role(Role.SENTINEL))
        roles = {r.name: (r.ip, *redis_role(r.ip, REDIS_PORT)) for r in topology.by_role(Role.REDIS)}
    except (redis.RedisError, OSError, TypeError) as error:
        return Check("redis roles", False, f"not readable: {error}")
    master, count = votes.most_common(1)[0]
    if count < len(topology.by_role(Role.SENTINEL)):
        return Check("redis roles", False, f"Sentinels disagree: {dict(votes)}")
    return judge_redis_roles(master, roles)


def service_url(inventory: Inventory) -> str:
    """The service as its clients reach it: through the lab's external balancer (lab/k8s/edge.py)."""
    return f"http://127.0.0.1:{edge.HOST_PORTS['http']}"


def _service_check(inventory: Inventory) -> Check:
    url = f"{service_url(inventory)}/ready"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return Check("service", response.status == 200, f"{url} {response.status}")
    except (urllib.error.URLError, OSError) as error:
        return Check("service", False, f"{url}: {getattr(error, 'reason', error)}")


def checks(inventory: Inventory, kubectl: Any) -> list[Check]:
    members = _members_check(kubectl)
    return [members, _redis_check(), _service_check(inventory)] if members.ok else [members]


def import_images(containers: dict[str, Any], image_dir: Path, progress: Progress) -> None:
    """Import into each node's containerd the saved images it has not imported yet (idempotent)."""
    tars = sorted(p.name for p in image_dir.glob("*.tar"))

    def one(item: tuple[str, Any]) -> int:
        name, container = item
        code, output = container.exec_run(["sh", "-c", "cat /var/lib/containerd/chaos360-imported 2>/dev/null"])
        done = set(output.decode().split()) if code == 0 else set()
        todo = [tar for tar in tars if tar not in done]
        for tar in todo:
            script = ("for _ in $(seq 60); do ctr version >/dev/null 2>&1 && break; sleep 0.5; done; "
                      f"ctr -n k8s.io images import /opt/k8s/images/{tar} >/dev/null && "
                      f"echo {tar} >> /var/lib/containerd/chaos360-imported")
            code, output = container.exec_run(["sh", "-c", script])
            if code != 0:
                raise LabError(f"{name}: importing {tar} failed: {output.decode().strip()[-300:]}")
        return len(todo)

    with ThreadPoolExecutor(max_workers=max(1, len(containers))) as pool:
        counts = list(pool.map(one, containers.items()))
    if any(counts):
        progress.step(f"imported {max(counts)} image archive(s) into {len(containers)} nodes")
