import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from agent360.config import Config
from agent360.errors import DependencyError
from agent360.redis_store import MappedSentinel, RedisStore, _describe, _guarded, build_client, translate
from agent360.tasks import Task

ADDRESS_MAP = {("10.0.0.21", 6379): ("proxy", 16379), ("10.0.0.22", 6379): ("proxy", 16380)}
TASK = Task("agent-1", "task-1", '{"a":1}', datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=UTC))


def test_translate_maps_known_addresses_and_passes_others_through():
    assert translate(("10.0.0.21", 6379), ADDRESS_MAP) == ("proxy", 16379)
    assert translate(["10.0.0.22", "6379"], ADDRESS_MAP) == ("proxy", 16380)
    assert translate(("10.0.0.99", 6379), ADDRESS_MAP) == ("10.0.0.99", 6379)


class FakeSentinelClient:
    """A Sentinel's client: reports `master` for mymaster, or fails with `error` after `delay` seconds."""

    def __init__(self, host: str, master: tuple[str, int] = ("10.0.0.22", 6379), error: Exception | None = None,
                 delay: float = 0.0, sdown: bool = False) -> None:
        self.connection_pool = SimpleNamespace(connection_kwargs={"host": host, "port": 26379})
        self.master = master
        self.error = error
        self.delay = delay
        self.sdown = sdown
        self.calls = 0

    async def sentinel_masters(self) -> dict[str, dict[str, Any]]:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        ip, port = self.master
        state = {"ip": ip, "port": port, "is_master": True, "is_sdown": self.sdown, "is_odown": False,
                 "num-other-sentinels": 2}
        return {"mymaster": state}


def sentinel_of(*clients: FakeSentinelClient) -> MappedSentinel:
    sentinel = MappedSentinel([("127.0.0.1", 26379)], ADDRESS_MAP)
    sentinel.sentinels = list(clients)  # type: ignore[arg-type]
    return sentinel


def test_discovered_master_and_replicas_are_translated(monkeypatch):
    async def replicas(self, service_name):
        return [("10.0.0.21", 6379), ("10.0.0.23", 6379)]

    monkeypatch.setattr(Sentinel, "discover_slaves", replicas)
    sentinel = sentinel_of(FakeSentinelClient("s1", master=("10.0.0.22", 6379)))
    assert asyncio.run(sentinel.discover_master("mymaster")) == ("proxy", 16380)
    assert asyncio.run(sentinel.discover_slaves("mymaster")) == [("proxy", 16379), ("10.0.0.23", 6379)]


def test_discovery_skips_an_unreachable_sentinel_and_asks_the_answering_one_first_next_time():
    dead = FakeSentinelClient("s1", error=RedisTimeoutError("Timeout connecting to server"))
    stale = FakeSentinelClient("s2", sdown=True)
    good = FakeSentinelClient("s3", master=("10.0.0.21", 6379))
    sentinel = sentinel_of(dead, stale, good)
    assert asyncio.run(sentinel.discover_master("mymaster")) == ("proxy", 16379)
    assert sentinel.sentinels[0] is good
    asyncio.run(sentinel.discover_master("mymaster"))
    assert (dead.calls, stale.calls, good.calls) == (1, 1, 2)


def test_concurrent_discoveries_keep_the_sentinel_list_whole_and_the_answering_one_in_front():
    dead = FakeSentinelClient("s1", error=RedisTimeoutError("Timeout reading from socket"), delay=0.05)
    good_b, good_c = FakeSentinelClient("s2"), FakeSentinelClient("s3")
    sentinel = sentinel_of(dead, good_b, good_c)

    async def scenario() -> None:
        await asyncio.gather(*(sentinel.discover_master("mymaster") for _ in range(6)))

    asyncio.run(scenario())
    assert sentinel.sentinels[0] is not dead
    assert sorted(map(id, sentinel.sentinels)) == sorted(map(id, (dead, good_b, good_c)))  # none lost or doubled
    calls = dead.calls
    asyncio.run(sentinel.discover_master("mymaster"))
    assert dead.calls == calls


def test_no_usable_sentinel_is_a_retryable_connection_error():
    sentinel = sentinel_of(FakeSentinelClient("s1", error=RedisConnectionError("refused")),
                           FakeSentinelClient("s2", sdown=True))
    with pytest.raises(DependencyError) as caught:
        asyncio.run(_guarded(sentinel.discover_master("mymaster")))
    assert caught.value.retryable and "sentinel s1:26379" in caught.value.message


def test_master_for_pool_resolves_to_the_proxy_and_follows_a_failover():
    reporter = FakeSentinelClient("s1", master=("10.0.0.21", 6379))
    sentinel = sentinel_of(reporter)
    pool = sentinel.master_for("mymaster").connection_pool
    assert isinstance(pool, SentinelConnectionPool)

    async def scenario() -> tuple[object, object]:
        before = await pool.get_master_address()
        reporter.master = ("10.0.0.22", 6379)
        return before, await pool.get_master_address()

    assert asyncio.run(scenario()) == (("proxy", 16379), ("proxy", 16380))
    assert pool.master_address == ("proxy", 16380)


