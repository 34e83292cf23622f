"""The Kubernetes target's faults on the real cluster: each has its effect, and its undo leaves nothing behind."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos360.healing import heal_lab
from kernel.errors import UsageError
from lab.k8s import edge
from lab.k8s.access import ClusterAccess
from lab.k8s.cluster import kubeconfig_path, kubectl
from lab.k8s.lab_target import open_lab_target, open_run_target, runner_kubeconfig
from lab.k8s.leftovers import find_leftovers
from lab.k8s.manifests import APP_NODE_PORT, NAMESPACE
from lab.k8s.target import KubernetesTarget
from lab.k8s.versions import bin_dir
from tests.integration.k8s.conftest import LAB, cli, killed_after_injecting

pytestmark = [pytest.mark.integration, pytest.mark.k8s]

PING_REDIS_A = ["sh", "-c", "timeout 3 redis-cli -h 10.96.36.41 ping; echo rc=$?"]


@pytest.fixture(scope="module")
def target(k8s_lab: subprocess.CompletedProcess[str]) -> Iterator[KubernetesTarget]:
    assert k8s_lab.returncode == 0, k8s_lab.stderr[-2000:]
    found = open_lab_target(LAB)
    yield found
    found.rejoin("a")
    for name in ("sentinel-a", "cassandra-c"):
        found.start(name)


def _until(predicate, timeout_s: float = 90.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(1)
    return bool(predicate())


def _uid(target: KubernetesTarget, name: str) -> str | None:
    try:
        return str(target.pod(name).metadata.uid)
    except UsageError:
        return None


def test_a_crashed_app_replica_is_restarted_by_its_kubelet(target: KubernetesTarget) -> None:
    pod = target.pod("app-b").metadata.name
    before = target.restart_count("app-b")
    assert target.kill("app-b") > 0
    assert target.wait_restarted("app-b", before, timeout_s=90) < 90
    assert target.restart_count("app-b") == before + 1
    assert target.pod("app-b").metadata.name == pod, "a crash restarts the container, it does not replace the pod"


def test_a_deleted_member_pod_is_replaced_and_rejoins_replication(target: KubernetesTarget) -> None:
    uid = target.pod("redis-c").metadata.uid
    assert target.delete_pod("redis-c") == "redis-c-0"
    assert _until(lambda: _uid(target, "redis-c") not in (uid, None) and target.is_running("redis-c"))
    master = target.redis_master()
    assert _until(lambda: "connected_slaves:2" in target.exec(master, ["redis-cli", "info", "replication"])[1])


def test_a_paused_member_stops_answering_until_resumed(target: KubernetesTarget) -> None:
    ping = ["sh", "-c", "timeout 2 redis-cli -h 10.96.36.51 -p 26379 ping; echo rc=$?"]
    target.pause("sentinel-a")
    try:
        assert "PONG" not in target.exec("sentinel-b", ping)[1]
    finally:
        target.resume("sentinel-a")
    assert "PONG" in target.exec("sentinel-b", ping)[1]


@pytest.mark.parametrize("mode", ["node", "policy"])
def test_a_zone_cut_off_both_ways_and_rejoined(target: KubernetesTarget, mode: str) -> None:
    cut = open_lab_target(LAB, isolation=mode)
    assert "PONG" in cut.exec("redis-b", PING_REDIS_A)[1]
    affected = cut.isolate("a")
    try:
        assert affected
        assert _until(lambda: "PONG" not in cut.exec("redis-b", PING_REDIS_A)[1], 30), "zone b still reaches a"
        assert "PONG" not in cut.exec("redis-a", ["sh", "-c", "timeout 3 redis-cli -h 10.96.36.42 ping"])[1]
        assert "PONG" in cut.exec("sentinel-a", PING_REDIS_A)[1], "inside the zone, traffic flows"
        assert cut.isolation_rules("node-a" if mode == "node" else "redis-a")
    finally:
        cut.rejoin("a")
    assert cut.isolation_rules("node-a") == [] and cut.isolation_policies() == []
    assert _until(lambda: "PONG" in cut.exec("redis-b", PING_REDIS_A)[1], 30)


def test_a_stopped_member_stays_down_until_started(target: KubernetesTarget) -> None:
    target.stop("cassandra-c")
    assert _until(lambda: not target.is_running("cassandra-c"), 60)
    target.start("cassandra-c")
    assert _until(lambda: target.is_running("cassandra-c"), 180)
    assert _until(lambda: target.unready() == [], 120), target.unready()


def _connect_s(target: KubernetesTarget, app: str, address: str) -> tuple[str, float]:
    """How a connect from the app pod's own network namespace ends, and after how long."""
    script = (f"import socket, time\nstarted = time.monotonic()\ntry:\n    socket.create_connection(({address!r}, "
              "6379), timeout=20).close()\n    print('connected', end=' ')\nexcept OSError as error:\n    "
              "print(type(error).__name__, end=' ')\nprint(round(time.monotonic() - started, 2))")
    code, output = target.exec(app, ["python3", "-c", script])
    assert code == 0, output
    outcome, took = output.split()
    return outcome, float(took)


