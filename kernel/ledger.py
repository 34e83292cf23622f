"""The fault ledger: each fault's undo is persisted before the fault is injected, so healing always happens."""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from kernel.errors import UsageError
from kernel.interrupts import shielded
from kernel.inventory import state_dir


class Undo(BaseModel):
    """How to undo one fault: an operation of the target and its arguments, as plain data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    op: str
    args: dict[str, str | int | float | bool]


class Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    fault: str
    undo: Undo
    recorded_at: float
    run: str | None = None
    affects: tuple[str, ...] = ()


T = TypeVar("T")


class LedgerStore(Protocol):
    """Where the entries are kept; `update` reads them, applies `change` to the list and keeps the result, as one
    step no other writer interleaves with."""

    where: str

    def update(self, change: Callable[[list[Entry]], T]) -> T: ...


class FileLedgerStore:
    """A JSON file beside the inventory, locked while it changes."""

    def __init__(self, path: Path) -> None:
        self.path, self.where = path, str(path)

    def update(self, change: Callable[[list[Entry]], T]) -> T:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entries = self._read()
            result = change(entries)
            self._write(entries)
            return result

    def _read(self) -> list[Entry]:
        if not self.path.exists():
            return []
        try:
            return parse_entries(self.path.read_text() or "[]")
        except (ValueError, ValidationError):
            raise UsageError(f"fault ledger {self.path} is corrupt; inspect it, then remove it by hand") from None

    def _write(self, entries: list[Entry]) -> None:
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w") as handle:
            handle.write(dump_entries(entries))
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self.path)


def parse_entries(text: str) -> list[Entry]:
    """Raises ValueError or ValidationError on anything but a JSON list of entries."""
    raw = json.loads(text)
    if not isinstance(raw, list):
        raise ValueError("not a list")
    return [Entry.model_validate(item) for item in raw]


def dump_entries(entries: list[Entry]) -> str:
    return json.dumps([e.model_dump() for e in entries], indent=1)


class Ledger:
    """Unhealed faults, appended before each is injected; healing removes entries as they are undone. Kept in a file
    by default, or in any other store (the Kubernetes target keeps it in the cluster)."""

    def __init__(self, lab_id: str, directory: Path | None = None, store: LedgerStore | None = None) -> None:
        self.store = store or FileLedgerStore((directory or state_dir()) / f"ledger-{lab_id}.json")

    def record(self, fault: str, undo: Undo, run: str | None = None, affects: Iterable[str] = ()) -> Entry:
        """`affects`: the instances the fault rightly takes out of service until healed (the action says which)."""
        entry = Entry(id=uuid.uuid4().hex[:12], fault=fault, undo=undo, recorded_at=time.time(), run=run,
                      affects=tuple(affects))
        self.store.update(lambda entries: entries.append(entry))
        return entry

    def entries(self) -> list[Entry]:
        return self.store.update(list)

    def discard(self, entry_id: str) -> None:
        def without(entries: list[Entry]) -> None:
            entries[:] = [e for e in entries if e.id != entry_id]

        self.store.update(without)

    def heal(self, apply: Callable[[Undo], None]) -> HealReport:
        """Undo every fault, newest first; an entry leaves the ledger only once its undo succeeded.

        Shielded: a Ctrl-C or SIGTERM meanwhile waits until every undo has been tried.
        """
        with shielded():
            return self._heal(apply)

    def _heal(self, apply: Callable[[Undo], None]) -> HealReport:
        report = HealReport()
        for entry in reversed(self.entries()):
            try:
                apply(entry.undo)
            except Exception as error:
                report.failed.append((entry, f"{error.__class__.__name__}: {error}"))
                continue
            self.discard(entry.id)
            report.healed.append(entry)
        return report


@dataclass
class HealReport:
    healed: list[Entry] = field(default_factory=list)
    failed: list[tuple[Entry, str]] = field(default_factory=list)

    def summary(self) -> str:
        if not self.healed and not self.failed:
            return "nothing to heal"
        parts = [f"healed {len(self.healed)}: " + ", ".join(e.fault for e in self.healed)] if self.healed else []
        parts += [f"FAILED to heal {entry.fault}: {reason}" for entry, reason in self.failed]
        return "; ".join(parts)
