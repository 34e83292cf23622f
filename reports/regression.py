"""A run against the last passing runs of the same experiment: a clear regression is a value above what the spread
of those runs explains. Pure: entries in, findings out; the gate decides what a finding does."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from reports.history import HistoryEntry

LAST_RUNS = 10
MIN_RUNS = 5
SPREAD_K = 3.0
MAD_TO_SIGMA = 1.4826
# What one measurement cannot resolve: recovery is counted in 1 s buckets; a worst-10 s error rate over the
# ~1,400 requests of a lab window has a binomial spread of ~0.4 points at 2% errors.
RESOLUTION = {"recovery_s": 1.0, "worst_10s_error_rate": 0.005}
UNITS = {"recovery_s": ("recovery", "s"), "worst_10s_error_rate": ("worst 10 s error rate", "")}


@dataclass(frozen=True)
class Comparison:
    experiment: str
    metric: str
    measured: float | None
    limit: float | None
    compared_with: tuple[str, ...]
    regressed: bool
    detail: str


def _value(entry: HistoryEntry, metric: str) -> float | None:
    value = getattr(entry, metric)
    return float(value) if value is not None else None


def limit_from(values: Sequence[float], resolution: float) -> float:
    """The larger of (the largest earlier value + one resolution) and (median + 3 sigma), sigma estimated from the
    MAD but never below one resolution: a few equal runs must not make the next run's measurement noise a finding."""
    median = statistics.median(values)
    sigma = max(MAD_TO_SIGMA * statistics.median(abs(v - median) for v in values), resolution)
    return max(max(values) + resolution, median + SPREAD_K * sigma)


def _fmt(metric: str, value: float) -> str:
    return f"{value:g} s" if metric == "recovery_s" else f"{value * 100:.2f}%"


def compare_with_history(current: HistoryEntry, history: Sequence[HistoryEntry]) -> list[Comparison]:
    """One comparison per metric: the current run against the last LAST_RUNS passing runs of its experiment
    (never itself); fewer than MIN_RUNS of them, or a metric the run lacks, is reported and not judged."""
    earlier = [e for e in history if e.experiment == current.experiment and e.passed and e.run_dir != current.run_dir]
    earlier = sorted(earlier, key=lambda e: e.started_at or "")[-LAST_RUNS:]
    names = tuple(e.started_at or e.run_dir for e in earlier)
    found = []
    for metric, resolution in RESOLUTION.items():
        label, _ = UNITS[metric]
        measured = _value(current, metric)
        values = [v for e in earlier if (v := _value(e, metric)) is not None]
        if measured is None or len(values) < MIN_RUNS:
            why = "no value in this run" if measured is None else f"{len(values)} earlier passing runs, need {MIN_RUNS}"
            found.append(Comparison(current.experiment, metric, measured, None, names, False, f"{label}: not judged "
                                    f"({why})"))
            continue
        limit = limit_from(values, resolution)
        regressed = measured > limit
        detail = (f"{label} {_fmt(metric, measured)} {'>' if regressed else '<='} {_fmt(metric, limit)} (last "
                  f"{len(values)} passing runs: median {_fmt(metric, statistics.median(values))}, max "
                  f"{_fmt(metric, max(values))})")
        found.append(Comparison(current.experiment, metric, measured, limit, names, regressed, detail))
    return found
