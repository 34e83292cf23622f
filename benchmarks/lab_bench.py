"""Lab figures: image build from nothing, `lab up` to ready (median of N), memory of the running ha lab.

Usage: .venv/bin/python benchmarks/lab_bench.py [--build] [--cold] [--runs 3] [--profile ha]
  --build   remove the chaos360 images first and time `chaos360 lab build`
  --cold    with --build: also empty Maven, Go and pip caches (downloads everything again)
Prints one JSON object; nothing here asserts a time.
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
from pathlib import Path

CLI = [str(Path(sys.executable).parent / "chaos360")]


def _run(args: list[str], env: dict[str, str] | None = None) -> float:
    started = time.monotonic()
    subprocess.run([*CLI, *args], check=True, env={**os.environ, **(env or {})})
    return time.monotonic() - started


def _remove_images() -> None:
    listed = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "chaos360/*"],
                            capture_output=True, text=True, check=True).stdout.split()
    if listed:
        subprocess.run(["docker", "rmi", "-f", *listed], capture_output=True, check=False)
    subprocess.run(["docker", "builder", "prune", "-af"], capture_output=True, check=False)


def time_build(cold: bool) -> float:
    _remove_images()
    env: dict[str, str] = {}
    if cold:
        scratch = tempfile.mkdtemp(prefix="chaos360-cold-")
        env = {"MAVEN_OPTS": f"-Dmaven.repo.local={scratch}/m2", "GOMODCACHE": f"{scratch}/gomod",
               "GOCACHE": f"{scratch}/gocache", "PIP_NO_CACHE_DIR": "1", "PIP_FIND_LINKS": ""}
    return _run(["lab", "build"], env)


def lab_memory_mib(lab_id: str, samples: int = 5) -> float:
    """Peak over a few samples of the summed memory use of the lab's containers."""
    peak = 0.0
    for _ in range(samples):
        names = subprocess.run(["docker", "ps", "-q", "--filter", f"label=chaos360.lab={lab_id}"],
                               capture_output=True, text=True, check=True).stdout.split()
        out = subprocess.run(["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", *names],
                             capture_output=True, text=True, check=True).stdout.splitlines()
        peak = max(peak, sum(_mib(line.split("/")[0].strip()) for line in out))
        time.sleep(1)
    return peak


def _mib(text: str) -> float:
    units = {"KiB": 1 / 1024, "MiB": 1.0, "GiB": 1024.0, "B": 1 / 1024 / 1024}
    for unit, factor in units.items():
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", action="store_true")
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", default="ha")
    args = parser.parse_args()
    figures: dict[str, object] = {"profile": args.profile}
    if args.build:
        figures["build_s"] = round(time_build(args.cold), 1)
        figures["build_caches"] = "cold" if args.cold else "warm"
    up_times = []
    for _ in range(args.runs):
        _run(["-q", "lab", "down"])
        up_times.append(round(_run(["-q", "lab", "up", "--profile", args.profile]), 1))
    figures["lab_up_s"] = up_times
    figures["lab_up_median_s"] = statistics.median(up_times)
    _run(["-q", "lab", "smoke", "--tasks", "200"])
    figures["lab_memory_peak_mib"] = round(lab_memory_mib(os.environ.get("CHAOS360_LAB_ID", "chaos360")))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
