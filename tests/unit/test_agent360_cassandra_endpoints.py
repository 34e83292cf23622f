from types import SimpleNamespace
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT
from cassandra.connection import DefaultEndPoint
from cassandra.policies import DCAwareRoundRobinPolicy, HostDistance, NoSpeculativeExecutionPolicy, TokenAwarePolicy

from agent360.cassandra_endpoints import MappedEndPointFactory, ShuffledTokenAwarePolicy, build_cluster

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
        assert isinstance(profile.load_balancing_policy, ShuffledTokenAwarePolicy)
        assert isinstance(profile.speculative_execution_policy, NoSpeculativeExecutionPolicy)
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


class FakeChild:
    def __init__(self, hosts: list[Any]) -> None:
        self.hosts = hosts

    def distance(self, host: Any) -> int:
        return HostDistance.LOCAL

    def make_query_plan(self, keyspace: str | None, query: Any) -> list[Any]:
        return list(self.hosts)


def routed_policy(hosts: list[Any], replicas: list[Any]) -> ShuffledTokenAwarePolicy:
    policy = ShuffledTokenAwarePolicy(FakeChild(hosts))
    policy._cluster_metadata = SimpleNamespace(get_replicas=lambda keyspace, key: replicas)
    return policy


def test_shuffled_plans_try_every_replica_once_even_while_other_plans_are_made():
    hosts = [SimpleNamespace(name=n, is_up=True) for n in "abcd"]
    replicas = hosts[:3]  # the token map's own list, shared by every plan
    policy = routed_policy(hosts, replicas)
    query = SimpleNamespace(keyspace="agent360", routing_key=b"agent-1")
    firsts = set()
    for _ in range(50):
        plan = policy.make_query_plan("agent360", query)
        first = next(plan)
        for _ in range(5):
            list(policy.make_query_plan("agent360", query))  # concurrent plans, as hedges and retries make
        rest = list(plan)
        assert sorted(h.name for h in [first, *rest]) == ["a", "b", "c", "d"] and rest[-1].name == "d"
        firsts.add(first.name)
    assert replicas == hosts[:3]  # never shuffled in place
    assert firsts == {"a", "b", "c"}


def test_unrouted_queries_follow_the_child_policy_and_down_replicas_are_skipped():
    hosts = [SimpleNamespace(name=n, is_up=n != "b") for n in "abc"]
    policy = routed_policy(hosts, hosts)
    assert [h.name for h in policy.make_query_plan("agent360", SimpleNamespace(keyspace=None, routing_key=None))] == [
        "a", "b", "c"]
    routed = policy.make_query_plan("agent360", SimpleNamespace(keyspace="agent360", routing_key=b"k"))
    assert sorted(h.name for h in routed) == ["a", "c"]
