"""Whether a backup can be trusted: its manifest complete, every file it names present with its size and sha256,
no file it does not name, and the Redis RDB sound by redis-check-rdb."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from kernel.backup_manifest import CHUNK, Manifest, file_problems, parse_manifest
from kernel.backup_store import BackupStore, default_store
from kernel.errors import UsageError
from kernel.fault import Arguments, Declared
from kernel.record import Event, read_events
from kernel.run import Run, current_run

RDB = "redis/dump.rdb"
RDB_CHECK = "redis-check-rdb"


def _digest(store: BackupStore, backup_id: str, path: str) -> str:
    digest = hashlib.sha256()
    with store.open(backup_id, path) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _rdb_problem(store: BackupStore, backup_id: str) -> str | None:
    tool = shutil.which(RDB_CHECK)
    if tool is None:
        return f"{RDB}: {RDB_CHECK} not found on PATH (Debian package redis-tools)"
    with tempfile.TemporaryDirectory(prefix="chaos360-rdb-") as tmp:
        copy = Path(tmp) / "dump.rdb"
        store.fetch(backup_id, RDB, copy)
        result = subprocess.run([tool, str(copy)], capture_output=True, text=True, check=False, timeout=600)
    if result.returncode != 0:
        return f"{RDB}: {RDB_CHECK} failed: {rdb_error(result.stdout + result.stderr, result.returncode)}"
    return None


def rdb_error(output: str, code: int) -> str:
    """The line after redis-check-rdb's error banner (its last lines are always the same summary)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    after = [line for n, line in enumerate(lines) if n and "RDB ERROR DETECTED" in lines[n - 1]]
    found = after or [line for line in lines if not line.startswith(("[info]", "[offset 0]", "---"))]
    return found[0] if found else f"exit {code}"


def backup_problems(store: BackupStore, backup_id: str) -> tuple[Manifest | None, list[str]]:
    """The manifest and every reason not to trust the backup (none: it verifies)."""
    if backup_id not in store.backup_ids():
        return None, [f"no backup {backup_id!r} in {store.describe(backup_id)}"]
    manifest = parse_manifest(store.manifest_text(backup_id))
    if isinstance(manifest, str):
        return None, [manifest]
    problems = file_problems(manifest, store.sizes(backup_id), lambda p: _digest(store, backup_id, p))
    named = {f.path for f in manifest.files}
    if RDB not in named:
        problems.append(f"{RDB}: not in the manifest")
    elif not any(p.startswith(f"{RDB}:") for p in problems) and (rdb := _rdb_problem(store, backup_id)):
        problems.append(rdb)
    return manifest, problems


def refuse_unverified(store: BackupStore, backup_id: str) -> Manifest:
    """The manifest of a backup that verifies; UsageError naming the first problem otherwise."""
    manifest, problems = backup_problems(store, backup_id)
    if manifest is None or problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UsageError(f"backup {backup_id} does not verify: {problems[0]}{more}")
    return manifest


def latest_backup(events: list[Event]) -> str | None:
    taken = [e for e in events if e.kind == "dr.backup" and e.get("backup_id")]
    return str(taken[-1].get("backup_id")) if taken else None


def chosen_backup(run: Run, backup_id: str | None, refusal: str) -> str:
    """The named backup, else the run's latest; UsageError `refusal` when there is neither."""
    chosen = backup_id or latest_backup(read_events(run.run_dir / "events.jsonl", missing_ok=True))
    if chosen is None:
        raise UsageError(refusal)
    return chosen


class VerifyBackup(Arguments):
    backup_id: str | None = None


def verify_backup(backup_id: str | None = None, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Verify the named backup, or the run's latest; the drill's tolerance expects `verified`."""
    run = current_run(configuration)
    chosen = chosen_backup(run, backup_id, "no backup to verify: this run took none and none was named")
    store = default_store(run.lab_id)
    started = time.time()
    _, problems = backup_problems(store, chosen)
    run.events.append("dr.phase", phase="verify", started=started, seconds=round(time.time() - started, 3))
    return {"backup_id": chosen, "verified": not problems, "problems": problems}


DECLARED = (Declared(verify_backup, "probe", VerifyBackup),)
