"""Traffic probes: pure functions over the recorded requests (error rate, latency, throughput, recovery time).

A request counts at its start time `t`. Windows are half-open, [start, end). A request that failed only because
the load generator stopped it (error "cancelled") is a harness artifact and is left out of every statistic.
No data gives None (and an UNKNOWN judgement), never a pass.

The load is paced (each user starts a request every pace_s seconds), so a stalled service also shows as requests the
schedule expected but a blocked user could not send: `with_missed` adds them (`Missed`), each waiting from its
intended start until the request that blocked it ended. They count in the latency of recovery (a stall is slow
service, however few requests saw it), never in error rates (how the service would have answered them is unknown: a
fresh request might have reached a healthy replica) and never as throughput (a rate is what was achieved).
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from kernel.objectives import Objectives, StopConditions
from kernel.record import Event
from kernel.verdict import Judgement, Verdict, compare

HARNESS_ARTIFACT_ERRORS: frozenset[str] = frozenset({"cancelled"})


class RequestLike(Protocol):
    @property
    def t(self) -> float: ...

    @property
    def ok(self) -> bool: ...

    @property
    def latency_ms(self) -> float: ...

    @property
    def error(self) -> str | None: ...


class ReadyLike(Protocol):
    @property
    def t(self) -> float: ...

    @property
    def all_ready(self) -> bool: ...


@dataclass(frozen=True)
class Missed:
    """A request the schedule expected at `t` while its user still waited on an earlier request."""

    t: float
    ok: bool
    latency_ms: float
    error: str | None


def with_missed(requests: Iterable[RequestLike], pace_s: float | None) -> list[RequestLike]:
    """The requests plus, for each that took longer than pace_s, the slots that came due meanwhile (none without
    a pace): slot k at t + k*pace_s waited latency - k*pace_s and shared the blocking request's outcome."""
    requests = list(requests)
    if not pace_s or pace_s <= 0:
        return requests
    missed: list[RequestLike] = []
    for r in requests:
        if r.error in HARNESS_ARTIFACT_ERRORS:
            continue
        k = 1
        while k * pace_s * 1000 < r.latency_ms:
            missed.append(Missed(r.t + k * pace_s, r.ok, r.latency_ms - k * pace_s * 1000, r.error))
            k += 1
    return sorted([*requests, *missed], key=lambda r: r.t)


def load_pace(events: Iterable[Event]) -> float | None:
    """Seconds between a user's request starts, as the load was started (None: an unpaced, older load)."""
    paces = [e.get("pace_s") for e in events if e.kind == "load.start"]
    return float(paces[0]) if paces and isinstance(paces[0], int | float) else None


def _sent(requests: Iterable[RequestLike]) -> list[RequestLike]:
    return [r for r in requests if not isinstance(r, Missed)]


def _counted(
    requests: Iterable[RequestLike], start: float | None = None, end: float | None = None, missed: bool = False
) -> list[RequestLike]:
    """The requests started in [start, end), harness artifacts left out, and the missed slots only when asked."""
    return [
        r for r in requests
        if r.error not in HARNESS_ARTIFACT_ERRORS
        and (missed or not isinstance(r, Missed))
        and (start is None or r.t >= start)
        and (end is None or r.t < end)
    ]


def error_rate(requests: Iterable[RequestLike], start: float | None = None, end: float | None = None) -> float | None:
    """Failed / all requests started in [start, end); None when there is none."""
    counted = _counted(requests, start, end)
    if not counted:
        return None
    return sum(not r.ok for r in counted) / len(counted)


@dataclass(frozen=True)
class WindowStats:
    start: float
    end: float
    total: int
    errors: int

    @property
    def error_rate(self) -> float:
        return self.errors / self.total if self.total else math.nan


