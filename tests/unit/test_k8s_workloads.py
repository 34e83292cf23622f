"""A member scaled back up by a heal is not ready until its workload has the replicas it asks for, even before the
controller has made its pod."""

from __future__ import annotations

from types import SimpleNamespace

from lab.k8s.target import short_workloads


def _statefulset(name: str, wanted: int, ready: int | None) -> SimpleNamespace:
    """The fields of a listed V1StatefulSet that the check reads (the API leaves ready_replicas out when none)."""
    return SimpleNamespace(metadata=SimpleNamespace(name=name), spec=SimpleNamespace(replicas=wanted),
                           status=SimpleNamespace(ready_replicas=ready))


def test_a_workload_short_of_ready_replicas_is_named_with_its_count() -> None:
    found = short_workloads("statefulset", [_statefulset("redis-c", 1, None), _statefulset("redis-a", 1, 1)])
    assert found == ["statefulset redis-c: 0/1 replicas ready"]


def test_a_member_stopped_on_purpose_asks_for_none_and_is_not_short() -> None:
    assert short_workloads("statefulset", [_statefulset("cassandra-b", 0, None)]) == []
