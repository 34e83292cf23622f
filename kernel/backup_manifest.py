"""What a backup holds, as a manifest written last: a backup without one is incomplete, and every file it names
must be present with its size and sha256, with no file it does not name."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MANIFEST = "manifest.json"
CHUNK = 1 << 20


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BackupFile(_Frozen):
    path: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class CassandraNode(_Frozen):
    """A node as the restore must re-create it: same tokens, same rack."""

    name: str
    host_id: str
    tokens: tuple[str, ...]
    rack: str
    datacenter: str


class Manifest(_Frozen):
    backup_id: str
    lab_id: str
    moment: float
    """Every write acknowledged before this epoch second is in the backup (flushes and the RDB began after it)."""
    completed_at: float
    keyspace: str
    tables: tuple[str, ...]
    nodes: tuple[CassandraNode, ...]
    redis_master: str | None
    files: tuple[BackupFile, ...]

    def node_files(self, node: str, table: str) -> list[BackupFile]:
        prefix = f"cassandra/{node}/{table}/"
        return [f for f in self.files if f.path.startswith(prefix)]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def parse_manifest(text: str | None) -> Manifest | str:
    """The manifest, or why there is none to trust."""
    if text is None:
        return f"no {MANIFEST}: the backup is incomplete (the manifest is written last)"
    try:
        return Manifest.model_validate_json(text)
    except ValidationError as error:
        return f"{MANIFEST} is not a valid manifest: {error.errors()[0]['msg']}"


def file_problems(manifest: Manifest, sizes: Mapping[str, int], digest: Callable[[str], str]) -> list[str]:
    """Each named file absent, of another size or another sha256, and each file present that it does not name."""
    problems: list[str] = []
    named = {f.path for f in manifest.files}
    for entry in manifest.files:
        if entry.path not in sizes:
            problems.append(f"{entry.path}: missing")
        elif sizes[entry.path] != entry.size:
            problems.append(f"{entry.path}: size {sizes[entry.path]}, manifest says {entry.size}")
        elif digest(entry.path) != entry.sha256:
            problems.append(f"{entry.path}: sha256 differs from the manifest")
    problems += [f"{path}: not in the manifest" for path in sorted(set(sizes) - named)]
    return problems
