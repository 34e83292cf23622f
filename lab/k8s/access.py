"""How chaos360 reaches a cluster, and the safety rules checked before it touches anything there.

Parsed once from the environment: which kubeconfig and context, which namespace, and the allowlists a real cluster
needs. Refused (a usage error, nothing touched): a context or namespace outside the allowlists, any namespace the
harness must never break (kube-system and the other cluster namespaces), and an identity that may do anything
everywhere (cluster-admin) unless explicitly allowed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from kernel.errors import UsageError

PROTECTED_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "default"})
DEFAULT_NAMESPACE = "agent360"


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


@dataclass(frozen=True)
class ClusterAccess:
    kubeconfig: Path
    context: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    allowed_contexts: tuple[str, ...] = ()
    allowed_namespaces: tuple[str, ...] = (DEFAULT_NAMESPACE,)
    allow_cluster_admin: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def refusal(self, current_context: str) -> str | None:
        """Why this access must not be used, or None. `current_context` is the context the kubeconfig selects."""
        if self.namespace in PROTECTED_NAMESPACES:
            return f"namespace {self.namespace} is never a target (cluster namespaces: {sorted(PROTECTED_NAMESPACES)})"
        if self.namespace not in self.allowed_namespaces:
            return (f"namespace {self.namespace} is not in the allowlist {list(self.allowed_namespaces)} "
                    "(CHAOS360_K8S_NAMESPACES)")
        context = self.context or current_context
        if self.allowed_contexts and context not in self.allowed_contexts:
            return (f"kube context {context!r} is not in the allowlist {list(self.allowed_contexts)} "
                    "(CHAOS360_K8S_CONTEXTS)")
        return None


def from_environment(default_kubeconfig: Path | None = None, environ: dict[str, str] | None = None) -> ClusterAccess:
    env = os.environ if environ is None else environ
    kubeconfig = env.get("CHAOS360_KUBECONFIG") or env.get("KUBECONFIG")
    path = Path(kubeconfig).expanduser() if kubeconfig else default_kubeconfig
    if path is None:
        raise UsageError("no cluster: set CHAOS360_KUBECONFIG (or KUBECONFIG), or start `lab up --profile k8s`")
    if not path.is_file():
        raise UsageError(f"kubeconfig {path} does not exist")
    namespace = env.get("CHAOS360_K8S_NAMESPACE", DEFAULT_NAMESPACE)
    allowed = _list(env.get("CHAOS360_K8S_NAMESPACES")) or (DEFAULT_NAMESPACE,)
    return ClusterAccess(
        kubeconfig=path, context=env.get("CHAOS360_K8S_CONTEXT") or None, namespace=namespace,
        allowed_contexts=_list(env.get("CHAOS360_K8S_CONTEXTS")), allowed_namespaces=allowed,
        allow_cluster_admin=env.get("CHAOS360_K8S_ALLOW_CLUSTER_ADMIN", "") in ("1", "true", "yes"),
    )
