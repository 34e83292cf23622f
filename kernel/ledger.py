"""The fault ledger: each fault's undo is persisted before the fault is injected, so healing always happens."""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

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


class Ledger:
    """An append-only JSON file of unhealed faults; healing removes entries as they are undone."""

    def __init__(self, lab_id: str, directory: Path | None = None) -> None:
        self.path = (directory or state_dir()) / f"ledger-{lab_id}.json"

    @contextmanager
    def _locked(self) -> Iterator[list[Entry]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entries = self._read()
            yield entries
            self._write(entries)

    def _read(self) -> list[Entry]:
        if not self.path.exists():
            return []
        try:
            raw = json.loads(self.path.read_text() or "[]")
            return [Entry.model_validate(item) for item in raw]
        except (ValueError, ValidationError):
            raise UsageError(f"fault ledger {self.path} is corrupt; inspect it, then remove it by hand") from None

    def _write(self, entries: list[Entry]) -> None:
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w") as handle:
            handle.write(json.dumps([e.model_dump() for e in entries], indent=1))
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self.path)

    def record(self, fault: str, undo: Undo, run: str | None = None, affects: Iterable[str] = ()) -> Entry:
        """`affects`: the instances the fault rightly takes out of service until healed (the action says which)."""
        entry = Entry(id=uuid.uuid4().hex[:12], fault=fault, undo=undo, recorded_at=time.time(), run=run,
                      affects=tuple(affects))
        with self._locked() as entries:
            entries.append(entry)
        return entry

    def entries(self) -> list[Entry]:
        with self._locked() as entries:
            return list(entries)

    def discard(self, entry_id: str) -> None:
        with self._locked() as entries:
            entries[:] = [e for e in entries if e.id != entry_id]

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
