"""Reach every Cassandra node through a mapped address (a Toxiproxy proxy, or a port published on loopback).

The driver learns the other nodes from system.peers and would connect to their own addresses; the
endpoint factory sends it to the mapped address instead. Used by the service and by the harness on the host.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from cassandra import ConsistencyLevel, ProtocolVersion
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.connection import DefaultEndPoint, EndPointFactory
from cassandra.metadata import _NodeInfo
from cassandra.policies import (
    ConstantReconnectionPolicy,
    DCAwareRoundRobinPolicy,
    HostDistance,
    RetryPolicy,
    SpeculativeExecutionPolicy,
    TokenAwarePolicy,
)
from cassandra.query import dict_factory

Address = tuple[str, int]
DEFAULT_PORT = 9042


class MappedEndPointFactory(EndPointFactory):
    """Endpoints for system.peers rows: the node's broadcast rpc address looked up in `address_map`."""

    def __init__(self, address_map: Mapping[str, Address], default_port: int = DEFAULT_PORT) -> None:
        self.address_map = dict(address_map)
        self.default_port = default_port

    def create(self, row: Mapping[str, Any]) -> DefaultEndPoint:
        address = _NodeInfo.get_broadcast_rpc_address(row)
        mapped = self.address_map.get(str(address))
        if mapped is not None:
            return DefaultEndPoint(mapped[0], mapped[1])
        return DefaultEndPoint(address, _NodeInfo.get_broadcast_rpc_port(row) or self.default_port)


class ShuffledTokenAwarePolicy(TokenAwarePolicy):
    """Token-aware routing over the local replicas in a random order, then the child policy's other hosts.

    Without shuffling every client sends a given partition key (the readiness probe's above all) to the same
    first replica, so one hung node stalls that key everywhere at once. The driver's own `shuffle_replicas`
    (3.30) shuffles the token map's cached replica list in place, under plans still being consumed by hedges
    and retries: such a plan can meet the same host twice and skip another. This shuffles a copy.
    """

    def __init__(self, child_policy: Any) -> None:
        super().__init__(child_policy, shuffle_replicas=True)

    def make_query_plan(self, working_keyspace: str | None = None, query: Any = None) -> Iterator[Any]:
        keyspace = query.keyspace if query is not None and query.keyspace else working_keyspace
        routing_key = query.routing_key if query is not None else None
        child = self._child_policy
        if routing_key is None or keyspace is None:
            yield from child.make_query_plan(keyspace, query)
            return
        replicas = list(self._cluster_metadata.get_replicas(keyspace, routing_key))
        random.shuffle(replicas)
        for replica in replicas:
            if replica.is_up and child.distance(replica) == HostDistance.LOCAL:
                yield replica
        for host in child.make_query_plan(keyspace, query):
            if host not in replicas or child.distance(host) == HostDistance.REMOTE:
                yield host


def contact_endpoints(addresses: Iterable[Address]) -> list[DefaultEndPoint]:
    return [DefaultEndPoint(host, port) for host, port in addresses]


def build_cluster(
    address_map: Mapping[str, Address],
    datacenter: str = "dc1",
    contact_points: Iterable[Address] | None = None,
    *,
    consistency: str = "LOCAL_QUORUM",
    request_timeout: float = 2.0,
    connect_timeout: float = 2.0,
    retry_policy: RetryPolicy | None = None,
    speculative_policy: SpeculativeExecutionPolicy | None = None,
) -> Cluster:
    """An unconnected Cluster; without `contact_points` it starts from every mapped address.

    `speculative_policy` (hedging) only applies to statements marked idempotent.
    """
    points = sorted(set(address_map.values())) if contact_points is None else list(contact_points)
    profile = ExecutionProfile(
        load_balancing_policy=ShuffledTokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=datacenter)),
        retry_policy=retry_policy or RetryPolicy(),
        speculative_execution_policy=speculative_policy,
        consistency_level=ConsistencyLevel.name_to_value[consistency],
        request_timeout=request_timeout,
        row_factory=dict_factory,
    )
    return Cluster(
        contact_points=contact_endpoints(points),
        endpoint_factory=MappedEndPointFactory(address_map),
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        protocol_version=ProtocolVersion.V5,
        connect_timeout=connect_timeout,
        control_connection_timeout=connect_timeout,
        idle_heartbeat_interval=2,
        idle_heartbeat_timeout=2,
        reconnection_policy=ConstantReconnectionPolicy(1.0, max_attempts=None),
    )
