"""Events put back after a change of Redis master.

A master that returns mid-failover accepts appends until the Sentinels make it a replica, and that conversion
discards them (measured in the lab: 13-122 acknowledged tasks' events per run). Each replica keeps the events it
appended in the last RECONCILE_WINDOW_S and, for a while after it sees the master change, appends again on the
current master every one the stream no longer holds. Delivery becomes at least once: a consumer may see an event
twice (the copy carries `reappended`), never not at all within the window.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

RECONCILE_WINDOW_S = 30.0
PASSES_AFTER_CHANGE_S = (1.0, 3.0, 6.0, 10.0, 15.0, 22.0)
EventKey = tuple[str, str, str]


@dataclass(frozen=True)
class SentEvent:
    at: float
    fields: dict[str, str]

    @property
    def key(self) -> EventKey:
        return event_key(self.fields)


def event_key(fields: dict[str, str]) -> EventKey:
    return fields.get("agent_id", ""), fields.get("task_id", ""), fields.get("kind", "")


class RecentEvents:
    """The events this replica appended in the last `window_s` seconds, oldest first."""

    def __init__(self, window_s: float = RECONCILE_WINDOW_S, clock: Callable[[], float] = time.time) -> None:
        self._window_s, self._clock = window_s, clock
        self._events: deque[SentEvent] = deque()

    def add(self, fields: dict[str, str]) -> None:
        self._events.append(SentEvent(self._clock(), dict(fields)))
        self._prune()

    def current(self) -> list[SentEvent]:
        self._prune()
        return list(self._events)

    def _prune(self) -> None:
        oldest = self._clock() - self._window_s
        while self._events and self._events[0].at < oldest:
            self._events.popleft()


def missing(sent: Iterable[SentEvent], present: set[EventKey]) -> list[SentEvent]:
    """The sent events the stream does not hold, each once."""
    seen: set[EventKey] = set()
    result = []
    for event in sent:
        if event.key not in present and event.key not in seen:
            seen.add(event.key)
            result.append(event)
    return result
