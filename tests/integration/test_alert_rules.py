"""The guide's alert rules, unit-tested with the lab image's promtool on synthetic series."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lab.build import role_images

pytestmark = pytest.mark.integration
FILES = Path(__file__).resolve().parents[2] / "lab" / "files"


def _promtool_test(rules_dir: Path) -> subprocess.CompletedProcess[str]:
    command = ["docker", "run", "--rm", "-v", f"{rules_dir}:/rules:ro", "--entrypoint", "promtool",
               role_images()["prometheus"], "test", "rules", "/rules/alerts_test.yaml"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _copy_with(tmp_path: Path, old: str, new: str) -> Path:
    shutil.copy(FILES / "alerts_test.yaml", tmp_path)
    rules = (FILES / "alerts.yaml").read_text()
    assert old in rules
    (tmp_path / "alerts.yaml").write_text(rules.replace(old, new))
    return tmp_path


def test_the_lab_alert_rules_pass_their_promtool_tests():
    done = _promtool_test(FILES)
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize(("old", "new"), [
    ("> 0.1", "> 0.12"),
    ("for: 5m", "for: 1m"),
    ("[1h]) > 3", "[1h]) > 2"),
    ("for: 10m", "for: 20m"),
], ids=["error-threshold-12pct", "error-for-1m", "restarts-over-2", "restart-for-20m"])
def test_a_changed_rule_fails_its_promtool_tests(tmp_path: Path, old: str, new: str):
    done = _promtool_test(_copy_with(tmp_path, old, new))
    assert done.returncode != 0 and "FAILED" in done.stdout + done.stderr, done.stdout + done.stderr
