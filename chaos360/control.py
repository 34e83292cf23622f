"""Chaos Toolkit control: opens the run (directory, recorders), and always closes it (load off, faults healed).

The run rides in the configuration chaoslib hands the controls and, as a shallow copy, every activity.

Declared in every experiment file, so plain `chaos run` gets the same safety as `chaos360 run`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from chaos360.binding import lab_binding
from chaos360.recorders import start_recorders
from kernel import redact
from kernel import run as runs
from kernel.recorder import stop_all
from loadtests.controller import discard_prepared, prepare
from probes.stop_conditions import allows_majority, conditions_for


def before_experiment_control(context: dict[str, Any], configuration: dict[str, Any] | None = None,
                              **_: Any) -> None:
    redact.register_run(context)
    configuration = configuration if configuration is not None else {}
    lab_id, run_dir = configuration.get("lab_id"), configuration.get(runs.RUN_DIR_KEY)
    lab_id = str(lab_id) if lab_id else os.environ.get(runs.LAB_ID_ENV, "chaos360")
    binding = lab_binding(lab_id)
    run = runs.start_run(str(context.get("title", "experiment")), lab_id=lab_id,
                         run_dir=Path(run_dir) if run_dir else None, **binding.run_arguments())
    runs.attach(configuration, run)
    run.stop_conditions = conditions_for(context)
    run.allow_majority = allows_majority(context)
    run.events.append("run.start", experiment=context.get("title"), lab_id=run.lab_id, target=binding.name,
                      stop_conditions=run.stop_conditions.model_dump(exclude={"why"}))
    run.recorders.extend(start_recorders(run.inventory, run.events, run.ledger))
    if _starts_load(context):
        prepare(run.run_dir, marker=run.run_dir.name)


def _starts_load(experiment: dict[str, Any]) -> bool:
    return any((a.get("provider") or {}).get("func") == "start_load" for a in experiment.get("method") or []
               if isinstance(a, dict))


def after_experiment_control(context: dict[str, Any], state: dict[str, Any] | None = None,
                             configuration: dict[str, Any] | None = None, **_: Any) -> None:
    run = runs.current_run(configuration)
    try:
        close_run(run)
    finally:
        (run.run_dir / "journal.json").write_text(redact.text(json.dumps(state or {}, indent=1, default=str)))
        runs.detach(configuration)


def close_run(run: runs.Run) -> str:
    """Stop load and recorders and heal every fault; returns what was healed. Safe to call twice."""
    from actions.load import stop_load_of

    stop_load_of(run)
    discard_prepared(run.run_dir.name)
    report = run.heal()
    stop_all(run.recorders)
    run.recorders.clear()
    run.events.append("run.end", healed=[e.fault for e in report.healed],
                      heal_failed=[f"{e.fault}: {why}" for e, why in report.failed])
    return report.summary()
