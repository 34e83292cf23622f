"""Cassandra access: the tasks table, with driver futures bridged into asyncio."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from cassandra import ConsistencyLevel, OperationTimedOut, Timeout, Unavailable
from cassandra.cluster import Cluster, NoHostAvailable, ResponseFuture, Session
from cassandra.connection import ConnectionBusy, ConnectionException
from cassandra.policies import (
    ConstantSpeculativeExecutionPolicy,
    FallthroughRetryPolicy,
    RetryPolicy,
    SpeculativeExecutionPolicy,
)
from cassandra.protocol import IsBootstrappingErrorMessage, OverloadedErrorMessage
from cassandra.query import SimpleStatement

from agent360.cassandra_endpoints import build_cluster
from agent360.config import Config, retry_policy
from agent360.errors import DependencyError
from agent360.retry import run_once, with_retries
from agent360.tasks import Task, as_utc

log = logging.getLogger(__name__)

T = TypeVar("T")
DEPENDENCY = "cassandra"
CONNECT_RETRY_INTERVAL_S = 1.0
SHUTDOWN_TIMEOUT_S = 5.0
READY_AGENT_ID = "__ready__"
SPECULATIVE_DELAY_S = 0.4  # above a healthy reply even with 300 ms of injected latency; 3 coordinators within 1 s
SPECULATIVE_EXECUTIONS = 2
DRIVER_LOGGERS = ("cassandra.cluster", "cassandra.connection", "cassandra.pool")
_RETRYABLE = (
    NoHostAvailable,
    OperationTimedOut,
    Unavailable,
    Timeout,
    ConnectionException,
    ConnectionBusy,
    OverloadedErrorMessage,
    IsBootstrappingErrorMessage,
)


def classify(error: BaseException) -> DependencyError:
    """Connection errors, timeouts and unavailable replicas are worth a retry; anything else is not."""
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return DependencyError(DEPENDENCY, text[:500], retryable=isinstance(error, _RETRYABLE))


def bridge(response_future: ResponseFuture) -> asyncio.Future[Any]:
    """An asyncio future settled from the driver's callback threads."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def post(ok: bool, value: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            loop.call_soon_threadsafe(settle, ok, value)

    response_future.add_callbacks(lambda rows: post(True, rows), lambda error: post(False, error))
    return future


async def in_daemon_thread(function: Callable[[], T]) -> T:
    """Run blocking driver code off the loop, in a thread that never holds up process exit."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            outcome: tuple[T | None, BaseException | None] = (function(), None)
        except BaseException as error:
            outcome = (None, error)
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=run, name="agent360-cassandra", daemon=True).start()
    return await future


class NextHostRetryPolicy(RetryPolicy):
    """Retry a coordinator's timeout or Unavailable once, on the next host of the query plan.

    The coordinator may hold a stale view of the ring (a node just back from a partition) while the others can
    serve the request. Write timeouts are retried only for idempotent statements; request errors (connection
    lost, overloaded, bootstrapping) go to the next host as in the driver's default policy.
    """

    def on_read_timeout(self, query: Any, consistency: int, required_responses: int, received_responses: int,
                        data_retrieved: bool, retry_num: int) -> tuple[int, int | None]:
        return self._next_host(retry_num)

    def on_write_timeout(self, query: Any, consistency: int, write_type: int, required_responses: int,
                         received_responses: int, retry_num: int) -> tuple[int, int | None]:
        return self._next_host(retry_num) if query.is_idempotent else (self.RETHROW, None)

    def on_unavailable(self, query: Any, consistency: int, required_replicas: int, alive_replicas: int,
                       retry_num: int) -> tuple[int, int | None]:
        return self._next_host(retry_num)

    def _next_host(self, retry_num: int) -> tuple[int, int | None]:
        return (self.RETRY_NEXT_HOST, None) if retry_num == 0 else (self.RETHROW, None)


def driver_policies(retries: int) -> tuple[RetryPolicy, SpeculativeExecutionPolicy | None]:
    """Resilient build: hedge a slow coordinator on another replica and retry a failed one on the next host.

    The weak build (`retries == 0`) does neither: the driver gives every failure straight back.
    """
    if retries == 0:
        return FallthroughRetryPolicy(), None
    return NextHostRetryPolicy(), ConstantSpeculativeExecutionPolicy(SPECULATIVE_DELAY_S, SPECULATIVE_EXECUTIONS)


def cluster_for(config: Config) -> Cluster:
    """The service's unconnected Cluster."""
    retry_policy, speculative_policy = driver_policies(config.retries)
    return build_cluster(
        config.cassandra_address_map,
        config.cassandra_dc,
        config.cassandra_contact_points,
        consistency=config.cassandra_cl,
        request_timeout=config.request_timeout,
        retry_policy=retry_policy,
        speculative_policy=speculative_policy,
    )


