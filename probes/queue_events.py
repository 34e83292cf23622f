"""The queue as the system holds it: every "created" event in the Redis stream, read from the current master
after the heal, with the moment the stream's oldest kept entry was written (older ones were trimmed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import redis

from agent360.redis_store import STREAM
from kernel.errors import LabError
from kernel.inventory import Inventory

PAGE = 10_000
TIMEOUT_S = 5.0


@dataclass(frozen=True)
class StreamContents:
    created: frozenset[tuple[str, str]]
    oldest_s: float | None  # epoch seconds of the first kept entry; None for an empty stream


def read_created_events(inventory: Inventory, master_name: str) -> StreamContents:
    """Every (agent_id, task_id) with a "created" event in the stream; LabError when the master cannot be read."""
    master = inventory.get(master_name)
    client = redis.Redis("127.0.0.1", master.host_ports["redis"], socket_timeout=TIMEOUT_S, decode_responses=True)
    try:
        return _read(client)
    except (redis.RedisError, OSError) as error:
        raise LabError(f"stream {STREAM} on {master.name} not readable: {error}") from error
    finally:
        client.close()


def _read(client: redis.Redis) -> StreamContents:
    created: set[tuple[str, str]] = set()
    oldest: float | None = None
    start = "-"
    while True:
        entries = cast(list[tuple[str, dict[str, str]]], client.xrange(STREAM, min=start, max="+", count=PAGE))
        for entry_id, fields in entries:
            if oldest is None:
                oldest = int(entry_id.split("-")[0]) / 1000
            if fields.get("kind") == "created":
                created.add((fields.get("agent_id", ""), fields.get("task_id", "")))
        if len(entries) < PAGE:
            return StreamContents(frozenset(created), oldest)
        start = "(" + entries[-1][0]
