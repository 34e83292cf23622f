"""On a target whose controller rolls the app out (Kubernetes), the rolling update is started and watched: its undo
is written first, each replica seen leaving is logged, and it took effect only if every replica was replaced while
capacity never fell below what the guide allows."""

from __future__ import annotations

from typing import Any

import pytest

import actions.deploy as deploy
from kernel.errors import LabError
from kernel.ledger import Undo
from kernel.target import ControllerRollout, RolloutState


class RollingTarget:
    def __init__(self, looks: list[RolloutState]) -> None:
        self.looks, self.restarted = looks, False

    def restart_app(self) -> None:
        self.restarted = True

    def rollout_state(self) -> RolloutState:
        assert self.restarted, "looked before the rollout was started"
        return self.looks.pop(0) if len(self.looks) > 1 else self.looks[0]


class RecordingRun:
    def __init__(self, target: RollingTarget) -> None:
        self.target = target
        self.faults: list[tuple[str, Undo, bool]] = []
        self.effects: list[tuple[str, bool, dict[str, Any]]] = []
        self.events = self

    def append(self, kind: str, **data: Any) -> None:
        self.effects.append((kind, True, data))

    def record_fault(self, fault: str, undo: Undo, affects: Any = (), **evidence: Any) -> str:
        self.faults.append((fault, undo, self.target.restarted))
        return "entry"

    def record_effect(self, fault: str, took_effect: bool, **evidence: Any) -> None:
        self.effects.append((fault, took_effect, evidence))


def _rollout(*looks: RolloutState, monkeypatch: pytest.MonkeyPatch) -> tuple[RecordingRun, dict[str, Any]]:
    run = RecordingRun(RollingTarget(list(looks)))
    monkeypatch.setattr(deploy, "current_run", lambda configuration: run)
    monkeypatch.setattr(deploy, "ROLLOUT_TIMEOUT_S", 1.0)
    return run, deploy.rolling_restart()


def _took_effect(run: RecordingRun) -> bool:
    return next(ok for kind, ok, _ in run.effects if kind == "rolling-restart")


def test_a_rollout_that_keeps_capacity_took_effect_and_its_undo_came_first(monkeypatch: pytest.MonkeyPatch) -> None:
    run, result = _rollout(RolloutState(3, 1, 3, ("old-1",)), RolloutState(3, 2, 3, ("old-2",)),
                           RolloutState(3, 3, 3, ("old-3",)), RolloutState(3, 3, 3, (), done=True),
                           monkeypatch=monkeypatch)
    assert isinstance(run.target, ControllerRollout)
    assert run.faults == [("rolling-restart", Undo(op="await_rollout", args={}), False)]
    assert sorted(result["replaced_at_s"]) == ["old-1", "old-2", "old-3"]
    assert result["min_serving_during_update"] == 3 and _took_effect(run)


def test_a_rollout_that_dropped_a_serving_replica_did_not_keep_the_guides_promise(
        monkeypatch: pytest.MonkeyPatch) -> None:
    run, result = _rollout(RolloutState(3, 1, 2, ("old-1",)), RolloutState(3, 2, 3, ("old-2",)),
                           RolloutState(3, 3, 3, ("old-3",)), RolloutState(3, 3, 3, (), done=True),
                           monkeypatch=monkeypatch)
    assert result["min_serving_during_update"] == 2 and not _took_effect(run)


def test_a_rollout_that_never_finishes_fails_the_step_with_how_far_it_got(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LabError, match="1/3 replicas updated, 3 serving"):
        _rollout(RolloutState(3, 1, 3, ("old-1",)), monkeypatch=monkeypatch)
