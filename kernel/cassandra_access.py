"""Harness-side Cassandra sessions that reach every node at the address the inventory gives the harness."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cassandra.cluster import Cluster, Session

from agent360.cassandra_endpoints import build_cluster
from kernel.inventory import Inventory


def harness_map(inventory: Inventory) -> dict[str, tuple[str, int]]:
    return {node.ip: (node.host, node.host_ports["cql"]) for node in inventory.by_role("cassandra")}


@contextmanager
def host_cluster(inventory: Inventory, datacenter: str = "dc1", consistency: str = "LOCAL_QUORUM",
                 request_timeout: float = 2.0) -> Iterator[Session]:
    cluster: Cluster = build_cluster(harness_map(inventory), datacenter, consistency=consistency,
                                     request_timeout=request_timeout)
    try:
        yield cluster.connect()
    finally:
        cluster.shutdown()
