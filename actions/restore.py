"""Recover from a disaster as the guide's DisasterRecovery does: stop the services, restore the data from a backup
that verifies, resume. Every step is idempotent, so a heal after an interrupted restore finishes it."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actions.backup import KEYSPACE, nodetool
from actions.restore_redis import restore_redis
from kernel.backup_manifest import Manifest
from kernel.backup_store import BackupStore, open_store
from kernel.cassandra_access import host_cluster
from kernel.errors import LabError, UsageError
from kernel.fault import Arguments, Call, Declared, Footprint, Lab
from kernel.inventory import Inventory
from kernel.run import Run, current_run
from kernel.target import Target
from kernel.waiting import poll_until, wait_for
from probes.backup_check import refuse_unverified

RESTORE_DIR = "/var/lib/cassandra/restore"
NOT_SSTABLE = frozenset({"manifest.json", "schema.cql"})
SCHEMA_WAIT_S = 60.0
CREATABLE = re.compile(r"^CREATE (KEYSPACE|TABLE|TYPE|(?:CUSTOM )?INDEX|MATERIALIZED VIEW|FUNCTION|AGGREGATE) "
                       r"(?!IF NOT EXISTS )")
PARTS = {"cassandra": ("cassandra",), "redis": ("redis",), "all": ("cassandra", "redis")}
NODES_TIMEOUT_S = 300.0
READY_TIMEOUT_S = 240.0

Phase = Callable[[str], AbstractContextManager[None]]


def untimed(_: str) -> AbstractContextManager[None]:
    return nullcontext()


@dataclass(frozen=True)
class RestoreOptions:
    skip_load: tuple[str, ...] = ()
    """A weak restore: Cassandra nodes whose SSTables are copied but never loaded."""


def restore(target: Target, inventory: Inventory, store: BackupStore, backup_id: str, what: str,
            phase: Phase = untimed, options: RestoreOptions = RestoreOptions()) -> None:
    """Stop the app replicas, bring back the lost datastores from `backup_id`, start the replicas, wait for ready."""
    if what not in PARTS:
        raise UsageError(f"restore of {what!r}: expected one of {', '.join(PARTS)}")
    manifest = refuse_unverified(store, backup_id)
    apps = [a.name for a in inventory.by_role("app")]
    with phase("restore.stop"):
        for app in apps:
            target.stop(app, timeout_s=2)
    if "cassandra" in PARTS[what]:
        _restore_cassandra(target, inventory, store, manifest, phase, options)
    if "redis" in PARTS[what]:
        with phase("restore.redis"):
            restore_redis(target, inventory, store, manifest)
    with phase("restore.services"):
        for app in apps:
            target.start(app)
        _wait_ready(target)


def _wait_ready(target: Target) -> None:
    problems: list[str] = []

    def ready() -> bool:
        problems[:] = target.unready()
        return not problems

    if poll_until(ready, bool, READY_TIMEOUT_S, poll_s=1.0) is False:
        raise LabError(f"lab not ready {READY_TIMEOUT_S:.0f} s after the restore: {'; '.join(problems)}")


def _ring_normal(target: Target, probe_node: str, count: int) -> bool:
    try:
        status = nodetool(target, probe_node, "status")
    except LabError:
        return False
    return sum(line.startswith("UN ") for line in status.splitlines()) == count


def _restore_cassandra(target: Target, inventory: Inventory, store: BackupStore, manifest: Manifest,
                       phase: Phase, options: RestoreOptions) -> None:
    nodes = [n.name for n in manifest.nodes]
    with phase("restore.nodes"):
        target.recreate(nodes)
        wait_for(lambda: _ring_normal(target, nodes[0], len(nodes)), NODES_TIMEOUT_S,
                 f"{len(nodes)} Cassandra nodes Up and Normal")
    with phase("restore.schema"):
        _create_schema(inventory, _text(store, manifest.backup_id, "cassandra/schema.cql"))
    with phase("restore.copy"), ThreadPoolExecutor(max_workers=len(nodes)) as pool:
        list(pool.map(lambda n: _copy_sstables(target, store, manifest, n), nodes))
    with phase("restore.load"):
        for node in nodes:
            if node not in options.skip_load:
                _load(target, manifest, node)


def _text(store: BackupStore, backup_id: str, path: str) -> str:
    with store.open(backup_id, path) as handle:
        return handle.read().decode()


def schema_statements(schema: str) -> list[str]:
    """The exported keyspace as idempotent statements (a heal may run them again)."""
    statements = [s.strip() for s in schema.split(";\n") if s.strip()]
    return [CREATABLE.sub(r"CREATE \1 IF NOT EXISTS ", s.rstrip(";")) for s in statements]


def _create_schema(inventory: Inventory, schema: str) -> None:
    with host_cluster(inventory, request_timeout=30.0) as session:
        for statement in schema_statements(schema):
            session.execute(statement)
        if not session.cluster.control_connection.wait_for_schema_agreement(wait_time=60):
            raise LabError("Cassandra nodes did not agree on the restored schema within 60 s")


def _restore_path(manifest: Manifest, table: str) -> str:
    """nodetool import takes the keyspace and table from the last two directories: any other name and it loads
    nothing, silently."""
    return f"{RESTORE_DIR}/{manifest.backup_id}/{manifest.keyspace}/{table}"


def _copy_sstables(target: Target, store: BackupStore, manifest: Manifest, node: str) -> None:
    for table in manifest.tables:
        with tempfile.TemporaryDirectory(prefix="chaos360-restore-") as tmp:
            for entry in manifest.node_files(node, table):
                name = Path(entry.path).name
                if name not in NOT_SSTABLE:
                    store.fetch(manifest.backup_id, entry.path, Path(tmp) / name)
            target.copy_in(node, Path(tmp), _restore_path(manifest, table))
    code, output = target.exec(node, ["chown", "-R", "cassandra:cassandra", RESTORE_DIR])
    if code != 0:
        raise LabError(f"chown of {RESTORE_DIR} on {node} failed: {output.strip()}")


def _unloaded(target: Target, node: str, path: str) -> int:
    code, listed = target.exec(node, ["sh", "-c", f"ls {path} 2>/dev/null | grep -c 'Data.db$' || true"])
    return int(listed.strip() or 0) if code == 0 else 0


def import_sstables(target: Target, node: str, table: str, path: str, schema_wait_s: float = SCHEMA_WAIT_S,
                    poll_s: float = 1.0) -> str:
    """`nodetool import`, waiting while the node has not yet received the restored table: the driver's schema
    agreement counts only the nodes it sees up, and a just re-created node can miss it (seen in a fresh-clone CI run:
    "ColumnFamilyStore for agent360/tasks not found" on one node)."""
    deadline = time.monotonic() + schema_wait_s
    while True:
        try:
            return nodetool(target, node, "import", KEYSPACE, table, path)
        except LabError as error:
            if "ColumnFamilyStore" not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(poll_s)


def _load(target: Target, manifest: Manifest, node: str) -> None:
    """nodetool import: the node checks each SSTable and moves it into the live table without a restart; an SSTable
    still in place afterwards was not loaded, whatever the tool said."""
    for table in manifest.tables:
        path = _restore_path(manifest, table)
        if not _unloaded(target, node, path):
            continue
        output = import_sstables(target, node, table, path)
        left = _unloaded(target, node, path)
        if left:
            raise LabError(f"nodetool import on {node} left {left} SSTables of {KEYSPACE}.{table} unloaded: "
                           f"{output.strip()[-300:] or 'no output'}")


def timed(run: Run) -> Phase:
    @contextmanager
    def phase(name: str) -> Iterator[None]:
        started = time.time()
        yield
        run.events.append("dr.phase", phase=name, started=started, seconds=round(time.time() - started, 3))

    return phase


class RestoreFromBackup(Arguments):
    skip_load: tuple[str, ...] = ()


def restore_from_backup(skip_load: tuple[str, ...] = (), configuration: dict[str, Any] | None = None
                        ) -> dict[str, Any]:
    """Undo every data loss in the ledger from its backup, timing each phase; the entry leaves the ledger last."""
    run = current_run(configuration)
    entries = [e for e in run.ledger.entries() if e.undo.op == "restore"]
    if not entries:
        raise UsageError("nothing to restore: the ledger holds no lost data")
    started = time.time()
    for entry in reversed(entries):
        args = entry.undo.args
        restore(run.target, run.inventory, open_store(str(args["store"])), str(args["backup"]), str(args["what"]),
                timed(run), RestoreOptions(skip_load=tuple(skip_load)))
        run.ledger.discard(entry.id)
        run.events.append("fault.heal", fault=entry.fault, entry=entry.id)
    run.events.append("dr.restored", seconds=round(time.time() - started, 3))
    return {"restored": [str(e.undo.args["backup"]) for e in entries], "seconds": round(time.time() - started, 1)}


def _plan(call: Call, lab: Lab) -> Footprint:
    skipped = call.get("skip_load")
    weak = f" (weak: SSTables of {', '.join(skipped)} not loaded)" if skipped else ""
    return Footprint("restore every lost data set in the ledger from its backup: stop the app replicas, re-create "
                     f"the lost nodes, load the backup, start the replicas{weak}", heals=True)


DECLARED = (Declared(restore_from_backup, "restore", RestoreFromBackup, _plan),)
