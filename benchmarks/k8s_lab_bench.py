"""Kubernetes lab figures: cold build of its programs, `lab up --profile k8s` to Agent360 ready, and its memory.

Usage: .venv/bin/python benchmarks/k8s_lab_bench.py [--runs 3] [--cold] [--memory-s 30]
  --cold    builds every Go program again from the module proxy into throw-away caches (GOCACHE, GOMODCACHE and
            CHAOS360_CACHE in a temporary directory): the time a fresh machine's set-up spends (minutes).
  --runs N  N times: `lab down`, then a timed `lab up --profile k8s` (warm: programs, images and archives cached).
Then, with the lab up, samples for --memory-s seconds the resident memory of the control-plane processes and the
memory of the node containers (their cgroups hold every pod), and prints the peak. Leaves the lab up.
Prints one JSON line per figure; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "chaos360"]


def _timed(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, env={**os.environ, **(env or {})}, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def cold_build() -> float:
    with tempfile.TemporaryDirectory(prefix="chaos360-cold-") as scratch:
        env = {"GOCACHE": f"{scratch}/gocache", "GOMODCACHE": f"{scratch}/gomod", "CHAOS360_CACHE": f"{scratch}/c",
               "GOFLAGS": "-modcacherw"}
        seconds = _timed([*CLI, "-q", "lab", "build", "--profile", "k8s"], env)
        subprocess.run(["chmod", "-R", "u+w", scratch], check=False)
        return seconds


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _control_plane_kib(lab_id: str) -> int:
    run = Path(os.environ.get("CHAOS360_STATE_DIR", Path.home() / ".chaos360")) / "k8s" / lab_id / "run"
    return sum(_rss_kib(int(p.read_text())) for p in run.glob("*.pid"))


def _nodes_kib(lab_id: str) -> int:
    names = subprocess.run(["docker", "ps", "--filter", f"label=chaos360.lab={lab_id}", "--format", "{{.Names}}"],
                           capture_output=True, text=True, check=True).stdout.split()
    stats = subprocess.run(["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", *names],
                           capture_output=True, text=True, check=True).stdout.split("\n")
    total = 0.0
    units = {"KiB": 1, "MiB": 1024, "GiB": 1024 * 1024, "B": 1 / 1024}
    for line in stats:
        if not line.strip():
            continue
        used = line.split("/")[0].strip()
        for unit, factor in units.items():
            if used.endswith(unit):
                total += float(used.removesuffix(unit)) * factor
                break
    return int(total)


def memory(lab_id: str, seconds: float) -> dict[str, int]:
    peak = {"control_plane_mib": 0, "nodes_mib": 0, "total_mib": 0}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        control, nodes = _control_plane_kib(lab_id) // 1024, _nodes_kib(lab_id) // 1024
        peak = {"control_plane_mib": max(peak["control_plane_mib"], control),
                "nodes_mib": max(peak["nodes_mib"], nodes), "total_mib": max(peak["total_mib"], control + nodes)}
        time.sleep(2)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--memory-s", type=float, default=30.0)
    parser.add_argument("--lab-id", default="chaos360")
    args = parser.parse_args()
    if args.cold:
        print(json.dumps({"figure": "cold_build_s", "value": round(cold_build(), 1)}), flush=True)
    ups = []
    for run in range(args.runs):
        subprocess.run([*CLI, "-q", "lab", "down"], cwd=ROOT, check=True)
        ups.append(_timed([*CLI, "-q", "lab", "up", "--profile", "k8s"]))
        print(json.dumps({"figure": "lab_up_to_agent360_ready_s", "run": run + 1, "value": round(ups[-1], 1)}),
              flush=True)
    if ups:
        print(json.dumps({"figure": "lab_up_median_s", "value": round(sorted(ups)[len(ups) // 2], 1)}), flush=True)
    print(json.dumps({"figure": "memory_peak", **memory(args.lab_id, args.memory_s)}), flush=True)


if __name__ == "__main__":
    main()
