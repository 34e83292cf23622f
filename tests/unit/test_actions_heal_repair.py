"""The run's closing heal asks the target to repair its own plumbing when the lab stays unready, then waits on."""

from __future__ import annotations

from typing import Any

import pytest

import actions.heal as heal
from kernel.errors import LabError
from kernel.ledger import Entry, HealReport, Undo


class FakeTarget:
    def __init__(self, repaired: list[str]) -> None:
        self.repaired, self.repairs = repaired, 0

    def unready(self) -> list[str]:
        return [] if self.repairs else ["balancer: 2/3 nodes UP (node-a, node-b); node-c DOWN (L4TOUT)"]

    def repair_stale(self) -> list[str]:
        self.repairs += 1
        return self.repaired


class FakeEvents:
    def __init__(self) -> None:
        self.kinds: list[tuple[str, dict[str, Any]]] = []

    def append(self, kind: str, **data: Any) -> None:
        self.kinds.append((kind, data))


class FakeRun:
    def __init__(self, target: FakeTarget) -> None:
        self.target, self.events = target, FakeEvents()

    def heal(self) -> HealReport:
        entry = Entry(id="1", fault="isolate", undo=Undo(op="rejoin", args={}), recorded_at=0)
        return HealReport(healed=[entry])


@pytest.fixture(autouse=True)
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heal, "REPAIR_AFTER_S", 0.0)


def test_a_lab_repaired_after_the_heal_is_ready_and_the_repair_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    run = FakeRun(FakeTarget(["node-c: restarted kube-router and kube-proxy"]))
    monkeypatch.setattr(heal, "current_run", lambda configuration: run)
    assert heal.heal_all(wait_ready_s=3)["healed"] == ["isolate"]
    kinds = [kind for kind, _ in run.events.kinds]
    assert kinds == ["lab.repair", "lab.ready"]
    assert run.events.kinds[0][1]["repaired"] == ["node-c: restarted kube-router and kube-proxy"]


def test_a_lab_that_stays_unready_fails_the_heal_with_what_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    class Unrepairable(FakeTarget):
        def unready(self) -> list[str]:
            return ["balancer: 2/3 nodes UP (node-a, node-b); node-c DOWN (L4TOUT)"]

    run = FakeRun(Unrepairable([]))
    monkeypatch.setattr(heal, "current_run", lambda configuration: run)
    with pytest.raises(LabError, match="node-c DOWN"):
        heal.heal_all(wait_ready_s=1)
    assert run.target.repairs == 1 and run.events.kinds == []
