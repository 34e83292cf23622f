"""A cluster other than the lab's: named by a kubeconfig and context, or the one the runner's pod runs in (its
ServiceAccount). Its zones are cut with NetworkPolicy: nodes are not the harness's to touch."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from kernel.inventory import state_dir
from lab.k8s.access import ClusterAccess, from_environment
from lab.k8s.target import ISOLATION_ENV, KubernetesTarget

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
KUBECONFIG_ENVS = ("CHAOS360_KUBECONFIG", "KUBECONFIG")


def in_cluster_kubeconfig(environ: dict[str, str] | None = None, account: Path = SERVICE_ACCOUNT_DIR,
                          directory: Path | None = None) -> tuple[Path, str] | None:
    """Inside a pod: a kubeconfig for its ServiceAccount (the token file is re-read, so rotation is followed) and
    the pod's namespace; None outside a pod."""
    env = os.environ if environ is None else environ
    host = env.get("KUBERNETES_SERVICE_HOST")
    if not host or not (account / "token").is_file():
        return None
    server = f"https://{f'[{host}]' if ':' in host else host}:{env.get('KUBERNETES_SERVICE_PORT', '443')}"
    namespace = (account / "namespace").read_text().strip()
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "in-cluster",
              "clusters": [{"name": "in-cluster", "cluster": {"server": server,
                                                               "certificate-authority": str(account / "ca.crt")}}],
              "users": [{"name": "service-account", "user": {"tokenFile": str(account / "token")}}],
              "contexts": [{"name": "in-cluster", "context": {"cluster": "in-cluster", "user": "service-account",
                                                              "namespace": namespace}}]}
    path = (directory or state_dir()) / "in-cluster.kubeconfig"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path, namespace


def configured_access(environ: dict[str, str] | None = None,
                      account: Path = SERVICE_ACCOUNT_DIR) -> ClusterAccess | None:
    """The cluster the environment names (CHAOS360_KUBECONFIG or KUBECONFIG), else the pod's own; None when neither.
    Inside a pod the namespace and the allowlist default to the pod's own namespace."""
    env = dict(os.environ if environ is None else environ)
    if any(env.get(name) for name in KUBECONFIG_ENVS):
        return from_environment(environ=env)
    found = in_cluster_kubeconfig(env, account)
    if found is None:
        return None
    path, namespace = found
    env.setdefault("CHAOS360_K8S_NAMESPACE", namespace)
    env.setdefault("CHAOS360_K8S_NAMESPACES", namespace)
    return from_environment(path, env)


def open_cluster_target(access: ClusterAccess) -> KubernetesTarget:
    """Zones cut by NetworkPolicy; CHAOS360_K8S_ISOLATION=node is refused here (only the lab's nodes are ours)."""
    return KubernetesTarget(access, isolation=os.environ.get(ISOLATION_ENV, "policy"))
