"""One run directory read into what its report shows; a missing or unreadable file is noted, never fatal."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from kernel.errors import UsageError
from kernel.outcome import read_outcome, verdict_of
from kernel.record import Event, HistoryError, Request, read_events, read_requests
from kernel.verdict import Verdict
from probes import sentinel_events, traffic
from reports import dr, timeline
from reports.dr import IntegrityRow
from reports.timeline import Timeline

RUN_FILES = ("events.jsonl", "requests.jsonl", "journal.json")
WORST_WINDOW_S = 10.0
T = TypeVar("T")


@dataclass(frozen=True)
class Abort:
    """A stop condition ended the run early (event run.aborted)."""

    condition: str
    measured: Any
    limit: Any
    detail: str
    at_s: float

    @property
    def text(self) -> str:
        """As the runner words it: "error rate (measured 0.62, limit 0.5): 31 of 50 requests failed"."""
        text = f"{self.condition} (measured {_short(self.measured)}, limit {_short(self.limit)})"
        return f"{text}: {self.detail}" if self.detail else text


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, int | float) else timeline.describe(value)


@dataclass(frozen=True)
class RunReport:
    run_dir: Path
    experiment: str
    started_at: float | None
    wall_s: float | None
    verdict: Verdict
    aborted: Abort | None
    reasons: tuple[str, ...]
    judgements: tuple[dict[str, Any], ...]
    timeline: Timeline
    requests: int
    failed: int
    worst_error_rate: float | None
    failover_s: float | None
    missing: tuple[str, ...]
    integrity: tuple[IntegrityRow, ...] | None = None

    @property
    def label(self) -> str:
        return self.verdict.value.upper()

    @property
    def recovery_s(self) -> float | None:
        """The recovery judgement's measurement (None when not recovered); without one, the recovery event's."""
        judged = [j.get("measured") for j in self.judgements if j.get("name") == "recovery"]
        if judged:
            return max((float(m) for m in judged if isinstance(m, int | float)), default=None)
        measured = [m.measured_s for m in self.timeline.recoveries if m.measured_s is not None]
        return measured[-1] if measured else None


def is_run_dir(path: Path) -> bool:
    return path.is_dir() and any((path / name).is_file() for name in RUN_FILES)


def _read(reader: Callable[[Path], list[T]], path: Path, missing: list[str], consequence: str) -> list[T]:
    if not path.is_file():
        missing.append(f"{path.name} is missing: {consequence}")
        return []
    try:
        return reader(path)
    except HistoryError as error:
        missing.append(f"{path.name} is unreadable ({error}): {consequence}")
        return []


def _json_file(path: Path, missing: list[str], consequence: str) -> dict[str, Any] | None:
    if not path.is_file():
        missing.append(f"{path.name} is missing: {consequence}")
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        missing.append(f"{path.name} is unreadable ({error}): {consequence}")
        return None
    if not isinstance(data, dict):
        missing.append(f"{path.name} is not a JSON object: {consequence}")
        return None
    return data


def _verdict(run_dir: Path, journal: dict[str, Any] | None) -> tuple[Verdict, list[str], list[dict[str, Any]]]:
    """As the runner decided it (outcome.json); worked out from the journal only for a run older than that file."""
    outcome = read_outcome(run_dir)
    if outcome is not None:
        return outcome.verdict, list(outcome.reasons), list(outcome.judgements)
    if journal is not None:
        return verdict_of(journal)
    saved = _json_file(run_dir / "judgements.json", [], "") or {}
    judgements = [j for j in saved.get("judgements", []) if isinstance(j, dict)]
    return Verdict.UNKNOWN, ["no journal.json: the run did not finish"], judgements


def _abort(events: Sequence[Event], t0: float) -> Abort | None:
    """The first run.aborted event (what the runner reports); `value` is the older name of `measured`."""
    event = next((e for e in events if e.kind == "run.aborted"), None)
    if event is None:
        return None
    detail = event.get("detail")
    return Abort(str(event.get("condition", "stop condition")), event.get("measured", event.get("value")),
                 event.get("limit"), str(detail) if detail else "", event.t - t0)


def _experiment(run_dir: Path, events: Sequence[Event], journal: dict[str, Any] | None) -> str:
    named = [str(e.get("experiment")) for e in events if e.kind == "run.start" and e.get("experiment")]
    title = ((journal or {}).get("experiment") or {}).get("title")
    return named[0] if named else str(title) if title else re.sub(r"^\d{8}T\d{6}Z-", "", run_dir.name)


def _journal_start(journal: dict[str, Any] | None) -> float | None:
    try:
        return datetime.fromisoformat(str((journal or {})["start"])).timestamp()
    except (KeyError, ValueError):
        return None


def _wall_s(events: Sequence[Event], journal: dict[str, Any] | None, span: Timeline) -> float | None:
    duration = (journal or {}).get("duration")
    if isinstance(duration, int | float):
        return float(duration)
    starts, ends = [e.t for e in events if e.kind == "run.start"], [e.t for e in events if e.kind == "run.end"]
    if starts and ends:
        return max(ends) - min(starts)
    return span.end_s if events else None


def _integrity(run_dir: Path, missing: list[str]) -> tuple[IntegrityRow, ...] | None:
    """A drill's integrity.json; None for a run without one."""
    path, consequence = run_dir / dr.INTEGRITY_FILE, "no integrity table"
    if not path.is_file():
        return None
    data = _json_file(path, missing, consequence)
    try:
        return None if data is None else dr.integrity_rows(data)
    except ValueError as error:
        missing.append(f"{path.name} is unreadable ({error}): {consequence}")
        return None


