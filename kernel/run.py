"""The run: one experiment's directory, event log, target and fault ledger, shared by its activities."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from kernel.errors import LabError
from kernel.inventory import Inventory
from kernel.inventory import load as load_inventory
from kernel.ledger import HealReport, Ledger, Undo
from kernel.objectives import StopConditions
from kernel.record import EventLog
from kernel.recorder import Recorder
from kernel.target import Target

RUNS_DIR_ENV = "CHAOS360_RUNS_DIR"
LAB_ID_ENV = "CHAOS360_LAB_ID"
RUN_KEY = "chaos360_run"
RUN_DIR_KEY = "chaos360_run_dir"


def runs_root() -> Path:
    return Path(os.environ.get(RUNS_DIR_ENV, Path.cwd() / "reports" / "runs"))


def new_run_dir(experiment: str) -> Path:
    slug = re.sub(r"[^a-z0-9-]+", "-", experiment.lower()).strip("-")[:60] or "experiment"
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = runs_root() / f"{stamp}-{slug}"
    suffix = 1
    while path.exists():
        suffix += 1
        path = runs_root() / f"{stamp}-{slug}-{suffix}"
    path.mkdir(parents=True)
    return path


@dataclass
class Run:
    """Everything an activity needs: where to record, what to hit, where to write each undo."""

    run_dir: Path
    lab_id: str
    experiment: str
    started_at: float = field(default_factory=time.time)
    background: list[Any] = field(default_factory=list)
    recorders: list[Recorder] = field(default_factory=list)
    stop_conditions: StopConditions | None = None
    allow_majority: bool = False
    target_factory: Callable[[Inventory], Target] | None = None
    inventory_loader: Callable[[str], Inventory] = load_inventory
    ledger_factory: Callable[[str], Ledger] = Ledger

    @cached_property
    def events(self) -> EventLog:
        return EventLog(self.run_dir / "events.jsonl")

    @cached_property
    def inventory(self) -> Inventory:
        return self.inventory_loader(self.lab_id)

    @cached_property
    def target(self) -> Target:
        if self.target_factory is None:
            raise LabError("this run has no target: run the experiment with chaos360 (its control names the target)")
        return self.target_factory(self.inventory)

    @cached_property
    def ledger(self) -> Ledger:
        return self.ledger_factory(self.lab_id)

    @property
    def requests_file(self) -> Path:
        return self.run_dir / "requests.jsonl"

    def heal(self) -> HealReport:
        """Undo every fault in the ledger and log each heal as an event."""
        report = self.ledger.heal(self.target.apply)
        for entry in report.healed:
            self.events.append("fault.heal", fault=entry.fault, entry=entry.id)
        return report

    def record_fault(self, fault: str, undo: Undo, affects: Iterable[str] = (), **evidence: Any) -> str:
        """Persist the undo first, then log the injection; returns the ledger entry id.

        `affects` names the instances this fault rightly takes out of service (unready is expected of them).
        """
        entry = self.ledger.record(fault, undo, run=str(self.run_dir), affects=affects)
        self.events.append("fault.inject", fault=fault, entry=entry.id, **evidence)
        return entry.id

    def record_effect(self, fault: str, took_effect: bool, **evidence: Any) -> None:
        """What the fault visibly did, judged by the action that knows the fault: `took_effect` and its evidence."""
        self.events.append("fault.effect", fault=fault, took_effect=bool(took_effect), **evidence)


def start_run(experiment: str, lab_id: str | None = None, run_dir: Path | None = None,
              target_factory: Callable[[Inventory], Target] | None = None, **binding: Any) -> Run:
    """`binding`: the inventory_loader and ledger_factory of a target other than the Docker lab."""
    directory = run_dir or new_run_dir(experiment)
    directory.mkdir(parents=True, exist_ok=True)
    return Run(directory, lab_id or os.environ.get(LAB_ID_ENV, "chaos360"), experiment, target_factory=target_factory,
               **binding)


def attach(configuration: dict[str, Any], run: Run) -> dict[str, Any]:
    """Hand `run` to every activity: chaoslib passes each one a shallow copy of the configuration its controls got."""
    configuration[RUN_KEY] = run
    return configuration


def detach(configuration: dict[str, Any] | None) -> None:
    if configuration is not None:
        configuration.pop(RUN_KEY, None)


_adhoc: dict[str, Run] = {}
_adhoc_lock = threading.Lock()


def current_run(configuration: dict[str, Any] | None = None) -> Run:
    """The run chaos360's control attached to `configuration`.

    Outside any (an experiment without the control, a direct call) the activities of a lab share one ad-hoc run,
    so that a probe still reads the load an earlier activity started.
    """
    configuration = configuration or {}
    run = configuration.get(RUN_KEY)
    if isinstance(run, Run):
        return run
    lab_id = str(configuration.get("lab_id") or os.environ.get(LAB_ID_ENV, "chaos360"))
    with _adhoc_lock:
        if lab_id not in _adhoc:
            _adhoc[lab_id] = start_run("adhoc", lab_id=lab_id)
        return _adhoc[lab_id]
