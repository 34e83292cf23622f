"""Run one experiment file through chaoslib (main thread, rollbacks always) and turn its journal into a verdict."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chaos360 import live
from chaos360.binding import exclusive
from chaos360.healing import refuse_unhealed
from kernel import interrupts, redact
from kernel import run as runs
from kernel.outcome import Outcome, outcome_of, write_outcome
from kernel.verdict import Verdict

ROLLBACKS_ALWAYS = {"runtime": {"rollbacks": {"strategy": "always"}}}


def load(path: Path, lab_id: str | None = None) -> dict[str, Any]:
    """The experiment in `path`, refused in one line unless it is valid; given a lab id, also against that lab."""
    from chaos360.validation import check_file

    return check_file(path, lab_id)


def run_file(path: Path, lab_id: str) -> Outcome:
    """Run one experiment under the lab's run lock; a signal heals the run, then raises Interrupted."""
    from chaoslib.experiment import run_experiment

    experiment = load(path, lab_id)
    redact.register_run(experiment)
    configuration = experiment.setdefault("configuration", {})
    configuration["lab_id"] = lab_id
    interrupts.install()
    with exclusive(lab_id):
        refuse_unhealed(lab_id)
        run_dir = runs.new_run_dir(path.stem)
        configuration[runs.RUN_DIR_KEY] = str(run_dir)
        logging.getLogger("chaostoolkit").setLevel(logging.ERROR)
        started = time.monotonic()
        with _our_signal_handlers(), live.view(run_dir, path.stem):
            journal = run_experiment(experiment, settings=ROLLBACKS_ALWAYS)
    wall = time.monotonic() - started
    (run_dir / "journal.json").write_text(redact.text(json.dumps(journal, indent=1, default=str)))
    outcome = outcome_of(path.stem, run_dir, wall, journal)
    write_outcome(outcome)
    _record(outcome)
    if outcome.status == "interrupted" and outcome.verdict is not Verdict.ABORTED:
        raise interrupts.Interrupted(interrupts.received() or "interrupt", run_dir=run_dir)
    return outcome


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

    chaoslib has no setting for this: Runner.run wraps every run in `exit_signals()` (chaostoolkit-lib 1.44,
    chaoslib/run.py:413), looked up in chaoslib.run's namespace (imported at run.py:36). For the run, that name
    stands for a context manager that installs nothing. test_runner_signals fails if chaoslib stops using it.
    """
    import chaoslib.run

    installed = chaoslib.run.exit_signals
    chaoslib.run.exit_signals = contextlib.nullcontext
    try:
        yield
    finally:
        chaoslib.run.exit_signals = installed
