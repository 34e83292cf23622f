"""Safety on a real cluster: which accesses are refused before anything is touched, and the zone policy's shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.errors import UsageError
from lab.k8s.access import ClusterAccess, from_environment
from lab.k8s.target import isolation_policy


def _access(**changes: object) -> ClusterAccess:
    return ClusterAccess(**{"kubeconfig": Path("/k"), **changes})  # type: ignore[arg-type]


def test_the_default_namespace_on_any_context_is_allowed() -> None:
    assert _access().refusal("prod") is None


@pytest.mark.parametrize("namespace", ["kube-system", "kube-public", "kube-node-lease", "default"])
def test_cluster_namespaces_are_never_targets_even_when_listed(namespace: str) -> None:
    refusal = _access(namespace=namespace, allowed_namespaces=(namespace,)).refusal("lab")
    assert refusal is not None and "never a target" in refusal


def test_a_namespace_outside_the_allowlist_is_refused() -> None:
    assert "CHAOS360_K8S_NAMESPACES" in str(_access(namespace="payments").refusal("lab"))


def test_a_context_outside_the_allowlist_is_refused_whether_chosen_or_current() -> None:
    assert "'prod'" in str(_access(allowed_contexts=("staging",)).refusal("prod"))
    assert _access(allowed_contexts=("staging",)).refusal("staging") is None
    assert "'prod'" in str(_access(context="prod", allowed_contexts=("staging",)).refusal("staging"))


def test_the_environment_names_kubeconfig_lists_and_the_cluster_admin_waiver(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("{}")
    access = from_environment(environ={"CHAOS360_KUBECONFIG": str(config), "CHAOS360_K8S_NAMESPACE": "a360",
                                       "CHAOS360_K8S_NAMESPACES": "a360, a360-canary",
                                       "CHAOS360_K8S_CONTEXTS": "staging", "CHAOS360_K8S_ALLOW_CLUSTER_ADMIN": "1"})
    assert (access.namespace, access.allowed_namespaces) == ("a360", ("a360", "a360-canary"))
    assert access.allowed_contexts == ("staging",) and access.allow_cluster_admin


def test_a_missing_kubeconfig_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        from_environment(environ={"CHAOS360_KUBECONFIG": str(tmp_path / "nope")})
    with pytest.raises(UsageError, match="no cluster"):
        from_environment(environ={})


def test_the_zone_policy_admits_only_its_zone_dns_the_runner_and_what_is_not_a_pod() -> None:
    policy = isolation_policy("b", ["10.244.0.0/24", "10.244.1.0/24"])
    spec = policy["spec"]
    assert spec["podSelector"] == {"matchLabels": {"chaos360.io/zone": "b"}}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    peers = spec["ingress"][0]["from"]
    assert {"podSelector": {"matchLabels": {"chaos360.io/zone": "b"}}} in peers
    assert {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.244.0.0/24", "10.244.1.0/24"]}} in peers
    runner = {"podSelector": {"matchLabels": {"chaos360.io/role": "runner"}}}
    assert runner in peers and runner in spec["egress"][0]["to"], "the harness's own pod watches from outside the cut"
    assert len(peers) == 3 and len(spec["egress"][0]["to"]) == 3
    assert spec["egress"][1]["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    assert policy["metadata"]["labels"]["chaos360.io/fault"] == "zone-partition"
