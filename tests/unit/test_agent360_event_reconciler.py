"""Events a returning master discarded are appended again after a change of master, each once."""

from __future__ import annotations

import asyncio
from typing import Any

from agent360.config import Config
from agent360.event_reconciler import RecentEvents, SentEvent, missing
from agent360.redis_store import RedisStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _fields(task: str, kind: str = "created") -> dict[str, str]:
    return {"agent_id": "agent-1", "task_id": task, "kind": kind}


def test_recent_events_keep_only_the_window() -> None:
    clock = Clock()
    recent = RecentEvents(window_s=30, clock=clock)
    recent.add(_fields("t1"))
    clock.now += 20
    recent.add(_fields("t2"))
    clock.now += 15
    assert [event.fields["task_id"] for event in recent.current()] == ["t2"]


def test_missing_events_are_those_the_stream_lacks_each_once() -> None:
    sent = [SentEvent(1.0, _fields("t1")), SentEvent(2.0, _fields("t2")), SentEvent(3.0, _fields("t2")),
            SentEvent(4.0, _fields("t1", "updated"))]
    lost = missing(sent, {("agent-1", "t1", "created")})
    assert [(e.fields["task_id"], e.fields["kind"]) for e in lost] == [("t2", "created"), ("t1", "updated")]


class StreamRedis:
    """A stream on a master that lost some of what it acknowledged (ids "<ms>-0", bytes as redis returns them)."""

    def __init__(self, kept: list[tuple[int, dict[str, str]]]) -> None:
        self.entries = [(f"{ms}-0".encode(), {k.encode(): v.encode() for k, v in f.items()}) for ms, f in kept]
        self.appended: list[dict[str, str]] = []
        self.ranges: list[str] = []

    async def xadd(self, name: str, fields: dict[str, str], maxlen: int, approximate: bool) -> bytes:
        self.appended.append(fields)
        return b"9-0"

    async def xrange(self, name: str, min: str, max: str, count: int) -> list[Any]:
        self.ranges.append(min)
        return [e for e in self.entries if int(e[0].split(b"-")[0]) >= int(min)][:count]


def _store(fake: StreamRedis, recent: RecentEvents) -> RedisStore:
    store = RedisStore(Config(redis_mode="direct", retries=0))
    store._client = fake  # type: ignore[assignment]
    store._recent = recent
    return store


def test_reconcile_appends_again_only_what_the_current_master_lacks_and_marks_it() -> None:
    clock = Clock()
    recent = RecentEvents(window_s=30, clock=clock)
    for task in ("t1", "t2", "t3"):
        recent.add(_fields(task))
    fake = StreamRedis([(999_500, _fields("old")), (1_000_000, _fields("t1")), (1_000_001, _fields("t3"))])
    assert asyncio.run(_store(fake, recent).reconcile_events()) == 1
    assert fake.appended == [{**_fields("t2"), "reappended": "1"}]
    assert fake.ranges == ["999000"]


def test_nothing_recent_reads_nothing() -> None:
    fake = StreamRedis([])
    assert asyncio.run(_store(fake, RecentEvents(clock=Clock())).reconcile_events()) == 0
    assert fake.ranges == [] and fake.appended == []


def test_reconciliation_is_on_by_default_and_can_be_turned_off() -> None:
    assert Config.from_env({}).event_reconcile == "after-failover"
    assert Config.from_env({"AGENT360_EVENT_RECONCILE": "off"}).event_reconcile == "off"


def test_a_replica_closed_while_reconciling_makes_one_last_pass_first() -> None:
    clock = Clock()
    recent = RecentEvents(window_s=30, clock=clock)
    recent.add(_fields("t1"))
    fake = StreamRedis([])

    async def close_during_the_passes() -> None:
        store = _store(fake, recent)
        store._start_reconciling()
        await asyncio.sleep(0)
        await store.close()

    asyncio.run(close_during_the_passes())
    assert fake.appended == [{**_fields("t1"), "reappended": "1"}]


def test_a_replica_closed_with_no_master_change_appends_nothing() -> None:
    recent = RecentEvents(window_s=30, clock=Clock())
    recent.add(_fields("t1"))
    fake = StreamRedis([])
    asyncio.run(_store(fake, recent).close())
    assert fake.appended == [] and fake.ranges == []
