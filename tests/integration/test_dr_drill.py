"""The disaster-recovery drill on the real lab: a backup that verifies is restored whole after every data set is
lost; a backup that does not verify destroys nothing; a restore that loses data fails; an interrupted restore is
finished by the heal."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from actions.backup import backup, new_backup_id
from chaos360.runner import run_file
from kernel.backup_store import DirectoryStore
from kernel.inventory import Inventory
from kernel.record import read_events, read_requests
from kernel.verdict import Verdict
from lab.leftovers import find_leftovers
from lab.target import DockerLabTarget
from probes.backup_check import backup_problems
from probes.dr import moments, windows
from probes.stored_tasks import stored_tasks
from reports.run_report import PHASE_COLORS
from tests.integration.test_report_screenshot import _screenshot as screenshot
from tests.integration.test_report_screenshot import decode_png

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
DRILL = ROOT / "experiments" / "dr-restore.yaml"
BAND_OPACITY = 0.22
DATA_SETS = ("cassandra-a", "cassandra-b", "cassandra-c", "redis-a", "redis-b", "redis-c")


def _variant(tmp_path: Path, edit) -> Path:
    experiment = yaml.safe_load(DRILL.read_text())
    edit(experiment)
    path = tmp_path / "dr-variant.yaml"
    path.write_text(yaml.safe_dump(experiment, sort_keys=False))
    return path


def _activity(experiment: dict, name: str) -> dict:
    return next(a for a in experiment["method"] if a["name"] == name)


def _judged(outcome) -> dict:
    return {j["name"]: j for j in outcome.judgements}


def test_the_drill_brings_back_every_write_acknowledged_before_its_backup(lab: Inventory):
    outcome = run_file(DRILL, lab.lab_id)
    print(outcome.summary, *outcome.reasons, sep="\n")
    judged = _judged(outcome)
    assert outcome.verdict is Verdict.PASS, outcome.summary
    assert judged["data before the backup"]["measured"] == 0, judged["data before the backup"]
    assert " 0 present" not in judged["data before the backup"]["detail"]
    assert judged["data after the restore"]["measured"] == 0
    assert 0 < judged["RTO"]["measured"] <= 300, judged["RTO"]
    assert 10 <= judged["RPO"]["measured"] <= 60, judged["RPO"]
    rows = json.loads((outcome.run_dir / "integrity.json").read_text())["rows"]
    assert rows[0]["acknowledged"] > 100 and rows[0]["present"] == rows[0]["acknowledged"], rows
    phases = [e.get("phase") for e in read_events(outcome.run_dir / "events.jsonl") if e.kind == "dr.phase"]
    assert {"backup", "disaster", "restore.nodes", "restore.load", "restore.redis", "verify.data"} <= set(phases)
    assert find_leftovers(lab) == []
    _page_paints_the_drill(outcome.run_dir)


def _page_paints_the_drill(run_dir: Path) -> None:
    """The drill's report page in headless Chromium: its phase bands painted, its integrity table there."""
    page = run_dir / "report.html"
    html = page.read_text()
    assert "Integrity" in html and "restore.load" in html
    png = run_dir / "report.png"
    screenshot(page, png)
    kept = ROOT / "reports" / "screenshots"
    kept.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(png, kept / "report-dr-drill.png")
    _, _, rows = decode_png(png.read_bytes())
    band = _on_white(PHASE_COLORS[0], BAND_OPACITY)
    painted = sum(1 for row in rows for i in range(0, len(row), 3)
                  if sum(abs(a - b) for a, b in zip(row[i:i + 3], band, strict=True)) <= 6)
    assert painted >= 200, f"the backup phase's band painted on {painted} pixels only"


def _on_white(colour: str, opacity: float) -> tuple[int, int, int]:
    """The colour a band of `colour` at `opacity` shows over the page's white."""
    red, green, blue = (round(int(colour[i:i + 2], 16) * opacity + 255 * (1 - opacity)) for i in (1, 3, 5))
    return red, green, blue


@pytest.mark.parametrize("what, restored, untouched", [("cassandra", "restore.nodes", "restore.redis"),
                                                         ("redis", "restore.redis", "restore.nodes")])
def test_losing_one_data_set_restores_that_one_and_keeps_the_other(lab: Inventory, tmp_path: Path, what: str,
                                                                   restored: str, untouched: str):
    def lose_only(experiment: dict) -> None:
        _activity(experiment, "lose-every-data-set")["provider"]["arguments"] = {"what": what}

    outcome = run_file(_variant(tmp_path, lose_only), lab.lab_id)
    print(outcome.summary, *outcome.reasons, sep="\n")
    judged = _judged(outcome)
    assert outcome.verdict is Verdict.PASS, outcome.summary
    assert judged["queue before the backup"]["measured"] == 0
    if what == "redis":
        assert judged["RPO writes"]["measured"] == 0, judged["RPO writes"]
    phases = {e.get("phase") for e in read_events(outcome.run_dir / "events.jsonl") if e.kind == "dr.phase"}
    assert restored in phases and untouched not in phases, phases
    assert find_leftovers(lab) == []


