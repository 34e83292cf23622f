"""The Kubernetes target of the lab's own cluster: its admin kubeconfig, its namespace, and its nodes."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from kernel import inventory as inventory_store
from kernel.errors import UsageError
from lab.k8s import edge
from lab.k8s.access import ClusterAccess
from lab.k8s.cluster import PROFILE, kubeconfig_path, kubectl
from lab.k8s.manifests import NAMESPACE, RUNNER
from lab.k8s.node_faults import LabNode, LabNodes
from lab.k8s.nodes import plan_nodes
from lab.k8s.target import ISOLATION_ENV, KubernetesTarget


def lab_nodes(target: KubernetesTarget, lab_id: str) -> LabNodes:
    inventory = inventory_store.load(lab_id)
    cidrs = {n.metadata.name: n.spec.pod_cidr for n in target.core.list_node().items}
    return LabNodes([LabNode(i.name, i.zone or "", i.ip, i.container, cidrs.get(i.name, ""))
                     for i in inventory.instances])


def runner_kubeconfig(lab_id: str) -> Path:
    """A kubeconfig for the runner's ServiceAccount (deploy/k8s/runner.yaml) with a fresh token: the harness acts
    on the lab with the least privilege it needs, as it would on any cluster."""
    token = kubectl(lab_id, "-n", NAMESPACE, "create", "token", RUNNER, "--duration=24h").strip()
    admin = yaml.safe_load(kubeconfig_path(lab_id).read_text())
    config = {"apiVersion": "v1", "kind": "Config", "current-context": RUNNER,
              "clusters": admin["clusters"], "users": [{"name": RUNNER, "user": {"token": token}}],
              "contexts": [{"name": RUNNER, "context": {"cluster": admin["clusters"][0]["name"], "user": RUNNER,
                                                        "namespace": NAMESPACE}}]}
    path = kubeconfig_path(lab_id).with_name("runner.kubeconfig")
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def open_run_target(lab_id: str) -> KubernetesTarget:
    """The lab's target for a run: zone cuts as node-level filters unless CHAOS360_K8S_ISOLATION=policy; clients
    come in through the lab's external balancer."""
    target = open_lab_target(lab_id, isolation=os.environ.get(ISOLATION_ENV, "node"))
    target.balancer = edge.instance(lab_id, plan_nodes(inventory_store.load(lab_id).subnet))
    target.external_balancer = edge
    return target


def open_lab_target(lab_id: str, isolation: str = "node", namespace: str = NAMESPACE) -> KubernetesTarget:
    """The target of the lab's cluster, as the runner's ServiceAccount, with the lab's nodes for node faults."""
    running = inventory_store.find(lab_id)
    if running is None or running.profile != PROFILE:
        raise UsageError(f"lab {lab_id} is not a Kubernetes lab: run `chaos360 lab up --profile k8s`")
    access = ClusterAccess(kubeconfig=runner_kubeconfig(lab_id), namespace=namespace,
                           allowed_namespaces=(namespace,))
    probe = KubernetesTarget(access)
    return KubernetesTarget(access, nodes=lab_nodes(probe, lab_id), isolation=isolation)
