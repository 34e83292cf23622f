import asyncio
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from cassandra import ConsistencyLevel, InvalidRequest, OperationTimedOut, WriteTimeout
from cassandra.cluster import EXEC_PROFILE_DEFAULT, ExecutionProfile, NoHostAvailable
from cassandra.policies import (
    ConstantSpeculativeExecutionPolicy,
    FallthroughRetryPolicy,
    NoSpeculativeExecutionPolicy,
    RetryPolicy,
    WriteType,
)
from cassandra.query import SimpleStatement

from agent360.cassandra_store import (
    CassandraStore,
    NextHostRetryPolicy,
    bridge,
    classify,
    cluster_for,
    in_daemon_thread,
)
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


def default_profile(config: Config) -> ExecutionProfile:
    cluster = cluster_for(config)
    try:
        return cluster.profile_manager.profiles[EXEC_PROFILE_DEFAULT]
    finally:
        cluster.shutdown()


def test_resilient_build_hedges_a_slow_coordinator_and_retries_on_the_next_host():
    profile = default_profile(Config())
    assert isinstance(profile.retry_policy, NextHostRetryPolicy)
    speculative = profile.speculative_execution_policy
    assert isinstance(speculative, ConstantSpeculativeExecutionPolicy)
    plan = speculative.new_plan("agent360", None)
    assert [plan.next_execution(None) for _ in range(3)] == [0.4, 0.4, -1]  # two hedges within a 1 s probe
    assert profile.load_balancing_policy.shuffle_replicas


def test_weak_build_has_neither_driver_retries_nor_hedging():
    profile = default_profile(Config(retries=0))
    assert isinstance(profile.retry_policy, FallthroughRetryPolicy)
    assert isinstance(profile.speculative_execution_policy, NoSpeculativeExecutionPolicy)


def test_next_host_retry_policy_moves_on_once():
    policy = NextHostRetryPolicy()
    idempotent = SimpleStatement("INSERT", is_idempotent=True)
    other = SimpleStatement("UPDATE")
    local_quorum = ConsistencyLevel.LOCAL_QUORUM
    assert policy.on_unavailable(idempotent, local_quorum, 2, 1, retry_num=0) == (RetryPolicy.RETRY_NEXT_HOST, None)
    assert policy.on_unavailable(idempotent, local_quorum, 2, 1, retry_num=1) == (RetryPolicy.RETHROW, None)
    read = policy.on_read_timeout(idempotent, local_quorum, 2, 1, False, retry_num=0)
    assert read == (RetryPolicy.RETRY_NEXT_HOST, None)
    assert policy.on_read_timeout(idempotent, local_quorum, 2, 1, True, retry_num=1) == (RetryPolicy.RETHROW, None)
    write = policy.on_write_timeout(idempotent, local_quorum, WriteType.SIMPLE, 2, 1, retry_num=0)
    assert write == (RetryPolicy.RETRY_NEXT_HOST, None)
    write = policy.on_write_timeout(other, local_quorum, WriteType.SIMPLE, 2, 1, retry_num=0)
    assert write == (RetryPolicy.RETHROW, None)
    assert policy.on_request_error(idempotent, local_quorum, OSError(), retry_num=0)[0] == RetryPolicy.RETRY_NEXT_HOST


def test_every_statement_is_idempotent_so_the_driver_may_hedge_it():
    row = {"agent_id": "a", "task_id": "t", "payload": "[1]", "created_at": datetime(2024, 1, 1, 0, 0)}
    outcomes = [FakeResponseFuture(result=[]), FakeResponseFuture(result=[row]),
                FakeResponseFuture(result=[]), FakeResponseFuture(result=[])]
    store, session = connected_store(outcomes)

    async def scenario() -> None:
        await store.insert_task(TASK)
        await store.get_task("a", "t")
        await store.list_tasks("a", 5)
        await store.ping(1.0)

    asyncio.run(scenario())
    assert len(session.calls) == 4
    assert all(statement.is_idempotent for statement, _, _ in session.calls)
