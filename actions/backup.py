"""Take a backup of the lab: each Cassandra node's flushed snapshot, the keyspace schema, a consistent RDB of the
Redis master (the queue is in it) and the lab's configuration, then a manifest written last."""

from __future__ import annotations

import json
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from kernel.backup_manifest import BackupFile, CassandraNode, Manifest, sha256_of
from kernel.backup_store import BackupStore, default_store
from kernel.cassandra_access import host_cluster
from kernel.errors import LabError
from kernel.fault import Arguments, Call, Declared, Footprint, Lab
from kernel.inventory import Inventory
from kernel.redis_access import redis_client
from kernel.run import current_run
from kernel.target import Target
from kernel.waiting import poll_until

KEYSPACE = "agent360"
TABLES = ("tasks",)
DATA_DIR = "/var/lib/cassandra/data"
CONFIG_DIRS = {"sentinel": "/data", "lb": "/etc/lab", "prometheus": "/etc/lab"}
BGSAVE_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class BackupOptions:
    skip_flush: bool = False
    """A weak backup: snapshot without flushing, as a tool that copies data files would; memtables are missed."""


def new_backup_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + f"-{int(time.time() * 1000) % 1000:03d}"


def nodetool(target: Target, node: str, *arguments: str) -> str:
    code, output = target.exec(node, ["nodetool", *arguments])
    if code != 0:
        raise LabError(f"nodetool {' '.join(arguments)} on {node} failed: {output.strip()[-300:]}")
    return output


def _info_field(info: str, key: str) -> str:
    match = re.search(rf"^{re.escape(key)}\s*:\s*(.+)$", info, re.MULTILINE)
    if match is None:
        raise LabError(f"nodetool info has no {key!r}")
    return match.group(1).strip()


def _describe_node(target: Target, node: str) -> CassandraNode:
    info = nodetool(target, node, "info", "-T")
    tokens = tuple(re.findall(r"^Token\s*:\s*(\S+)$", info, re.MULTILINE))
    return CassandraNode(name=node, host_id=_info_field(info, "ID"), tokens=tokens,
                         rack=_info_field(info, "Rack"), datacenter=_info_field(info, "Data Center"))


def _snapshot_node(target: Target, node: str, backup_id: str, staging: Path, options: BackupOptions) -> None:
    if not options.skip_flush:
        nodetool(target, node, "flush", KEYSPACE)
    flags = ["--skip-flush"] if options.skip_flush else []
    nodetool(target, node, "snapshot", "-t", backup_id, *flags, KEYSPACE)
    try:
        for table in TABLES:
            code, found = target.exec(node, ["sh", "-c", f"ls -d {DATA_DIR}/{KEYSPACE}/{table}-*/snapshots/"
                                                         f"{backup_id}"])
            if code != 0 or not found.strip():
                continue  # no SSTable to snapshot: the table holds nothing on disk on this node
            target.copy_out(node, found.strip().splitlines()[0], staging / "cassandra" / node / table)
    finally:
        nodetool(target, node, "clearsnapshot", "-t", backup_id, "--", KEYSPACE)


def _schema(inventory: Inventory) -> str:
    with host_cluster(inventory, request_timeout=10.0) as session:
        return str(session.cluster.metadata.keyspaces[KEYSPACE].export_as_string())


def _bgsave(inventory: Inventory, master: str) -> None:
    """A new RDB from the master: BGSAVE (scheduled after a running rewrite), until a save newer than the call."""
    with redis_client(inventory, master) as client:
        before = int(client.info("persistence")["rdb_saves"])
        client.execute_command("BGSAVE", "SCHEDULE")
        done = poll_until(lambda: client.info("persistence"),
                          lambda i: int(i["rdb_saves"]) > before and int(i["rdb_bgsave_in_progress"]) == 0,
                          BGSAVE_TIMEOUT_S, poll_s=0.2)
    if int(done["rdb_saves"]) <= before or done.get("rdb_last_bgsave_status") != "ok":
        raise LabError(f"BGSAVE on {master} did not complete: {done.get('rdb_last_bgsave_status')}")


