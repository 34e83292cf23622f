"""Redis access: the task cache and the event stream, through Sentinel (or one fixed address)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import MasterNotFoundError, Sentinel, SentinelConnectionPool
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from agent360.config import Address, Config, retry_policy
from agent360.errors import DependencyError
from agent360.event_reconciler import PASSES_AFTER_CHANGE_S, RecentEvents, event_key, missing
from agent360.metrics import EVENTS_REAPPENDED
from agent360.retry import run_once, with_retries
from agent360.tasks import Task, cache_key

log = logging.getLogger(__name__)

T = TypeVar("T")
DEPENDENCY = "redis"
STREAM = "agent360:events"
STREAM_MAXLEN = 100_000
LAST_RECONCILE_TIMEOUTS = 3
TASK_TTL_S = 3600
SENTINEL_TIMEOUT_S = 0.5
CACHE_READ_TIMEOUT_CAP_S = 0.5
MASTER_WATCH_INTERVAL_S = 1.0
TRANSITION_REPLIES = ("NOREPLICAS", "MASTERDOWN")
STREAM_CLOCK_SLACK_S = 1.0  # an entry id is the master's clock when it appended; ours noted it just after
RECONCILE_PAGE = 5000
MASTER_PING_RECENT_MS = 2000  # Sentinel pings every second: a healthy master's last reply is up to ~1 s old


def translate(address: Sequence[Any], address_map: Mapping[Address, Address]) -> Address:
    """Where to connect for a node that Sentinel reports at `address` (unmapped: as reported)."""
    reported = (str(address[0]), int(address[1]))
    return address_map.get(reported, reported)


class MappedSentinel(Sentinel):
    """A Sentinel whose reported master and replica addresses go through an address map (Toxiproxy)."""

    def __init__(self, sentinels: Sequence[Address], address_map: Mapping[Address, Address], **kwargs: Any) -> None:
        super().__init__(sentinels, **kwargs)
        self.address_map = address_map

    async def discover_master(self, service_name: str) -> Address:
        """Ask the Sentinels in turn (an unreachable one costs its short socket timeout, then the next is asked).

        The Sentinel that answered moves to the front, so the next discovery asks it first. redis-py swaps list
        positions found before its awaits instead: under concurrent discoveries (every new connection and the
        master watcher) that drops or doubles Sentinels, and can leave an unreachable one in front.
        """
        errors: list[str] = []
        for sentinel in list(self.sentinels):
            try:
                masters = cast(dict[str, Any], await sentinel.sentinel_masters())
            except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                where = sentinel.connection_pool.connection_kwargs
                errors.append(f"sentinel {where.get('host')}:{where.get('port')}: {_describe(error)}")
                continue
            state = masters.get(service_name)
            if state and self.check_master_state(state, service_name):
                if self.sentinels[0] is not sentinel:
                    self.sentinels.remove(sentinel)
                    self.sentinels.insert(0, sentinel)
                return translate((state["ip"], state["port"]), self.address_map)
        raise MasterNotFoundError(f"No master found for {service_name!r}: {'; '.join(errors) or 'none usable'}")

    async def discover_slaves(self, service_name: str) -> list[Address]:
        return [translate(a, self.address_map) for a in await super().discover_slaves(service_name)]


def _no_retry() -> Retry:
    """redis-py's own retries are off: the service retries on its own terms (AGENT360_RETRIES)."""
    return Retry(NoBackoff(), 0)


def _socket_kwargs(timeout: float) -> dict[str, Any]:
    return {"socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": _no_retry()}


def build_client(config: Config) -> tuple[Redis, MappedSentinel | None]:
    """The master client; in sentinel mode it re-resolves the master on every new connection."""
    kwargs = _socket_kwargs(config.request_timeout)
    if config.redis_mode == "direct":
        host, port = config.redis_direct
        return Redis(host=host, port=port, **kwargs), None
    sentinel = MappedSentinel(
        config.sentinels, config.redis_address_map, sentinel_kwargs=_socket_kwargs(SENTINEL_TIMEOUT_S)
    )
    return sentinel.master_for(config.redis_master_name, **kwargs), sentinel


