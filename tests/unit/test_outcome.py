"""outcome.json: the verdict worked out once by the runner, and what the report reads back."""

import json
import shutil
from pathlib import Path

from kernel.outcome import OUTCOME_FILE, Outcome, outcome_of, read_outcome, write_outcome
from kernel.verdict import Verdict
from reports.model import load_run
from tests.unit.reports_page import FIXTURE_RUN

JUDGEMENT = {"name": "recovery", "verdict": "fail", "message": "recovery 40 s > limit 15 s (zone-partition)"}


def _outcome(run_dir: Path, verdict: Verdict = Verdict.FAIL) -> Outcome:
    return Outcome("zone-partition", verdict, (JUDGEMENT["message"],), run_dir, 61.5, "completed", (JUDGEMENT,))


def test_an_outcome_written_reads_back_equal(tmp_path: Path) -> None:
    outcome = _outcome(tmp_path)
    write_outcome(outcome)
    assert read_outcome(tmp_path) == outcome
    assert json.loads((tmp_path / OUTCOME_FILE).read_text())["verdict"] == "fail"


def test_a_missing_or_broken_outcome_is_none(tmp_path: Path) -> None:
    assert read_outcome(tmp_path) is None
    (tmp_path / OUTCOME_FILE).write_text('{"verdict": "maybe"')
    assert read_outcome(tmp_path) is None
    (tmp_path / OUTCOME_FILE).write_text('{"verdict": "pass"}')
    assert read_outcome(tmp_path) is None


def test_a_tripped_stop_condition_outranks_the_journal(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text(json.dumps(
        {"t": 1.0, "kind": "run.aborted", "condition": "error rate", "measured": 0.6, "limit": 0.5,
         "detail": "30 of 50 failed"}) + "\n")
    outcome = outcome_of("x", tmp_path, 3.0, {"status": "interrupted"})
    assert outcome.verdict is Verdict.ABORTED
    assert outcome.reasons == ("aborted: error rate (measured 0.6, limit 0.5): 30 of 50 failed",)


def test_the_report_shows_the_runners_verdict_not_its_own(tmp_path: Path) -> None:
    run_dir = Path(shutil.copytree(FIXTURE_RUN, tmp_path / "run"))
    recomputed = load_run(run_dir)
    opposite = Verdict.FAIL if recomputed.verdict is Verdict.PASS else Verdict.PASS
    write_outcome(_outcome(run_dir, opposite))
    report = load_run(run_dir)
    assert report.verdict is opposite and report.reasons == (JUDGEMENT["message"],)


def _journal_with_a_failed_action(error: str) -> dict:
    failed = {"status": "failed", "activity": {"name": "lose-every-data-set"},
              "exception": [f"chaoslib.exceptions.ActivityFailed: {error}\n"]}
    return {"status": "completed", "deviated": False, "run": [failed], "steady_states": {}}


def test_a_completed_run_whose_action_failed_is_not_a_pass(tmp_path: Path) -> None:
    outcome = outcome_of("x", tmp_path, 3.0, _journal_with_a_failed_action("kernel.errors.LabError: iptables failed"))
    assert outcome.verdict is Verdict.UNKNOWN
    assert "lose-every-data-set: chaoslib.exceptions.ActivityFailed: kernel.errors.LabError: iptables failed" \
        in outcome.reasons
    assert not outcome.refused


def test_an_action_that_refused_its_request_makes_the_run_a_usage_error(tmp_path: Path) -> None:
    from chaos360.cli import _worst_exit
    from kernel.errors import ExitCode

    error = "kernel.errors.UsageError: backup b1 does not verify: cassandra/x-Data.db: missing"
    refused = outcome_of("x", tmp_path, 3.0, _journal_with_a_failed_action(error))
    assert refused.refused and refused.verdict is Verdict.UNKNOWN
    failed_run = _outcome(tmp_path)
    assert _worst_exit([refused]) == ExitCode.USAGE_ERROR
    assert _worst_exit([failed_run]) == ExitCode.FAILED
    assert _worst_exit([failed_run, refused]) == ExitCode.USAGE_ERROR
