"""Where backups live. The drill only uses the BackupStore interface, so an S3-compatible store can stand beside
the directory store without touching it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO, Protocol

from kernel.backup_manifest import MANIFEST
from kernel.errors import UsageError
from kernel.inventory import state_dir

STORE_ENV = "CHAOS360_BACKUP_DIR"


class BackupStore(Protocol):
    def backup_ids(self) -> list[str]:
        """Every backup present, complete or not, oldest first."""

    def put(self, backup_id: str, path: str, source: Path) -> None:
        """Store a local file under `path` (moved when the store can, else copied)."""

    def put_manifest(self, backup_id: str, text: str) -> None:
        """Written last: a backup without it is incomplete."""

    def manifest_text(self, backup_id: str) -> str | None: ...

    def sizes(self, backup_id: str) -> dict[str, int]:
        """Every file of the backup but the manifest, with its size."""

    def open(self, backup_id: str, path: str) -> BinaryIO: ...

    def fetch(self, backup_id: str, path: str, dest: Path) -> None:
        """Copy one file of the backup to a local path."""

    def describe(self, backup_id: str) -> str:
        """Where the backup is, for messages."""

    def location(self) -> str:
        """What `open_store` takes to reach this store again (a heal may run in another process)."""


def _safe_parts(path: str) -> Path:
    relative = Path(path)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise UsageError(f"backup file path {path!r} must be relative, without '..'")
    return relative


class DirectoryStore:
    """Backups as directories: <root>/<backup id>/<path>."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, backup_id: str) -> Path:
        return self.root / _safe_parts(backup_id)

    def backup_ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir())

    def put(self, backup_id: str, path: str, source: Path) -> None:
        target = self._dir(backup_id) / _safe_parts(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)

    def put_manifest(self, backup_id: str, text: str) -> None:
        target = self._dir(backup_id) / MANIFEST
        tmp = target.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(target)

    def manifest_text(self, backup_id: str) -> str | None:
        target = self._dir(backup_id) / MANIFEST
        return target.read_text(encoding="utf-8") if target.is_file() else None

    def sizes(self, backup_id: str) -> dict[str, int]:
        base = self._dir(backup_id)
        if not base.is_dir():
            return {}
        return {p.relative_to(base).as_posix(): p.stat().st_size for p in sorted(base.rglob("*"))
                if p.is_file() and p.relative_to(base).as_posix() != MANIFEST}

    def open(self, backup_id: str, path: str) -> BinaryIO:
        return open(self._dir(backup_id) / _safe_parts(path), "rb")

    def fetch(self, backup_id: str, path: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._dir(backup_id) / _safe_parts(path), dest)

    def describe(self, backup_id: str) -> str:
        return str(self._dir(backup_id))

    def location(self) -> str:
        return str(self.root)


def default_store(lab_id: str) -> DirectoryStore:
    """~/.chaos360/backups/<lab>/, or <CHAOS360_BACKUP_DIR>/<lab>/."""
    configured = os.environ.get(STORE_ENV)
    root = Path(configured) if configured else state_dir() / "backups"
    return DirectoryStore(root / lab_id)


def open_store(location: str) -> BackupStore:
    """The store a ledger entry names; only directories today."""
    if "://" in location:
        raise UsageError(f"backup store {location!r}: only directory stores are supported")
    return DirectoryStore(Path(location))
