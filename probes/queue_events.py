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


def read_created_events(inventory: Inventory, master_name: str, since_s: float | None = None) -> StreamContents:
    """Every (agent_id, task_id) with a "created" event in the stream, from `since_s` on (epoch seconds; entry ids
    are the master's milliseconds) so a run reads its own stretch, not the whole capped stream; LabError when the
    master cannot be read."""
    master = inventory.get(master_name)
    client = redis.Redis(master.host, master.host_ports["redis"], socket_timeout=TIMEOUT_S, decode_responses=True)
    try:
        return _read(client, since_s)
    except (redis.RedisError, OSError) as error:
        raise LabError(f"stream {STREAM} on {master.name} not readable: {error}") from error
    finally:
        client.close()


def _read(client: redis.Redis, since_s: float | None) -> StreamContents:
    first = cast(list[tuple[str, dict[str, str]]], client.xrange(STREAM, min="-", max="+", count=1))
    oldest = _entry_time(first[0][0]) if first else None
    created: set[tuple[str, str]] = set()
    start = "-" if since_s is None else str(int(since_s * 1000))
    while True:
        entries = cast(list[tuple[str, dict[str, str]]], client.xrange(STREAM, min=start, max="+", count=PAGE))
        created.update((fields.get("agent_id", ""), fields.get("task_id", ""))
                       for _, fields in entries if fields.get("kind") == "created")
        if len(entries) < PAGE:
            return StreamContents(frozenset(created), oldest)
        start = "(" + entries[-1][0]


def _entry_time(entry_id: str) -> float:
    return int(entry_id.split("-")[0]) / 1000
