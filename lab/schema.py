"""The Agent360 schema, created from the host once every Cassandra node is up."""

from __future__ import annotations

from agent360.schema import ensure_schema
from kernel.cassandra_access import host_cluster
from kernel.inventory import Inventory
from kernel.progress import Progress
from lab.readiness import check_cassandra, wait_until

CASSANDRA_READY_TIMEOUT_S = 180


def ensure(inventory: Inventory, progress: Progress) -> None:
    wait_until(lambda: [check_cassandra(inventory)], CASSANDRA_READY_TIMEOUT_S, progress)
    replication_factor = min(3, len(inventory.by_role("cassandra")))
    with host_cluster(inventory) as session:
        ensure_schema(session, datacenter="dc1", replication_factor=replication_factor)
    progress.step(f"schema agent360 ready (NetworkTopologyStrategy dc1:{replication_factor})")
