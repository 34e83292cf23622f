"""Acknowledged-write loss as set arithmetic: lost = acknowledged - read back after heal, changed = read back with
another payload than the one sent. "Read back" means present in the system of record (probes/stored_tasks.py).

A write is identified by (agent_id, task_id); the load generator chooses the task id, so it is known even when no
answer came back. Each create is one of:

- acknowledged: the service answered 2xx (it answers 201) — it must be readable after the heal;
- unknown outcome: no answer (status 0: timeout, reset, other transport error), or a 5xx (the service may have
  written Cassandra before a later step failed) — never counted as lost, never as acknowledged;
- not applied: a 4xx, or connection refused (the request was never sent).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from kernel.verdict import Judgement, Verdict

WriteKey = tuple[str, str]  # (agent_id, task_id)

# Errors after which a create may have been applied although it was not acknowledged.
UNKNOWN_OUTCOME_ERRORS: frozenset[str] = frozenset({"timeout", "connection_reset", "cancelled", "other"})
# Errors that prove the request never reached the service.
NOT_SENT_ERRORS: frozenset[str] = frozenset({"connection_refused"})


class WriteLike(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def ok(self) -> bool: ...

    @property
    def status(self) -> int: ...

    @property
    def error(self) -> str | None: ...

    @property
    def task_id(self) -> str | None: ...

    @property
    def agent_id(self) -> str | None: ...


def _key(request: WriteLike) -> WriteKey | None:
    if request.kind != "create" or request.agent_id is None or request.task_id is None:
        return None
    return request.agent_id, request.task_id


def is_acknowledged(request: WriteLike) -> bool:
    return _key(request) is not None and request.ok and 200 <= request.status < 300


def is_outcome_unknown(request: WriteLike) -> bool:
    if _key(request) is None or is_acknowledged(request) or request.error in NOT_SENT_ERRORS:
        return False
    return request.status == 0 or request.status >= 500 or request.error in UNKNOWN_OUTCOME_ERRORS


def acknowledged_writes(requests: Iterable[WriteLike]) -> set[WriteKey]:
    """(agent_id, task_id) of every create the service acknowledged."""
    return {key for r in requests if is_acknowledged(r) and (key := _key(r)) is not None}


def unknown_writes(requests: Iterable[WriteLike]) -> set[WriteKey]:
    """(agent_id, task_id) of creates whose outcome is unknown, minus any key acknowledged by another attempt."""
    requests = list(requests)
    unknown = {key for r in requests if is_outcome_unknown(r) and (key := _key(r)) is not None}
    return unknown - acknowledged_writes(requests)


def lost_writes(acknowledged: set[WriteKey], read_back: set[WriteKey]) -> set[WriteKey]:
    """Acknowledged writes that could not be read back after the heal."""
    return set(acknowledged) - set(read_back)


def judge_lost_writes(
    acknowledged: set[WriteKey], read_back: set[WriteKey], unknown: set[WriteKey] | None = None,
    changed: set[WriteKey] | None = None,
) -> Judgement:
    """FAIL on any lost or changed acknowledged write; UNKNOWN when nothing was acknowledged; unknown writes never
    count."""
    unknown = set(unknown or ()) - set(acknowledged)
    objective = "no acknowledged write lost or changed"
    name = "lost acknowledged writes"
    if not acknowledged:
        return Judgement(name, objective, None, 0.0, "count", Verdict.UNKNOWN,
                         f"no acknowledged writes to check ({len(unknown)} with unknown outcome)")
    lost = lost_writes(acknowledged, read_back)
    changed = set(changed or ()) & set(acknowledged) - lost
    parts = [
        f"{len(acknowledged)} acknowledged, {len(acknowledged) - len(lost)} read back, {len(lost)} lost, "
        f"{len(changed)} changed",
        f"{len(unknown)} unknown outcome ({len(unknown & read_back)} of them present)",
    ]
    stray = set(read_back) - set(acknowledged) - unknown
    if stray:
        parts.append(f"{len(stray)} read back although neither acknowledged nor of unknown outcome")
    for label, keys in (("lost", lost), ("changed", changed)):
        if keys:
            parts.append(f"{label} e.g. " + ", ".join(f"{agent}/{task}" for agent, task in sorted(keys)[:3]))
    bad = len(lost) + len(changed)
    return Judgement(name, objective, float(bad), 0.0, "count", Verdict.FAIL if bad else Verdict.PASS, "; ".join(parts))


def judge_lost_events(acknowledged: set[WriteKey], events: set[WriteKey], unknown: set[WriteKey] | None = None,
                      trimmed: bool = False) -> Judgement:
    """FAIL when an acknowledged write has no "created" event in the queue; events of the run's agents with neither
    an acknowledged nor an unknown-outcome create are reported. UNKNOWN when nothing was acknowledged or the
    stream was trimmed past the run's first acknowledged write."""
    name, objective = "queue events", "every acknowledged write has its event"
    if not acknowledged:
        return Judgement(name, objective, None, 0.0, "count", Verdict.UNKNOWN, "no acknowledged writes to check")
    if trimmed:
        return Judgement(name, objective, None, 0.0, "count", Verdict.UNKNOWN,
                         "the stream was trimmed past the run's first acknowledged write")
    missing = set(acknowledged) - set(events)
    agents = {agent for agent, _ in acknowledged}
    stray = {key for key in events if key[0] in agents} - set(acknowledged) - set(unknown or ())
    parts = [f"{len(acknowledged)} acknowledged, {len(missing)} without an event"]
    if stray:
        parts.append(f"{len(stray)} events of no acknowledged or unknown-outcome write")
    if missing:
        parts.append("e.g. " + ", ".join(f"{agent}/{task}" for agent, task in sorted(missing)[:3]))
    return Judgement(name, objective, float(len(missing)), 0.0, "count", Verdict.FAIL if missing else Verdict.PASS,
                     "; ".join(parts))


class ReadLike(WriteLike, Protocol):
    @property
    def t(self) -> float: ...


def judge_read_your_writes(requests: Iterable[ReadLike]) -> Judgement:
    """FAIL on any read of an acknowledged task answered 404 (the load only reads tasks it was acknowledged for):
    the service's own read path lost or hid a write it confirmed. UNKNOWN without reads."""
    requests = list(requests)
    reads = [r for r in requests if r.kind == "read"]
    name, objective = "read your writes", "no acknowledged task answered 404"
    if not reads:
        return Judgement(name, objective, None, 0.0, "count", Verdict.UNKNOWN, "no reads of acknowledged tasks")
    missing = sorted((r for r in reads if r.status == 404), key=lambda r: r.t)
    detail = f"{len(reads)} reads of acknowledged tasks, {len(missing)} answered 404"
    if missing:
        detail += f"; first {missing[0].agent_id}/{missing[0].task_id}"
    return Judgement(name, objective, float(len(missing)), 0.0, "count", Verdict.FAIL if missing else Verdict.PASS,
                     detail)