class _Mute(logging.Filter):
    """Drops the driver's per-attempt tracebacks while the first connect keeps failing (logged here instead)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


def _row_to_task(row: dict[str, Any]) -> Task:
    return Task(row["agent_id"], row["task_id"], row["payload"], as_utc(row["created_at"]))


class CassandraStore:
    def __init__(self, config: Config) -> None:
        self._config = config
        self._policy = retry_policy(config)
        self._consistency = ConsistencyLevel.name_to_value[config.cassandra_cl]
        self._cluster: Cluster | None = None
        self._session: Session | None = None
        self._last_error = "not connected yet"
        self._closing = False
        self._connector: asyncio.Task[None] | None = None
        table = f"{config.cassandra_keyspace}.tasks"
        self._insert_cql = f"INSERT INTO {table} (agent_id, task_id, payload, created_at) VALUES (%s, %s, %s, %s)"
        self._get_cql = f"SELECT agent_id, task_id, payload, created_at FROM {table} WHERE agent_id=%s AND task_id=%s"
        self._list_cql = f"SELECT agent_id, task_id, payload, created_at FROM {table} WHERE agent_id=%s LIMIT %s"
        self._ready_cql = f"SELECT task_id FROM {table} WHERE agent_id=%s LIMIT 1"

    @property
    def connected(self) -> bool:
        return self._session is not None

    async def start(self) -> None:
        self._connector = asyncio.create_task(self._connect_until_done(), name="cassandra-connect")

    async def close(self) -> None:
        self._closing = True
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        cluster, self._cluster, self._session = self._cluster, None, None
        if cluster is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(in_daemon_thread(cluster.shutdown), SHUTDOWN_TIMEOUT_S)

    async def ping(self, timeout: float) -> None:
        """The readiness probe: one LOCAL_QUORUM read of the tasks table within `timeout`.

        In the resilient build the driver hedges it on the other replicas, so one hung coordinator (a node
        partitioned away but not yet marked down) does not make every replica of the service unready at once.
        """
        statement = self._statement(self._ready_cql, READY_AGENT_ID, ConsistencyLevel.LOCAL_QUORUM)
        await run_once(DEPENDENCY, timeout, lambda: self._execute(statement, (READY_AGENT_ID,), timeout))

    async def insert_task(self, task: Task) -> None:
        statement = self._statement(self._insert_cql, task.agent_id)
        values = (task.agent_id, task.task_id, task.payload, task.created_at)
        await self._retrying(lambda: self._execute(statement, values))

    async def get_task(self, agent_id: str, task_id: str) -> Task | None:
        statement = self._statement(self._get_cql, agent_id)
        rows = await self._retrying(lambda: self._execute(statement, (agent_id, task_id)))
        return _row_to_task(rows[0]) if rows else None

    async def list_tasks(self, agent_id: str, limit: int) -> list[Task]:
        statement = self._statement(self._list_cql, agent_id)
        rows = await self._retrying(lambda: self._execute(statement, (agent_id, limit)))
        return [_row_to_task(row) for row in rows]

    def _statement(self, cql: str, agent_id: str, consistency: int | None = None) -> SimpleStatement:
        """A statement the token-aware policy can route: the partition key is the agent id.

        Idempotent, so the driver may hedge and retry it: reads are, and the insert writes a client-supplied key
        with the same values (and the same client timestamp) however often it runs.
        """
        statement = SimpleStatement(
            cql,
            consistency_level=self._consistency if consistency is None else consistency,
            keyspace=self._config.cassandra_keyspace,
            is_idempotent=True,
        )
        statement.routing_key = agent_id.encode()
        return statement

    async def _retrying(self, operation: Callable[[], Any]) -> Any:
        return await with_retries(DEPENDENCY, self._policy, operation)

    async def _execute(self, statement: SimpleStatement, values: tuple[Any, ...], timeout: float | None = None) -> Any:
        session = self._session
        if session is None:
            raise DependencyError(DEPENDENCY, f"not connected: {self._last_error}", retryable=True)
        try:
            future = session.execute_async(statement, values, timeout=timeout or self._config.request_timeout)
            return await bridge(future)
        except Exception as error:
            raise classify(error) from error

    async def _connect_until_done(self) -> None:
        """Retry the first connect every second; once connected the driver reconnects by itself."""
        mute = _Mute()
        for name in DRIVER_LOGGERS:
            logging.getLogger(name).addFilter(mute)
        try:
            await self._connect_loop()
        finally:
            for name in DRIVER_LOGGERS:
                logging.getLogger(name).removeFilter(mute)

    async def _connect_loop(self) -> None:
        while self._session is None and not self._closing:
            try:
                self._cluster, self._session = await in_daemon_thread(self._connect)
            except Exception as error:
                message = classify(error).message
                if message != self._last_error:
                    log.warning("cassandra connect failed (retrying every %.0fs): %s",
                                CONNECT_RETRY_INTERVAL_S, message)
                self._last_error = message
                await asyncio.sleep(CONNECT_RETRY_INTERVAL_S)
            else:
                log.info("cassandra connected")

    def _connect(self) -> tuple[Cluster, Session]:
        cluster = cluster_for(self._config)
        try:
            session = cluster.connect()
        except BaseException:
            cluster.shutdown()
            raise
        if self._closing:
            cluster.shutdown()
            raise RuntimeError("closing")
        return cluster, session
