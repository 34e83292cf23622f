"""Run one experiment file through chaoslib (main thread, rollbacks always) and turn its journal into a verdict."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from chaos360 import interrupts, live, redact
from chaos360 import run as runs
from chaos360.healing import refuse_unhealed
from chaos360.history import read_events
from chaos360.runlock import run_lock
from chaos360.verdict import Verdict

ROLLBACKS_ALWAYS = {"runtime": {"rollbacks": {"strategy": "always"}}}


@dataclass(frozen=True)
class Outcome:
    """What one experiment run came to: a verdict, the reasons, and where its record lies."""

    experiment: str
    verdict: Verdict
    reasons: tuple[str, ...]
    run_dir: Path
    wall_s: float
    status: str
    judgements: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def harness_error(self) -> bool:
        """The run did not complete for a reason of its own (an action failed), not an objective."""
        return self.verdict is Verdict.UNKNOWN and self.status != "completed"

    @property
    def summary(self) -> str:
        return f"{self.experiment}: {self.verdict.value.upper()} ({self.wall_s:.0f}s) " + "; ".join(self.reasons)


def load(path: Path, lab_id: str | None = None) -> dict[str, Any]:
    """The experiment in `path`, refused in one line unless it is valid; given a lab id, also against that lab."""
    from chaos360.validation import check_file

    return check_file(path, lab_id)


def _probe_outputs(journal: dict[str, Any], phase: str) -> list[dict[str, Any]]:
    state = (journal.get("steady_states") or {}).get(phase) or {}
    return [p for p in state.get("probes", []) if isinstance(p, dict)]


def _judgements(journal: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = _probe_outputs(journal, "after")
    for probe in after if after else list(journal.get("run") or []):
        output = probe.get("output")
        if isinstance(output, dict):
            found.extend(j for j in output.get("judgements", []) if isinstance(j, dict))
            if "verdict" in output and "name" in output:
                found.append(output)
    return found


def _failed_probes(journal: dict[str, Any]) -> list[str]:
    reasons = []
    for phase in ("before", "after"):
        for probe in _probe_outputs(journal, phase):
            output = probe.get("output")
            undecided = isinstance(output, dict) and output.get("verdict") == Verdict.UNKNOWN.value
            if not probe.get("tolerance_met", True) and not undecided:
                name = probe.get("activity", {}).get("name", "?")
                reasons.append(f"steady state {phase}: {name} not met ({json.dumps(probe.get('output'))[:200]})")
    return reasons


def _activity_errors(journal: dict[str, Any]) -> list[str]:
    errors = []
    for activity in journal.get("run") or []:
        text = "".join(activity.get("exception") or []) if activity.get("status") == "failed" else ""
        if text.strip():
            errors.append(f"{activity.get('activity', {}).get('name', '?')}: {text.strip().splitlines()[-1]}")
    return errors


def verdict_of(journal: dict[str, Any]) -> tuple[Verdict, list[str], list[dict[str, Any]]]:
    """PASS only when the steady state held before and after and no judgement failed or is unknown."""
    judgements = _judgements(journal)
    failed = [j["message"] for j in judgements if j.get("verdict") == Verdict.FAIL.value]
    unknown = [j["message"] for j in judgements if j.get("verdict") == Verdict.UNKNOWN.value]
    status = str(journal.get("status"))
    if failed or _failed_probes(journal):
        return Verdict.FAIL, failed + _failed_probes(journal), judgements
    if status != "completed":
        return Verdict.UNKNOWN, [f"run {status}", *_activity_errors(journal)], judgements
    if unknown:
        return Verdict.UNKNOWN, unknown, judgements
    if journal.get("deviated"):
        return Verdict.FAIL, ["steady state deviated"], judgements
    return Verdict.PASS, [j["message"] for j in judgements], judgements


def run_file(path: Path, lab_id: str) -> Outcome:
    """Run one experiment under the lab's run lock; a signal heals the run, then raises Interrupted."""
    from chaoslib.experiment import run_experiment

    experiment = load(path, lab_id)
    redact.register_run(experiment)
    experiment.setdefault("configuration", {})["lab_id"] = lab_id
    interrupts.install()
    with run_lock(lab_id):
        refuse_unhealed(lab_id)
        run_dir = runs.new_run_dir(path.stem)
        os.environ[runs.RUN_DIR_ENV] = str(run_dir)
        logging.getLogger("chaostoolkit").setLevel(logging.ERROR)
        started = time.monotonic()
        try:
            with _our_signal_handlers(), live.view(run_dir, path.stem):
                journal = run_experiment(experiment, settings=ROLLBACKS_ALWAYS)
        finally:
            os.environ.pop(runs.RUN_DIR_ENV, None)
    wall = time.monotonic() - started
    (run_dir / "journal.json").write_text(redact.text(json.dumps(journal, indent=1, default=str)))
    outcome = _outcome(path.stem, run_dir, wall, journal)
    _record(outcome)
    if outcome.status == "interrupted" and outcome.verdict is not Verdict.ABORTED:
        raise interrupts.Interrupted(interrupts.received() or "interrupt", run_dir=run_dir)
    return outcome


def _outcome(experiment: str, run_dir: Path, wall: float, journal: dict[str, Any]) -> Outcome:
    status = str(journal.get("status"))
    aborted = _abort_reason(run_dir)
    if aborted is not None:
        return Outcome(experiment, Verdict.ABORTED, (aborted,), run_dir, wall, status)
    verdict, reasons, judgements = verdict_of(journal)
    return Outcome(experiment, verdict, tuple(reasons), run_dir, wall, status, tuple(judgements))


def _record(outcome: Outcome) -> None:
    """The run's report.html and its line in the drill history; a failure here never changes the verdict."""
    from reports import history
    from reports.gate_report import row_from_outcome
    from reports.run_report import render_run

    try:
        render_run(outcome.run_dir)
        history.append(history.default_history_file(), row_from_outcome(outcome))
    except Exception as error:  # a report bug must not hide the run's verdict
        logging.getLogger(__name__).warning("report of %s not written: %s", outcome.run_dir, error)


@contextlib.contextmanager
def _our_signal_handlers() -> Iterator[None]:
    """Keep chaos360's SIGTERM handler during the run instead of chaoslib's.

    chaoslib turns SIGTERM into an InterruptExecution raised wherever the main thread is; inside an activity that
    counts as the activity failing, and the run goes on. Ours raises a KeyboardInterrupt, which chaoslib handles
    as Ctrl-C: the run stops there and the rollbacks heal.
    """
    with mock.patch("chaoslib.run.exit_signals", contextlib.nullcontext):
        yield


def _abort_reason(run_dir: Path) -> str | None:
    for event in read_events(run_dir / "events.jsonl", missing_ok=True):
        if event.kind == "run.aborted":
            return (f"aborted: {event.get('condition')} (measured {event.get('measured'):.3g}, limit "
                    f"{event.get('limit'):.3g}): {event.get('detail')}")
    return None
