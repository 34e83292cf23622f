"""Run the integration suite N times on the running lab and list every test that failed at least once.

Usage: .venv/bin/python benchmarks/flaky.py [--runs 3] [--out DIR] [-- PYTEST_ARGS...]
Default pytest selection: tests/integration (the lab tests and the Locust controller's timing tests). Starts the
ha lab when it is not running (the suite's lab fixture does). Exit 0 when no test failed in any run, 1 otherwise;
the JUnit XML of each run stays in --out.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reports.flakiness import SuiteRun, flaky_tests, parse_junit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SELECTION = ["tests/integration"]


def _run_once(n: int, total: int, out: Path, selection: list[str]) -> SuiteRun:
    junit = out / f"run-{n}.xml"
    print(f"[flaky] run {n}/{total}: pytest {' '.join(selection)}", flush=True)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
                    *selection], cwd=ROOT, check=False)
    wall_s = time.monotonic() - started
    if not junit.exists():
        raise SystemExit(f"flaky: run {n} wrote no JUnit XML ({junit}); see pytest's output above")
    run = parse_junit(junit.read_text(), wall_s)
    print(f"[flaky] run {n}/{total}: {run.passed} passed, {len(run.failures)} failed, {run.skipped} skipped "
          f"in {wall_s:.0f}s", flush=True)
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="how many times to run the suite (1-50)")
    parser.add_argument("--out", type=Path, help="where each run's JUnit XML goes (default: a new temp dir)")
    parser.add_argument("pytest_args", nargs="*", help="pytest selection after --")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 50:
        parser.error(f"--runs must be between 1 and 50, got {args.runs}")
    out = args.out or Path(tempfile.mkdtemp(prefix="chaos360-flaky-"))
    out.mkdir(parents=True, exist_ok=True)
    selection = args.pytest_args or DEFAULT_SELECTION
    try:
        runs = [_run_once(n, args.runs, out, selection) for n in range(1, args.runs + 1)]
    except KeyboardInterrupt:
        print("flaky: interrupted", file=sys.stderr)
        return 2
    print(f"\n{len(runs)} runs, wall times: {', '.join(f'{r.wall_s:.0f}s' for r in runs)}; JUnit XML in {out}")
    found = flaky_tests(runs)
    for test in found:
        runs_text = ",".join(map(str, test.failed_runs))
        print(f"FAILED in {len(test.failed_runs)}/{len(runs)} (runs {runs_text}): {test.test_id}: {test.first_message}")
    if not found:
        print("no test failed in any run")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
