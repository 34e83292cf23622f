"""Drills are experiments like the others, but the default gate leaves them out: `-m drill` asks for them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import experiment_tags

ROOT = Path(__file__).resolve().parents[2]


def _collected(*args: str) -> list[str]:
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args,
                             "experiments/"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return [line.split("::")[1] for line in result.stdout.splitlines() if "::" in line]


def test_the_default_gate_leaves_the_drills_out_and_keeps_every_other_experiment() -> None:
    collected = _collected()
    assert "alert-drill" not in collected and "dr-restore" not in collected
    assert {"zone-partition", "redis-master-failover", "redis-master-returns", "zone-redis-link-cut"} <= set(collected)


def test_minus_m_drill_selects_only_the_drills() -> None:
    assert _collected("-m", "drill") == ["alert-drill", "dr-restore"]


def test_tags_of_a_file_that_does_not_parse_are_none(tmp_path: Path) -> None:
    broken = tmp_path / "x.yaml"
    broken.write_text("tags: [drill\n")
    assert experiment_tags(broken) == []
    listed = tmp_path / "y.yaml"
    listed.write_text("tags: [drill, alerts]\n")
    assert experiment_tags(listed) == ["drill", "alerts"]