def _copy_redis(target: Target, inventory: Inventory, staging: Path) -> str:
    master = target.redis_master()
    _bgsave(inventory, master)
    files = target.copy_out(master, "/data", staging / "redis" / "incoming")
    kept = staging / "redis"
    for file in files:
        if file.name in ("dump.rdb", "redis.conf"):
            file.replace(kept / file.name)
    for file in (kept / "incoming").iterdir():
        file.unlink()
    (kept / "incoming").rmdir()
    if not (kept / "dump.rdb").is_file():
        raise LabError(f"no dump.rdb in /data of {master} after BGSAVE")
    return master


def _copy_config(target: Target, inventory: Inventory, staging: Path) -> None:
    config = staging / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "inventory.json").write_text(inventory.model_dump_json(indent=1))
    for role, path in CONFIG_DIRS.items():
        for instance in inventory.by_role(role):
            target.copy_out(instance.name, path, config / instance.name)


def _manifest(backup_id: str, inventory: Inventory, moment: float, nodes: list[CassandraNode], master: str,
              staging: Path) -> Manifest:
    files = tuple(BackupFile(path=p.relative_to(staging).as_posix(), size=p.stat().st_size, sha256=sha256_of(p))
                  for p in sorted(staging.rglob("*")) if p.is_file())
    return Manifest(backup_id=backup_id, lab_id=inventory.lab_id, moment=moment, completed_at=time.time(),
                    keyspace=KEYSPACE, tables=TABLES, nodes=tuple(nodes), redis_master=master, files=files)


def backup(target: Target, inventory: Inventory, store: BackupStore, backup_id: str,
           options: BackupOptions = BackupOptions()) -> Manifest:
    """Every file is staged, checksummed and stored before the manifest, so an interrupted backup has none."""
    nodes = [n.name for n in inventory.by_role("cassandra")]
    with tempfile.TemporaryDirectory(prefix=f"chaos360-backup-{backup_id}-") as tmp:
        staging = Path(tmp)
        moment = time.time()
        with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
            list(pool.map(lambda n: _snapshot_node(target, n, backup_id, staging, options), nodes))
        described = [_describe_node(target, n) for n in nodes]
        (staging / "cassandra" / "schema.cql").write_text(_schema(inventory))
        master = _copy_redis(target, inventory, staging)
        _copy_config(target, inventory, staging)
        manifest = _manifest(backup_id, inventory, moment, described, master, staging)
        for entry in manifest.files:
            store.put(backup_id, entry.path, staging / entry.path)
    store.put_manifest(backup_id, json.dumps(manifest.model_dump(), indent=1))
    return manifest


class TakeBackup(Arguments):
    skip_flush: bool = False


def take_backup(skip_flush: bool = False, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Back the lab up into its store, recording the backup's moment: writes acknowledged before it must survive."""
    run = current_run(configuration)
    store = default_store(run.lab_id)
    started = time.time()
    try:
        manifest = backup(run.target, run.inventory, store, new_backup_id(), BackupOptions(skip_flush=skip_flush))
    except redis.RedisError as error:
        raise LabError(f"backup: Redis did not answer: {error}") from None
    size = sum(f.size for f in manifest.files)
    run.events.append("dr.backup", backup_id=manifest.backup_id, moment=manifest.moment, bytes=size,
                      files=len(manifest.files), store=store.describe(manifest.backup_id))
    run.events.append("dr.phase", phase="backup", started=started, seconds=round(time.time() - started, 3))
    return {"backup_id": manifest.backup_id, "moment": manifest.moment, "files": len(manifest.files), "bytes": size}


def _plan(call: Call, lab: Lab) -> Footprint:
    nodes = ", ".join(n.name for n in lab.inventory.by_role("cassandra"))
    flush = "snapshot without flush (weak)" if call.get("skip_flush") else "flush and snapshot"
    return Footprint(f"back up: {flush} {KEYSPACE} on {nodes}; BGSAVE the Redis master; copy the lab's "
                     f"configuration; manifest last")


DECLARED = (Declared(take_backup, "load", TakeBackup, _plan),)
