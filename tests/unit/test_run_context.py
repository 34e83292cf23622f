"""The run travels in chaoslib's configuration: the control attaches it, every activity is handed it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from chaos360.binding import Binding
from kernel import inventory as inventories
from kernel import run as runs
from kernel.ledger import Ledger
from kernel.record import read_events
from tests.hostile_corpus import sandbox_inventory


def run_dir_of(configuration: dict[str, Any] | None = None) -> str:
    """An activity of the experiments below: which run it was handed."""
    return str(runs.current_run(configuration).run_dir)


def run_dir_off_the_main_thread(configuration: dict[str, Any] | None = None) -> str:
    assert threading.current_thread() is not threading.main_thread()
    return run_dir_of(configuration)


class _NoLab:
    """The target of these runs: the ledger stays empty, so healing never calls it."""

    def __init__(self, inventory: object) -> None:
        self.inventory = inventory

    def apply(self, undo: object) -> None:
        raise AssertionError(f"healed {undo} with an empty ledger")


def _activity(name: str, func: str = "run_dir_of", **extra: Any) -> dict[str, Any]:
    return {"type": "probe", "name": name, **extra,
            "provider": {"type": "python", "module": __name__, "func": func}}


def experiment(lab_id: str, run_dir: Path) -> dict[str, Any]:
    return {
        "title": "run-context", "description": "which run each activity is handed",
        "configuration": {"lab_id": lab_id, runs.RUN_DIR_KEY: str(run_dir)},
        "controls": [{"name": "chaos360", "provider": {"type": "python", "module": "chaos360.control"}}],
        "steady-state-hypothesis": {"title": "same run", "probes": [_activity("hypothesis", tolerance=str(run_dir))]},
        "method": [_activity("foreground"), _activity("background", "run_dir_off_the_main_thread", background=True)],
        "rollbacks": [_activity("rollback")],
    }


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    import chaos360.control

    monkeypatch.setenv("CHAOS360_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("CHAOS360_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setattr(chaos360.control, "start_recorders", lambda *_: [])
    monkeypatch.setattr(chaos360.control, "lab_binding",
                        lambda _lab: Binding("docker", _NoLab, inventories.load, Ledger))
    monkeypatch.setattr(runs, "_adhoc", {})
    return sandbox_inventory(tmp_path / "state")


def test_every_activity_is_handed_the_run_the_control_opened(tmp_path: Path, sandbox: str) -> None:
    from chaoslib.experiment import run_experiment

    run_dir = tmp_path / "run"
    journal = run_experiment(experiment(sandbox, run_dir), settings={"runtime": {"rollbacks": {"strategy": "always"}}})

    hypothesis = journal["steady_states"]["before"]["probes"] + journal["steady_states"]["after"]["probes"]
    outputs = [a["output"] for a in hypothesis + journal["run"] + journal["rollbacks"]]
    assert outputs == [str(run_dir)] * 5, journal
    assert [e.kind for e in read_events(run_dir / "events.jsonl")] == ["run.start", "load.stop", "run.end"]
    assert not (tmp_path / "runs").exists()
    assert runs.RUN_KEY not in journal["experiment"]["configuration"]


def test_activities_outside_any_run_share_their_labs_ad_hoc_run(tmp_path: Path, sandbox: str) -> None:
    first = runs.current_run({"lab_id": sandbox})
    assert runs.current_run({"lab_id": sandbox}) is first
    assert runs.current_run({"lab_id": "elsewhere"}) is not first
    assert first.run_dir.parent == tmp_path / "runs"
    assert (first.experiment, first.lab_id) == ("adhoc", sandbox)


def test_an_attached_run_wins_over_the_ad_hoc_one(tmp_path: Path, sandbox: str) -> None:
    attached = runs.start_run("attached", lab_id=sandbox, run_dir=tmp_path / "attached")
    configuration = runs.attach({"lab_id": sandbox}, attached)
    assert runs.current_run(dict(configuration)) is attached
    runs.detach(configuration)
    assert runs.current_run(configuration) is not attached
