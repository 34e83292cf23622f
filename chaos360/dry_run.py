"""`chaos360 run --dry-run`: what each activity of the method and the rollbacks would hit; nothing is injected.

The instances are chosen by the actions' own rules (chaos360.effects); the Redis master is whatever the Sentinels
name now, and the real run resolves it again when it drops it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from chaos360.binding import lab_binding
from chaos360.effects import effect_of
from chaos360.validation import check_file, parse
from kernel.errors import Chaos360Error, UsageError
from kernel.fault import Footprint, Lab
from kernel.inventory import Inventory
from kernel.problems import Invalid, shown_path
from lab.readiness import current_master

MasterLookup = Callable[[Inventory], str | None]
ObjectLookup = Callable[[Footprint], list[str]]


def live_master(inventory: Inventory) -> str | None:
    try:
        return current_master(inventory)
    except (Chaos360Error, StopIteration):
        return None


def plan(experiment: dict[str, Any], inventory: Inventory, master: MasterLookup = live_master,
         objects: ObjectLookup | None = None) -> list[str]:
    """One line per activity of the method and the rollbacks: its name and what it would do, to which instances;
    with `objects`, under it the target's own objects it would touch (pods, nodes, policies)."""
    try:
        parsed = parse(experiment)
        lab = Lab(inventory, parsed.allow_majority, master)
        lines = []
        for call in parsed.calls:
            if call.where[0] == "steady-state-hypothesis":
                continue
            footprint = effect_of(call, lab)
            lines.append(f"{'rollback ' if call.where[0] == 'rollbacks' else ''}{call.name}: {footprint.text}")
            lines += [f"  {line}" for line in (objects(footprint) if objects else [])]
        return lines
    except Invalid as problem:
        raise UsageError(problem.line()) from None


def dry_run(path: Path, lab_id: str, master: MasterLookup = live_master) -> list[str]:
    """Every check of a real run (chaos360.validation), then the plan, headed by what and where."""
    experiment = check_file(path, lab_id)
    binding = lab_binding(lab_id)
    inventory = binding.inventory_loader(lab_id)
    objects = None
    if inventory.profile == "k8s":
        target = binding.target(inventory)
        objects, master = _kubernetes_objects(target, inventory), _asking(target)
    where = f"namespace {inventory.lab_id} ({binding.name})" if objects else f"lab {lab_id}"
    header = f"{shown_path(path)}: {experiment['title']} against {where} (dry run: nothing injected)"
    return [header, *(f"  {line}" for line in plan(experiment, inventory, master, objects))]


def _asking(target: Any) -> MasterLookup:
    """The master the cluster's Sentinels name (by exec in their pods: the harness may be outside the cluster)."""
    def lookup(_inventory: Inventory) -> str | None:
        try:
            return str(target.redis_master())
        except Chaos360Error:
            return None

    return lookup


def _kubernetes_objects(target: Any, inventory: Inventory) -> ObjectLookup:
    from lab.k8s.footprint import footprint_lines

    known = {i.name for i in inventory.instances}

    def lookup(footprint: Footprint) -> list[str]:
        names = sorted({name for _, name in footprint.hit | footprint.down | footprint.cut} & known)
        return footprint_lines(target, names, sorted(footprint.isolated))

    return lookup
