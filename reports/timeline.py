"""What happened when in one run, in seconds since its start: traffic per second, fault windows, recovery, events.

Plain data built from the typed readers of kernel.record; every statistic comes from probes.traffic, so the
charts count requests exactly as the verdict does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kernel.errors import UsageError
from kernel.objectives import load_objectives
from kernel.record import Event, Request, ready_samples
from probes import sentinel_events, traffic
from reports import dr
from reports.dr import Backup, Phase

BUCKET_S = 1.0
NOTABLE_SENTINEL = frozenset({"+sdown", "-sdown", "+odown", "-odown", "+switch-master", "+failover-end"})


@dataclass(frozen=True)
class Bucket:
    start_s: float
    requests: int
    rps: float
    error_rate: float | None
    p95_ms: float | None
    intended_rps: float | None = None  # sent and missed by the schedule (None: an unpaced load)


@dataclass(frozen=True)
class FaultWindow:
    """One fault in force, from its (first) injection to its heal; overlapping injections of a fault are merged."""

    fault: str
    start_s: float
    end_s: float
    healed: bool
    injections: int
    evidence: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RecoveryMark:
    """Where the service counted as recovered: measured_s after its anchor (None: not recovered by logged_s)."""

    fault: str
    logged_s: float
    measured_s: float | None
    measured_from: str
    anchor_s: float | None
    verdict: str

    @property
    def at_s(self) -> float | None:
        return None if self.measured_s is None or self.anchor_s is None else self.anchor_s + self.measured_s


@dataclass(frozen=True)
class Marker:
    at_s: float
    source: str
    label: str
    notable: bool


@dataclass(frozen=True)
class Effect:
    at_s: float
    fault: str
    evidence: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Timeline:
    end_s: float
    buckets: tuple[Bucket, ...]
    windows: tuple[FaultWindow, ...]
    recoveries: tuple[RecoveryMark, ...]
    markers: tuple[Marker, ...]
    effects: tuple[Effect, ...]
    not_ready: tuple[tuple[float, float], ...]
    failover: tuple[float, float] | None
    ready_sampled: bool
    phases: tuple[Phase, ...] = ()
    backups: tuple[Backup, ...] = ()


def origin(events: Sequence[Event], requests: Sequence[Request]) -> float | None:
    """The run's time zero: its run.start event, else the earliest record."""
    starts = [e.t for e in events if e.kind == "run.start"]
    times = starts or [e.t for e in events] + [r.t for r in requests]
    return min(times) if times else None


