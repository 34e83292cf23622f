"""Which system a run breaks, chosen by the lab that is up (`chaos360 lab up [--profile k8s]`), never by the
experiment file: its inventory, its target and where its fault ledger lives."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from kernel import inventory as inventory_store
from kernel.inventory import Inventory
from kernel.ledger import Ledger
from kernel.target import Target

K8S_PROFILE = "k8s"


@dataclass(frozen=True)
class Binding:
    name: str  # recorded with each run: docker, k8s-node or k8s-policy (how zones are cut)
    target: Callable[[Inventory], Target]
    inventory_loader: Callable[[str], Inventory]
    ledger_factory: Callable[[str], Ledger]

    def run_arguments(self) -> dict[str, Any]:
        return {"target_factory": self.target, "inventory_loader": self.inventory_loader,
                "ledger_factory": self.ledger_factory}


def lab_binding(lab_id: str) -> Binding:
    running = inventory_store.find(lab_id)
    if running is not None and running.profile == K8S_PROFILE:
        return _kubernetes(lab_id)
    from lab.target import DockerLabTarget

    return Binding("docker", DockerLabTarget, inventory_store.load, Ledger)


def _kubernetes(lab_id: str) -> Binding:
    """One target per run, acting as the runner's ServiceAccount; the inventory is read from the cluster."""
    from lab.k8s.lab_target import ISOLATION_ENV, open_run_target

    opened = cache(lambda: open_run_target(lab_id))
    name = f"{K8S_PROFILE}-{os.environ.get(ISOLATION_ENV, 'node')}"
    return Binding(name, lambda _inventory: opened(), lambda _lab: opened().inventory, lambda _lab: opened().ledger())
