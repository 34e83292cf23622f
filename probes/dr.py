"""A disaster-recovery drill judged from its record. Contract: `dr.backup` gives the backup's moment (every write
acknowledged before it is in the backup), the `fault.inject` of lose-data the disaster, `fault.heal` of it the end
of the restore and `dr.verified` the moment the restored data was found whole. A write's acknowledgement time is
its request's start plus its latency."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kernel.fault import Declared, NoArguments
from kernel.objectives import DrDrillObjective
from kernel.record import Event, Request, read_events, read_requests
from kernel.run import current_run
from kernel.verdict import Judgement, Verdict, compare
from loadtests.payloads import payload_matches
from probes import integrity
from probes.integrity import WriteKey
from probes.stored_tasks import stored_tasks

DISASTER = "lose-data"
RTO, RPO, RPO_WRITES = "RTO", "RPO", "RPO writes"
ALL_PRESENT, MAY_BE_LOST = "all present", "may be lost"


@dataclass(frozen=True)
class DrillMoments:
    backup: float | None
    disaster: float | None
    restored: float | None
    verified: float | None


def moments(events: Iterable[Event]) -> DrillMoments:
    events = list(events)
    backups = [float(e.get("moment")) for e in events if e.kind == "dr.backup"]
    lost = [e.t for e in events if e.kind == "fault.inject" and e.get("fault") == DISASTER]
    restored = [e.t for e in events if e.kind == "fault.heal" and e.get("fault") == DISASTER]
    verified = [e.t for e in events if e.kind == "dr.verified" and lost and e.t >= lost[0]]
    return DrillMoments(backups[-1] if backups else None, lost[0] if lost else None,
                        restored[-1] if restored else None, verified[0] if verified else None)


@dataclass(frozen=True)
class Windows:
    """Acknowledged writes by when they were acknowledged: before the backup's moment, between it and the end of
    the restore (the writes the drill may lose: its RPO), and after the restore."""

    before: frozenset[WriteKey]
    between: frozenset[WriteKey]
    after: frozenset[WriteKey]


def windows(requests: Iterable[Request], backup: float, restored: float | None) -> Windows:
    before: set[WriteKey] = set()
    between: set[WriteKey] = set()
    after: set[WriteKey] = set()
    for request in requests:
        if not integrity.is_acknowledged(request):
            continue
        key = (str(request.agent_id), str(request.task_id))
        acknowledged = request.t + request.latency_ms / 1000.0
        if acknowledged < backup:
            before.add(key)
        elif restored is None or acknowledged < restored:
            between.add(key)
        else:
            after.add(key)
    return Windows(frozenset(before), frozenset(between - before), frozenset(after - before - between))


def changed(keys: Iterable[WriteKey], stored: Mapping[WriteKey, str]) -> set[WriteKey]:
    return {key for key in keys if key in stored and not payload_matches(*key, stored[key])}


def judge_window(name: str, keys: frozenset[WriteKey], stored: Mapping[WriteKey, str]) -> Judgement:
    """FAIL on any write of the window missing or with another payload; UNKNOWN for an empty window."""
    objective = "every acknowledged task present with the payload sent"
    if not keys:
        return Judgement(name, objective, None, 0.0, "count", Verdict.UNKNOWN, "no acknowledged writes in it")
    lost = keys - stored.keys()
    altered = changed(keys, stored)
    detail = f"{len(keys)} acknowledged, {len(keys) - len(lost)} present, {len(lost)} lost, {len(altered)} changed"
    if lost:
        detail += "; lost e.g. " + ", ".join(f"{a}/{t}" for a, t in sorted(lost)[:3])
    bad = len(lost) + len(altered)
    return Judgement(name, objective, float(bad), 0.0, "count", Verdict.FAIL if bad else Verdict.PASS, detail)


def judge_rpo_writes(keys: frozenset[WriteKey], stored: Mapping[WriteKey, str]) -> Judgement:
    """Reported, not held against a limit: writes acknowledged after the backup are the ones a restore may lose."""
    missing = keys - stored.keys()
    return Judgement(RPO_WRITES, "acknowledged after the backup, not in the restored data", float(len(missing)),
                     None, "count", Verdict.PASS, f"{len(keys)} acknowledged after the backup's moment, "
                                                  f"{len(keys) - len(missing)} of them present after the restore")


def judge_rpo(found: DrillMoments, objective: DrDrillObjective | None) -> Judgement:
    limit = objective.rpo_s if objective else None
    if found.backup is None or found.disaster is None:
        return Judgement(RPO, "backup moment to disaster", None, limit, "s", Verdict.UNKNOWN,
                         "no backup or no disaster recorded")
    measured = round(found.disaster - found.backup, 3)
    verdict = compare(measured, limit) if limit is not None else Verdict.PASS
    return Judgement(RPO, "backup moment to disaster", measured, limit, "s", verdict,
                     "the data written in this span is what the restore gives up")


def judge_rto(found: DrillMoments, objective: DrDrillObjective | None) -> Judgement:
    limit = objective.rto_s if objective else None
    name, what = RTO, "disaster to service ready and data verified"
    if found.disaster is None or found.verified is None or found.restored is None:
        return Judgement(name, what, None, limit, "s", Verdict.FAIL if found.disaster else Verdict.UNKNOWN,
                         "no restore or no verification of its data recorded after the disaster")
    measured = round(max(found.verified, found.restored) - found.disaster, 3)
    verdict = compare(measured, limit) if limit is not None else Verdict.PASS
    return Judgement(name, what, measured, limit, "s", verdict,
                     f"restored (ready) after {found.restored - found.disaster:.1f} s, data verified after "
                     f"{found.verified - found.disaster:.1f} s")


def judge_events_before(keys: frozenset[WriteKey], events: frozenset[WriteKey]) -> Judgement:
    missing = keys - events
    detail = f"{len(keys)} acknowledged before the backup, {len(missing)} without their event in the restored stream"
    if missing:
        detail += "; e.g. " + ", ".join(f"{a}/{t}" for a, t in sorted(missing)[:3])
    if not keys:
        return Judgement("queue before the backup", "every event of a write before the backup restored", None, 0.0,
                         "count", Verdict.UNKNOWN, "no acknowledged writes before the backup")
    return Judgement("queue before the backup", "every event of a write before the backup restored",
                     float(len(missing)), 0.0, "count", Verdict.FAIL if missing else Verdict.PASS, detail)


def integrity_rows(found: Windows, stored: Mapping[WriteKey, str]) -> dict[str, Any]:
    rows = []
    for window, keys, expected in (("before the backup", found.before, ALL_PRESENT),
                                   ("after the backup, before the restore (RPO)", found.between, MAY_BE_LOST),
                                   ("after the restore", found.after, ALL_PRESENT)):
        lost = keys - stored.keys()
        rows.append({"window": window, "acknowledged": len(keys), "present": len(keys) - len(lost),
                     "lost": len(lost), "changed": len(changed(keys, stored)), "expected": expected})
    return {"rows": rows}


def verify_restored_data(configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read back, at consistency ALL, every task acknowledged before the backup; `dr.verified` marks when the
    restored data was found whole (the end of the RTO), and is not written when it was not."""
    run = current_run(configuration)
    started = time.time()
    found = moments(read_events(run.run_dir / "events.jsonl", missing_ok=True))
    if found.backup is None:
        return {"verified": False, "reason": "no backup recorded"}
    before = windows(read_requests(run.requests_file, missing_ok=True), found.backup, None).before
    stored = stored_tasks(run.inventory, {agent for agent, _ in before})
    judgement = judge_window("data before the backup", before, stored)
    run.events.append("dr.phase", phase="verify.data", started=started, seconds=round(time.time() - started, 3))
    if judgement.verdict is Verdict.PASS:
        run.events.append("dr.verified", tasks=len(before))
    return {"verified": judgement.verdict is Verdict.PASS, "detail": judgement.detail}


DECLARED = (Declared(verify_restored_data, "probe", NoArguments),)
