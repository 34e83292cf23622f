"""Which lab nodes have stale network plumbing: the replica Ready, the balancer's check failing."""

from lab.k8s.node_repair import stale_nodes


def test_a_down_node_with_a_ready_replica_is_stale() -> None:
    assert stale_nodes({"node-a": "UP", "node-c": "DOWN"}, {"node-a": True, "node-c": True}) == ["node-c"]


def test_a_down_node_whose_replica_is_not_ready_is_the_app_not_the_node() -> None:
    assert stale_nodes({"node-a": "DOWN", "node-b": "DOWN 1/2"}, {"node-a": False}) == []


def test_nodes_up_or_going_up_are_not_stale() -> None:
    assert stale_nodes({"node-a": "UP 1/2", "node-b": "UP"}, {"node-a": True, "node-b": True}) == []