def worst_error_rate(events: Sequence[Event], requests: Sequence[Request]) -> float | None:
    """The worst 10 s error rate from the first injection on (the whole run without a fault)."""
    injects = [e.t for e in events if e.kind == "fault.inject"]
    return traffic.worst_window_error_rate(requests, WORST_WINDOW_S, start=min(injects) if injects else None)


def load_run(run_dir: Path) -> RunReport:
    """Everything the report shows; UsageError when the directory holds none of the run's files."""
    if not is_run_dir(run_dir):
        raise UsageError(f"{run_dir}: not a run directory (none of {', '.join(RUN_FILES)} in it)")
    missing: list[str] = []
    events = _read(read_events, run_dir / "events.jsonl", missing, "no faults, recovery or system events to show")
    requests = _read(read_requests, run_dir / "requests.jsonl", missing, "no traffic recorded, the charts are empty")
    journal = _json_file(run_dir / "journal.json", missing, "the run did not finish, so its verdict is unknown")
    integrity = _integrity(run_dir, missing)
    verdict, reasons, judgements = _verdict(run_dir, journal)
    aborted_already = verdict is Verdict.ABORTED
    t0 = timeline.origin(events, requests)
    span = timeline.build(events, requests, t0 if t0 is not None else 0.0)
    aborted = _abort(events, t0 or 0.0)
    counted = [r for r in requests if r.error not in traffic.HARNESS_ARTIFACT_ERRORS]
    return RunReport(
        run_dir=run_dir, experiment=_experiment(run_dir, events, journal),
        started_at=t0 if t0 is not None else _journal_start(journal), wall_s=_wall_s(events, journal, span),
        verdict=Verdict.ABORTED if aborted else verdict, aborted=aborted,
        reasons=tuple(([f"aborted: {aborted.text}"] if aborted and not aborted_already else []) + reasons),
        judgements=tuple(judgements), timeline=span, requests=len(counted), failed=sum(not r.ok for r in counted),
        worst_error_rate=worst_error_rate(events, requests), failover_s=sentinel_events.failover_time(events),
        integrity=integrity, missing=tuple(missing),
    )
