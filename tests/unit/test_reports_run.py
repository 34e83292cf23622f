import json
import re
import shutil
from pathlib import Path

import pytest

from kernel.errors import UsageError
from kernel.outcome import verdict_of
from kernel.record import Event
from kernel.verdict import format_value
from reports.run_report import render_run
from reports.svg import LEFT, PLOT_W
from reports.timeline import fault_windows, recoveries
from tests.unit.reports_page import FIXTURE_RUN, Page, series_points


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE_RUN, tmp_path / "20261128T115641Z-redis-master-failover"))


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _t0(run_dir: Path) -> float:
    return next(e["t"] for e in _lines(run_dir / "events.jsonl") if e["kind"] == "run.start")


def _event(run_dir: Path, kind: str) -> dict:
    return next(e for e in _lines(run_dir / "events.jsonl") if e["kind"] == kind)


def _rewrite_events(run_dir: Path, keep) -> None:
    events = [e for e in _lines(run_dir / "events.jsonl") if keep(e)]
    (run_dir / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))


def test_writes_report_html_into_the_run_dir(run_dir):
    out = render_run(run_dir)
    assert out == run_dir / "report.html"
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_the_verdict_experiment_and_wall_time_lead_the_page(run_dir):
    page = Page.of(render_run(run_dir))
    journal = json.loads((run_dir / "journal.json").read_text())
    assert page.find("h1", id="verdict")[0]["data-verdict"] == "PASS"
    assert re.search(r"PASS\s+redis-master-failover", page.text)
    assert "started 2026-11-28 11:56:41 UTC" in page.text
    assert f"wall time {format_value(journal['duration'], 's')}" in page.text