async def _guarded(awaitable: Awaitable[T]) -> T:
    """Await a redis-py call, turning its failures into DependencyErrors."""
    try:
        return await awaitable
    except (RedisConnectionError, RedisTimeoutError, OSError) as error:
        raise DependencyError(DEPENDENCY, _describe(error), retryable=True) from error
    except RedisError as error:
        raise DependencyError(DEPENDENCY, _describe(error), retryable=_master_in_transition(error)) from error


def _master_in_transition(error: RedisError) -> bool:
    """A refusal that passes with the failover: NOREPLICAS (a master configured with min-replicas-to-write, without
    enough replicas yet) or MASTERDOWN (a replica whose link to its master is down). The next attempt, through a
    fresh Sentinel lookup, may reach the new master."""
    return str(error).startswith(TRANSITION_REPLIES)


_CLIENT_REPR = re.compile(r"<redis\.asyncio\.client\.Redis\(.*?,host=([^,]+),port=(\d+),.*?\)>\)>\)>")
MAX_MESSAGE = 400


def _describe(error: BaseException) -> str:
    """The error in one short line (Sentinel errors embed whole client reprs: keep only host:port)."""
    text = _CLIENT_REPR.sub(r"sentinel \1:\2", str(error))
    return (f"{type(error).__name__}: {text}" if text else type(error).__name__)[:MAX_MESSAGE]