def worst_window(
    requests: Iterable[RequestLike],
    window_s: float,
    start: float | None = None,
    end: float | None = None,
    min_requests: int = 5,
    step_s: float = 1.0,
) -> WindowStats | None:
    """The window of `window_s` seconds with the highest error rate, sliding by `step_s` from the start.

    The span defaults to first..last request (the last one included). A span shorter than the window is judged
    as one window; the window ending at the span's end is always considered. Windows with fewer than
    `min_requests` requests are skipped; None when no window has enough.
    """
    if window_s <= 0 or step_s <= 0:
        raise ValueError("window_s and step_s must be positive")
    counted = sorted(_counted(requests, start, end), key=lambda r: r.t)
    if not counted:
        return None
    times = [r.t for r in counted]
    failed = [0]
    for r in counted:
        failed.append(failed[-1] + (not r.ok))
    span_start = start if start is not None else times[0]
    span_end = end if end is not None else math.nextafter(times[-1], math.inf)
    if span_end - span_start <= window_s:
        starts = [span_start]
    else:
        count = math.floor((span_end - span_start - window_s) / step_s + 1e-9) + 1
        starts = [span_start + k * step_s for k in range(count)]
        if starts[-1] + window_s < span_end:
            starts.append(span_end - window_s)
    worst: WindowStats | None = None
    for low in starts:
        high = min(low + window_s, span_end)
        i, j = bisect.bisect_left(times, low), bisect.bisect_left(times, high)
        total = j - i
        if total < min_requests:
            continue
        stats = WindowStats(low, high, total, failed[j] - failed[i])
        if worst is None or stats.error_rate > worst.error_rate:
            worst = stats
    return worst


def worst_window_error_rate(
    requests: Iterable[RequestLike],
    window_s: float,
    start: float | None = None,
    end: float | None = None,
    min_requests: int = 5,
) -> float | None:
    """The highest error rate of any `window_s` window (sliding by 1 s); None without a window of enough requests."""
    worst = worst_window(requests, window_s, start, end, min_requests)
    return worst.error_rate if worst is not None else None


def latency_percentiles(
    requests: Iterable[RequestLike], percentiles: Sequence[float] = (50, 95, 99)
) -> dict[float, float | None]:
    """Latency (ms) percentiles of the successful requests, linearly interpolated; None for each without any."""
    for p in percentiles:
        if not 0 <= p <= 100:
            raise ValueError(f"percentile {p} is outside 0..100")
    latencies = sorted(r.latency_ms for r in requests if r.ok)
    result: dict[float, float | None] = {}
    for p in percentiles:
        if not latencies:
            result[p] = None
            continue
        rank = p / 100 * (len(latencies) - 1)
        low = math.floor(rank)
        high = min(low + 1, len(latencies) - 1)
        result[p] = latencies[low] + (latencies[high] - latencies[low]) * (rank - low)
    return result


def throughput(requests: Iterable[RequestLike], start: float, end: float) -> float:
    """Requests started per second in [start, end)."""
    if end <= start:
        raise ValueError(f"throughput needs end > start, got [{start}, {end})")
    return len(_counted(requests, start, end)) / (end - start)


def _ready_throughout(
    samples: Sequence[ReadyLike], times: list[float], low: float, high: float, optimistic: bool
) -> bool:
    """True when the latest sample at or before `low` and every sample in [low, high] say all ready.

    Optimistic: a not-ready state after the last sample is not assumed to last (nothing says when it changed).
    """
    if not samples:
        return True
    i, j = bisect.bisect_left(times, low), bisect.bisect_right(times, high)  # samples[i:j] lie in [low, high]
    if not all(s.all_ready for s in samples[i:j]):
        return False
    if i == 0 or samples[i - 1].all_ready or (i < len(samples) and times[i] == low):
        return True
    # the state before low was not ready and nothing changed it by low, unless (optimistic) no later sample exists
    return optimistic and i == len(samples)


