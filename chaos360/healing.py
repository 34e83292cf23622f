"""The last line of defence: stop leftover load, undo every fault in the ledger, wait for the lab to be ready."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kernel.errors import Chaos360Error, LabError, UsageError
from kernel.interrupts import shielded
from kernel.inventory import Inventory
from kernel.inventory import load as load_inventory
from kernel.ledger import HealReport, Ledger
from kernel.progress import Progress
from kernel.record import read_events
from kernel.target import Target, unchecked_servers

if TYPE_CHECKING:
    from lab.readiness import Check


@dataclass(frozen=True)
class LabHeal:
    report: HealReport
    load_stopped: int
    ready: str
    replicas_removed: int = 0

    @property
    def failed(self) -> bool:
        return bool(self.report.failed) or self.ready.startswith("NOT")

    def summary(self) -> str:
        count = self.replicas_removed
        removed = f"; removed {count} extra replica{'s' if count > 1 else ''}" if count else ""
        return f"{self.report.summary()}{removed}; {self.load_stopped} load processes stopped; lab {self.ready}"


def heal_lab(lab_id: str, wait_ready_s: float = 120.0, progress: Progress | None = None,
             check_ready: bool = False) -> LabHeal:
    """Shielded from Ctrl-C and SIGTERM; waits for readiness when something was undone or check_ready asks."""
    from loadtests.processes import kill_load_processes

    with shielded():
        stopped = kill_load_processes()
        if (k8s := _k8s_heal(lab_id, wait_ready_s, progress, check_ready)) is not None:
            return LabHeal(k8s[0], len(stopped), k8s[1])
        ledger = Ledger(lab_id)
        lab = _target(lab_id, required=bool(ledger.entries()) or check_ready)
        strays = _strays(lab[1]) if lab else []
        if lab is None or not (ledger.entries() or strays or check_ready):
            return LabHeal(HealReport(), len(stopped), "not checked (nothing to heal)")
        inventory, target = lab
        report = ledger.heal(target.apply)
        unrecorded = target.variant_slots()
        for slot in unrecorded:
            target.remove_variant(slot)
        for server in _unchecked(target):
            target.set_balancer_checks(server, True)
        ready = (f"NOT ready ({len(report.failed)} fault(s) still in the ledger)" if report.failed else
                 _wait_ready(inventory, wait_ready_s, progress or Progress(quiet=True)))
        return LabHeal(report, len(stopped), ready, len(unrecorded))


def _strays(target: Target) -> list[str]:
    """What no ledger entry may cover (a harness killed between its step and the record): extra replicas and servers
    the load balancer no longer health-checks."""
    return [f"slot {slot}" for slot in target.variant_slots()] + _unchecked(target)


def _unchecked(target: Target) -> list[str]:
    """Servers whose health checks are off; none when the balancer cannot be asked (a heal must not fail on it)."""
    try:
        return unchecked_servers(target)
    except Chaos360Error:
        return []


def _k8s_heal(lab_id: str, wait_ready_s: float, progress: Progress | None,
              check_ready: bool = False) -> tuple[HealReport, str] | None:
    """On Kubernetes (the lab's cluster or a named one), what faults leave is found in the cluster and undone
    there; None on the Docker lab."""
    from chaos360.binding import lab_binding
    from kernel.inventory import find

    binding = lab_binding(lab_id)
    if binding.cluster is not None:
        target = binding.cluster()
        return _heal_in_cluster(target, wait_ready_s, progress, check_ready, list, lambda: _cluster_checks(target))
    running = find(lab_id)
    if running is None or running.profile != "k8s":
        return None
    from lab.k8s.lab_target import open_run_target

    target = open_run_target(lab_id)
    return _heal_in_cluster(target, wait_ready_s, progress, check_ready, target.repair_stale,
                            lambda: _k8s_checks(lab_id))


def _heal_in_cluster(target: Any, wait_ready_s: float, progress: Progress | None, check_ready: bool,
                     repair: Callable[[], list[str]], checks: Callable[[], list[Check]]) -> tuple[HealReport, str]:
    from kernel.ledger import Entry, Undo
    from lab.k8s import leftovers
    from lab.k8s.node_repair import wait_ready

    report = target.ledger().heal(target.apply)
    undone = leftovers.heal(target)
    report.healed += [Entry(id=str(n), fault=what, undo=Undo(op="k8s-leftover", args={}), recorded_at=0)
                      for n, what in enumerate(undone)]
    if report.failed:
        return report, f"NOT ready ({len(report.failed)} fault(s) still in the cluster's ledger)"
    if not report.healed and not check_ready:
        return report, "not checked (nothing to heal)"
    try:
        repaired = wait_ready(repair, checks, wait_ready_s, progress or Progress(quiet=True))
    except Chaos360Error as error:
        return report, f"NOT ready ({error})"
    return report, f"ready (repaired {'; '.join(repaired)})" if repaired else "ready"


def _cluster_checks(target: Any) -> list[Check]:
    from lab.readiness import Check

    unready = target.unready()
    return [Check("cluster", not unready, "; ".join(unready) or f"namespace {target.namespace} ready")]


def _k8s_checks(lab_id: str) -> list[Check]:
    from kernel.inventory import load
    from lab.k8s.cluster import checks

    return checks(load(lab_id), with_app=True)


def _target(lab_id: str, required: bool) -> tuple[Inventory, Target] | None:
    """The lab's inventory and target; None for a lab that is not up (or no Docker), unless a heal needs it."""
    from lab.target import DockerLabTarget

    try:
        inventory = load_inventory(lab_id)
        return inventory, DockerLabTarget(inventory)
    except UsageError:
        if required:
            raise
        return None


def _wait_ready(inventory: Inventory, timeout_s: float, progress: Progress) -> str:
    from lab.readiness import run_checks, wait_until

    try:
        wait_until(lambda: run_checks(inventory), timeout_s, progress)
    except Chaos360Error as error:
        return f"NOT ready ({error})"
    return "ready"


def refuse_unhealed(lab_id: str) -> None:
    """A run, a gate or a lab start on top of faults left by a crashed run would judge the wrong system."""
    from chaos360.binding import lab_binding

    try:
        entries = lab_binding(lab_id).ledger_factory(lab_id).entries()
    except LabError:  # a cluster that does not answer: what comes next says so, and `lab up` may repair it
        entries = Ledger(lab_id).entries()
    if entries:
        faults = ", ".join(f"{e.fault}({', '.join(f'{v}' for v in e.undo.args.values())})" for e in entries)
        raise UsageError(f"unhealed faults in the ledger: {faults}; run `chaos360 heal` first")


def healed_in_run(run_dir: Path | None) -> list[str]:
    """The faults a run's own rollbacks healed, from its events."""
    if run_dir is None:
        return []
    return [str(e.get("fault")) for e in read_events(run_dir / "events.jsonl", missing_ok=True)
            if e.kind == "fault.heal" and e.get("entry")]
