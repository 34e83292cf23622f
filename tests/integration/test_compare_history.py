"""`gate --compare-history`: a slower build that still meets every objective fails against its own history."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kernel.inventory import Inventory
from kernel.progress import Progress
from lab import docker_lab
from lab.topology import LabSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = "redis-master-failover"
BASELINE_GATES = 5
SLOWER_BUILD = (("AGENT360_RETRY_BACKOFF", "1.5"),)  # worst 10 s 2.1-2.3% against 0% before: under 10%


def _gate(env: dict[str, str], experiments: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chaos360", "-q", "gate", "--experiments-dir", str(experiments),
                           *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture
def one_experiment_gate(tmp_path: Path):
    """A gate of one experiment with a history of its own. Its folder lies inside the project: the gate's pytest
    plugin is the project's conftest.py, which pytest loads only for paths below it."""
    experiments = ROOT / "reports" / "runs" / f"compare-history-{tmp_path.name}" / "experiments"
    experiments.mkdir(parents=True)
    for name in (f"{EXPERIMENT}.yaml", "objectives.yaml"):
        shutil.copy(ROOT / "experiments" / name, experiments / name)
    env = {**os.environ, "CHAOS360_HISTORY": str(tmp_path / "history.jsonl"), "CHAOS360_RUNS_DIR": str(tmp_path)}
    yield env, experiments
    shutil.rmtree(experiments.parent)


@pytest.fixture
def slower_lab(lab: Inventory):
    yield docker_lab.up(LabSettings(app_env=SLOWER_BUILD), Progress())
    docker_lab.up(LabSettings(), Progress())


def test_a_slower_build_meets_the_objectives_but_regresses_against_its_history(
        lab: Inventory, one_experiment_gate: tuple[dict[str, str], Path], request: pytest.FixtureRequest) -> None:
    env, experiments = one_experiment_gate
    for _ in range(BASELINE_GATES):
        result = _gate(env, experiments)
        assert result.returncode == 0, result.stdout + result.stderr
    resilient = _gate(env, experiments, "--compare-history")
    assert resilient.returncode == 0 and "no regression" in resilient.stdout, resilient.stdout + resilient.stderr

    request.getfixturevalue("slower_lab")
    slower = _gate(env, experiments, "--compare-history")
    assert slower.returncode == 1, slower.stdout + slower.stderr
    assert "chaos360 gate: 1/1 passed" in slower.stdout and f"{EXPERIMENT}: REGRESSED" in slower.stdout, slower.stdout
    assert "compared with runs started" in slower.stdout
