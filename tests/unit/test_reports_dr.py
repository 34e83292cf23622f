"""A disaster-recovery drill's run on its report page (phases, backup moment, integrity) and in the history."""

import json
import re
import shutil
from pathlib import Path

import pytest

from kernel.record import Event
from kernel.verdict import Verdict
from reports import dr, history
from reports.gate_report import GateRow, row_from_run_dir
from reports.run_report import render_run
from tests.unit.reports_page import FIXTURE_RUN, Page, series_points
from tests.unit.test_reports_cli import _run

T0 = 1_800_000_000.0
PHASES = (("backup", 10, 15), ("verify", 20, 20.5), ("disaster", 21, 23), ("restore.copy", 23, 25),
          ("restore.schema", 25, 27), ("restore.load", 27, 30), ("restore.redis", 30, 33),
          ("restore.services", 33, 36), ("verify.data", 36, 37))
JUDGEMENTS = (("data before the backup", 0.0, "count"), ("RPO writes", 42.0, "count"), ("RPO", 11.0, "s"),
              ("RTO", 16.0, "s"))


def _jsonl(path: Path, lines: list[dict]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def _integrity(run_dir: Path, lost_before: int = 0) -> None:
    rows = [{"window": "before the backup", "acknowledged": 50, "present": 50 - lost_before, "lost": lost_before,
             "changed": 0, "expected": "all present"},
            {"window": "after the backup, before the restore (RPO)", "acknowledged": 60, "present": 18, "lost": 42,
             "changed": 0, "expected": "may be lost"},
            {"window": "after the restore", "acknowledged": 30, "present": 30, "lost": 0, "changed": 0,
             "expected": "all present"}]
    (run_dir / "integrity.json").write_text(json.dumps({"rows": rows}))


def _events() -> list[dict]:
    events = [{"t": T0, "kind": "run.start", "experiment": "dr-restore"},
              {"t": T0 + 15, "kind": "dr.backup", "backup_id": "b-1", "moment": T0 + 10, "bytes": 1000, "files": 4},
              {"t": T0 + 21, "kind": "fault.inject", "fault": "lose-data", "entry": "e1"},
              {"t": T0 + 36, "kind": "fault.heal", "fault": "lose-data", "entry": "e1"},
              {"t": T0 + 40, "kind": "run.end"}]
    events += [{"t": T0 + end, "kind": "dr.phase", "phase": name, "started": T0 + start, "seconds": end - start}
               for name, start, end in PHASES]
    return sorted(events, key=lambda e: e["t"])


def _requests() -> list[dict]:
    return [{"t": T0 + s, "name": "POST /tasks", "kind": "create", "ok": not 21 <= s < 36, "status": 201,
             "latency_ms": 12.0, "error": None, "task_id": f"t{s}", "agent_id": "a"} for s in range(1, 40)]


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run_dir = tmp_path / "20270115T080000Z-dr-restore"
    run_dir.mkdir()
    _jsonl(run_dir / "events.jsonl", _events())
    _jsonl(run_dir / "requests.jsonl", _requests())
    judgements = [{"name": name, "objective": name, "measured": measured, "limit": None, "unit": unit,
                   "verdict": "pass", "detail": ""} for name, measured, unit in JUDGEMENTS]
    (run_dir / "judgements.json").write_text(json.dumps({"verdict": "pass", "phase": "after",
                                                         "judgements": judgements}))
    _integrity(run_dir)
    return run_dir


@pytest.fixture
def plain_run(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE_RUN, tmp_path / "plain"))


def test_every_phase_is_a_band_of_the_dr_lane_with_its_name_and_seconds(run_dir):
    page = Page.of(render_run(run_dir))
    lane = re.search(r'<g class="lane" id="lane-dr">(.*?)</g>', page.source)
    assert lane and lane.group(1).count('class="dr-phase"') == len(PHASES)
    assert [band["data-phase"] for band in page.find("rect", "dr-phase")] == [name for name, _, _ in PHASES]
    assert "restore.load: 3 s, t+27.0 s to t+30.0 s" in page.titles
    assert [row[0] for row in page.tables["dr-phases"]] == [name for name, _, _ in PHASES]
    assert page.tables["dr-phases"][0] == ["backup", "t+10.0 s", "t+15.0 s", "5 s"]


