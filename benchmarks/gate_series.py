"""Consecutive gates against the resilient build: false failures, and per experiment the spread of what is judged.

Usage: .venv/bin/python benchmarks/gate_series.py [--gates 10] [--history FILE]
Starts the ha lab when it is not running, runs `chaos360 gate` N times in a row, and prints a Markdown table: per
experiment min/median/max of the worst 10 s error rate, the recovery time and the throughput dip (the lowest
achieved rate of any second from the first fault until recovery, as a share of the rate the load intends), each with the
margin its worst run left to the limit. Nothing here asserts a figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from kernel.objectives import load_objectives
from kernel.record import read_events, read_requests
from probes import traffic

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "chaos360"]


def throughput_dip(run_dir: Path) -> float | None:
    """Lowest achieved requests/s of a whole second from the first fault to recovery, over the rate the load's
    schedule intends (users / pace; the pre-fault stretch is too short for a baseline of its own)."""
    events = read_events(run_dir / "events.jsonl", missing_ok=True)
    requests = read_requests(run_dir / "requests.jsonl", missing_ok=True)
    injected = [e.t for e in events if e.kind == "fault.inject"]
    load = next((e for e in events if e.kind == "load.start"), None)
    pace, users = traffic.load_pace(events), load.get("users") if load is not None else None
    if not injected or not requests or not pace or not isinstance(users, int):
        return None
    start = min(injected)
    recovered = next((e for e in events if e.kind == "recovery" and isinstance(e.get("measured_s"), int | float)),
                     None)
    anchor = recovered.get("from_t") if recovered is not None else None
    from_t = float(anchor) if isinstance(anchor, int | float) else start
    end = from_t + float(recovered.get("measured_s")) if recovered is not None else start + 10
    seconds = [traffic.throughput(requests, t, t + 1) for t in _whole_seconds(start, max(end, start + 1))]
    return min(seconds) / (users / pace)


def _whole_seconds(start: float, end: float) -> list[float]:
    return [start + k for k in range(int(end - start))] or [start]


def _spread(values: list[float], fmt: str) -> str:
    if not values:
        return "-"
    return "/".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def run_gates(count: int, history: Path) -> list[tuple[int, float]]:
    env = {**os.environ, "CHAOS360_HISTORY": str(history)}
    subprocess.run([*CLI, "-q", "lab", "up"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    results = []
    for n in range(1, count + 1):
        started = time.monotonic()
        code = subprocess.run([*CLI, "-q", "gate"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode
        results.append((code, time.monotonic() - started))
        print(f"gate {n}/{count}: exit {code} in {results[-1][1]:.0f} s", file=sys.stderr, flush=True)
    return results


def table(history: Path) -> str:
    rows = [json.loads(line) for line in history.read_text().splitlines() if line.strip()]
    objectives = load_objectives()
    by_experiment: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_experiment[row["experiment"]].append(row)
    lines = ["| experiment | pass | worst 10 s error rate min/med/max (margin to 10%) | recovery s min/med/max "
             "(limit, margin) | lowest rate / intended min/med/max |", "|---|---|---|---|---|"]
    limit = objectives.error_rate.max
    for name, runs in sorted(by_experiment.items()):
        if name not in objectives.recovery:
            continue
        worst = [r["worst_10s_error_rate"] for r in runs if r.get("worst_10s_error_rate") is not None]
        recovery = [r["recovery_s"] for r in runs if r.get("recovery_s") is not None]
        dips = [d for d in (throughput_dip(Path(r["run_dir"])) for r in runs) if d is not None]
        recovery_limit = objectives.recovery_for(name).seconds
        worst_margin = f" ({(limit - max(worst)) * 100:.1f} pts)" if worst else ""
        recovery_margin = f" ({recovery_limit:g}, {recovery_limit - max(recovery):g} s)" if recovery else ""
        lines.append(f"| {name} | {sum(r['verdict'] == 'pass' for r in runs)}/{len(runs)} | "
                     f"{_spread([w * 100 for w in worst], '{:.2f}%')}{worst_margin} | "
                     f"{_spread(recovery, '{:g}')}{recovery_margin} | {_spread([d * 100 for d in dips], '{:.0f}%')} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gates", type=int, default=10)
    parser.add_argument("--history", type=Path, help="an existing history to tabulate instead of running gates")
    args = parser.parse_args()
    if args.history is not None:
        print(table(args.history))
        return
    history = Path(tempfile.mkdtemp(prefix="chaos360-gates-")) / "history.jsonl"
    results = run_gates(args.gates, history)
    failed = [n for n, (code, _) in enumerate(results, 1) if code != 0]
    walls = [wall for _, wall in results]
    print(f"{len(results)} gates, {len(results) - len(failed)} passed (failed: {failed or 'none'}); wall "
          f"{_spread(walls, '{:.0f}')} s; history {history}\n")
    print(table(history))


if __name__ == "__main__":
    main()
