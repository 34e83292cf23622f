"""Harness-side Redis clients for lab instances, at the address the inventory gives the harness."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis

from kernel.inventory import Inventory

TIMEOUT_S = 5.0


@contextmanager
def redis_client(inventory: Inventory, name: str, timeout_s: float = TIMEOUT_S) -> Iterator[redis.Redis]:
    instance = inventory.get(name)
    port = instance.host_ports.get("redis") or instance.host_ports["sentinel"]
    client = redis.Redis(instance.host, port, socket_timeout=timeout_s, decode_responses=True)
    try:
        yield client
    finally:
        client.close()
