"""Reach every Cassandra node through a mapped address (a Toxiproxy proxy, or a port published on loopback).

The driver learns the other nodes from system.peers and would connect to their own addresses; the
endpoint factory sends it to the mapped address instead. Used by the service and by the harness on the host.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cassandra import ConsistencyLevel, ProtocolVersion
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.connection import DefaultEndPoint, EndPointFactory
from cassandra.metadata import _NodeInfo
from cassandra.policies import (
    ConstantReconnectionPolicy,
    DCAwareRoundRobinPolicy,
    RetryPolicy,
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
) -> Cluster:
    """An unconnected Cluster; without `contact_points` it starts from every mapped address."""
    points = sorted(set(address_map.values())) if contact_points is None else list(contact_points)
    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=datacenter)),
        retry_policy=retry_policy or RetryPolicy(),
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
