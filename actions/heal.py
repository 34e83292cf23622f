"""Rollbacks: heal every fault in the ledger, newest first."""

from __future__ import annotations

from typing import Any

from chaos360.errors import LabError
from chaos360.run import current_run


def heal_all(configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    run = current_run(configuration)
    report = run.ledger.heal(run.target.apply)
    for entry in report.healed:
        run.events.append("fault.heal", fault=entry.fault, entry=entry.id)
    if report.failed:
        raise LabError(report.summary())
    return {"healed": [e.fault for e in report.healed]}
