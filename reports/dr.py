"""A disaster-recovery drill as its report shows it: the phases and the backup moment (from events.jsonl), the
integrity table (integrity.json) and the RTO and RPO figures (from the judgements)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kernel.record import Event
from probes import dr
from probes.dr import ALL_PRESENT

INTEGRITY_FILE = "integrity.json"


@dataclass(frozen=True)
class Figure:
    """A drill's figure as the history keeps it: its key in a history line, its judgement's name and unit."""

    key: str
    name: str
    unit: str

    @property
    def slug(self) -> str:
        return self.key.removesuffix("_s").replace("_", "-")


RTO = Figure("rto_s", dr.RTO, "s")
RPO = Figure("rpo_s", dr.RPO, "s")
RPO_WRITES = Figure("rpo_writes", dr.RPO_WRITES, "count")
FIGURES = (RTO, RPO, RPO_WRITES)


@dataclass(frozen=True)
class Phase:
    """One timed step of the drill (event dr.phase, written at its end), in seconds since the run started."""

    name: str
    start_s: float
    end_s: float

    @property
    def seconds(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class IntegrityRow:
    """One window of acknowledged writes and what the restored data holds of them."""

    window: str
    acknowledged: int | None
    present: int | None
    lost: int | None
    changed: int | None
    expected: str

    def flagged(self, count: int | None) -> bool:
        """A loss or change in a window whose writes must all be present."""
        return self.expected == ALL_PRESENT and bool(count)


@dataclass(frozen=True)
class Backup:
    """A backup taken (event dr.backup): every write acknowledged before at_s, its moment, is in it."""

    at_s: float
    backup_id: str


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _count(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def phases(events: Iterable[Event], t0: float) -> list[Phase]:
    """The dr.phase events in time order; a phase without `started` began `seconds` before its event."""
    found = []
    for event in sorted((e for e in events if e.kind == "dr.phase"), key=lambda e: e.t):
        started, seconds = _number(event.get("started")), _number(event.get("seconds")) or 0.0
        start = started if started is not None else event.t - seconds
        found.append(Phase(str(event.get("phase") or "?"), start - t0, event.t - t0))
    return found


def backups(events: Iterable[Event], t0: float) -> list[Backup]:
    """The dr.backup events, each placed at its moment (at its event when it names none)."""
    found = []
    for event in sorted((e for e in events if e.kind == "dr.backup"), key=lambda e: e.t):
        moment = _number(event.get("moment"))
        found.append(Backup((moment if moment is not None else event.t) - t0, str(event.get("backup_id") or "?")))
    return found


def integrity_rows(data: dict[str, Any]) -> tuple[IntegrityRow, ...]:
    """The rows of integrity.json; ValueError when it holds no list of rows."""
    rows = data.get("rows")
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError("its rows are not a list of objects")
    return tuple(IntegrityRow(str(r.get("window", "?")), _count(r.get("acknowledged")), _count(r.get("present")),
                              _count(r.get("lost")), _count(r.get("changed")), str(r.get("expected", "")))
                 for r in rows)


def measured(judgements: Sequence[dict[str, Any]], name: str) -> float | None:
    """The measurement of the first judgement of that name (None: no such judgement, or nothing measured)."""
    return next((_number(j.get("measured")) for j in judgements if j.get("name") == name), None)


def figures(judgements: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """Each drill figure by its history key; all None for a run that is not a drill."""
    return {figure.key: measured(judgements, figure.name) for figure in FIGURES}
