"""What the Kubernetes lab is built from: pinned versions, and where their builds are cached."""

from __future__ import annotations

from pathlib import Path

from lab.build import cache_dir

KUBERNETES = "v1.34.4"
"""Kubernetes 1.35 kubelets refuse cgroup v1 hosts by default (`failCgroupV1`); 1.34 is the newest that runs here."""
ETCD = "v3.6.16"
KUBE_ROUTER = "v2.1.0"
"""The only kube-router v2 the Go module proxy serves; it routes between nodes and enforces NetworkPolicy with
iptables and ipset (policy CNIs that need the nftables queue do not run on this kernel). Its network stays the
lab's own: nodes on a private Docker network, the API bound to that network's gateway."""
COREDNS = "v1.12.4"
PAUSE_TAG = "registry.k8s.io/pause:3.10.1"
GOMOD_DIR = Path(__file__).parent / "gomod"


def k8s_cache() -> Path:
    path = cache_dir() / "k8s" / KUBERNETES
    path.mkdir(parents=True, exist_ok=True)
    return path


def bin_dir() -> Path:
    return k8s_cache() / "bin"
