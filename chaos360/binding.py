"""Which system a run breaks, chosen by configuration, never by the experiment file: `--target lab` (default: the
lab that is up, `chaos360 lab up [--profile k8s]`) or `--target k8s` (the cluster CHAOS360_KUBECONFIG or KUBECONFIG
names, or the one the runner's pod runs in; the Kubernetes lab when none is named). A binding gives the run its
inventory, its target, where its fault ledger lives and what keeps a second run out."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from kernel import inventory as inventory_store
from kernel.errors import UsageError
from kernel.inventory import Inventory
from kernel.ledger import Ledger
from kernel.target import Target

K8S_PROFILE = "k8s"
TARGET_ENV = "CHAOS360_TARGET"
TARGETS = ("lab", "k8s")


@dataclass(frozen=True)
class Binding:
    name: str  # recorded with each run: docker, k8s-node or k8s-policy (how zones are cut)
    target: Callable[[Inventory], Target]
    inventory_loader: Callable[[str], Inventory]
    ledger_factory: Callable[[str], Ledger]
    lock: Callable[[float], AbstractContextManager[None]] = field(default=lambda _wait_s: contextlib.nullcontext())
    """Beyond the machine's run lock: the cluster's, for runs that start elsewhere (a CronJob, another laptop)."""
    cluster: Callable[[], Any] | None = None
    """Opens the Kubernetes target of a cluster that is not a lab (its heal has no lab checks); None on a lab."""

    def run_arguments(self) -> dict[str, Any]:
        return {"target_factory": self.target, "inventory_loader": self.inventory_loader,
                "ledger_factory": self.ledger_factory}


def chosen_target(environ: dict[str, str] | None = None) -> str:
    choice = (os.environ if environ is None else environ).get(TARGET_ENV) or "lab"
    if choice not in TARGETS:
        raise UsageError(f"target {choice!r} is not one of {list(TARGETS)} ({TARGET_ENV} or --target)")
    return choice


def lab_binding(lab_id: str) -> Binding:
    choice = chosen_target()
    if choice == K8S_PROFILE and (cluster := _named_cluster()) is not None:
        return cluster
    running = inventory_store.find(lab_id)
    if running is not None and running.profile == K8S_PROFILE:
        return _kubernetes(lab_id)
    if choice == K8S_PROFILE:
        raise UsageError("--target k8s: no cluster: set CHAOS360_KUBECONFIG (or KUBECONFIG), run inside a pod with "
                         "the runner's ServiceAccount, or start `chaos360 lab up --profile k8s`")
    from lab.target import DockerLabTarget

    return Binding("docker", DockerLabTarget, inventory_store.load, Ledger)


def _kubernetes(lab_id: str) -> Binding:
    """One target per run, acting as the runner's ServiceAccount; the inventory is read from the cluster."""
    from lab.k8s.lab_target import open_run_target
    from lab.k8s.target import ISOLATION_ENV

    opened = cache(lambda: open_run_target(lab_id))
    name = f"{K8S_PROFILE}-{os.environ.get(ISOLATION_ENV, 'node')}"
    return Binding(name, lambda _inventory: opened(), lambda _lab: opened().inventory, lambda _lab: opened().ledger(),
                   lock=lambda wait_s: _lease(opened(), wait_s))


def _named_cluster() -> Binding | None:
    from lab.k8s.cluster_target import configured_access, open_cluster_target
    from lab.k8s.target import ISOLATION_ENV

    access = configured_access()
    if access is None:
        return None
    opened = cache(lambda: open_cluster_target(access))
    name = f"{K8S_PROFILE}-{os.environ.get(ISOLATION_ENV) or 'policy'}"
    return Binding(name, lambda _inventory: opened(), lambda _lab: opened().inventory, lambda _lab: opened().ledger(),
                   lock=lambda wait_s: _lease(opened(), wait_s), cluster=opened)


def _lease(target: Any, wait_s: float) -> AbstractContextManager[None]:
    import sys

    from lab.k8s.cluster_lock import ClusterRunLock, holding

    return holding(ClusterRunLock(target.api_client, target.namespace), wait_s,
                   lambda line: print(f"chaos360: {line}", file=sys.stderr, flush=True))


@contextlib.contextmanager
def exclusive(lab_id: str, wait_s: float = 0.0) -> Iterator[None]:
    """The machine's run lock, then the binding's own (a cluster's lease): a second run or heal is refused in one
    line before it touches anything; `wait_s` lets a heal wait out the lease of a run that died in a pod."""
    from kernel.runlock import run_lock

    with run_lock(lab_id), lab_binding(lab_id).lock(wait_s):
        yield
