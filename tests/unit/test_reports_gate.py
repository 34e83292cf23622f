import json
import shutil
from pathlib import Path

import pytest

from kernel.outcome import Outcome
from kernel.record import read_events, read_requests
from kernel.verdict import Verdict
from probes import traffic
from reports.gate_report import GateRow, render_gate, row_from_outcome, row_from_run_dir
from tests.unit.reports_page import FIXTURE_RUN, Page

FAILED_REASON = "recovery 12 s > limit 8 s (redis-master-failover)"


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    shutil.copytree(FIXTURE_RUN, root / "20261128T115641Z-redis-master-failover")
    (root / "20261128T120000Z-zone-partition").mkdir()
    return root


@pytest.fixture
def rows(runs: Path) -> list[GateRow]:
    passed = row_from_run_dir(runs / "20261128T115641Z-redis-master-failover", Verdict.PASS, ["all met"], 26.1)
    failed = GateRow("cassandra-node-loss", Verdict.FAIL, runs / "missing", 41.0, None, 0.31,
                     (FAILED_REASON, "error rate 14.2% > limit 10% (HighErrorRate)"))
    empty = row_from_run_dir(runs / "20261128T120000Z-zone-partition", Verdict.UNKNOWN, ["run failed"], 3.0,
                             experiment="zone-partition")
    return [passed, failed, empty]


def test_a_row_from_a_run_dir_reads_recovery_worst_window_and_failover(runs):
    run_dir = runs / "20261128T115641Z-redis-master-failover"
    row = row_from_run_dir(run_dir, Verdict.PASS, ["ok"], 26.1)
    events = read_events(run_dir / "events.jsonl")
    inject = min(e.t for e in events if e.kind == "fault.inject")
    worst = traffic.worst_window_error_rate(read_requests(run_dir / "requests.jsonl"), 10.0, start=inject)
    assert (row.experiment, row.verdict, row.recovery_s, row.wall_s) == ("redis-master-failover", Verdict.PASS, 4.0,
                                                                         26.1)
    assert worst is not None and worst > 0 and row.worst_error_rate == pytest.approx(worst)
    assert row.failover_s == pytest.approx(1.2611651420593262, abs=0.001)
    assert row.started_at == pytest.approx(1795867001.93, abs=0.01)


def test_a_row_from_an_outcome_keeps_the_runners_verdict_and_reasons(runs):
    run_dir = runs / "20261128T115641Z-redis-master-failover"
    outcome = Outcome("redis-master-failover", Verdict.FAIL, ("lost writes",), run_dir, 30.0, "completed")
    row = row_from_outcome(outcome)
    assert (row.verdict, row.reasons, row.wall_s, row.passed) == (Verdict.FAIL, ("lost writes",), 30.0, False)


def test_an_aborted_run_is_labelled_aborted_and_not_passed(runs):
    run_dir = runs / "20261128T115641Z-redis-master-failover"
    with (run_dir / "events.jsonl").open("a") as handle:
        handle.write(json.dumps({"t": 1795867015.0, "kind": "run.aborted", "condition": "error rate", "value": 0.6,
                                 "limit": 0.5}) + "\n")
    row = row_from_run_dir(run_dir, Verdict.PASS, [], 20.0)
    assert (row.label, row.passed, row.aborted) == ("ABORTED", False, "error rate (measured 0.6, limit 0.5)")


def test_index_has_the_headline_and_one_row_per_experiment_linking_its_report(tmp_path, rows):
    gate_dir = tmp_path / "gate"
    render_gate(gate_dir, rows)
    page = Page.of(gate_dir / "index.html")
    assert page.titles[0] == "chaos360 gate: 1/3 passed" and page.text.count("chaos360 gate: 1/3 passed") == 2
    table = page.tables["gate"]
    assert [r[:2] for r in table] == [["redis-master-failover", "PASS"], ["cassandra-node-loss", "FAIL"],
                                      ["zone-partition", "UNKNOWN"]]
    assert table[0][2:6] == ["4 s", "4.67%", "26.1 s", "report"]
    assert table[1][6] == f"{FAILED_REASON}; error rate 14.2% > limit 10% (HighErrorRate)"
    [link] = page.find("a")
    assert not link["href"].startswith("/") and (gate_dir / link["href"]).resolve().is_file()


def test_the_gate_renders_a_missing_run_report(tmp_path, rows):
    assert not (rows[0].run_dir / "report.html").exists()
    render_gate(tmp_path / "gate", rows)
    assert (rows[0].run_dir / "report.html").is_file()


def test_summary_md_has_a_headline_a_table_and_each_failing_objective(tmp_path, rows):
    render_gate(tmp_path / "gate", rows)
    lines = (tmp_path / "gate" / "summary.md").read_text().splitlines()
    assert lines[0] == "**chaos360 gate: 1/3 passed**"
    table = [line for line in lines if line.startswith("| ") and "experiment" not in line]
    assert len(table) == 3 and all(line.count(" | ") == 4 for line in table)
    assert "| redis-master-failover | PASS | 4 s | 4.67% | 26.1 s |" in lines
    failing = [line for line in lines if line.startswith("- ")]
    assert failing == [f"- **cassandra-node-loss** (FAIL): {FAILED_REASON}; error rate 14.2% > limit 10% "
                       "(HighErrorRate)", "- **zone-partition** (UNKNOWN): run failed"]


def test_a_pipe_in_a_reason_does_not_break_the_markdown_table(tmp_path):
    row = GateRow("a|b", Verdict.FAIL, tmp_path / "x", 1.0, None, None, ("x | y",))
    render_gate(tmp_path / "gate", [row])
    text = (tmp_path / "gate" / "summary.md").read_text()
    assert "| a\\|b | FAIL |" in text and "x \\| y" in text