def test_a_member_without_endpoints_refuses_a_pods_connection_at_once(target: KubernetesTarget) -> None:
    """As kube-proxy refuses it on a cluster; the lab's kube-router accepted pod traffic first and the host's routes
    brought it back, so it hung for two minutes."""
    kubectl(LAB, "-n", NAMESPACE, "create", "service", "clusterip", "chaos360-probe-unserved", "--tcp=6379:6379")
    try:
        address = kubectl(LAB, "-n", NAMESPACE, "get", "service", "chaos360-probe-unserved", "-o",
                          "jsonpath={.spec.clusterIP}").strip()
        time.sleep(2)  # kube-proxy's sync
        outcome, took = _connect_s(target, "app-a", address)
    finally:
        kubectl(LAB, "-n", NAMESPACE, "delete", "service", "chaos360-probe-unserved")
    assert outcome == "ConnectionRefusedError" and took < 2, (outcome, took)


def test_a_sidecar_whose_dial_hangs_is_still_switched_at_once(target: KubernetesTarget) -> None:
    """Toxiproxy dials an upstream without a timeout and a disable waits for that dial: a proxy whose upstream
    drops every packet is switched off and on within seconds all the same."""
    blackhole, node = "10.244.250.250", target.pod("app-a").spec.node_name
    assert target.nodes is not None
    target.nodes.run(node, f"iptables -I FORWARD -d {blackhole} -j DROP && iptables -I OUTPUT -d {blackhole} -j DROP")
    sidecar = target.inventory.get("toxiproxy-a")
    body = {"name": "probe", "listen": "0.0.0.0:7999", "upstream": f"{blackhole}:6379"}
    target._toxiproxy("toxiproxy-a", "POST", "/proxies", body)
    try:
        client = socket.create_connection((sidecar.host, 7999), timeout=5)
        pid = target.nodes.task_pid(*target._node_task("app-a"))
        pending = f"nsenter -t {pid} -n ss -tn state syn-sent dst {blackhole}"
        assert _until(lambda: blackhole in target.nodes.run(node, pending), 10), "the proxy is not dialling"
        started = time.monotonic()
        target.set_proxy_enabled("toxiproxy-a", "probe", False)
        assert "probe:disabled" in target.toxics("toxiproxy-a")
        target.set_proxy_enabled("toxiproxy-a", "probe", True)
        assert time.monotonic() - started < 8, "the switch waited for the dial"
        client.close()
    finally:
        target._toxiproxy("toxiproxy-a", "DELETE", "/proxies/probe")
        target.nodes.run(node, f"iptables -D FORWARD -d {blackhole} -j DROP; iptables -D OUTPUT -d {blackhole} -j DROP",
                         check=False)


def _access(**changes: object) -> ClusterAccess:
    base = {"kubeconfig": kubeconfig_path(LAB), "namespace": "agent360", "allowed_namespaces": ("agent360",),
            "allow_cluster_admin": True}
    return ClusterAccess(**{**base, **changes})  # type: ignore[arg-type]


def test_targets_outside_the_allowlists_or_with_cluster_admin_are_refused(k8s_lab: object) -> None:
    with pytest.raises(UsageError, match="never a target"):
        KubernetesTarget(_access(namespace="kube-system", allowed_namespaces=("kube-system",)))
    with pytest.raises(UsageError, match="not in the allowlist"):
        KubernetesTarget(_access(namespace="agent360-prod"))
    with pytest.raises(UsageError, match="kube context 'chaos360' is not in the allowlist"):
        KubernetesTarget(_access(allowed_contexts=("staging",)))
    with pytest.raises(UsageError, match="cluster-admin"):
        KubernetesTarget(_access(allow_cluster_admin=False))


def test_a_target_sees_only_its_own_namespace(k8s_lab: object) -> None:
    other = KubernetesTarget(_access(namespace="chaos360-labtest", allowed_namespaces=("chaos360-labtest",)))
    with pytest.raises(UsageError, match="no pod for 'redis-a' in namespace chaos360-labtest"):
        other.pod("redis-a")


