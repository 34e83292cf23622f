from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT
from cassandra.connection import DefaultEndPoint
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy

from agent360.cassandra_endpoints import MappedEndPointFactory, build_cluster

MAP = {"10.0.0.11": ("proxy", 19042), "10.0.0.12": ("proxy", 19043)}


def test_peer_row_is_sent_to_its_mapped_proxy():
    factory = MappedEndPointFactory(MAP)
    row = {"peer": "10.0.0.12", "rpc_address": "10.0.0.12", "data_center": "dc1"}
    assert factory.create(row) == DefaultEndPoint("proxy", 19043)


def test_peers_v2_native_address_wins_over_rpc_address():
    factory = MappedEndPointFactory(MAP)
    row = {"peer": "10.9.9.9", "rpc_address": "10.9.9.9", "native_address": "10.0.0.11", "native_port": 9042}
    assert factory.create(row) == DefaultEndPoint("proxy", 19042)


def test_wildcard_rpc_address_falls_back_to_the_peer_address():
    factory = MappedEndPointFactory(MAP)
    assert factory.create({"peer": "10.0.0.11", "rpc_address": "0.0.0.0"}) == DefaultEndPoint("proxy", 19042)


def test_unmapped_peer_keeps_its_address_with_the_default_port():
    factory = MappedEndPointFactory(MAP)
    assert factory.create({"peer": "10.0.0.99", "rpc_address": "10.0.0.99"}) == DefaultEndPoint("10.0.0.99", 9042)
    v2_row = {"peer": "10.0.0.98", "native_address": "10.0.0.98", "native_port": 9142}
    assert factory.create(v2_row) == DefaultEndPoint("10.0.0.98", 9142)


def test_build_cluster_starts_from_every_mapped_address_and_routes_token_aware():
    cluster = build_cluster(MAP, "dc7")
    try:
        assert sorted(cluster.contact_points) == [DefaultEndPoint("proxy", 19042), DefaultEndPoint("proxy", 19043)]
        assert isinstance(cluster.endpoint_factory, MappedEndPointFactory)
        profile = cluster.profile_manager.profiles[EXEC_PROFILE_DEFAULT]
        assert isinstance(profile.load_balancing_policy, TokenAwarePolicy)
        child = profile.load_balancing_policy._child_policy
        assert isinstance(child, DCAwareRoundRobinPolicy) and child.local_dc == "dc7"
        assert profile.consistency_level == ConsistencyLevel.LOCAL_QUORUM
        assert profile.request_timeout == 2.0
        assert cluster.reconnection_policy.max_attempts is None
    finally:
        cluster.shutdown()


def test_build_cluster_uses_explicit_contact_points_and_consistency():
    cluster = build_cluster(MAP, contact_points=[("lb", 9999)], consistency="ONE", request_timeout=0.5)
    try:
        assert list(cluster.contact_points) == [DefaultEndPoint("lb", 9999)]
        profile = cluster.profile_manager.profiles[EXEC_PROFILE_DEFAULT]
        assert profile.consistency_level == ConsistencyLevel.ONE
        assert profile.request_timeout == 0.5
    finally:
        cluster.shutdown()
