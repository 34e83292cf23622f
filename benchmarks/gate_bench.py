"""Gate figures: wall time per experiment, overhead share, failover-time accuracy, sustained request rate.

Usage: .venv/bin/python benchmarks/gate_bench.py [--experiments a,b,...] [--rps-users 60] [--rps-seconds 30]
Starts the ha lab when it is not running. Prints one JSON object; nothing here asserts a time.

overhead = wall time - time under fault and waiting for recovery (first injection to the last heal, recovery
verdict or lab ready after the heal, whichever is latest),
as a share of wall time: steady-state checks, baseline traffic, load start/stop and judging.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

from chaos360.runner import run_file
from kernel.inventory import load
from kernel.progress import Progress
from kernel.record import read_events, read_requests
from lab import docker_lab
from lab.topology import LabSettings
from loadtests.controller import LoadController, LoadSpec
from probes import sentinel_events, traffic

ROOT = Path(__file__).resolve().parents[1]
SENTINEL_LOG = re.compile(r"(\d+ \w+ \d{4} \d\d:\d\d:\d\d\.\d{3}) [#*] (\+sdown master|\+switch-master) ")


def _fault_window(run_dir: Path) -> float:
    """First injection to the last of: a heal, the recovery verdict, the lab ready again after the heal."""
    events = read_events(run_dir / "events.jsonl", missing_ok=True)
    injected = [e.t for e in events if e.kind == "fault.inject"]
    if not injected:
        return 0.0
    ends = [e.t for e in events if e.kind in ("fault.heal", "recovery", "lab.ready")]
    return max(0.0, max(ends, default=injected[0]) - min(injected))


def _sentinel_log_failover(lab_id: str, since: float) -> float | None:
    """+sdown master to +switch-master in the Sentinels' own logs (their clocks, millisecond stamps)."""
    stamps: dict[str, list[float]] = {"+sdown master": [], "+switch-master": []}
    for name in ("sentinel-a", "sentinel-b", "sentinel-c"):
        logs = subprocess.run(["docker", "logs", "--since", str(int(since)), f"{lab_id}-{name}"],
                              capture_output=True, text=True, check=False).stdout
        for match in SENTINEL_LOG.finditer(logs):
            moment = datetime.strptime(match.group(1), "%d %b %Y %H:%M:%S.%f").timestamp()
            stamps[match.group(2)].append(moment)
    if not stamps["+sdown master"] or not stamps["+switch-master"]:
        return None
    return min(stamps["+switch-master"]) - min(stamps["+sdown master"])


def bench_experiments(names: list[str], lab_id: str) -> dict[str, object]:
    rows, wall_total, fault_total = [], 0.0, 0.0
    for name in names:
        started = time.time()
        outcome = run_file(ROOT / "experiments" / f"{name}.yaml", lab_id)
        window = _fault_window(outcome.run_dir)
        requests = read_requests(outcome.run_dir / "requests.jsonl", missing_ok=True)
        events = read_events(outcome.run_dir / "events.jsonl", missing_ok=True)
        judged = {j["name"]: j.get("measured") for j in outcome.judgements}
        row: dict[str, object] = {
            "experiment": name, "verdict": outcome.verdict.value, "wall_s": round(outcome.wall_s, 1),
            "under_fault_s": round(window, 1), "recovery_s": judged.get("recovery"),
            "worst_10s_error_rate": traffic.worst_window_error_rate(requests, 10.0),
            "failover_s": sentinel_events.failover_time(events),
        }
        if name == "redis-master-failover":
            row["failover_s_sentinel_logs"] = _sentinel_log_failover(lab_id, started - 1)
        rows.append(row)
        wall_total += outcome.wall_s
        fault_total += window
    overhead = (wall_total - fault_total) / wall_total if wall_total else None
    return {"experiments": rows, "gate_wall_s": round(wall_total, 1), "overhead_share": overhead}


def bench_rps(lab_id: str, users: int, seconds: int) -> dict[str, object]:
    inventory = load(lab_id)
    with tempfile.TemporaryDirectory() as scratch:
        spec = LoadSpec(base_url=inventory.host_url("lb"), users=users, spawn_rate=users, duration_s=seconds)
        controller = LoadController(spec, Path(scratch)).start()
        controller.wait(seconds + 30)
        controller.stop()
        requests = read_requests(Path(scratch) / "requests.jsonl", missing_ok=True)
    start, end = min(r.t for r in requests) + 3, max(r.t for r in requests)
    return {"users": users, "rps": round(traffic.throughput(requests, start, end), 1),
            "error_rate": traffic.error_rate(requests, start, end),
            "latency_ms": traffic.latency_percentiles(requests, (50, 95, 99))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experiments", default="app-replica-kill,zone-partition,redis-master-failover,flapping-link,"
                        "cassandra-node-loss,datastore-latency,rolling-update,canary-fault")
    parser.add_argument("--lab-id", default="chaos360")
    parser.add_argument("--rps-users", type=int, default=60)
    parser.add_argument("--rps-seconds", type=int, default=30)
    args = parser.parse_args()
    docker_lab.up(LabSettings(lab_id=args.lab_id), Progress(quiet=True))
    load = bench_rps(args.lab_id, args.rps_users, args.rps_seconds)  # first, on a settled lab
    figures = bench_experiments([n for n in args.experiments.split(",") if n], args.lab_id)
    figures["load"] = load
    print(json.dumps(figures, indent=1, default=str))


if __name__ == "__main__":
    main()
