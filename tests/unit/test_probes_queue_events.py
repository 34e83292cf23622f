"""Reading the queue: a run reads its own stretch of the stream, and still learns when the stream was trimmed."""

from __future__ import annotations

from typing import Any, cast

import redis

from probes.queue_events import PAGE, _read


class FakeStream:
    """XRANGE over ids "<ms>-0" with redis's min semantics: "-", "<ms>" (inclusive) and "(<id>" (exclusive)."""

    def __init__(self, entries: list[tuple[int, dict[str, str]]]) -> None:
        self.entries = [(f"{ms}-0", fields) for ms, fields in entries]
        self.calls: list[str] = []

    def xrange(self, name: str, min: str, max: str, count: int) -> list[tuple[str, dict[str, str]]]:
        self.calls.append(min)
        if min == "-":
            selected = self.entries
        elif min.startswith("("):
            after = int(min[1:].split("-")[0])
            selected = [e for e in self.entries if int(e[0].split("-")[0]) > after]
        else:
            selected = [e for e in self.entries if int(e[0].split("-")[0]) >= int(min)]
        return selected[:count]


def _created(agent: str, task: str) -> dict[str, str]:
    return {"agent_id": agent, "task_id": task, "kind": "created"}


def test_only_the_runs_stretch_is_read_and_the_oldest_entry_is_still_known() -> None:
    stream = FakeStream([(1_000, _created("old", "t0")), (50_000, _created("run", "t1")),
                         (50_001, {"agent_id": "run", "task_id": "t1", "kind": "updated"}),
                         (60_000, _created("run", "t2"))])
    contents = _read(cast(redis.Redis, stream), since_s=49.0)
    assert contents.created == {("run", "t1"), ("run", "t2")}
    assert contents.oldest_s == 1.0
    assert stream.calls == ["-", "49000"]


def test_without_a_start_every_entry_is_read_page_by_page() -> None:
    entries: list[tuple[int, Any]] = [(n, _created("a", f"t{n}")) for n in range(1, PAGE + 3)]
    stream = FakeStream(entries)
    contents = _read(cast(redis.Redis, stream), since_s=None)
    assert len(contents.created) == PAGE + 2
    assert stream.calls == ["-", "-", f"({PAGE}-0"]


def test_an_empty_stream_has_no_oldest_entry() -> None:
    contents = _read(cast(redis.Redis, FakeStream([])), since_s=10.0)
    assert contents.created == frozenset() and contents.oldest_s is None