def test_build_client_modes():
    direct, none = build_client(Config(redis_mode="direct", redis_direct=("proxy", 16381)))
    assert none is None
    kwargs = direct.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"]) == ("proxy", 16381)
    assert kwargs["retry"].get_retries() == 0
    client, sentinel = build_client(Config(sentinels=(("s1", 26379),), redis_address_map=ADDRESS_MAP))
    assert isinstance(sentinel, MappedSentinel) and sentinel.address_map == ADDRESS_MAP
    assert isinstance(client.connection_pool, SentinelConnectionPool)
    assert client.connection_pool.service_name == "mymaster"
    sentinel_kwargs = sentinel.sentinels[0].connection_pool.connection_kwargs
    assert sentinel_kwargs["socket_connect_timeout"] == sentinel_kwargs["socket_timeout"] == 0.5
    assert sentinel_kwargs["retry"].get_retries() == 0


class FakePool:
    def __init__(self) -> None:
        self.disconnects = 0

    async def disconnect(self, inuse_connections: bool = True) -> None:
        self.disconnects += 1


class FakeRedis:
    """Fails the first `failures` SETs with `error`; records every write."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or RedisConnectionError("Connection closed by server.")
        self.connection_pool = FakePool()
        self.sets: list[tuple[str, str, int]] = []
        self.xadds: list[tuple[str, dict[str, str], int, bool]] = []
        self.values: dict[str, bytes] = {}

    async def set(self, key: str, value: str, ex: int) -> bool:
        if self.failures:
            self.failures -= 1
            raise self.error
        self.sets.append((key, value, ex))
        return True

    async def xadd(self, name: str, fields: dict[str, str], maxlen: int, approximate: bool) -> bytes:
        self.xadds.append((name, fields, maxlen, approximate))
        return b"1-0"

    async def get(self, key: str) -> bytes | None:
        return self.values.get(key)

    async def aclose(self) -> None:
        pass


def store_with(fake: FakeRedis, retries: int) -> RedisStore:
    store = RedisStore(Config(redis_mode="direct", retries=retries))
    store._client = fake  # type: ignore[assignment]
    return store


def test_cache_task_sets_the_key_with_a_ttl(monkeypatch):
    fake = FakeRedis()
    asyncio.run(store_with(fake, 0).cache_task(TASK))
    key, value, ttl = fake.sets[0]
    assert key == "task:agent-1:task-1" and ttl == 3600
    assert '"payload":{"a":1}' in value and '"created_at":"2024-01-02T03:04:05.006Z"' in value


def test_connection_errors_are_retried_after_dropping_idle_connections(monkeypatch):
    monkeypatch.setattr("agent360.retry.RetryPolicy.backoff", lambda self, attempt: 0.0)
    fake = FakeRedis(failures=2)
    asyncio.run(store_with(fake, 3).cache_task(TASK))
    assert len(fake.sets) == 1
    assert fake.connection_pool.disconnects == 2


def test_weak_build_fails_on_the_first_connection_error():
    fake = FakeRedis(failures=1)
    with pytest.raises(DependencyError) as caught:
        asyncio.run(store_with(fake, 0).cache_task(TASK))
    assert caught.value.dependency == "redis" and caught.value.retryable
    assert fake.sets == []


def test_server_errors_are_not_retried():
    fake = FakeRedis(failures=1, error=ResponseError("READONLY You can't write against a read only replica."))
    with pytest.raises(DependencyError) as caught:
        asyncio.run(store_with(fake, 3).cache_task(TASK))
    assert not caught.value.retryable


def test_a_master_without_enough_replicas_is_retried_after_a_fresh_lookup(monkeypatch):
    monkeypatch.setattr("agent360.retry.RetryPolicy.backoff", lambda self, attempt: 0.0)
    fake = FakeRedis(failures=2, error=ResponseError("NOREPLICAS Not enough good replicas to write."))
    asyncio.run(store_with(fake, 3).cache_task(TASK))
    assert len(fake.sets) == 1 and fake.connection_pool.disconnects == 2


def test_append_event_writes_a_capped_stream_entry():
    fake = FakeRedis()
    asyncio.run(store_with(fake, 0).append_event(TASK, "created"))
    assert fake.xadds == [
        ("agent360:events", {"agent_id": "agent-1", "task_id": "task-1", "kind": "created"}, 100_000, True)
    ]


def test_get_task_returns_none_on_a_miss_and_rejects_garbage():
    fake = FakeRedis()
    store = store_with(fake, 0)
    assert asyncio.run(store.get_task("agent-1", "nope")) is None
    fake.values["task:agent-1:t"] = b'{"task_id": "t"}'
    assert asyncio.run(store.get_task("agent-1", "t")) == {"task_id": "t"}
    fake.values["task:agent-1:bad"] = b"not json"
    with pytest.raises(DependencyError, match="unreadable"):
        asyncio.run(store.get_task("agent-1", "bad"))


def test_sentinel_errors_are_described_without_client_reprs():
    text = (
        "No master found for 'mymaster' : <redis.asyncio.client.Redis(<redis.asyncio.connection.ConnectionPool("
        "<redis.asyncio.connection.Connection(db=0,socket_timeout=0.5,host=10.0.0.5,port=26379,x=1)>)>)>"
        " - ConnectionError()"
    )
    assert _describe(RedisConnectionError(text)) == (
        "ConnectionError: No master found for 'mymaster' : sentinel 10.0.0.5:26379 - ConnectionError()"
    )


def test_real_client_classes_are_redis():
    client, _ = build_client(Config())
    assert isinstance(client, Redis)
