"""The Kubernetes lab, as a user drives it: up (and up again), status, real pods talking across zones through pod
addresses, a Service and cluster DNS, NetworkPolicy enforced, and a down that leaves nothing behind."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request

import docker
import pytest

from kernel import inventory as inventory_store
from kernel import service_client
from kernel.errors import LabError
from lab.containers import LABEL_LAB
from lab.k8s import agent360, cluster
from lab.k8s.images import tools_tag
from tests.integration.k8s.conftest import LAB, UP_TIMEOUT_S, cli

pytestmark = [pytest.mark.integration, pytest.mark.k8s]

NAMESPACE = "chaos360-labtest"


def _kubectl(*args: str, stdin: str | None = None) -> str:
    return cluster.kubectl(LAB, *args, stdin=stdin, timeout_s=60)


def _node_ids() -> dict[str, str]:
    client = docker.from_env()
    found = client.containers.list(all=True, filters={"label": f"{LABEL_LAB}={LAB}"})
    return {c.name: c.id for c in found}


def _pod(zone: str) -> dict[str, object]:
    command = f"mkdir -p /www && echo zone-{zone} > /www/index.html && exec httpd -f -p 8080 -h /www"
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"web-{zone}", "namespace": NAMESPACE, "labels": {"app": "web", "zone": zone}},
        "spec": {"nodeSelector": {"topology.kubernetes.io/zone": zone}, "terminationGracePeriodSeconds": 1,
                 "containers": [{"name": "web", "image": tools_tag(), "imagePullPolicy": "Never",
                                 "command": ["sh", "-c", command],
                                 "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}}]},
    }


def _workload() -> str:
    namespace = {"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": NAMESPACE, "labels": {"chaos360": "test"}}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-c", "namespace": NAMESPACE},
               "spec": {"selector": {"app": "web", "zone": "c"}, "ports": [{"port": 80, "targetPort": 8080}]}}
    return json.dumps({"apiVersion": "v1", "kind": "List",
                       "items": [namespace, *(_pod(zone) for zone in "abc"), service]})


@pytest.fixture(scope="module")
def pods(k8s_lab: subprocess.CompletedProcess[str]) -> dict[str, dict[str, str]]:
    assert k8s_lab.returncode == 0, k8s_lab.stderr[-2000:]
    _kubectl("apply", "-f", "-", stdin=_workload())
    _kubectl("-n", NAMESPACE, "wait", "--for=condition=Ready", "pod", "--all", "--timeout=120s")
    listed = json.loads(_kubectl("-n", NAMESPACE, "get", "pods", "-o", "json"))["items"]
    return {p["metadata"]["labels"]["zone"]: {"ip": p["status"]["podIP"], "node": p["spec"]["nodeName"]}
            for p in listed}


def _fetch_from(zone: str, address: str, port: int = 8080) -> str:
    """The page at address:port as the pod of `zone` sees it, or '' when it cannot be reached within 3 s."""
    request = f'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 3 {address} {port}'
    try:
        return _kubectl("-n", NAMESPACE, "exec", f"web-{zone}", "--", "sh", "-c", request)
    except LabError:
        return ""


def _answer_within(zone: str, address: str, want: str, port: int = 8080, timeout_s: float = 30.0) -> str:
    """The page, fetched until it holds `want` (Services and policies converge within seconds), or the last answer."""
    deadline = time.monotonic() + timeout_s
    answer = _fetch_from(zone, address, port)
    while want not in answer and time.monotonic() < deadline:
        time.sleep(1)
        answer = _fetch_from(zone, address, port)
    return answer


def _cut_off_within(zone: str, address: str, unwanted: str, timeout_s: float = 30.0) -> str:
    deadline = time.monotonic() + timeout_s
    answer = _fetch_from(zone, address)
    while unwanted in answer and time.monotonic() < deadline:
        time.sleep(1)
        answer = _fetch_from(zone, address)
    return answer


def test_up_brings_a_ready_cluster_with_one_node_per_zone(k8s_lab: subprocess.CompletedProcess[str]) -> None:
    assert k8s_lab.returncode == 0, k8s_lab.stderr[-2000:]
    assert "Kubernetes lab ready: 3 nodes, zones a,b,c" in k8s_lab.stdout
    assert "waiting: " in k8s_lab.stderr, "up shows what it waits for"
    status = cli("lab", "status", "--json", timeout_s=60)
    assert status.returncode == 0, status.stdout + status.stderr
    report = json.loads(status.stdout)
    assert report["profile"] == "k8s" and report["ready"] is True
    assert {c["name"] for c in report["checks"]} == {"control", "api", "nodes", "routes", "dns", "harness routes",
                                                          "balancer", "agent360", "redis roles", "service", "faults"}
    assert sorted((i["name"], i["zone"], i["state"]) for i in report["instances"]) == [
        ("node-a", "a", "running"), ("node-b", "b", "running"), ("node-c", "c", "running")]
    version = json.loads(_kubectl("version", "-o", "json"))["serverVersion"]["gitVersion"]
    assert version == "v1.34.4"


def test_agent360_serves_through_its_service_with_replicated_datastores(k8s_lab: subprocess.CompletedProcess[str]
                                                                       ) -> None:
    assert k8s_lab.returncode == 0, k8s_lab.stderr[-2000:]
    inventory = inventory_store.load(LAB)
    result = service_client.run(agent360.service_url(inventory), tasks=30)
    assert (result.created, result.read_back, result.ok) == (30, 30, True), result.failures[:3]
    ring = _kubectl("-n", "agent360", "exec", "cassandra-a-0", "--", "nodetool", "status")
    nodes = [line.split() for line in ring.splitlines() if line.startswith("UN")]
    assert sorted(node[-1] for node in nodes) == ["a", "b", "c"], ring
    replication = _kubectl("-n", "agent360", "exec", "redis-a-0", "--", "redis-cli", "info", "replication")
    assert "role:master" in replication and "connected_slaves:2" in replication


def test_prometheus_scrapes_every_app_replica(k8s_lab: subprocess.CompletedProcess[str]) -> None:
    inventory = inventory_store.load(LAB)
    url = f"http://{inventory.instances[0].ip}:30090/api/v1/query?query=up%7Bjob%3D%22agent360%22%7D"
    deadline = time.monotonic() + 60
    values: list[str] = []
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url, timeout=5) as response:
            values = [r["value"][1] for r in json.loads(response.read())["data"]["result"]]
        if values == ["1", "1", "1"]:
            break
        time.sleep(2)
    assert values == ["1", "1", "1"]


def test_up_again_reuses_the_running_cluster(k8s_lab: subprocess.CompletedProcess[str]) -> None:
    before = _node_ids()
    started = time.monotonic()
    again = cli("lab", "up", "--profile", "k8s")
    assert again.returncode == 0, again.stderr[-2000:]
    assert _node_ids() == before
    assert "started node-" not in again.stderr
    assert time.monotonic() - started < UP_TIMEOUT_S


def test_pods_on_every_zone_reach_each_other_by_address_service_and_name(pods: dict[str, dict[str, str]]) -> None:
    assert {zone: pod["node"] for zone, pod in pods.items()} == {"a": "node-a", "b": "node-b", "c": "node-c"}
    assert "zone-c" in _answer_within("a", pods["c"]["ip"], "zone-c")
    assert "zone-a" in _answer_within("b", pods["a"]["ip"], "zone-a")
    assert "zone-c" in _answer_within("a", f"web-c.{NAMESPACE}.svc.cluster.local", "zone-c", port=80)


def test_network_policy_cuts_a_zone_off_and_lifting_it_restores_traffic(pods: dict[str, dict[str, str]]) -> None:
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "only-zone-c", "namespace": NAMESPACE},
              "spec": {"podSelector": {"matchLabels": {"zone": "c"}}, "policyTypes": ["Ingress"],
                       "ingress": [{"from": [{"podSelector": {"matchLabels": {"zone": "c"}}}]}]}}
    assert "zone-c" in _answer_within("a", pods["c"]["ip"], "zone-c")
    _kubectl("apply", "-f", "-", stdin=json.dumps(policy))
    try:
        assert "zone-c" not in _cut_off_within("a", pods["c"]["ip"], "zone-c"), "the policy must block zone a"
        assert "zone-c" not in _fetch_from("a", pods["c"]["ip"]), "and keep blocking it"
        assert "zone-a" in _fetch_from("b", pods["a"]["ip"]), "pods the policy does not select stay reachable"
    finally:
        _kubectl("-n", NAMESPACE, "delete", "networkpolicy", "only-zone-c")
    assert "zone-c" in _answer_within("a", pods["c"]["ip"], "zone-c")
