"""No fault outlives a run: signals at random moments, SIGKILL then heal, one run per lab, stop conditions."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from kernel.inventory import Inventory
from kernel.ledger import Ledger
from kernel.progress import Progress
from lab import docker_lab
from lab.leftovers import find_leftovers, network_leftovers
from lab.readiness import run_checks
from lab.target import DockerLabTarget
from lab.topology import LabSettings
from lab.variants import variant_app
from tests.integration.conftest import held_partition

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("CHAOS360_INTERRUPT_SEED", "360"))
EXPERIMENTS = ("zone-partition", "redis-master-failover")
# Where a signal lands: a random offset (up to the given seconds) after a moment of the run, so every trial
# hits the run and not the time after it, however fast the service recovers. "spawn" is the CLI's start.
ANCHORS = {"spawn": 1.5, "load.start": 0.9, "fault.inject": 3.0, "recovery": 1.0, "fault.heal": 1.5}
TRIALS = 20
EXIT_TIMEOUT_S = 150
ANCHOR_TIMEOUT_S = 60


def _plan(seed: int) -> list[tuple[str, signal.Signals, str, float, bool]]:
    """Each experiment meets each anchor twice, with a seeded random signal, offset and second Ctrl-C."""
    rng = random.Random(seed)
    plan = []
    for n in range(TRIALS):
        anchor = list(ANCHORS)[(n // len(EXPERIMENTS)) % len(ANCHORS)]
        plan.append((EXPERIMENTS[n % len(EXPERIMENTS)], rng.choice([signal.SIGINT, signal.SIGTERM]), anchor,
                     round(rng.uniform(0.2 if anchor == "spawn" else 0.0, ANCHORS[anchor]), 1), rng.random() < 0.3))
    return plan


PLAN = _plan(SEED)
PHASES_HIT: set[str] = set()


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "chaos360", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=EXIT_TIMEOUT_S)
    return process.returncode, out, err


def _assert_clean(lab: Inventory) -> None:
    assert find_leftovers(lab) == []
    failing = [f"{c.name}: {c.detail}" for c in run_checks(lab) if not c.ok]
    assert failing == [], "lab not ready"


def _newest_run(experiment: str, since: float = 0.0) -> Path | None:
    """The newest run directory of `experiment` written at or after `since`; None when there is none."""
    runs = [p for p in (ROOT / "reports" / "runs").glob(f"*-{experiment}*") if p.stat().st_mtime >= since]
    return max(runs, key=lambda p: p.stat().st_mtime) if runs else None


def _phase_at(run_dir: Path | None, moment: float) -> str:
    """Which part of the run the signal hit, from the run's own events (no run directory: it had not started)."""
    if run_dir is None or not (run_dir / "events.jsonl").exists():
        return "before injection"
    kinds = [e["kind"] for e in map(json.loads, (run_dir / "events.jsonl").read_text().splitlines())
             if e["t"] <= moment and e["kind"] != "ready"]
    if "fault.heal" in kinds or "lab.ready" in kinds:
        return "healing"
    if "recovery" in kinds:
        return "recovered"
    if "fault.inject" in kinds:
        return "under fault"
    return "before injection"


def _wait_for_anchor(process: subprocess.Popen[str], experiment: str, anchor: str, spawned: float) -> None:
    """Block until the run started by `process` has logged an event of kind `anchor`."""
    deadline = time.monotonic() + ANCHOR_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the run ended before its {anchor} event"
        runs = [r for r in (ROOT / "reports" / "runs").glob(f"*-{experiment}") if r.stat().st_mtime >= spawned]
        if runs and anchor in _event_kinds(max(runs, key=lambda r: r.stat().st_mtime)):
            return
        time.sleep(0.05)
    pytest.fail(f"no {anchor} event within {ANCHOR_TIMEOUT_S} s")


def _event_kinds(run_dir: Path) -> set[str]:
    path = run_dir / "events.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return {json.loads(line)["kind"] for line in lines if line.endswith("}")}


@pytest.mark.parametrize(("experiment", "signum", "anchor", "offset_s", "twice"), PLAN,
                         ids=[f"{n}-{e}-{s.name}-{a}+{o}s{'-twice' if t else ''}"
                              for n, (e, s, a, o, t) in enumerate(PLAN)])
def test_a_signal_at_any_moment_heals_everything(lab: Inventory, experiment: str, signum: signal.Signals,
                                                 anchor: str, offset_s: float, twice: bool) -> None:
    spawned = time.time()
    process = _cli("run", f"experiments/{experiment}.yaml")
    if anchor != "spawn":
        _wait_for_anchor(process, experiment, anchor, spawned)
    time.sleep(offset_s)
    moment = time.time()
    process.send_signal(signum)
    if twice:
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
    code, _, err = _finish(process)
    PHASES_HIT.add(_phase_at(_newest_run(experiment, since=spawned), moment))
    assert code == 2, err
    assert f"interrupted by {signum.name}: healed " in err and "lab ready" in err, err
    assert "Traceback" not in err
    _assert_clean(lab)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_the_cli_loads_is_handled_not_a_traceback(lab: Inventory, signum: signal.Signals) -> None:
    process = _cli("run", "experiments/zone-partition.yaml")
    time.sleep(0.15)  # past the interpreter's own start (~30 ms), well inside the CLI's imports (~0.4 s)
    process.send_signal(signum)
    code, _, err = _finish(process)
    assert code == 2 and "Traceback" not in err, err
    assert f"interrupted by {signum.name}: healed nothing" in err and "lab ready" in err, err
    _assert_clean(lab)