def test_a_phase_caption_is_drawn_only_where_it_fits_its_band(run_dir):
    source = render_run(run_dir).read_text()
    captions = re.findall(r'<text x="[\d.]+" y="[\d.]+" fill="#5c4a00">([^<]*)</text>', source)
    assert "backup 5 s" in captions and "verify 0.5 s" not in captions and "verify" not in captions


def test_a_phase_of_another_name_without_its_start_still_renders(run_dir):
    with (run_dir / "events.jsonl").open("a") as handle:
        handle.write(json.dumps({"t": T0 + 39, "kind": "dr.phase", "phase": "restore.nodes", "seconds": 1.5}) + "\n")
    page = Page.of(render_run(run_dir))
    assert page.find("rect", "dr-phase", data_phase="restore.nodes")
    assert "restore.nodes: 1.5 s, t+37.5 s to t+39.0 s" in page.titles


def test_the_backup_moment_is_marked_over_the_charts(run_dir):
    page = Page.of(render_run(run_dir))
    [mark] = page.find("line", "backup-mark")
    [backup_phase] = page.find("rect", "dr-phase", data_phase="backup")
    assert mark["data-backup"] == "b-1" and float(mark["x1"]) == float(backup_phase["x"])
    assert "backup b-1: every write acknowledged before t+10.0 s is in it" in page.titles
    assert [row[2] for row in page.tables["events"] if row[1] == "dr"] == ["backup b-1 taken (4 files, 1000 bytes)"]
    assert "backup moment" in page.text


def test_the_integrity_table_follows_the_objectives(run_dir):
    source = render_run(run_dir).read_text()
    page = Page(source)
    assert page.tables["integrity"] == [
        ["before the backup", "50", "50", "0", "0", "all present"],
        ["after the backup, before the restore (RPO)", "60", "18", "42", "0", "may be lost"],
        ["after the restore", "30", "30", "0", "0", "all present"]]
    assert source.index('class="judgements"') < source.index('<h2 id="integrity">') < source.index("<h2>Evidence")


def test_a_lost_write_that_must_be_present_is_red_and_the_rpo_window_is_not(run_dir):
    _integrity(run_dir, lost_before=3)
    page = Page.of(render_run(run_dir))
    [flagged] = page.find("td", "flagged")
    assert "background:#fde2e1" in flagged["style"]
    assert page.tables["integrity"][0][3] == "3" and page.tables["integrity"][1][3] == "42"
    assert re.search(r'<td class="num flagged" style="[^"]*">3</td>', page.source)


def test_nothing_is_red_when_no_write_that_must_be_present_was_lost(run_dir):
    page = Page.of(render_run(run_dir))
    assert page.tables["integrity"][1][3] == "42" and page.find("td", "flagged") == []


def test_an_unreadable_integrity_file_is_noted_not_fatal(run_dir):
    (run_dir / "integrity.json").write_text('{"rows": 3}')
    page = Page.of(render_run(run_dir))
    assert "integrity.json is unreadable (its rows are not a list of objects): no integrity table" in page.text
    assert "integrity" not in page.tables and page.find("rect", "dr-phase")


def test_a_run_that_is_no_drill_has_no_drill_parts(plain_run):
    page = Page.of(render_run(plain_run))
    assert not page.find("h2", id="integrity") and "Integrity" not in page.text
    assert not page.find("g", id="lane-dr") and not page.find("line", "backup-mark")
    assert "dr-phases" not in page.tables and "integrity.json" not in page.text


def test_the_history_line_of_a_drill_carries_rto_rpo_and_rpo_writes(run_dir, plain_run, tmp_path):
    file = tmp_path / "history.jsonl"
    drill = history.append(file, row_from_run_dir(run_dir, Verdict.PASS, (), 40.0))
    plain = history.append(file, row_from_run_dir(plain_run, Verdict.PASS, (), 20.0))
    assert (drill["rto_s"], drill["rpo_s"], drill["rpo_writes"]) == (16.0, 11.0, 42.0)
    assert not {"rto_s", "rpo_s", "rpo_writes"} & plain.keys()
    entries, skipped = history.read_history(file)
    assert skipped == 0 and (entries[0].rto_s, entries[0].rpo_s, entries[0].rpo_writes) == (16.0, 11.0, 42.0)
    assert (entries[1].rto_s, entries[1].rpo_s, entries[1].rpo_writes) == (None, None, None)


