"""Restore the Redis data set from the backup's RDB: the Sentinels stop watching, every node is re-created, the
backup's master loads the RDB, the others replicate it, and the Sentinels watch it again with the lab's settings
(taken from the backup's copy of their configuration)."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import redis

from kernel.backup_manifest import Manifest
from kernel.backup_store import BackupStore
from kernel.errors import LabError
from kernel.inventory import Inventory
from kernel.redis_access import redis_client
from kernel.target import Target
from kernel.waiting import wait_for
from probes.backup_check import RDB

REDIS_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Monitoring:
    """What each Sentinel watches, as `sentinel monitor` and its settings in sentinel.conf."""

    master_name: str
    quorum: int
    settings: tuple[tuple[str, str], ...]


def monitoring_of(conf: str) -> Monitoring:
    found = re.search(r"^sentinel monitor (\S+) \S+ \d+ (\d+)$", conf, re.MULTILINE)
    if found is None:
        raise LabError("the backup's sentinel.conf has no `sentinel monitor` line")
    name = found.group(1)
    settings = re.findall(rf"^sentinel (down-after-milliseconds|failover-timeout|parallel-syncs) {re.escape(name)} "
                          r"(\d+)$", conf, re.MULTILINE)
    return Monitoring(name, int(found.group(2)), tuple(settings))


def restore_redis(target: Target, inventory: Inventory, store: BackupStore, manifest: Manifest) -> None:
    names = [r.name for r in inventory.by_role("redis")]
    master = manifest.redis_master if manifest.redis_master in names else names[0]
    monitoring = monitoring_of(_sentinel_conf(store, manifest))
    sentinels = [s.name for s in inventory.by_role("sentinel")]
    for sentinel in sentinels:
        _forget(inventory, sentinel, monitoring)
    target.recreate(names)
    _load_rdb(target, inventory, store, manifest, master)
    for replica in (n for n in names if n != master):
        with redis_client(inventory, replica) as client:
            client.execute_command("REPLICAOF", inventory.get(master).ip, 6379)
            client.execute_command("CONFIG", "REWRITE")
    with redis_client(inventory, master) as client:
        wait_for(lambda: _online_replicas(client) == len(names) - 1, REDIS_TIMEOUT_S,
                 f"{len(names) - 1} replicas in sync with {master}")
    for sentinel in sentinels:
        _watch(inventory, sentinel, monitoring, inventory.get(master).ip)


def _sentinel_conf(store: BackupStore, manifest: Manifest) -> str:
    conf = next((f.path for f in manifest.files if f.path.startswith("config/sentinel") and
                 f.path.endswith("sentinel.conf")), None)
    if conf is None:
        raise LabError(f"backup {manifest.backup_id} holds no sentinel.conf")
    with store.open(manifest.backup_id, conf) as handle:
        return handle.read().decode()


def _forget(inventory: Inventory, sentinel: str, monitoring: Monitoring) -> None:
    """Stop the Sentinel watching, so it fails nothing over to an empty node while the data set is restored."""
    with redis_client(inventory, sentinel) as client:
        try:
            client.execute_command("SENTINEL", "REMOVE", monitoring.master_name)
        except redis.ResponseError as error:
            if "No such master" not in str(error):
                raise


def _watch(inventory: Inventory, sentinel: str, monitoring: Monitoring, master_ip: str) -> None:
    with redis_client(inventory, sentinel) as client:
        try:
            client.execute_command("SENTINEL", "MONITOR", monitoring.master_name, master_ip, 6379, monitoring.quorum)
        except redis.ResponseError as error:
            if "Duplicated master name" not in str(error):
                raise
        for key, value in monitoring.settings:
            client.execute_command("SENTINEL", "SET", monitoring.master_name, key, value)


def standalone_conf(conf: str) -> str:
    """The lab's redis.conf as a master that loads its RDB: no replicaof, and no AOF yet (with an AOF on and none
    on disk, Redis starts empty and ignores the RDB)."""
    kept = [line for line in conf.splitlines() if not line.startswith(("replicaof ", "appendonly "))]
    return "\n".join([*kept, "appendonly no"]) + "\n"


def _load_rdb(target: Target, inventory: Inventory, store: BackupStore, manifest: Manifest, master: str) -> None:
    target.stop(master, timeout_s=2)
    with tempfile.TemporaryDirectory(prefix="chaos360-redis-") as tmp:
        current = target.copy_out(master, "/data", Path(tmp) / "current")
        conf = next((f for f in current if f.name == "redis.conf"), None)
        if conf is None:
            raise LabError(f"no /data/redis.conf on {master}")
        incoming = Path(tmp) / "incoming"
        incoming.mkdir()
        (incoming / "redis.conf").write_text(standalone_conf(conf.read_text()))
        store.fetch(manifest.backup_id, RDB, incoming / "dump.rdb")
        target.copy_in(master, incoming, "/data")
    target.start(master)
    with redis_client(inventory, master) as client:
        wait_for(lambda: _loaded(client), REDIS_TIMEOUT_S, f"{master} loaded the RDB")
        client.config_set("appendonly", "yes")
        wait_for(lambda: _aof_written(client), REDIS_TIMEOUT_S, f"{master} wrote its AOF")
        client.execute_command("CONFIG", "REWRITE")


def _loaded(client: redis.Redis) -> bool:
    try:
        return int(client.info("persistence")["loading"]) == 0
    except (redis.RedisError, OSError):
        return False


def _aof_written(client: redis.Redis) -> bool:
    info = client.info("persistence")
    return (int(info["aof_enabled"]) == 1 and int(info["aof_rewrite_in_progress"]) == 0
            and int(info["aof_rewrite_scheduled"]) == 0 and info.get("aof_last_bgrewrite_status") == "ok")


def _online_replicas(client: redis.Redis) -> int:
    info = client.info("replication")
    return sum(1 for key, value in info.items()
               if key.startswith("slave") and isinstance(value, dict) and value.get("state") == "online")
