"""Recovery measured from the heal: the fault's own heal, not the closing heal_all that comes after the verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kernel.objectives import load_objectives
from kernel.run import Run
from kernel.verdict import Verdict
from probes.checks import _judge_recovery

T0 = 1_800_000_000.0


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def _run(tmp_path: Path, closing_heal_at: float, data_until: float) -> Run:
    events = [
        {"t": T0, "kind": "fault.inject", "fault": "canary-pause", "entry": "e1"},
        {"t": T0 + 10, "kind": "fault.heal", "fault": "canary-pause", "action": "rollback to v1"},
        {"t": T0 + 16, "kind": "recovery", "fault": "canary-fault", "measured_s": 0.0, "verdict": "pass"},
        {"t": closing_heal_at, "kind": "fault.heal", "fault": "canary-pause", "entry": "e1"},
    ]
    requests = [{"t": T0 - 2 + n * 0.1, "name": "GET x", "kind": "read", "ok": True, "status": 200,
                 "latency_ms": 5.0, "error": None, "task_id": None, "agent_id": "a"}
                for n in range(int((data_until - T0 + 2) * 10))]
    _write(tmp_path / "events.jsonl", events)
    _write(tmp_path / "requests.jsonl", requests)
    return Run(tmp_path, "lab", "canary-fault")


def test_recovery_is_measured_from_the_heal_before_the_live_verdict(tmp_path: Path) -> None:
    judgement = _judge_recovery(_run(tmp_path, closing_heal_at=T0 + 16.1, data_until=T0 + 17.5), "canary-fault",
                                load_objectives())
    assert judgement.verdict is Verdict.PASS
    assert judgement.measured == 0.0


def test_without_a_live_verdict_the_last_heal_counts(tmp_path: Path) -> None:
    run = _run(tmp_path, closing_heal_at=T0 + 16.1, data_until=T0 + 17.5)
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    _write(tmp_path / "events.jsonl", [e for e in events if e["kind"] != "recovery"])
    assert _judge_recovery(run, "canary-fault", load_objectives()).verdict is Verdict.UNKNOWN


def test_every_check_name_has_a_judge(tmp_path: Path) -> None:
    from probes.checks import CHECK_NAMES, _judgements

    run = _run(tmp_path, closing_heal_at=T0 + 16.1, data_until=T0 + 17.5)
    with pytest.raises(ValueError, match="unknown checks"):
        _judgements(run, "canary-fault", [], T0, load_objectives(), ["no-such-check"])
    assert len(set(CHECK_NAMES)) == len(CHECK_NAMES)


@pytest.mark.parametrize(("ratio", "alerts", "expected"), [
    (0.02, {"HighErrorRate": "inactive"}, Verdict.PASS),
    (0.2, {"HighErrorRate": "inactive"}, Verdict.FAIL),
    (0.0, {"HighErrorRate": "firing"}, Verdict.FAIL),
    (None, {}, Verdict.UNKNOWN),
])
def test_server_errors_judge_the_ratio_and_the_alert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     ratio: float | None, alerts: dict[str, str],
                                                     expected: Verdict) -> None:
    from probes import checks, prometheus

    view = prometheus.ServerView(ratio, 1.0, alerts)
    monkeypatch.setattr(checks, "_server_view", lambda run: view)
    run = _run(tmp_path, closing_heal_at=T0 + 16.1, data_until=T0 + 17.5)
    assert checks._judge_server_errors(run, load_objectives()).verdict is expected
    assert checks._judge_restarts(run, load_objectives()).verdict is Verdict.PASS


def test_the_live_verdict_records_what_recovery_was_measured_from(tmp_path: Path) -> None:
    from kernel.run import attach, start_run
    from probes.checks import wait_for_recovery

    _run(tmp_path, closing_heal_at=T0 + 16.1, data_until=T0 + 17.5)
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    _write(tmp_path / "events.jsonl", [e for e in events if e["kind"] == "fault.inject" or e["t"] == T0 + 10])
    configuration = attach({}, start_run("canary-fault", lab_id="lab", run_dir=tmp_path))
    assert wait_for_recovery("canary-fault", configuration=configuration)["verdict"] == "pass"
    recorded = json.loads((tmp_path / "events.jsonl").read_text().splitlines()[-1])
    assert recorded["kind"] == "recovery"
    assert (recorded["measured_from"], recorded["from_t"]) == ("heal", T0 + 10)