@dataclass(frozen=True)
class ServiceFloor:
    """What a recovered bucket needs besides its error rate: enough requests per second (a stalled closed-loop load
    sends fewer, so its errors under-count the stall) and a p95 latency of its successful requests under a bound."""

    min_rps: float
    max_p95_ms: float


def service_floor(requests: Iterable[RequestLike], baseline_end: float, throughput_share: float, p95_factor: float,
                  p95_slack_ms: float) -> ServiceFloor | None:
    """The floor from the requests before `baseline_end` (the first fault): a share of their rate, and the larger of
    factor x their p95 and their p95 + slack. None with fewer than 5 such requests (no baseline to compare with)."""
    before = _counted(requests, end=baseline_end, missed=True)
    if len(_sent(before)) < 5:
        return None
    span = baseline_end - min(r.t for r in before)
    p95 = latency_percentiles(before, (95,))[95]
    if span <= 0 or p95 is None:
        return None
    return ServiceFloor(throughput_share * len(_sent(before)) / span, max(p95_factor * p95, p95 + p95_slack_ms))


def _good_buckets(counted: Sequence[RequestLike], fault_start: float, bucket_s: float, max_error_rate: float,
                  floor: ServiceFloor | None) -> list[bool]:
    """Per bucket from fault_start: it has requests, errors within the rate and, with a floor, enough requests (the
    last bucket, still filling, is exempt) and a p95 within the bound."""
    n_buckets = int((max(r.t for r in counted) - fault_start) // bucket_s) + 1
    buckets: list[list[RequestLike]] = [[] for _ in range(n_buckets)]
    for r in counted:
        buckets[int((r.t - fault_start) // bucket_s)].append(r)
    good = []
    for index, bucket in enumerate(buckets):
        sent = _sent(bucket)
        ok = bool(sent) and sum(not r.ok for r in sent) / len(sent) <= max_error_rate
        if ok and floor is not None:
            filling = index == n_buckets - 1
            p95 = latency_percentiles(bucket, (95,))[95]
            ok = (filling or len(sent) / bucket_s >= floor.min_rps) and (p95 is None or p95 <= floor.max_p95_ms)
        good.append(ok)
    return good


def _recovery(
    requests: Iterable[RequestLike],
    ready_samples: Iterable[ReadyLike],
    fault_start: float,
    max_error_rate: float,
    hold_s: float,
    bucket_s: float,
    optimistic: bool,
    floor: ServiceFloor | None = None,
) -> float | None:
    if hold_s <= 0 or bucket_s <= 0:
        raise ValueError("hold_s and bucket_s must be positive")
    counted = _counted(requests, fault_start, missed=True)
    if not counted:
        return None
    good = _good_buckets(counted, fault_start, bucket_s, max_error_rate, floor)
    n_buckets = len(good)
    need = max(1, math.ceil(hold_s / bucket_s - 1e-9))
    samples = sorted(ready_samples, key=lambda s: s.t)
    times = [s.t for s in samples]
    if optimistic:  # after the data ends, assume the best, until a window past the last readiness sample fits
        last_sample = int((times[-1] - fault_start) // bucket_s) + 1 if times else 0
        good += [True] * (need + max(0, last_sample - n_buckets))
    run = 0  # good buckets in a row ending at the current one
    for index, is_good in enumerate(good):
        run = run + 1 if is_good else 0
        if run < need:
            continue
        first = index - need + 1  # the one window start not tried yet (earlier ones were tried at earlier indices)
        low = fault_start + first * bucket_s
        if _ready_throughout(samples, times, low, low + hold_s, optimistic):
            return first * bucket_s
    return None


def time_to_recovery(
    requests: Iterable[RequestLike],
    ready_samples: Iterable[ReadyLike],
    fault_start: float,
    max_error_rate: float,
    hold_s: float,
    bucket_s: float = 1.0,
    floor: ServiceFloor | None = None,
) -> float | None:
    """Seconds from fault_start to the first bucket boundary T such that, for hold_s seconds from T, every bucket
    has requests and an error rate <= max_error_rate (and, with a floor, its rate and p95 within it), and the
    system is ready throughout [T, T + hold_s].

    Readiness: the latest sample at or before T and every sample in the window must be all_ready; without any
    sample readiness is not checked. 0.0 when the service never degraded. None when no such T fits in the data
    (the caller decides between unknown and fail). Requests started before fault_start are ignored.
    """
    return _recovery(requests, ready_samples, fault_start, max_error_rate, hold_s, bucket_s, False, floor)


def earliest_possible_recovery(
    requests: Iterable[RequestLike],
    ready_samples: Iterable[ReadyLike],
    fault_start: float,
    max_error_rate: float,
    hold_s: float,
    bucket_s: float = 1.0,
    floor: ServiceFloor | None = None,
) -> float | None:
    """The earliest recovery time the data does not rule out: as time_to_recovery, but assuming every bucket after
    the data ends is good (and a not-ready state after the last sample ended at once). None without any request
    after fault_start. A value above a limit proves the limit was missed, even though the data ends early.
    """
    return _recovery(requests, ready_samples, fault_start, max_error_rate, hold_s, bucket_s, True, floor)


def judge_error_rate(
    requests: Iterable[RequestLike],
    objectives: Objectives,
    start: float | None = None,
    end: float | None = None,
    min_requests: int = 5,
) -> Judgement:
    """The error rate over [start, end) against the error-rate objective; UNKNOWN below min_requests requests."""
    objective = objectives.error_rate
    counted = _counted(requests, start, end)
    failed = sum(not r.ok for r in counted)
    detail = f"{failed} of {len(counted)} requests failed"
    if len(counted) < max(1, min_requests):
        return Judgement("error rate", objective.source, None, objective.max, "ratio", Verdict.UNKNOWN,
                         f"only {len(counted)} requests in the window (need {max(1, min_requests)})")
    measured = failed / len(counted)
    return Judgement("error rate", objective.source, measured, objective.max, "ratio",
                     compare(measured, objective.max), detail)


def judge_worst_window(requests: Iterable[RequestLike], objectives: Objectives, start: float | None = None,
                       end: float | None = None) -> Judgement:
    """The error-rate objective at the outage's own time scale: the worst sliding window of objectives.worst_window_s
    from `start`, so a long fault window cannot dilute a short outage. UNKNOWN without a window of 5 requests."""
    seconds = objectives.worst_window_s
    limit = objectives.error_rate.max
    objective = f"{objectives.error_rate.source} over any {seconds:g}s"
    worst = worst_window(requests, seconds, start, end)
    if worst is None:
        return Judgement(f"worst {seconds:g}s error rate", objective, None, limit, "ratio", Verdict.UNKNOWN,
                         "no window with enough requests")
    since = f"t+{worst.start - start:.1f}s after the first fault" if start is not None else "the first request"
    detail = f"{worst.errors} of {worst.total} requests failed in the {seconds:g}s from {since}"
    return Judgement(f"worst {seconds:g}s error rate", objective, worst.error_rate, limit, "ratio",
                     compare(worst.error_rate, limit), detail)


def judge_recovery(
    requests: Iterable[RequestLike],
    ready_samples: Iterable[ReadyLike],
    fault: str,
    fault_start: float,
    objectives: Objectives,
    bucket_s: float = 1.0,
    baseline_end: float | None = None,
) -> Judgement:
    """Time to recovery after `fault_start` (the moment the fault's objective is measured from) against its limit.

    Recovered = errors within the objective AND, against the requests before `baseline_end` (the first fault;
    default fault_start), throughput and p95 latency back (objectives.recovery_service) AND ready. Not recovered
    within the data: FAIL when the data already rules out a recovery within the limit, else UNKNOWN.
    """
    limit = objectives.recovery_for(fault).seconds
    hold = objectives.recovery_hold_s
    max_rate = objectives.error_rate.max
    requests, ready_samples = list(requests), list(ready_samples)
    service = objectives.recovery_service
    floor = service_floor(requests, fault_start if baseline_end is None else baseline_end,
                          service.min_throughput_share, service.max_p95_factor, service.p95_slack_ms)
    measured = time_to_recovery(requests, ready_samples, fault_start, max_rate, hold, bucket_s, floor)
    if measured is not None:
        detail = _recovery_detail(requests, fault_start, max_rate, hold, bucket_s, floor, measured)
        return Judgement("recovery", fault, measured, limit, "s", compare(measured, limit), detail)
    after = _counted(requests, fault_start)
    if not after:
        return Judgement("recovery", fault, None, limit, "s", Verdict.UNKNOWN, "no requests after the fault")
    observed = max(r.t for r in after) - fault_start
    possible = earliest_possible_recovery(requests, ready_samples, fault_start, max_rate, hold, bucket_s, floor)
    if possible is not None and possible > limit:
        return Judgement("recovery", fault, None, limit, "s", Verdict.FAIL,
                         f"not recovered within {observed:.3g} s of data, so not within {limit:g} s")
    return Judgement("recovery", fault, None, limit, "s", Verdict.UNKNOWN,
                     f"not recovered yet when the data ends {observed:.3g} s after the fault; "
                     f"a recovery at {possible:g} s (+{hold:g} s hold) is not ruled out")


def _recovery_detail(requests: list[RequestLike], fault_start: float, max_rate: float, hold: float, bucket_s: float,
                     floor: ServiceFloor | None, measured: float) -> str:
    """When each part of "recovered" came back, each timed with the errors but without readiness."""
    def since(part: ServiceFloor | None) -> str:
        found = time_to_recovery(requests, [], fault_start, max_rate, hold, bucket_s, part)
        return "never" if found is None else f"{found:g} s"

    parts = [f"errors <= {max_rate:.3g} from {since(None)}"]
    if floor is None:
        parts.append("throughput and latency not judged (no requests before the fault)")
    else:
        parts.append(f"throughput >= {floor.min_rps:.0f}/s from {since(ServiceFloor(floor.min_rps, math.inf))}")
        parts.append(f"p95 <= {floor.max_p95_ms:.0f} ms from {since(ServiceFloor(0.0, floor.max_p95_ms))}")
    return f"{hold:g} s of all of these and ready from {measured:g} s after the fault: " + ", ".join(parts)


def ended_within(requests: Iterable[RequestLike], window_s: float, now: float) -> list[RequestLike]:
    """Requests that ended in the last window_s seconds (harness artifacts excluded): the live view of a journal,
    which gets each line when its request ends."""
    return [r for r in _counted(requests) if now - window_s <= r.t + r.latency_ms / 1000 <= now]


def stop_reason(requests: Iterable[RequestLike], stop: StopConditions, now: float) -> str | None:
    """Why a run should abort now on error rate, or None.

    Counts the requests that ended in the last window_s seconds: a hung request is journaled only when it ends,
    long after its start, so a window by start time would miss an outage of slow failures.
    """
    counted = ended_within(requests, stop.window_s, now)
    if len(counted) < stop.min_requests:
        return None
    rate = sum(not r.ok for r in counted) / len(counted)
    if rate <= stop.max_error_rate:
        return None
    return (f"error rate {rate * 100:.3g}% > {stop.max_error_rate * 100:.3g}% over the last {stop.window_s:g} s "
            f"({len(counted)} requests; {error_breakdown(counted)})")


def error_breakdown(requests: Iterable[RequestLike]) -> str:
    """The failed requests by error kind, most frequent first: "131 failed: 120 http_503, 11 timeout"."""
    kinds = Counter(r.error or "other" for r in requests if not r.ok)
    listed = ", ".join(f"{count} {kind}" for kind, count in kinds.most_common())
    return f"{sum(kinds.values())} failed: {listed}" if kinds else "0 failed"
