"""Lose the lab's data: every Cassandra node, every Redis node, or both, removed with their disks. Only after the
backup to restore from verifies; its restore is the undo in the ledger, written before anything is destroyed."""

from __future__ import annotations

import time
from typing import Annotated, Any

from kernel.backup_store import default_store
from kernel.errors import Chaos360Error
from kernel.fault import Arguments, Call, Declared, Footprint, Lab, one_of
from kernel.inventory import Inventory
from kernel.ledger import Undo
from kernel.run import current_run
from kernel.target import Target
from probes.backup_check import chosen_backup, refuse_unverified

ROLES = {"cassandra": ("cassandra",), "redis": ("redis",), "all": ("cassandra", "redis")}


class LoseData(Arguments):
    what: Annotated[str, one_of(ROLES, "what")] = "all"
    backup_id: str | None = None


def victims(inventory: Inventory, what: str) -> list[str]:
    return [i.name for role in ROLES[what] for i in inventory.by_role(role)]


def lose_data(what: str = "all", backup_id: str | None = None,
              configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Destroy the data sets of `what` after verifying the backup (the run's latest unless named)."""
    run = current_run(configuration)
    chosen = chosen_backup(run, backup_id,
                           "no backup to restore from: take one first (actions.backup.take_backup) or name one")
    store = default_store(run.lab_id)
    started = time.time()
    refuse_unverified(store, chosen)
    lost = victims(run.inventory, what)
    apps = [a.name for a in run.inventory.by_role("app")]
    run.record_fault("lose-data", Undo(op="restore", args={"backup": chosen, "store": store.location(), "what": what}),
                     affects=[*lost, *apps], what=what, backup_id=chosen)
    for name in lost:
        run.target.destroy(name)
    gone = [name for name in lost if not _present(run.target, name)]
    run.record_effect("lose-data", gone == lost, destroyed=gone)
    run.events.append("dr.phase", phase="disaster", started=started, seconds=round(time.time() - started, 3))
    return {"destroyed": gone, "backup_id": chosen, "at": time.time()}


def _present(target: Target, name: str) -> bool:
    try:
        target.is_running(name)
    except Chaos360Error:
        return False
    return True


def _plan(call: Call, lab: Lab) -> Footprint:
    lost = victims(lab.inventory, call.get("what"))
    down = frozenset((lab.inventory.get(n).role, n) for n in lost)
    return Footprint(f"verify the backup, then destroy {', '.join(lost)} with their data until restored", hit=down,
                     down=down)


DECLARED = (Declared(lose_data, "fault", LoseData, _plan),)
