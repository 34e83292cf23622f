import asyncio
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from cassandra import ConsistencyLevel, InvalidRequest, OperationTimedOut, WriteTimeout
from cassandra.cluster import NoHostAvailable

from agent360.cassandra_store import CassandraStore, bridge, classify, in_daemon_thread
from agent360.config import Config
from agent360.errors import DependencyError
from agent360.tasks import Task

TASK = Task("agent-1", "task-1", '{"a":1}', datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=UTC))


class FakeResponseFuture:
    """Settles from another thread, as the driver's reactor does."""

    def __init__(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result = result
        self.error = error

    def add_callbacks(self, callback, errback) -> None:
        threading.Timer(0.01, lambda: errback(self.error) if self.error else callback(self.result)).start()


class FakeSession:
    def __init__(self, outcomes: list[FakeResponseFuture]) -> None:
        self.outcomes = outcomes
        self.calls: list[tuple[Any, tuple[Any, ...], float]] = []

    def execute_async(self, statement, values, timeout):
        self.calls.append((statement, values, timeout))
        return self.outcomes.pop(0)


def connected_store(outcomes: list[FakeResponseFuture], **config: Any) -> tuple[CassandraStore, FakeSession]:
    store = CassandraStore(Config(**config))
    session = FakeSession(outcomes)
    store._session = session  # type: ignore[assignment]
    return store, session


def test_classify_retries_only_transient_failures():
    assert classify(NoHostAvailable("Unable to connect to any servers", {})).retryable
    assert classify(OperationTimedOut("timed out")).retryable
    timeout = WriteTimeout("write timeout", consistency=6, required_responses=2, received_responses=1, write_type=0)
    assert classify(timeout).retryable
    invalid = classify(InvalidRequest("Keyspace 'agent360' does not exist"))
    assert not invalid.retryable
    assert invalid.dependency == "cassandra" and "does not exist" in invalid.message


def test_bridge_delivers_results_and_errors_from_driver_threads():
    async def scenario() -> tuple[Any, BaseException | None]:
        rows = await bridge(FakeResponseFuture(result=[{"k": 1}]))  # type: ignore[arg-type]
        try:
            await bridge(FakeResponseFuture(error=OperationTimedOut("slow")))  # type: ignore[arg-type]
        except OperationTimedOut as error:
            return rows, error
        return rows, None

    rows, error = asyncio.run(scenario())
    assert rows == [{"k": 1}]
    assert isinstance(error, OperationTimedOut)


def test_in_daemon_thread_runs_off_the_loop_thread():
    loop_thread = threading.get_ident()
    assert asyncio.run(in_daemon_thread(threading.get_ident)) != loop_thread


def test_not_connected_is_a_retryable_cassandra_error():
    store = CassandraStore(Config())
    with pytest.raises(DependencyError) as caught:
        asyncio.run(store.ping(0.5))
    assert caught.value.retryable and "not connected" in caught.value.message


def test_insert_uses_the_configured_consistency_and_routes_by_agent():
    store, session = connected_store([FakeResponseFuture(result=[])], cassandra_cl="ONE")
    asyncio.run(store.insert_task(TASK))
    statement, values, timeout = session.calls[0]
    assert statement.query_string.startswith("INSERT INTO agent360.tasks ")
    assert statement.consistency_level == ConsistencyLevel.ONE
    assert statement.routing_key == b"agent-1" and statement.keyspace == "agent360"
    assert values == ("agent-1", "task-1", '{"a":1}', TASK.created_at)
    assert timeout == 2.0


def test_ready_probe_reads_at_local_quorum_whatever_the_configured_level():
    store, session = connected_store([FakeResponseFuture(result=[])], cassandra_cl="ONE")
    asyncio.run(store.ping(0.7))
    statement, values, timeout = session.calls[0]
    assert statement.consistency_level == ConsistencyLevel.LOCAL_QUORUM
    assert values == ("__ready__",) and timeout == 0.7


def test_transient_failures_are_retried(monkeypatch):
    monkeypatch.setattr("agent360.retry.RetryPolicy.backoff", lambda self, attempt: 0.0)
    row = {"agent_id": "a", "task_id": "t", "payload": "[1]", "created_at": datetime(2024, 1, 1, 0, 0)}
    outcomes = [FakeResponseFuture(error=OperationTimedOut("slow")), FakeResponseFuture(result=[row])]
    store, session = connected_store(outcomes, retries=1)
    task = asyncio.run(store.get_task("a", "t"))
    assert task is not None and task.created_at.tzinfo is UTC
    assert len(session.calls) == 2


def test_weak_build_does_not_retry():
    store, session = connected_store([FakeResponseFuture(error=OperationTimedOut("slow"))], retries=0)
    with pytest.raises(DependencyError):
        asyncio.run(store.list_tasks("a", 10))
    assert len(session.calls) == 1


def test_list_passes_the_limit():
    store, session = connected_store([FakeResponseFuture(result=[])])
    assert asyncio.run(store.list_tasks("a", 7)) == []
    assert session.calls[0][1] == ("a", 7)
    assert session.calls[0][0].query_string.endswith("LIMIT %s")
