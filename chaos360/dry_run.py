"""`chaos360 run --dry-run`: what each activity of the method and the rollbacks would hit; nothing is injected.

The instances are chosen by the actions' own rules (chaos360.effects); the Redis master is whatever the Sentinels
name now, and the real run resolves it again when it drops it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from chaos360.effects import effect_of
from chaos360.validation import check_file, parse
from kernel import inventory as inventories
from kernel.errors import Chaos360Error, UsageError
from kernel.fault import Lab
from kernel.inventory import Inventory
from kernel.problems import Invalid, shown_path
from lab.readiness import current_master

MasterLookup = Callable[[Inventory], str | None]


def live_master(inventory: Inventory) -> str | None:
    try:
        return current_master(inventory)
    except (Chaos360Error, StopIteration):
        return None


def plan(experiment: dict[str, Any], inventory: Inventory, master: MasterLookup = live_master) -> list[str]:
    """One line per activity of the method and the rollbacks: its name and what it would do, to which instances."""
    try:
        parsed = parse(experiment)
        lab = Lab(inventory, parsed.allow_majority, master)
        return [f"{'rollback ' if call.where[0] == 'rollbacks' else ''}{call.name}: {effect_of(call, lab).text}"
                for call in parsed.calls if call.where[0] != "steady-state-hypothesis"]
    except Invalid as problem:
        raise UsageError(problem.line()) from None


def dry_run(path: Path, lab_id: str, master: MasterLookup = live_master) -> list[str]:
    """Every check of a real run (chaos360.validation), then the plan, headed by what and where."""
    experiment = check_file(path, lab_id)
    header = f"{shown_path(path)}: {experiment['title']} against lab {lab_id} (dry run: nothing injected)"
    return [header, *(f"  {line}" for line in plan(experiment, inventories.load(lab_id), master))]
