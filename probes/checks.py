"""Probes that experiments call: live checks and judgements of the run's record, returned as plain data."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from kernel import redact, service_client
from kernel.errors import LabError
from kernel.fault import Arguments, Declared, NoArguments, one_of
from kernel.objectives import Objectives, load_objectives
from kernel.problems import shown
from kernel.record import Event, Request, read_events, read_requests, ready_samples
from kernel.run import Run, current_run
from kernel.verdict import Judgement, Verdict, combine, compare, format_value
from kernel.waiting import poll_until
from loadtests.payloads import payload_matches
from probes import alerts, cut_off, dr, integrity, prometheus, sentinel_events, traffic
from probes.queue_events import StreamContents, read_created_events
from probes.stored_tasks import stored_tasks

POLL_S = 0.5
DEFAULT_CHECKS = ("effect", "error_rate", "recovery")
FAULT_CHECKS = frozenset({"recovery", "cut_off"})
STREAM_SLACK_S = 5.0  # an acknowledged request started before its event's entry id; slack for the master's clock
CHECK_NAMES = ("effect", "error_rate", "worst_window", "recovery", "lost_writes", "failover_time", "server_errors",
               "restarts", "cut_off", "queue", "read_your_writes", "alert_fired", "alert_resolved", "drill")


def lab_ready(configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every part of the stack serves: HAProxy backends UP, Sentinels and every Redis instance agree on the master,
    every Cassandra node answers CQL, Prometheus scrapes. Cassandra's gossip view (nodetool) is waited for by `lab up`
    and by every heal."""
    failing = current_run(configuration).target.unready(serving_only=True)
    return {"ready": not failing, "failing": failing}


