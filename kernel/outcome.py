"""What one run came to, worked out once from its journal and events and kept beside them as outcome.json."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kernel.record import read_events
from kernel.verdict import Verdict

OUTCOME_FILE = "outcome.json"
REFUSAL = "kernel.errors.UsageError: "


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
    def refused(self) -> bool:
        """An activity refused what it was asked (a usage error: a backup that does not verify, an unknown zone)."""
        return self.verdict is Verdict.UNKNOWN and any(REFUSAL in reason for reason in self.reasons)

    @property
    def summary(self) -> str:
        return f"{self.experiment}: {self.verdict.value.upper()} ({self.wall_s:.0f}s) " + "; ".join(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {**data, "verdict": self.verdict.value, "run_dir": str(self.run_dir), "reasons": list(self.reasons),
                "judgements": list(self.judgements)}


def write_outcome(outcome: Outcome) -> Path:
    path = outcome.run_dir / OUTCOME_FILE
    path.write_text(json.dumps(outcome.to_dict(), indent=1, default=str))
    return path


def read_outcome(run_dir: Path) -> Outcome | None:
    """The run's outcome.json; None when it is missing or unreadable (an older or unfinished run)."""
    try:
        data = json.loads((run_dir / OUTCOME_FILE).read_text())
        return Outcome(str(data["experiment"]), Verdict(data["verdict"]), tuple(map(str, data["reasons"])), run_dir,
                       float(data["wall_s"]), str(data["status"]),
                       tuple(j for j in data.get("judgements", []) if isinstance(j, dict)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def outcome_of(experiment: str, run_dir: Path, wall: float, journal: dict[str, Any]) -> Outcome:
    """The run's verdict: a tripped stop condition first, else the journal's judgements and steady states."""
    status = str(journal.get("status"))
    aborted = abort_reason(run_dir)
    if aborted is not None:
        return Outcome(experiment, Verdict.ABORTED, (aborted,), run_dir, wall, status)
    verdict, reasons, judgements = verdict_of(journal)
    return Outcome(experiment, verdict, tuple(reasons), run_dir, wall, status, tuple(judgements))


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
    """PASS only when the steady state held before and after, every activity ran and no judgement failed or is
    unknown: a fault that could not be injected leaves nothing to judge, which is not a pass."""
    judgements = _judgements(journal)
    failed = [j["message"] for j in judgements if j.get("verdict") == Verdict.FAIL.value]
    unknown = [j["message"] for j in judgements if j.get("verdict") == Verdict.UNKNOWN.value]
    status = str(journal.get("status"))
    if failed or _failed_probes(journal):
        return Verdict.FAIL, failed + _failed_probes(journal), judgements
    if status != "completed":
        return Verdict.UNKNOWN, [f"run {status}", *_activity_errors(journal)], judgements
    if _activity_errors(journal):
        return Verdict.UNKNOWN, ["an activity failed", *_activity_errors(journal)], judgements
    if unknown:
        return Verdict.UNKNOWN, unknown, judgements
    if journal.get("deviated"):
        return Verdict.FAIL, ["steady state deviated"], judgements
    return Verdict.PASS, [j["message"] for j in judgements], judgements


def abort_reason(run_dir: Path) -> str | None:
    for event in read_events(run_dir / "events.jsonl", missing_ok=True):
        if event.kind == "run.aborted":
            return (f"aborted: {event.get('condition')} (measured {event.get('measured'):.3g}, limit "
                    f"{event.get('limit'):.3g}): {event.get('detail')}")
    return None
