"""A secret planted in the environment, a secret file and the experiment appears in no file of the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kernel.inventory import Inventory

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "env": "env-s3cr3t-7f1c",
    "file": "file-s3cr3t-91ab",
    "inline": "inline-s3cr3t-55de",
    "block": "block-s3cr3t-c0ff",
}


def test_no_secret_reaches_the_run_directory(lab: Inventory, tmp_path: Path) -> None:
    secret_file = tmp_path / "redis-password"
    secret_file.write_text(SECRETS["file"] + "\n")
    experiment = yaml.safe_load((ROOT / "experiments" / "app-replica-kill.yaml").read_text())
    experiment["title"] = "secret-canary"
    experiment["configuration"]["db_password"] = SECRETS["inline"]
    experiment["configuration"]["api_token"] = {"type": "env", "key": "CHAOS360_TEST_API_TOKEN"}
    experiment["secrets"] = {"lab": {"cassandra_password": SECRETS["block"]}}
    path = tmp_path / "secret-canary.yaml"
    path.write_text(yaml.safe_dump(experiment))
    runs = tmp_path / "runs"
    env = {**os.environ, "CHAOS360_TEST_API_TOKEN": SECRETS["env"], "CHAOS360_RUNS_DIR": str(runs),
           "CHAOS360_REDIS_PASSWORD_FILE": str(secret_file), "CHAOS360_HISTORY": str(runs / "history.jsonl")}
    result = subprocess.run([sys.executable, "-m", "chaos360", "run", str(path)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    files = [p for p in runs.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"events.jsonl", "requests.jsonl", "journal.json", "judgements.json",
                                       "report.html", "locust.log", "history.jsonl"}
    for file in files:
        text = file.read_text(errors="replace")
        leaked = [name for name, value in SECRETS.items() if value in text]
        assert not leaked, f"{file} holds the {leaked} secret"
    for name, value in SECRETS.items():
        assert value not in result.stdout + result.stderr, name
    journal = next(p for p in files if p.name == "journal.json").read_text()
    assert "\"db_password\": \"***\"" in journal, "the journal should show the masked configuration value"