class RedisStore:
    def __init__(self, config: Config) -> None:
        self._config = config
        self._policy = retry_policy(config)
        self._client, self._sentinel = build_client(config)
        self._watcher: asyncio.Task[None] | None = None
        self._recent = RecentEvents()
        self._reconciler: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._sentinel is not None:
            self._watcher = asyncio.create_task(self._watch_master(), name="redis-master-watch")

    async def close(self) -> None:
        reconciling = self._reconciler is not None and not self._reconciler.done()
        for task in (self._watcher, self._reconciler):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if reconciling:
            await self._last_reconcile()
        with contextlib.suppress(Exception):
            await self._client.aclose()
        if self._sentinel is not None:
            for client in self._sentinel.sentinels:
                with contextlib.suppress(Exception):
                    await client.aclose()

    async def ping(self, timeout: float) -> None:
        await run_once(DEPENDENCY, timeout, lambda: _guarded(self._client.ping()))

    async def master_answers_sentinels(self, timeout: float) -> bool:
        """The first Sentinel that answers decides: the master not down in its view and its last ping reply recent."""
        if self._sentinel is None:
            return False
        for sentinel in list(self._sentinel.sentinels):
            try:
                masters = cast(dict[str, Any], await asyncio.wait_for(sentinel.sentinel_masters(), timeout))
            except (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError):
                continue
            state = masters.get(self._config.redis_master_name)
            if state is not None:
                recent = int(state.get("last-ok-ping-reply", MASTER_PING_RECENT_MS + 1)) <= MASTER_PING_RECENT_MS
                return recent and not state.get("is_sdown") and not state.get("is_odown")
        return False

    async def cache_task(self, task: Task) -> None:
        value = json.dumps(task.to_json(), separators=(",", ":"), ensure_ascii=False)
        key = cache_key(task.agent_id, task.task_id)
        await self._retrying(lambda: _guarded(self._client.set(key, value, ex=TASK_TTL_S)))

    async def append_event(self, task: Task, kind: str) -> None:
        fields = {"agent_id": task.agent_id, "task_id": task.task_id, "kind": kind}
        await self._append(fields)
        self._recent.add(fields)

    async def _append(self, fields: dict[str, str]) -> None:
        entry: dict[Any, Any] = dict(fields)
        await self._retrying(
            lambda: _guarded(self._client.xadd(STREAM, entry, maxlen=STREAM_MAXLEN, approximate=True))
        )

    async def reconcile_events(self) -> int:
        """Append again, on the current master, every recent event of this replica the stream no longer holds."""
        sent = self._recent.current()
        if not sent:
            return 0
        since_ms = str(int((sent[0].at - STREAM_CLOCK_SLACK_S) * 1000))
        present = await self._stream_keys(since_ms)
        lost = missing(sent, present)
        for event in lost:
            await self._append({**event.fields, "reappended": "1"})
        if lost:
            EVENTS_REAPPENDED.inc(len(lost))
            log.warning("redis: %d recent events were missing from the stream after a master change; appended again",
                        len(lost))
        return len(lost)

    async def _last_reconcile(self) -> None:
        """A replica stopped during the passes after a master change (a rolling update) makes one more before it
        goes: no other replica holds its recent events."""
        try:
            await asyncio.wait_for(self.reconcile_events(), self._config.request_timeout * LAST_RECONCILE_TIMEOUTS)
        except Exception as error:
            log.warning("redis: last event reconciliation before shutdown failed: %s", _describe(error))

    async def _stream_keys(self, since_ms: str) -> set[tuple[str, str, str]]:
        keys: set[tuple[str, str, str]] = set()
        start = since_ms
        while True:
            page = await self._stream_page(start)
            keys.update(event_key(_text_fields(fields)) for _, fields in page)
            if len(page) < RECONCILE_PAGE:
                return keys
            start = "(" + _text(page[-1][0])

    async def _stream_page(self, start: str) -> list[tuple[Any, dict[Any, Any]]]:
        read = self._client.xrange(STREAM, min=start, max="+", count=RECONCILE_PAGE)
        return cast(list[tuple[Any, dict[Any, Any]]], await run_once(DEPENDENCY, self._config.request_timeout,
                                                                      lambda: _guarded(read)))

    async def get_task(self, agent_id: str, task_id: str) -> dict[str, Any] | None:
        """One short attempt: on a miss or an error the caller reads Cassandra instead."""
        timeout = min(self._config.request_timeout, CACHE_READ_TIMEOUT_CAP_S)
        key = cache_key(agent_id, task_id)
        raw = await run_once(DEPENDENCY, timeout, lambda: _guarded(self._client.get(key)))
        if raw is None:
            return None
        try:
            return cast(dict[str, Any], json.loads(raw))
        except ValueError:
            raise DependencyError(DEPENDENCY, f"unreadable cache entry {key}") from None

    async def _retrying(self, operation: Callable[[], Awaitable[Any]]) -> None:
        await with_retries(DEPENDENCY, self._policy, operation, on_retry=self._drop_idle_connections)

    async def _drop_idle_connections(self) -> None:
        """Pooled connections may point at a dead or demoted master: make the retry connect afresh."""
        with contextlib.suppress(Exception):
            await self._client.connection_pool.disconnect(inuse_connections=False)

    async def _watch_master(self) -> None:
        """Ask Sentinel for the master every second, so connections to a demoted one are dropped early; after each
        change, reconcile the recent events."""
        pool = cast(SentinelConnectionPool, self._client.connection_pool)
        known: Any = None
        while True:
            await asyncio.sleep(MASTER_WATCH_INTERVAL_S)
            try:
                async with asyncio.timeout(self._config.request_timeout):
                    address = await pool.get_master_address()
            except Exception as error:  # the next request reports it; this loop must live on
                log.debug("redis master watch: %s", _describe(error))
                continue
            if known is not None and address != known and self._config.event_reconcile == "after-failover":
                self._start_reconciling()
            known = address

    def _start_reconciling(self) -> None:
        if self._reconciler is not None:
            self._reconciler.cancel()
        self._reconciler = asyncio.create_task(self._reconcile_passes(), name="redis-event-reconcile")

    async def _reconcile_passes(self) -> None:
        """Several passes: the Sentinels may name the new master before the old one is converted (and its writes
        discarded), and replicas asking different Sentinels switch at different times."""
        started = time.monotonic()
        for offset in PASSES_AFTER_CHANGE_S:
            await asyncio.sleep(max(0.0, started + offset - time.monotonic()))
            try:
                await self.reconcile_events()
            except Exception as error:  # a later pass tries again
                log.warning("redis: event reconciliation failed: %s", _describe(error))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _text_fields(fields: dict[Any, Any]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in fields.items()}
