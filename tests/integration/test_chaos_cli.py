"""Experiment files are plain Chaos Toolkit: `chaos validate` and `chaos run --rollback-strategy always` work."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import experiment_tags
from kernel.ledger import Ledger

ROOT = Path(__file__).resolve().parents[2]
CHAOS = str(Path(sys.executable).parent / "chaos")
EXPERIMENTS = sorted(p for p in (ROOT / "experiments").glob("*.yaml") if p.name != "objectives.yaml")
GATED = [p for p in EXPERIMENTS if "drill" not in experiment_tags(p)]  # a drill runs end to end in test_drills


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_chaos_validate_accepts_every_experiment(path: Path):
    result = subprocess.run([CHAOS, "--no-log-file", "validate", str(path)], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-500:]


@pytest.mark.integration
@pytest.mark.parametrize("path", GATED, ids=[p.stem for p in GATED])
def test_plain_chaos_run_with_rollbacks_always(lab, tmp_path: Path, path: Path):
    journal = tmp_path / "journal.json"
    env = {**os.environ, "CHAOS360_RUNS_DIR": str(tmp_path / "runs"), "CHAOS360_LAB_ID": lab.lab_id}
    result = subprocess.run(
        [CHAOS, "--no-log-file", "run", "--rollback-strategy", "always", "--journal-path", str(journal),
         str(path)],
        capture_output=True, text=True, timeout=600, check=False, cwd=ROOT, env=env,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    recorded = json.loads(journal.read_text())
    assert recorded["status"] == "completed" and not recorded["deviated"]
    run_dirs = list((tmp_path / "runs").iterdir())
    assert len(run_dirs) == 1 and (run_dirs[0] / "requests.jsonl").stat().st_size > 0
    assert Ledger(lab.lab_id).entries() == []
