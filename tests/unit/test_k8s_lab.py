"""The Kubernetes lab's pure parts: node plan, certificates' names, control-plane flags, readiness judgement."""

from __future__ import annotations

import re
from pathlib import Path

from lab.k8s import control_plane, pki
from lab.k8s.binaries import KUBERNETES_LDFLAGS, PROGRAMS
from lab.k8s.cluster import node_problems
from lab.k8s.nodes import gateway, plan_nodes
from lab.k8s.versions import ETCD, GOMOD_DIR, KUBERNETES


def _node(name: str, zone: str | None, ready: str = "True") -> dict[str, object]:
    labels = {"topology.kubernetes.io/zone": zone} if zone else {}
    return {"metadata": {"name": name, "labels": labels},
            "status": {"conditions": [{"type": "Ready", "status": ready}]}}


EXPECTED = {"node-a": "a", "node-b": "b", "node-c": "c"}


def test_three_ready_nodes_with_their_zones_have_no_problem() -> None:
    assert node_problems([_node("node-a", "a"), _node("node-b", "b"), _node("node-c", "c")], EXPECTED) == []


def test_a_missing_unready_or_unlabelled_node_is_named() -> None:
    problems = node_problems([_node("node-a", "a", ready="False"), _node("node-b", None)], EXPECTED)
    assert problems == ["node-a not Ready", "node-b lacks zone label b", "node-c not registered"]


def test_a_node_labelled_with_another_zone_is_a_problem() -> None:
    assert node_problems([_node("node-a", "b"), _node("node-b", "b"), _node("node-c", "c")], EXPECTED) == [
        "node-a lacks zone label a"]


def test_one_node_per_zone_on_the_lab_subnet_behind_its_gateway() -> None:
    nodes = plan_nodes("172.31.250.0/24")
    assert [(n.name, n.zone, n.ip) for n in nodes] == [
        ("node-a", "a", "172.31.250.11"), ("node-b", "b", "172.31.250.12"), ("node-c", "c", "172.31.250.13")]
    assert gateway("172.31.250.0/24") == "172.31.250.1"


def test_every_node_gets_a_client_and_a_serving_certificate_for_its_address() -> None:
    found = {i.stem: i for i in pki.identities("10.0.0.1", {"node-a": "10.0.0.11"})}
    assert found["node-a"].common_name == "system:node:node-a"
    assert found["node-a"].organisation == "system:nodes"
    assert "IP:10.0.0.11" in found["node-a-serving"].alt_names
    assert {"IP:10.0.0.1", f"IP:{pki.SERVICE_IP}", "DNS:kubernetes.default.svc"} <= set(
        found["apiserver"].alt_names)
    assert found["admin"].organisation == "system:masters"


def test_the_api_server_checks_kubelet_certificates_and_listens_only_on_the_lab_gateway(tmp_path: Path) -> None:
    parts = {c.name: c.command for c in control_plane.components(tmp_path / "bin", tmp_path, "172.31.250.1")}
    api = parts["kube-apiserver"]
    assert "--bind-address=172.31.250.1" in api
    assert any(flag.startswith("--kubelet-certificate-authority=") for flag in api)
    assert "--authorization-mode=Node,RBAC" in api
    assert any("127.0.0.1" in flag for flag in parts["etcd"])
    assert list(parts) == ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]


def test_the_wrapper_modules_pin_the_versions_the_lab_names() -> None:
    kubernetes = (GOMOD_DIR / "kubernetes" / "go.mod").read_text()
    assert f"require k8s.io/kubernetes {KUBERNETES}" in kubernetes
    staging = re.findall(r"(k8s\.io/[\w-]+) => \1 (v\S+)", kubernetes)
    assert len(staging) > 25
    assert {version for _, version in staging} == {"v0" + KUBERNETES[2:]}
    assert f"require go.etcd.io/etcd/server/v3 {ETCD}" in (GOMOD_DIR / "etcd" / "go.mod").read_text()


def test_kubernetes_programs_carry_their_version() -> None:
    assert f"gitVersion={KUBERNETES}" in KUBERNETES_LDFLAGS
    assert {p.name for p in PROGRAMS} >= {"kube-apiserver", "kubelet", "kubectl", "etcd", "kube-router", "coredns"}
