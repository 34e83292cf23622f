"""The recorded history of a run: requests.jsonl (one line per request) and events.jsonl (faults, system events).

"Record a history, then judge it": writers append whole JSON lines; readers parse each line once into typed,
frozen records. A torn last line (a writer caught mid-write) is skipped; any other malformed line is an error
that names the file and the line, because silently dropping records could change a verdict.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, cast

from kernel import redact
from kernel.errors import Chaos360Error, UsageError

RequestKind = Literal["create", "read", "list"]
REQUEST_KINDS: frozenset[str] = frozenset({"create", "read", "list"})

T = TypeVar("T")


class HistoryError(Chaos360Error):
    """A history file holds a line that is not a valid record (other than a torn last line)."""


@dataclass(frozen=True)
class Event:
    """One line of events.jsonl: its time stamp, its kind, and every other field in `data`."""

    t: float
    kind: str
    data: dict[str, Any] = field(default_factory=dict, hash=False)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


@dataclass(frozen=True)
class ReadySample:
    """Whether every part of the system under test was ready at time t (events of kind "ready")."""

    t: float
    all_ready: bool


@dataclass(frozen=True)
class Request:
    """One line of requests.jsonl; status 0 means no response, t is the request's start (epoch seconds)."""

    t: float
    name: str
    kind: RequestKind
    ok: bool
    status: int
    latency_ms: float
    error: str | None
    task_id: str | None
    agent_id: str | None


def _number(obj: dict[str, Any], key: str) -> float:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key}: expected a number, got {value!r}")
    return float(value)


def _typed(obj: dict[str, Any], key: str, kind: type[T]) -> T:
    value = obj.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{key}: expected {kind.__name__}, got {value!r}")
    return value


def _optional_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key}: expected a string or null, got {value!r}")
    return value


def event_from_dict(obj: object) -> Event:
    """Validate one decoded events.jsonl line; ValueError names the bad field."""
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    kind = _typed(obj, "kind", str)
    if not kind:
        raise ValueError("kind: must not be empty")
    return Event(t=_number(obj, "t"), kind=kind, data={k: v for k, v in obj.items() if k not in ("t", "kind")})


def request_from_dict(obj: object) -> Request:
    """Validate one decoded requests.jsonl line; ValueError names the bad field."""
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    kind = obj.get("kind")
    if kind not in REQUEST_KINDS:
        raise ValueError(f"kind: expected one of {sorted(REQUEST_KINDS)}, got {kind!r}")
    return Request(
        t=_number(obj, "t"),
        name=_typed(obj, "name", str),
        kind=cast(RequestKind, kind),
        ok=_typed(obj, "ok", bool),
        status=_typed(obj, "status", int),
        latency_ms=_number(obj, "latency_ms"),
        error=_optional_str(obj, "error"),
        task_id=_optional_str(obj, "task_id"),
        agent_id=_optional_str(obj, "agent_id"),
    )


def _read_jsonl(path: Path, parse: Callable[[object], T], missing_ok: bool) -> list[T]:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        if missing_ok:
            return []
        raise UsageError(f"history file {path} does not exist") from None
    lines = data.split(b"\n")
    records: list[T] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            records.append(parse(json.loads(raw.decode("utf-8"))))
        except (ValueError, UnicodeDecodeError) as error:
            if number == len(lines):
                continue  # no newline after it: a writer caught mid-line, the record is not there yet
            raise HistoryError(f"{path} line {number}: {error}") from None
    return records


def read_events(path: Path, missing_ok: bool = False) -> list[Event]:
    """Every event in events.jsonl, in file order."""
    return _read_jsonl(Path(path), event_from_dict, missing_ok)


def read_requests(path: Path, missing_ok: bool = False) -> list[Request]:
    """Every request in requests.jsonl, in file order."""
    return _read_jsonl(Path(path), request_from_dict, missing_ok)


def events_of_kind(events: Iterable[Event], kind: str) -> list[Event]:
    """The events of one kind, ordered by time."""
    return sorted((e for e in events if e.kind == kind), key=lambda e: e.t)


def ready_samples(events: Iterable[Event]) -> list[ReadySample]:
    """The "ready" events as samples ordered by time; a sample without a boolean all_ready is an error."""
    samples = []
    for event in events_of_kind(events, "ready"):
        value = event.get("all_ready")
        if not isinstance(value, bool):
            raise HistoryError(f"ready event at t={event.t}: all_ready must be true or false, got {value!r}")
        samples.append(ReadySample(event.t, value))
    return samples


_PATH_LOCKS: dict[Path, threading.Lock] = {}
_PATH_LOCKS_GUARD = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    """One lock per file, so that several EventLog objects on the same file in one process never interleave."""
    key = path.resolve()
    with _PATH_LOCKS_GUARD:
        return _PATH_LOCKS.setdefault(key, threading.Lock())


class EventLog:
    """Appends events to events.jsonl, one whole line per event, safe to share between threads.

    Each line goes out in one unbuffered append write, and appends to the same file are serialised by a lock
    shared by every EventLog of that file in this process, so readers only ever see a torn *last* line.
    """

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = _lock_for(self.path)

    def append(self, kind: str, **fields: Any) -> Event:
        """Write {"t": now, "kind": kind, **fields} as one line; returns the event written."""
        if not kind:
            raise ValueError("an event needs a kind")
        if "t" in fields:
            raise ValueError("the time stamp 't' is set by the log, not by the caller")
        with self._lock:
            t = self._clock()
            line = (redact.text(json.dumps({"t": t, "kind": kind, **fields}, separators=(",", ":"))) + "\n").encode()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "ab", buffering=0) as handle:
                written = 0
                while written < len(line):
                    written += handle.write(line[written:]) or 0
        return Event(t, kind, dict(fields))

    def read(self) -> list[Event]:
        return read_events(self.path, missing_ok=True)


def complete_lines(data: bytes) -> tuple[list[str], int]:
    """The newline-terminated lines of data (a torn last line is not there yet) and how many bytes they take."""
    end = data.rfind(b"\n") + 1
    return data[:end].decode(errors="replace").splitlines(), end


def read_appended(path: Path, offset: int) -> tuple[list[str], int]:
    """The whole lines written after offset, and the offset to pass next time (a missing file yields nothing)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], offset
    lines, consumed = complete_lines(data)
    return lines, offset + consumed


class JsonlTail(Generic[T]):
    """Reads the whole lines appended to a JSONL file since the last call; unparsable lines are skipped."""

    def __init__(self, path: Path, parse: Callable[[object], T]) -> None:
        self._path = path
        self._parse = parse
        self._offset = 0

    def read_new(self) -> list[T]:
        lines, self._offset = read_appended(self._path, self._offset)
        return [item for item in map(self._parse_line, lines) if item is not None]

    def _parse_line(self, line: str) -> T | None:
        try:
            return self._parse(json.loads(line))
        except ValueError:
            return None