def test_every_series_has_one_point_per_second_of_traffic(run_dir):
    page = Page.of(render_run(run_dir))
    t0 = _t0(run_dir)
    requests = _lines(run_dir / "requests.jsonl")
    seconds = {int((r["t"] - t0) // 1) for r in requests}
    span = max(seconds) - min(seconds) + 1
    with_success = {int((r["t"] - t0) // 1) for r in requests if r["ok"]}
    assert series_points(page, "rps") == (span, span)
    assert series_points(page, "errors") == (len(seconds), len(seconds))
    assert series_points(page, "p95") == (len(with_success), len(with_success))
    assert 15 <= span <= 30


def test_the_fault_window_runs_from_injection_to_heal(run_dir):
    page = Page.of(render_run(run_dir))
    t0 = _t0(run_dir)
    inject, heal = _event(run_dir, "fault.inject"), _event(run_dir, "fault.heal")
    [window] = page.find("rect", "fault-window")
    assert window["data-fault"] == "redis-master-stop" and window["data-healed"] == "true"
    assert f"redis-master-stop: injected t+{inject['t'] - t0:.1f} s, healed t+{heal['t'] - t0:.1f} s" in page.titles


def test_the_recovery_mark_stands_measured_s_after_the_injection_inside_the_window(run_dir):
    page = Page.of(render_run(run_dir))
    t0 = _t0(run_dir)
    recovery, inject = _event(run_dir, "recovery"), _event(run_dir, "fault.inject")
    [mark] = page.find("line", "recovery-mark")
    [window] = page.find("rect", "fault-window")
    expected = inject["t"] - t0 + recovery["measured_s"]
    assert mark["data-fault"] == "redis-master-failover"
    assert f"redis-master-failover: recovered 4 s after the inject (t+{expected:.1f} s)" in page.titles
    assert float(window["x"]) < float(mark["x1"]) < float(window["x"]) + float(window["width"])


def test_sentinel_and_container_events_are_markers_and_the_failover_is_shaded(run_dir):
    page = Page.of(render_run(run_dir))
    events = _lines(run_dir / "events.jsonl")
    assert len(page.find("line", "marker-sentinel")) == sum(e["kind"] == "sentinel" for e in events)
    assert len(page.find("line", "marker-container")) == sum(e["kind"] == "container" for e in events)
    assert len(page.find("rect", "failover-window")) == 1
    assert "Sentinel failover 1.26 s" in page.text


def test_the_probe_table_lists_every_judgement_with_measured_value_and_limit(run_dir):
    page = Page.of(render_run(run_dir))
    _, _, judgements = verdict_of(json.loads((run_dir / "journal.json").read_text()))
    rows = page.tables["judgements"]
    assert len(rows) == len(judgements) == 7
    for row, judgement in zip(rows, judgements, strict=True):
        unit = judgement["unit"]
        assert row == [judgement["name"], judgement["objective"], format_value(judgement["measured"], unit),
                       format_value(judgement["limit"], unit), judgement["verdict"].upper(), judgement["message"]]


def test_the_evidence_names_what_was_hit_and_the_new_master(run_dir):
    page = Page.of(render_run(run_dir))
    [fault] = page.tables["faults"]
    assert fault[0] == "redis-master-stop" and fault[-1] == "instance: redis-b"
    [effect] = page.tables["effects"]
    assert effect[1:] == ["redis-master-stop", "old_master: redis-b new_master: redis-a switched_after_s: 2.69"]
    whats = [row[2] for row in page.tables["events"]]
    assert "redis-b die (exit 137)" in whats and "redis-master-failover recovered, 4 s after the inject" in whats


def test_a_failed_judgement_makes_the_page_fail_and_names_it(run_dir):
    journal = json.loads((run_dir / "journal.json").read_text())
    objectives = journal["steady_states"]["after"]["probes"][-1]["output"]
    recovery = next(j for j in objectives["judgements"] if j["name"] == "recovery")
    recovery.update(verdict="fail", measured=12.0, message="recovery 12 s > limit 8 s (redis-master-failover)")
    (run_dir / "journal.json").write_text(json.dumps(journal))
    page = Page.of(render_run(run_dir))
    assert page.find("h1", id="verdict")[0]["data-verdict"] == "FAIL"
    assert page.find("ul", "reasons") and "recovery 12 s > limit 8 s (redis-master-failover)" in page.text


def test_an_aborted_run_shows_aborted_with_its_condition(run_dir):
    with (run_dir / "events.jsonl").open("a") as handle:
        handle.write(json.dumps({"t": _t0(run_dir) + 12.0, "kind": "run.aborted", "condition": "error rate",
                                 "measured": 0.6234, "limit": 0.5, "detail": "31 of 50 requests failed"}) + "\n")
    page = Page.of(render_run(run_dir))
    assert page.find("h1", id="verdict")[0]["data-verdict"] == "ABORTED"
    assert ("Aborted at t+12.0 s by the stop condition error rate (measured 0.623, limit 0.5): 31 of 50 requests "
            "failed") in page.text
    assert len(page.find("line", "abort-mark")) == 1


def test_without_a_journal_the_verdict_is_unknown_and_the_saved_judgements_still_show(run_dir):
    (run_dir / "journal.json").unlink()
    page = Page.of(render_run(run_dir))
    assert page.find("h1", id="verdict")[0]["data-verdict"] == "UNKNOWN"
    assert "journal.json is missing" in page.text
    assert len(page.tables["judgements"]) == len(json.loads((run_dir / "judgements.json").read_text())["judgements"])


def test_without_requests_the_charts_are_empty_but_faults_and_events_remain(run_dir):
    (run_dir / "requests.jsonl").unlink()
    page = Page.of(render_run(run_dir))
    assert "requests.jsonl is missing" in page.text
    assert series_points(page, "rps") == (0, 0) and series_points(page, "p95") == (0, 0)
    assert len(page.find("rect", "fault-window")) == 1 and page.find("line", "marker-sentinel")


def test_a_run_without_faults_says_so(run_dir):
    _rewrite_events(run_dir, lambda e: not e["kind"].startswith("fault.") and e["kind"] != "recovery")
    page = Page.of(render_run(run_dir))
    assert not page.find("rect", "fault-window") and not page.find("line", "recovery-mark")
    assert "No fault was injected in this run." in page.text


def test_an_unhealed_fault_is_shaded_to_the_end_of_the_chart(run_dir):
    _rewrite_events(run_dir, lambda e: e["kind"] != "fault.heal")
    page = Page.of(render_run(run_dir))
    [window] = page.find("rect", "fault-window", data_healed="false")
    assert float(window["x"]) + float(window["width"]) == pytest.approx(LEFT + PLOT_W, abs=0.2)
    assert page.tables["faults"][0][2] == "not healed"


def test_an_events_file_with_a_broken_line_is_reported_not_fatal(run_dir):
    lines = (run_dir / "events.jsonl").read_text().splitlines(keepends=True)
    (run_dir / "events.jsonl").write_text("".join([*lines[:3], "{not json\n", *lines[3:]]))
    page = Page.of(render_run(run_dir))
    assert "events.jsonl is unreadable" in page.text and "line 4" in page.text
    assert series_points(page, "rps")[0] > 0


def test_only_a_journal_still_renders(run_dir):
    for name in ("events.jsonl", "requests.jsonl", "judgements.json"):
        (run_dir / name).unlink()
    page = Page.of(render_run(run_dir))
    assert page.find("h1", id="verdict")[0]["data-verdict"] == "PASS"
    assert "Nothing recorded over time" in page.text and "started 2026-11-28 11:56:41 UTC" in page.text


def test_a_directory_without_run_files_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="not a run directory"):
        render_run(tmp_path)


def _e(t: float, kind: str, **data) -> Event:
    return Event(t, kind, data)


def test_a_heal_without_an_entry_heals_every_open_injection_of_its_fault_and_flaps_stay_apart():
    events = [_e(1, "fault.inject", fault="flap", entry="a"), _e(1.1, "fault.inject", fault="flap", entry="b"),
              _e(1.2, "fault.inject", fault="other", entry="c"), _e(2, "fault.heal", fault="flap"),
              _e(3, "fault.inject", fault="flap", entry="d"), _e(4, "fault.heal", fault="flap", entry="d")]
    windows = fault_windows(events, 0.0, 10.0)
    assert [(w.fault, w.start_s, w.end_s, w.healed, w.injections) for w in windows] == [
        ("flap", 1, 2, True, 2), ("other", 1.2, 10.0, False, 1), ("flap", 3, 4, True, 1)]


def test_a_recovery_measured_from_the_heal_is_placed_after_the_last_heal_before_it():
    events = [_e(10, "fault.inject", fault="x", entry="a"), _e(15, "fault.heal", fault="x", entry="a"),
              _e(18, "recovery", fault="f", measured_s=2.0, verdict="pass"), _e(19, "fault.heal", fault="x")]
    [from_heal] = recoveries(events, 5.0, lambda fault: "heal")
    [from_inject] = recoveries(events, 5.0, lambda fault: "inject")
    assert (from_heal.anchor_s, from_heal.at_s) == (10.0, 12.0)
    assert (from_inject.anchor_s, from_inject.at_s) == (5.0, 7.0)


def test_a_recovery_event_that_records_its_anchor_is_placed_by_it_not_by_todays_objectives():
    events = [_e(10, "fault.inject", fault="x", entry="a"), _e(15, "fault.heal", fault="x", entry="a"),
              _e(18, "recovery", fault="f", measured_s=2.0, verdict="pass", measured_from="heal", from_t=15.0)]
    [mark] = recoveries(events, 5.0, lambda fault: "inject")
    assert (mark.measured_from, mark.anchor_s) == ("heal", 10.0)
