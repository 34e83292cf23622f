import json
from pathlib import Path

import pytest

from kernel.verdict import Verdict
from reports import history
from reports.gate_report import GateRow
from tests.unit.reports_page import Page, series_points

START = 1795867001.0


def _row(experiment: str, n: int, recovery: float | None, worst: float | None, verdict=Verdict.PASS,
         failover: float | None = None) -> GateRow:
    return GateRow(experiment, verdict, Path(f"/runs/{n}-{experiment}"), 20.0 + n, recovery, worst, (),
                   START + n * 3600, failover)


@pytest.fixture
def history_file(tmp_path: Path) -> Path:
    file = tmp_path / "reports" / "history.jsonl"
    history.append(file, _row("zone-partition", 1, 6.0, 0.02))
    history.append(file, _row("redis-master-failover", 2, 3.0, 0.01, failover=1.2))
    history.append(file, _row("zone-partition", 3, None, 0.4, Verdict.FAIL))
    history.append(file, _row("zone-partition", 4, 7.5, 0.03))
    return file


def test_append_writes_one_json_line_per_run(history_file):
    lines = [json.loads(line) for line in history_file.read_text().splitlines()]
    assert len(lines) == 4
    assert lines[1] == {"experiment": "redis-master-failover", "started_at": "2026-11-28T13:56:41+00:00",
                        "verdict": "pass", "recovery_s": 3.0, "worst_10s_error_rate": 0.01, "failover_s": 1.2,
                        "wall_s": 22.0, "run_dir": "/runs/2-redis-master-failover"}
    assert "failover_s" not in lines[0] and lines[2]["verdict"] == "fail" and lines[2]["recovery_s"] is None


def test_an_aborted_run_is_recorded_as_aborted(tmp_path):
    row = GateRow("x", Verdict.UNKNOWN, tmp_path, 5.0, None, 0.7, (), aborted="error rate: 0.7 (limit 0.5)")
    line = history.append(tmp_path / "h.jsonl", row)
    assert (line["verdict"], line["aborted"]) == ("aborted", "error rate: 0.7 (limit 0.5)")


def test_the_page_has_a_trend_per_experiment_with_one_point_per_measured_run(history_file, tmp_path):
    out = history.render_history(history_file, tmp_path / "history.html")
    page = Page.of(out)
    assert [svg["id"] for svg in page.find("svg")] == ["chart-history-redis-master-failover",
                                                        "chart-history-zone-partition"]
    assert series_points(page, "zone-partition-recovery") == (2, 2)
    assert series_points(page, "zone-partition-worst") == (3, 3)
    assert series_points(page, "redis-master-failover-recovery") == (1, 1)
    assert [r["data-run"] for r in page.find("rect", "failed-run")] == ["2"]


def test_the_runs_table_is_oldest_first_with_its_numbers(history_file, tmp_path):
    page = Page.of(history.render_history(history_file, tmp_path / "history.html"))
    zone = page.tables["history"][1:]
    assert [row[:5] for row in zone] == [["1", "2026-11-28 12:56:41", "PASS", "6 s", "2%"],
                                         ["2", "2026-11-28 14:56:41", "FAIL", "—", "40%"],
                                         ["3", "2026-11-28 15:56:41", "PASS", "7.5 s", "3%"]]


def test_summaries_give_the_trend_per_experiment(history_file):
    assert history.summaries(history_file) == [
        "redis-master-failover: 1 run, 1 passed, recovery 3.0s, worst 10 s error rate 1%",
        "zone-partition: 3 runs, 2 passed, recovery 6.0s → 7.5s, worst 10 s error rate 2% → 3%",
    ]


@pytest.mark.parametrize("content", [None, "", "\n\n"])
def test_no_recorded_runs_gives_a_page_that_says_so(tmp_path, content):
    file = tmp_path / "history.jsonl"
    if content is not None:
        file.write_text(content)
    page = Page.of(history.render_history(file, tmp_path / "out" / "history.html"))
    assert page.find("p", id="no-runs") and not page.find("svg")
    assert "No runs recorded yet" in page.text and history.summaries(file) == []


def test_a_line_that_is_not_an_entry_is_left_out_and_counted(history_file, tmp_path):
    with history_file.open("a") as handle:
        handle.write('{"verdict": "pass"}\nnot json\n')
    page = Page.of(history.render_history(history_file, tmp_path / "history.html"))
    assert "2 lines of" in page.text and len(page.find("svg")) == 2


def test_the_default_file_is_under_reports_unless_the_environment_names_one(monkeypatch, tmp_path):
    monkeypatch.delenv(history.HISTORY_ENV, raising=False)
    assert history.default_history_file() == Path("reports/history.jsonl")
    monkeypatch.setenv(history.HISTORY_ENV, str(tmp_path / "h.jsonl"))
    assert history.default_history_file() == tmp_path / "h.jsonl"
