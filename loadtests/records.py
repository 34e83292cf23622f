"""Typed reading of requests.jsonl, the one-line-per-request journal that the locustfile writes."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kernel.record import Request, RequestKind, complete_lines, read_appended, request_from_dict

Kind = RequestKind
# Errors after which a create may or may not have been applied; only a 2xx answer acknowledges a write.
UNKNOWN_OUTCOME_ERRORS: frozenset[str] = frozenset({"timeout", "connection_reset", "cancelled", "other"})


@dataclass(frozen=True)
class RequestRecord(Request):
    """A journal line, with what the write-integrity checks ask of it."""

    @property
    def acknowledged_write(self) -> bool:
        return self.kind == "create" and self.ok

    @property
    def outcome_unknown(self) -> bool:
        """A create that may have been applied although it was not acknowledged (5xx, timeout, reset...)."""
        if self.kind != "create" or self.ok or self.error is None:
            return False
        return self.error in UNKNOWN_OUTCOME_ERRORS or self.status >= 500

    def to_json(self) -> str:
        return json.dumps(self.__dict__, separators=(",", ":"))


def record_from_dict(obj: object) -> RequestRecord:
    """Validate one decoded line with the core's reader; ValueError names the first bad field."""
    return RequestRecord(**dataclasses.asdict(request_from_dict(obj)))


def parse_line(line: str) -> RequestRecord | None:
    """The record on one line, or None for a blank or malformed line."""
    if not line.strip():
        return None
    try:
        return record_from_dict(json.loads(line))
    except ValueError:
        return None


def read_requests(path: Path) -> list[RequestRecord]:
    """Every complete record; a torn last line (no newline yet) and malformed lines are skipped."""
    return _parse_lines(complete_lines(Path(path).read_bytes())[0])


def tail_requests(path: Path, offset: int = 0) -> tuple[list[RequestRecord], int]:
    """Records completed since offset and the offset to pass next time (a missing file yields nothing)."""
    lines, offset = read_appended(path, offset)
    return _parse_lines(lines), offset


def _parse_lines(lines: list[str]) -> list[RequestRecord]:
    return [record for line in lines if (record := parse_line(line)) is not None]


@dataclass(frozen=True)
class LoadSummary:
    total: int
    ok: int
    errors: dict[str, int]
    span_s: float

    @property
    def rps(self) -> float:
        return self.total / self.span_s if self.span_s > 0 else 0.0


def summarize(records: list[RequestRecord]) -> LoadSummary:
    """Counts and the request rate between the first and the last request's start."""
    errors = Counter(record.error or "unknown" for record in records if not record.ok)
    span = max(r.t for r in records) - min(r.t for r in records) if len(records) > 1 else 0.0
    return LoadSummary(len(records), sum(r.ok for r in records), dict(errors), span)