def test_heal_finds_and_undoes_what_a_killed_harness_left_in_the_cluster(target: KubernetesTarget) -> None:
    script = ("from lab.k8s.lab_target import open_lab_target\n"
              "node, policy = open_lab_target('chaos360', 'node'), open_lab_target('chaos360', 'policy')\n"
              "node.isolate('c'); policy.isolate('b'); node.pause('sentinel-b'); node.stop('redis-c')\n")
    killed_after_injecting(script)
    left = find_leftovers(target)
    assert any("zone filter" in item for item in left) and "NetworkPolicy chaos360-isolate-b" in left
    assert any("frozen" in item for item in left) and "member redis-c scaled to 0" in left
    healed = cli("heal", timeout_s=600)
    assert healed.returncode == 0, healed.stdout + healed.stderr
    assert "lab ready" in healed.stdout + healed.stderr
    assert find_leftovers(target) == []
    status = cli("lab", "status", timeout_s=60)
    assert status.returncode == 0, status.stdout


def _can(kubeconfig: Path, *request: str) -> str:
    answer = subprocess.run([str(bin_dir() / "kubectl"), f"--kubeconfig={kubeconfig}", "auth", "can-i", *request],
                            capture_output=True, text=True, check=False)
    return answer.stdout.strip()


def test_the_runner_may_break_its_namespace_and_nothing_else(k8s_lab: object) -> None:
    runner = runner_kubeconfig(LAB)
    assert _can(runner, "delete", "pods", "-n", "agent360") == "yes"
    assert _can(runner, "create", "networkpolicies", "-n", "agent360") == "yes"
    assert _can(runner, "list", "nodes") == "yes"
    assert _can(runner, "delete", "pods", "-n", "kube-system") == "no"
    assert _can(runner, "delete", "pods", "-n", "chaos360-labtest") == "no"
    assert _can(runner, "get", "secrets", "-n", "agent360") == "no"
    assert _can(runner, "delete", "nodes") == "no"
    assert _can(runner, "create", "clusterrolebindings") == "no"
    as_runner = ClusterAccess(kubeconfig=runner, namespace="agent360", allowed_namespaces=("agent360",))
    assert not KubernetesTarget(as_runner).is_cluster_admin()
    with pytest.raises(UsageError, match="never a target"):
        KubernetesTarget(ClusterAccess(kubeconfig=runner, namespace="kube-system",
                                       allowed_namespaces=("kube-system",)))


def test_a_node_that_drops_its_nodeport_traffic_makes_the_run_steady_state_unready(
    target: KubernetesTarget,
) -> None:
    """The pod stays Ready (the kubelet probes it from its own node); only the balancer sees the node fail."""
    nodes = target.nodes
    assert nodes is not None
    run_target = open_run_target(LAB)
    drop = f"-p tcp --dport {APP_NODE_PORT} -s {run_target.balancer.ip} -j DROP"  # type: ignore[union-attr]
    assert _until(lambda: run_target.unready(serving_only=True) == [], timeout_s=120)
    nodes.run("node-c", f"iptables -t mangle -I PREROUTING 1 {drop}")
    try:
        assert _until(lambda: any("node-c DOWN" in line for line in run_target.unready(serving_only=True)), 30)
        (line,) = run_target.unready(serving_only=True)
        assert line.startswith("balancer: 2/3 nodes UP (node-a, node-b); node-c DOWN"), line
        assert target.unready(serving_only=True) == [], "a target without the lab's balancer judges pods alone"
    finally:
        nodes.run("node-c", f"iptables -t mangle -D PREROUTING {drop}")
    assert _until(lambda: run_target.unready(serving_only=True) == [], timeout_s=30)


def test_heal_restarts_the_network_daemons_of_a_node_that_drops_a_ready_replicas_traffic(
    target: KubernetesTarget,
) -> None:
    """kube-proxy frozen on node-c keeps NodePort rules to a replaced replica's old address: the new replica is
    Ready, the balancer sees node-c DOWN, and only restarting the node's daemons brings it back."""
    nodes = target.nodes
    assert nodes is not None
    run_target = open_run_target(LAB)
    assert _until(lambda: run_target.unready(serving_only=True) == [], timeout_s=120)
    old = next(p.metadata.name for p in target.pods("app=agent360") if p.spec.node_name == "node-c")
    nodes.run("node-c", "pkill -STOP -x kube-proxy")
    try:
        kubectl(LAB, "-n", NAMESPACE, "delete", "pod", old, "--wait=true", timeout_s=60)
        assert _until(lambda: target.replicas_ready().get("node-c", False), timeout_s=120)
        assert _until(lambda: edge.server_states().get("node-c", "").startswith("DOWN"), timeout_s=30)
        healed = heal_lab(LAB, wait_ready_s=120, check_ready=True)
    finally:
        nodes.run("node-c", "pkill -CONT -x kube-proxy; true")
    assert healed.ready.startswith("ready (repaired node-c: restarted kube-router and kube-proxy"), healed.ready
    assert run_target.unready(serving_only=True) == []