def buckets(requests: Sequence[Request], t0: float, width_s: float = BUCKET_S,
            pace_s: float | None = None) -> list[Bucket]:
    """One bucket per width_s from the first to the last request; an empty bucket has no error rate or latency.
    With the load's pace, the intended rate counts what the schedule expected (sent and missed); the p95 includes
    the waits of the missed ones, as the recovery judges it."""
    index: dict[int, list[Any]] = {}
    for r in traffic.with_missed(requests, pace_s):
        index.setdefault(int((r.t - t0) // width_s), []).append(r)
    if not index:
        return []
    result = []
    for i in range(min(index), max(index) + 1):
        group = index.get(i, [])
        start = t0 + i * width_s
        intended = len(group) / width_s if pace_s else None
        sent = sum(not isinstance(r, traffic.Missed) for r in group)
        result.append(Bucket(i * width_s, sent, traffic.throughput(group, start, start + width_s),
                             traffic.error_rate(group), traffic.latency_percentiles(group, (95,))[95], intended))
    return result


def describe(value: Any) -> str:
    """A field value as short text: mappings as k=v, lists comma-separated."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={describe(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(f"[{describe(v)}]" if isinstance(v, dict | list) else _scalar(v) for v in value)
    return _scalar(value)


def _scalar(value: Any) -> str:
    if value is None:
        return "—"
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _evidence(events: Sequence[Event], hidden: frozenset[str] = frozenset({"fault", "entry"})) -> tuple[
        tuple[str, str], ...]:
    """Every field of the events, each with its distinct values in order."""
    fields: dict[str, list[str]] = {}
    for event in events:
        for key, value in event.data.items():
            if key not in hidden and (text := describe(value)) not in fields.setdefault(key, []):
                fields[key].append(text)
    return tuple((key, "; ".join(values)) for key, values in fields.items())


def _spans(events: Sequence[Event]) -> list[tuple[Event, float | None]]:
    """Each fault.inject paired with the heal of its ledger entry; a heal without an entry heals its whole fault."""
    open_: dict[str, Event] = {}
    spans: list[tuple[Event, float | None]] = []
    for number, event in enumerate(events):
        if event.kind == "fault.inject":
            open_[str(event.get("entry") or f"#{number}")] = event
        elif event.kind == "fault.heal":
            entry = event.get("entry")
            healed = [k for k, inj in open_.items()
                      if (k == entry if entry else inj.get("fault") == event.get("fault"))]
            spans += [(open_.pop(k), event.t) for k in healed]
    return spans + [(inj, None) for inj in open_.values()]


def fault_windows(events: Sequence[Event], t0: float, end_s: float) -> list[FaultWindow]:
    groups: list[tuple[str, float, float, bool, list[Event]]] = []
    spans = sorted(_spans(events), key=lambda s: (str(s[0].get("fault")), s[0].t))
    for inject, healed_t in spans:
        fault, start = str(inject.get("fault", "?")), inject.t - t0
        end = healed_t - t0 if healed_t is not None else end_s
        last = groups[-1] if groups else None
        if last and last[0] == fault and start <= last[2]:
            groups[-1] = (fault, last[1], max(last[2], end), last[3] and healed_t is not None, [*last[4], inject])
        else:
            groups.append((fault, start, end, healed_t is not None, [inject]))
    windows = [FaultWindow(f, s, e, h, len(inj), _evidence(inj)) for f, s, e, h, inj in groups]
    return sorted(windows, key=lambda w: w.start_s)


def _measured_from(fault: str) -> str:
    try:
        return load_objectives().recovery_for(fault).measured_from
    except UsageError:
        return "inject"


def _anchor(events: Sequence[Event], source: str, until: float) -> float | None:
    """What a recovery is measured from: the first injection, or the last heal between it and `until`."""
    injects = [e.t for e in events if e.kind == "fault.inject"]
    if not injects or source != "heal":
        return min(injects, default=None)
    heals = [e.t for e in events if e.kind == "fault.heal" and min(injects) <= e.t <= until]
    return max(heals, default=None)


def recoveries(events: Sequence[Event], t0: float, measured_from: Callable[[str], str] = _measured_from) -> list[
        RecoveryMark]:
    marks = []
    for event in (e for e in events if e.kind == "recovery"):
        fault, measured = str(event.get("fault", "?")), event.get("measured_s")
        recorded_source, recorded_anchor = event.get("measured_from"), event.get("from_t")
        source = recorded_source if isinstance(recorded_source, str) else measured_from(fault)
        anchor = recorded_anchor if isinstance(recorded_anchor, int | float) else _anchor(events, source, event.t)
        value = float(measured) if isinstance(measured, int | float) else None
        marks.append(RecoveryMark(fault, event.t - t0, value, source, None if anchor is None else anchor - t0,
                                  str(event.get("verdict", "unknown"))))
    return marks


def _sentinel_marker(event: Event, seen: set[tuple[str, str]]) -> tuple[str, bool]:
    name, detail = str(event.get("event", "")), str(event.get("detail", ""))
    message = sentinel_events.message_of(event)
    about = message is not None and message.about_master and name in NOTABLE_SENTINEL
    key = (name, str(message.master_address if message else detail))
    notable = about and key not in seen
    seen.add(key)
    return f"{event.get('sentinel', 'sentinel')} {name} {detail}".strip(), notable


def _marker(event: Event, seen: set[tuple[str, str]]) -> tuple[str, str, bool] | None:
    """(source, label, notable) for the events drawn as ticks; None for the others."""
    data = event.data
    if event.kind == "sentinel":
        return ("sentinel", *_sentinel_marker(event, seen))
    if event.kind == "container":
        code = f" (exit {data['exit_code']})" if data.get("exit_code") not in (None, "") else ""
        return "container", f"{data.get('instance', '?')} {data.get('action', '?')}{code}", True
    if event.kind.startswith("cassandra"):
        return "cassandra", f"{event.kind} {describe(data)}".strip(), True
    if event.kind == "dr.backup":
        size = f"{describe(data.get('files'))} files, {describe(data.get('bytes'))} bytes"
        return "dr", f"backup {data.get('backup_id', '?')} taken ({size})", True
    if event.kind.startswith("dr.") and event.kind != "dr.phase":
        return "dr", f"{event.kind} {describe(data)}".strip(), True
    if event.kind == "load.start":
        return "harness", f"load started ({data.get('users', '?')} users)", True
    if event.kind == "load.stop":
        return "harness", "load stopped", bool(data.get("pids"))
    if event.kind == "lab.ready":
        return "harness", f"lab ready again {data.get('after_heal_s', '?')} s after the heal", True
    if event.kind == "lab.repair":
        return "harness", f"lab repaired: {'; '.join(data.get('repaired') or [])}", True
    if event.kind == "run.aborted":
        return "harness", f"run aborted: {describe(data)}", True
    if event.kind in ("run.start", "run.end"):
        return "harness", event.kind.replace(".", " "), event.kind == "run.end"
    return None


def markers(events: Sequence[Event], t0: float) -> list[Marker]:
    seen: set[tuple[str, str]] = set()
    found = []
    for event in sorted(events, key=lambda e: e.t):
        described = _marker(event, seen)
        if described is not None:
            found.append(Marker(event.t - t0, *described))
    return found


def not_ready_spans(events: Sequence[Event], t0: float, end_s: float) -> list[tuple[float, float]]:
    """Where the "ready" sampler saw a part of the system not ready, from that sample to the next ready one."""
    spans: list[tuple[float, float]] = []
    start: float | None = None
    valid = (e for e in events if e.kind != "ready" or isinstance(e.get("all_ready"), bool))
    for sample in ready_samples(valid):
        if not sample.all_ready and start is None:
            start = sample.t - t0
        elif sample.all_ready and start is not None:
            spans.append((start, sample.t - t0))
            start = None
    return spans + ([(start, end_s)] if start is not None else [])


def failover_span(events: Sequence[Event], t0: float) -> tuple[float, float] | None:
    found = sentinel_events.failover(events)
    if found is None or found.sdown_t is None or found.switch_t is None:
        return None
    return found.sdown_t - t0, found.switch_t - t0


def build(events: Sequence[Event], requests: Sequence[Request], t0: float) -> Timeline:
    events = sorted(events, key=lambda e: e.t)
    last = max([e.t for e in events] + [r.t for r in requests], default=t0)
    end_s = max(last - t0, BUCKET_S)
    effects = [Effect(e.t - t0, str(e.get("fault", "?")), _evidence([e])) for e in events if e.kind == "fault.effect"]
    paced = buckets(requests, t0, pace_s=traffic.load_pace(events))
    return Timeline(end_s, tuple(paced), tuple(fault_windows(events, t0, end_s)),
                    tuple(recoveries(events, t0)), tuple(markers(events, t0)), tuple(effects),
                    tuple(not_ready_spans(events, t0, end_s)), failover_span(events, t0),
                    any(e.kind == "ready" for e in events), tuple(dr.phases(events, t0)),
                    tuple(dr.backups(events, t0)))