def test_a_drill_that_measured_no_rto_leaves_it_out_of_its_line(run_dir, tmp_path):
    saved = json.loads((run_dir / "judgements.json").read_text())
    saved["judgements"][-1]["measured"] = None
    (run_dir / "judgements.json").write_text(json.dumps(saved))
    line = history.append(tmp_path / "h.jsonl", row_from_run_dir(run_dir, Verdict.FAIL, ("no RTO",), 40.0))
    assert "rto_s" not in line and line["rpo_s"] == 11.0


def _drill_row(n: int, rto: float | None, rpo: float, writes: float) -> GateRow:
    return GateRow("dr-restore", Verdict.PASS, Path(f"/runs/{n}"), 90.0, None, 1.0, (), T0 + n * 600, rto_s=rto,
                   rpo_s=rpo, rpo_writes=writes)


@pytest.fixture
def drill_history(tmp_path: Path) -> Path:
    file = tmp_path / "history.jsonl"
    for n, (rto, rpo, writes) in enumerate(((44.0, 22.0, 600.0), (None, 25.0, 700.0), (41.0, 20.0, 650.0),
                                            (47.5, 23.0, 620.0)), start=1):
        history.append(file, _drill_row(n, rto, rpo, writes))
    history.append(file, GateRow("zone-partition", Verdict.PASS, Path("/runs/z"), 20.0, 6.0, 0.02, (), T0))
    with file.open("a") as handle:
        handle.write(json.dumps({"experiment": "dr-restore", "started_at": "2027-01-15T10:00:00+00:00",
                                 "verdict": "unknown", "recovery_s": None, "wall_s": 60.0}) + "\n")
    return file


def test_the_history_page_shows_the_rto_and_rpo_trend_of_a_drill_only(drill_history, tmp_path):
    page = Page.of(history.render_history(drill_history, tmp_path / "history.html"))
    assert series_points(page, "dr-restore-rto") == (3, 3)
    assert series_points(page, "dr-restore-rpo") == (4, 4)
    assert series_points(page, "dr-restore-rpo-writes") == (4, 4)
    assert page.tables["drill-trend"] == [["RTO", "3", "41 s", "44 s", "47.5 s"],
                                          ["RPO", "4", "20 s", "22.5 s", "23 s"],
                                          ["RPO writes", "4", "600", "635", "620"]]
    assert 'id="series-zone-partition-recovery"' in page.source and "zone-partition-rto" not in page.source
    assert len(page.tables["history"]) == 5 + 1


def test_report_history_prints_the_rto_and_rpo_trend_of_a_drill(drill_history, tmp_path, capsys):
    assert _run(["report", "history", "--file", str(drill_history), "--out", str(tmp_path / "h.html")]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "  dr-restore: 5 runs, 4 passed, recovery —, worst 10 s error rate 100% → 100%, RTO 44.0s → 47.5s, "
        "RPO 22.0s → 23.0s, RPO writes 600 → 620",
        "  zone-partition: 1 run, 1 passed, recovery 6.0s, worst 10 s error rate 2%"]


def test_phases_and_backups_are_placed_in_seconds_since_the_start():
    events = [Event(T0 + 5, "dr.phase", {"phase": "backup", "started": T0 + 2, "seconds": 3}),
              Event(T0 + 9, "dr.phase", {"seconds": 2.5}),
              Event(T0 + 5, "dr.backup", {"backup_id": "b", "moment": T0 + 2.5, "files": 3}),
              Event(T0 + 6, "dr.backup", {})]
    assert [(p.name, p.start_s, p.end_s, p.seconds) for p in dr.phases(events, T0)] == [
        ("backup", 2, 5, 3), ("?", 6.5, 9, 2.5)]
    assert dr.backups(events, T0) == [dr.Backup(2.5, "b"), dr.Backup(6, "?")]