def test_the_signals_hit_every_phase_of_a_run() -> None:
    if len(PHASES_HIT) == 0:
        pytest.fail("run the interrupt trials first (same session)")
    assert {"before injection", "under fault", "healing"} <= PHASES_HIT, PHASES_HIT


def _wait_for_fault(lab_id: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not Ledger(lab_id).entries():
        assert time.monotonic() < deadline, "no fault was injected"
        time.sleep(0.1)


def _instances(leftovers: list[str]) -> set[str]:
    """The instances named by leftover lines such as "app-a: 20 isolation rule(s)"."""
    return {line.split(":", 1)[0] for line in leftovers}


def test_sigkill_mid_fault_then_heal(lab: Inventory, tmp_path: Path) -> None:
    spawned = time.time()
    process = _cli("run", str(held_partition(tmp_path)))
    _wait_for_anchor(process, "zone-partition-held", "fault.effect", spawned)  # every filter in place, counted
    rules = network_leftovers(lab, DockerLabTarget(lab))
    process.kill()
    process.wait()
    assert rules and _instances(rules) <= _instances(find_leftovers(lab)), rules

    code, _, err = _finish(_cli("run", "experiments/app-replica-kill.yaml"))
    assert code == 4 and "unhealed faults in the ledger: isolate(a)" in err and "chaos360 heal" in err, err
    assert f"recovered a stale run lock of pid {process.pid}" in err, "the next command takes over the dead run's lock"

    code, out, err = _finish(_cli("heal"))
    assert code == 0, err
    assert "healed 1: isolate" in out and "lab ready" in out, out
    _assert_clean(lab)

    code, out, _ = _finish(_cli("heal"))
    assert code == 0 and "nothing to heal" in out, out


def test_a_second_concurrent_run_is_refused(lab: Inventory) -> None:
    first = _cli("run", "experiments/app-replica-kill.yaml")
    _wait_for_fault(lab.lab_id)
    code, _, err = _finish(_cli("run", "experiments/redis-master-failover.yaml"))
    assert code == 4, err
    assert f"lab {lab.lab_id} is busy" in err and f"pid {first.pid}" in err, err
    code, out, err = _finish(first)
    assert code == 0, out + err
    _assert_clean(lab)


@pytest.fixture
def direct_mode_lab(lab: Inventory):
    """App replicas that talk to one Redis address, so a failover breaks them."""
    yield docker_lab.up(LabSettings(app_env=(("AGENT360_REDIS_MODE", "direct"),)), Progress())
    docker_lab.up(LabSettings(), Progress())


def test_a_tripped_stop_condition_aborts_and_heals(direct_mode_lab: Inventory, tmp_path: Path) -> None:
    experiment = yaml.safe_load((ROOT / "experiments" / "redis-master-failover.yaml").read_text())
    experiment["extensions"] = [{"name": "chaos360",
                                 "stop_conditions": {"max_error_rate": 0.2, "window_s": 3, "min_requests": 5}}]
    path = tmp_path / "redis-master-failover-abort.yaml"
    path.write_text(yaml.safe_dump(experiment))
    code, out, err = _finish(_cli("run", str(path)))
    assert code == 1, out + err
    assert "ABORTED" in out and "error rate above 20% for 3 s" in out, out
    run_dir = _newest_run("redis-master-failover-abort")
    assert run_dir is not None
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    kinds = [e["kind"] for e in events]
    assert kinds.index("run.aborted") < len(kinds) - 1 and "fault.heal" in kinds[kinds.index("run.aborted"):]
    _assert_clean(direct_mode_lab)


def test_an_interrupted_gate_heals_and_runs_nothing_more(lab: Inventory) -> None:
    started = time.time()
    process = _cli("gate")
    _wait_for_fault(lab.lab_id, timeout_s=60)
    process.send_signal(signal.SIGINT)
    code, _, err = _finish(process)
    assert code == 2, err
    assert "interrupted by SIGINT: healed " in err and "nothing (no fault was left)" not in err, err
    runs = [p for p in (ROOT / "reports" / "runs").iterdir() if p.stat().st_mtime >= started and "gate" not in p.name]
    assert len(runs) == 1, f"the gate went on after the interrupt: {runs}"
    _assert_clean(lab)


def test_heal_removes_an_extra_replica_a_killed_harness_left(lab: Inventory) -> None:
    with variant_app(lab, 0, {}):
        assert any("extra replica" in leftover for leftover in find_leftovers(lab))
        code, out, err = _finish(_cli("heal"))
        assert code == 0, err
        assert "nothing to heal; removed 1 extra replica;" in out and "lab ready" in out, out
        _assert_clean(lab)
