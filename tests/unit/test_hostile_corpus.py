"""Hundreds of malformed and hostile experiment files through `chaos360 run`: every one refused before anything runs.

Each must give exit code 4 and one line on stderr naming the file, no traceback, no run directory, an empty fault
ledger, and no Chaos Toolkit activity. The lab is a sandbox (tests/hostile_corpus.py): another lab id, container
names and ports, so even a file that slipped through could touch no real lab.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from chaos360 import cli, runner
from kernel import reachability
from kernel.errors import ExitCode
from kernel.problems import shown_path
from tests.hostile_corpus import CASES, LAB_ID, Case, sandbox_inventory

CLI = str(Path(sys.executable).parent / "chaos360")
SUBPROCESS_CASES = ("broken-bracket", "os-system", "count-huge", "symlink-shadow", "billion-laughs")


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    state, runs, files = tmp_path / "state", tmp_path / "runs", tmp_path / "files"
    runs.mkdir()
    files.mkdir()
    sandbox_inventory(state)
    monkeypatch.setenv("CHAOS360_STATE_DIR", str(state))
    monkeypatch.setenv("CHAOS360_RUNS_DIR", str(runs))
    return {"state": state, "runs": runs, "files": files}


@pytest.fixture
def activities(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Whatever Chaos Toolkit or the runner would have started; must stay empty."""
    import chaoslib.activity
    import chaoslib.experiment

    started: list[str] = []

    def refuse(name: str) -> Callable[..., None]:
        def record(*args: object, **kwargs: object) -> None:
            started.append(name)
            raise AssertionError(f"{name} was called")

        return record

    monkeypatch.setattr(chaoslib.experiment, "run_experiment", refuse("run_experiment"))
    monkeypatch.setattr(chaoslib.activity, "execute_activity", refuse("execute_activity"))
    monkeypatch.setattr(runner, "run_file", refuse("run_file"))
    monkeypatch.setattr(reachability, "lab_reachable", lambda inventory: None)
    return started


@pytest.fixture
def lab_wired(monkeypatch: pytest.MonkeyPatch) -> None:
    """`chaos360 run` validating against its lab: the call `_cmd_run` makes once wired, runner.load(path, lab_id)."""
    monkeypatch.setattr(runner, "load", functools.partial(runner.load, lab_id=LAB_ID))


def _assert_refused(code: int, out: str, err: str, path: Path, needle: str) -> str:
    lines = err.splitlines()
    assert code == ExitCode.USAGE_ERROR, (code, err)
    assert len(lines) == 1, err
    assert lines[0].startswith("chaos360: "), lines[0]
    assert shown_path(path) in lines[0], lines[0]
    assert needle in lines[0], lines[0]
    assert "Traceback" not in out + err
    return lines[0]


def _assert_nothing_ran(sandbox: dict[str, Path]) -> None:
    assert list(sandbox["runs"].iterdir()) == []
    ledger = sandbox["state"] / f"ledger-{LAB_ID}.json"
    assert not ledger.exists() or ledger.read_text().strip() in ("", "[]")


def test_the_corpus_is_large_and_varied():
    assert len(CASES) >= 200
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_file_is_refused_in_one_line(case: Case, sandbox: dict[str, Path], activities: list[str],
                                             lab_wired: None, capsys: pytest.CaptureFixture[str]):
    path = case.write(sandbox["files"])
    code = cli.main(["--lab-id", LAB_ID, "run", str(path)])
    captured = capsys.readouterr()
    _assert_refused(code, captured.out, captured.err, path, case.needle)
    assert activities == []
    _assert_nothing_ran(sandbox)


@pytest.mark.parametrize("case", [c for c in CASES if c.id in SUBPROCESS_CASES], ids=lambda c: c.id)
def test_the_console_script_refuses_them_too(case: Case, sandbox: dict[str, Path]):
    path = case.write(sandbox["files"])
    result = subprocess.run([CLI, "--lab-id", LAB_ID, "run", str(path)], capture_output=True, text=True,
                            timeout=60, env=dict(os.environ), check=False)
    _assert_refused(result.returncode, result.stdout, result.stderr, path, case.needle)
    _assert_nothing_ran(sandbox)


def test_chaos360_run_validates_against_its_lab(sandbox: dict[str, Path], activities: list[str],
                                                capsys: pytest.CaptureFixture[str]):
    case = next(c for c in CASES if c.id == "zone-unknown")
    path = case.write(sandbox["files"])
    code = cli.main(["--lab-id", LAB_ID, "run", str(path)])
    captured = capsys.readouterr()
    _assert_refused(code, captured.out, captured.err, path, case.needle)