def burst_within_objective(requests: int = 30, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Send a short burst of writes and reads through the load balancer and judge its error rate."""
    run = current_run(configuration)
    base = run.inventory.host_url("lb")
    agent = f"steady-{uuid.uuid4().hex[:8]}"
    outcomes = [service_client.create_task(base, agent, f"s{n}") for n in range(max(1, requests // 2))]
    outcomes += [service_client.read_task(base, agent, f"s{n}") for n in range(max(1, requests // 2))]
    failed = sum(not o.ok for o in outcomes)
    objectives = load_objectives()
    measured = failed / len(outcomes)
    verdict = Verdict.PASS if measured <= objectives.error_rate.max else Verdict.FAIL
    judgement = Judgement("burst error rate", objectives.error_rate.source, measured, objectives.error_rate.max,
                          "ratio", verdict, f"{failed} of {len(outcomes)} requests failed")
    return judgement.to_dict()


def _last_heal(events: list[Event]) -> float | None:
    """End of the fault window: the last heal, if the method healed before the load stopped."""
    healed = [e.t for e in events if e.kind == "fault.heal"]
    return max(healed) if healed else None


def _first_fault(events: list[Event]) -> float | None:
    injected = [e.t for e in events if e.kind == "fault.inject"]
    return min(injected) if injected else None


def wait_for_recovery(fault: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Poll the live record until the service has recovered from `fault`, or the objective's deadline passes."""
    run = current_run(configuration)
    objectives = load_objectives()
    objective = objectives.recovery_for(fault)

    def judged() -> tuple[list[Event], Judgement]:
        events = read_events(run.run_dir / "events.jsonl", missing_ok=True)
        return events, _judge_recovery(run, fault, objectives, events)

    events, judgement = poll_until(judged, lambda read: read[1].verdict is Verdict.PASS,
                                   objective.seconds + objectives.recovery_hold_s + 5, poll_s=POLL_S)
    run.events.append("recovery", fault=fault, measured_s=judgement.measured, verdict=judgement.verdict.value,
                      measured_from=objective.measured_from,
                      from_t=_recovery_anchor(events, fault, objective.measured_from))
    return judgement.to_dict()


def _recovery_anchor(events: list[Event], fault: str, measured_from: str) -> float | None:
    """The moment recovery is timed from: the first injection, or the fault's last heal before it was judged."""
    start = _first_fault(events)
    if measured_from == "heal" and start is not None:
        cutoff = _recovery_judged_at(events, fault)
        healed = [e.t for e in events if e.kind == "fault.heal" and start <= e.t <= cutoff]
        start = max(healed) if healed else None
    return start


def _judge_recovery(run: Run, fault: str, objectives: Objectives, events: list[Event] | None = None) -> Judgement:
    if events is None:
        events = read_events(run.run_dir / "events.jsonl", missing_ok=True)
    objective = objectives.recovery_for(fault)
    start = _recovery_anchor(events, fault, objective.measured_from)
    if start is None:
        return Judgement("recovery", fault, None, objective.seconds, "s", Verdict.UNKNOWN, "no fault was injected")
    requests = traffic.with_missed(read_requests(run.requests_file, missing_ok=True), traffic.load_pace(events))
    return traffic.judge_recovery(requests, ready_samples(events), fault, start, objectives,
                                  baseline_end=_first_fault(events))


def _recovery_judged_at(events: list[Event], fault: str) -> float:
    """When wait_for_recovery saw the fault recovered: heals after it (the closing heal_all) are not the fault's."""
    judged = [e.t for e in events if e.kind == "recovery" and e.data.get("fault") == fault]
    return min(judged) if judged else float("inf")


def judge_fault_effect(events: list[Event]) -> Judgement:
    effects = [e for e in events if e.kind == "fault.effect"]
    visible = [e for e in effects if _effect_visible(e)]
    verdict = Verdict.PASS if effects and len(visible) == len(effects) else Verdict.FAIL
    detail = "; ".join(json.dumps(e.data, sort_keys=True)[:160] for e in effects) or "no fault took effect"
    return Judgement("fault effect", "every fault visibly took effect", float(len(visible)), float(len(effects)),
                     "faults", verdict, detail, bound="min")


def _effect_visible(event: Event) -> bool:
    """As the action that knows the fault judged it from what it saw; an effect without that judgement is not seen."""
    return event.get("took_effect") is True


def _judge_writes(run: Run) -> Judgement:
    """Every acknowledged create is in Cassandra with the payload the load sent (never judged through the cache)."""
    requests = read_requests(run.requests_file, missing_ok=True)
    acknowledged = integrity.acknowledged_writes(requests)
    unknown = integrity.unknown_writes(requests)
    try:
        stored = stored_tasks(run.inventory, {agent for agent, _ in acknowledged | unknown})
    except LabError as error:
        return Judgement("lost acknowledged writes", "no acknowledged write lost or changed", None, 0.0, "count",
                         Verdict.UNKNOWN, str(error))
    changed = {key for key in acknowledged & stored.keys() if not payload_matches(*key, stored[key])}
    return integrity.judge_lost_writes(acknowledged, set(stored), unknown, changed)


def _judge_queue(run: Run, objectives: Objectives) -> Judgement:
    """Every acknowledged create has its "created" event in the Redis stream (the queue the guide watches), at the
    latest `queue_delivery.seconds` after the check began: an event appended late counts, one never appended not."""
    requests = read_requests(run.requests_file, missing_ok=True)
    acknowledged = integrity.acknowledged_writes(requests)
    first_ack = min((r.t for r in requests if integrity.is_acknowledged(r)), default=None)
    since = first_ack - STREAM_SLACK_S if first_ack is not None else None

    def read() -> StreamContents | LabError:
        try:
            return read_created_events(run.inventory, run.target.redis_master(), since)
        except LabError as error:
            return error

    started = time.monotonic()
    settle_s = objectives.queue_delivery.seconds if objectives.queue_delivery is not None else 0.0
    stream = poll_until(read, lambda r: isinstance(r, StreamContents) and not acknowledged - r.created, settle_s,
                        poll_s=1.0)
    if isinstance(stream, LabError):
        return Judgement("queue events", "every acknowledged write has its event", None, 0.0, "count",
                         Verdict.UNKNOWN, str(stream))
    trimmed = first_ack is not None and stream.oldest_s is not None and stream.oldest_s > first_ack
    judgement = integrity.judge_lost_events(acknowledged, set(stream.created), integrity.unknown_writes(requests),
                                            trimmed)
    waited = time.monotonic() - started
    if waited >= 1.0:
        return replace(judgement, detail=f"{judgement.detail}; read for {waited:.0f} s (delivery allows "
                                         f"{settle_s:g} s)")
    return judgement


def _judge_failover(events: list[Event], objectives: Objectives) -> Judgement:
    measured = sentinel_events.failover_time(events)
    limit = objectives.recovery_for("redis-master-failover").seconds
    if measured is None:
        return Judgement("failover time", "Sentinel +sdown to +switch-master", None, limit, "s", Verdict.UNKNOWN,
                         "no +sdown and +switch-master pair recorded")
    verdict = Verdict.PASS if measured <= limit else Verdict.FAIL
    return Judgement("failover time", "Sentinel +sdown to +switch-master", measured, limit, "s", verdict,
                     "from the Sentinels' own events")


def objectives_met(fault: str | None = None, checks: list[str] | None = None,
                   configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Judge the run's record against the objectives; before any fault there is nothing to judge yet."""
    run = current_run(configuration)
    events = read_events(run.run_dir / "events.jsonl", missing_ok=True)
    start = _first_fault(events)
    if start is None:
        return {"verdict": Verdict.PASS.value, "phase": "before", "judgements": []}
    objectives = load_objectives()
    judgements = _judgements(run, fault, events, start, objectives, checks or list(DEFAULT_CHECKS))
    verdict = combine(judgements)
    result = {"verdict": verdict.value, "phase": "after", "judgements": [j.to_dict() for j in judgements]}
    (run.run_dir / "judgements.json").write_text(redact.text(json.dumps(result, indent=1, default=str)))
    return result


def _judgements(run: Run, fault: str | None, events: list[Event], start: float, objectives: Objectives,
                checks: list[str]) -> list[Judgement]:
    requests = read_requests(run.requests_file, missing_ok=True)
    builders: dict[str, Callable[[], Judgement | list[Judgement]]] = {
        "effect": lambda: judge_fault_effect(events),
        "error_rate": lambda: traffic.judge_error_rate(requests, objectives, start=start, end=_last_heal(events)),
        "worst_window": lambda: traffic.judge_worst_window(requests, objectives, start=start),
        "recovery": lambda: _judge_recovery(run, str(fault), objectives),
        "lost_writes": lambda: _judge_writes(run),
        "failover_time": lambda: _judge_failover(events, objectives),
        "server_errors": lambda: _judge_server_errors(run, objectives),
        "restarts": lambda: _judge_restarts(run, objectives),
        "cut_off": lambda: cut_off.judge_cut_off_unready(events, objectives.recovery_for(str(fault)).seconds),
        "queue": lambda: _judge_queue(run, objectives),
        "read_your_writes": lambda: integrity.judge_read_your_writes(requests),
        "alert_fired": lambda: alerts.judge_fired(events, objectives.alert_drill),
        "alert_resolved": lambda: alerts.judge_resolved(events, objectives.alert_drill),
        "drill": lambda: _judge_drill(run, events, requests, objectives),
    }
    unknown = sorted(set(checks) - set(builders))
    if unknown:
        raise ValueError(f"unknown checks {unknown}; known: {sorted(builders)}")
    built = [builders[name]() for name in checks]
    return [j for item in built for j in (item if isinstance(item, list) else [item])]


def _judge_drill(run: Run, events: list[Event], requests: list[Request], objectives: Objectives) -> list[Judgement]:
    """The DR drill: data before the backup and after the restore whole, the RPO, the RTO, the queue; the
    integrity table is written beside the judgements for the report."""
    found = dr.moments(events)
    judged = [dr.judge_rpo(found, objectives.dr_drill), dr.judge_rto(found, objectives.dr_drill)]
    if found.backup is None:
        return judged
    spans = dr.windows(requests, found.backup, found.restored)
    try:
        stored = stored_tasks(run.inventory, {agent for agent, _ in spans.before | spans.between | spans.after})
        created = read_created_events(run.inventory, run.target.redis_master(), found.backup - 3600).created
    except LabError as error:
        return [*judged, Judgement("restored data", "every acknowledged task present", None, 0.0, "count",
                                   Verdict.UNKNOWN, str(error))]
    (run.run_dir / "integrity.json").write_text(json.dumps(dr.integrity_rows(spans, stored), indent=1))
    return [dr.judge_window("data before the backup", spans.before, stored),
            dr.judge_window("data after the restore", spans.after, stored), dr.judge_rpo_writes(spans.between, stored),
            *judged, dr.judge_events_before(spans.before, frozenset(created))]


def _server_view(run: Run) -> prometheus.ServerView | None:
    try:
        return prometheus.server_view(run.inventory.host_url("prometheus"), time.time() - run.started_at)
    except LabError:
        return None


def _judge_server_errors(run: Run, objectives: Objectives) -> Judgement:
    """The guide's HighErrorRate as the service counts it (5xx only), over the run, and the alert not firing."""
    limit = objectives.error_rate.max
    view = _server_view(run)
    if view is None or view.five_xx_ratio is None:
        return Judgement("server 5xx ratio", "HighErrorRate (Prometheus)", None, limit, "ratio", Verdict.UNKNOWN,
                         "Prometheus did not answer or saw no requests")
    firing = "HighErrorRate" in view.firing
    verdict = Verdict.FAIL if firing else compare(view.five_xx_ratio, limit)
    ratio = format_value(view.five_xx_ratio, "ratio")
    detail = (f"alert HighErrorRate firing (run's 5xx ratio {ratio})" if firing else
              f"over the run, from http_requests_total; alerts firing: {', '.join(view.firing) or 'none'}")
    return Judgement("server 5xx ratio", "HighErrorRate (Prometheus)", view.five_xx_ratio, limit, "ratio", verdict,
                     detail)


def _judge_restarts(run: Run, objectives: Objectives) -> Judgement:
    """PodRestart's measure (changes of process_start_time_seconds) for the most restarted replica in the run."""
    limit = float(objectives.restarts.max_per_hour)
    view = _server_view(run)
    measured = view.max_restarts if view is not None else None
    return Judgement("restarts of a replica", "PodRestart (Prometheus)", measured, limit, "count",
                     compare(measured, limit), "in the run; the guide allows 3 an hour")


def _known_fault(value: str) -> str:
    known = load_objectives().recovery
    if value not in known:
        raise ValueError(f"fault {shown(value)} has no recovery objective; expected one of {', '.join(known)}")
    return value


Fault = Annotated[str, StringConstraints(max_length=64), AfterValidator(_known_fault)]


class Burst(Arguments):
    requests: Annotated[int, Field(ge=1, le=1000)] = 30


class Recovery(Arguments):
    fault: Fault


class ObjectivesMet(Arguments):
    fault: Fault | None = None
    checks: Annotated[list[Annotated[str, one_of(CHECK_NAMES, "check")]], Field(min_length=1, max_length=20)] | None \
        = None

    @model_validator(mode="after")
    def _fault_named_for_recovery(self) -> ObjectivesMet:
        if self.fault is None and set(self.checks or DEFAULT_CHECKS) & FAULT_CHECKS:
            raise ValueError(f"fault is required by the checks {', '.join(sorted(FAULT_CHECKS))}")
        return self


DECLARED = (
    Declared(lab_ready, "probe", NoArguments),
    Declared(burst_within_objective, "probe", Burst),
    Declared(wait_for_recovery, "probe", Recovery),
    Declared(objectives_met, "probe", ObjectivesMet),
)