@pytest.fixture(scope="module")
def taken_backup(lab: Inventory, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("backups") / lab.lab_id
    backup_id = new_backup_id()
    backup(DockerLabTarget(lab), lab, DirectoryStore(root), backup_id)
    return root, backup_id


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage, problem", [("flip", "sha256 differs"), ("remove", "missing")])
def test_a_backup_that_does_not_verify_is_refused_and_nothing_is_destroyed(
        lab: Inventory, target: DockerLabTarget, taken_backup: tuple[Path, str], tmp_path: Path, damage: str,
        problem: str):
    source, backup_id = taken_backup
    store_dir = tmp_path / "store"
    shutil.copytree(source, store_dir / lab.lab_id)
    damaged = sorted((store_dir / lab.lab_id / backup_id / "cassandra" / "cassandra-b" / "tasks").glob("*-Data.db"))[0]
    _flip_a_byte(damaged) if damage == "flip" else damaged.unlink()
    relative = damaged.relative_to(store_dir / lab.lab_id / backup_id).as_posix()
    _, problems = backup_problems(DirectoryStore(store_dir / lab.lab_id), backup_id)
    assert problems == [f"{relative}: {problem}" if damage == "remove" else f"{relative}: sha256 differs from the "
                        "manifest"], problems

    def only_the_disaster(experiment: dict) -> None:
        disaster = _activity(experiment, "lose-every-data-set")
        disaster["provider"]["arguments"]["backup_id"] = backup_id
        experiment["method"] = [disaster]

    env = {**os.environ, "CHAOS360_BACKUP_DIR": str(store_dir)}
    result = subprocess.run([sys.executable, "-m", "chaos360", "run", str(_variant(tmp_path, only_the_disaster))],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 4, output
    assert f"backup {backup_id} does not verify: {relative}" in output, output
    assert "Traceback" not in output
    assert all(target.is_running(name) for name in DATA_SETS)
    assert find_leftovers(lab) == []


def test_a_restore_that_silently_loses_data_fails_the_drill_with_the_count_missing(lab: Inventory,
                                                                                  tmp_path: Path):
    def backup_without_flush(experiment: dict) -> None:
        _activity(experiment, "take-backup")["provider"]["arguments"] = {"skip_flush": True}

    outcome = run_file(_variant(tmp_path, backup_without_flush), lab.lab_id)
    print(outcome.summary, *outcome.reasons, sep="\n")
    judged = _judged(outcome)["data before the backup"]
    assert outcome.verdict is Verdict.FAIL
    assert judged["verdict"] == "fail" and judged["measured"] > 0, judged
    assert f"{int(judged['measured'])} lost" in judged["detail"], judged
    assert any("data before the backup" in reason for reason in outcome.reasons), outcome.reasons
    assert find_leftovers(lab) == []


def _newest_run(after: float) -> Path | None:
    runs = [p for p in (ROOT / "reports" / "runs").glob("*-dr-restore") if p.stat().st_mtime >= after]
    return max(runs, key=lambda p: p.stat().st_mtime) if runs else None


def _restoring(after: float) -> bool:
    run = _newest_run(after)
    if run is None:
        return False
    events = read_events(run / "events.jsonl", missing_ok=True)
    return any(e.kind == "dr.phase" and e.get("phase") == "restore.stop" for e in events)


def _before_the_backup_present(lab: Inventory, run: Path) -> tuple[int, int]:
    found = moments(read_events(run / "events.jsonl"))
    assert found.backup is not None
    before = windows(read_requests(run / "requests.jsonl"), found.backup, None).before
    stored = stored_tasks(lab, {agent for agent, _ in before})
    return len(before), len(before & stored.keys())


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_an_interrupted_restore_is_finished_before_the_lab_is_called_ready(lab: Inventory, target: DockerLabTarget,
                                                                          how: signal.Signals):
    started = time.time() - 1
    drill = subprocess.Popen([sys.executable, "-m", "chaos360", "run", str(DRILL)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    while not _restoring(started) and time.monotonic() < deadline and drill.poll() is None:
        time.sleep(0.5)
    assert drill.poll() is None, "the drill ended before its restore began"
    drill.send_signal(how)
    output, _ = drill.communicate(timeout=900)
    assert drill.returncode != 0, output
    assert "Traceback" not in output
    healed = subprocess.run([sys.executable, "-m", "chaos360", "heal"], cwd=ROOT, capture_output=True, text=True,
                            timeout=900, check=False)
    said = healed.stdout + healed.stderr
    assert healed.returncode == 0, said
    assert ("healed 1: lose-data" in said) == (how is signal.SIGKILL), said
    assert target.unready() == []
    assert find_leftovers(lab) == []
    run = _newest_run(started)
    assert run is not None
    acknowledged, present = _before_the_backup_present(lab, run)
    assert acknowledged > 100 and present == acknowledged, (acknowledged, present)
