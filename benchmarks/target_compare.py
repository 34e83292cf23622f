"""Docker lab against Kubernetes lab, per experiment: median wall time, recovery, worst 10 s error rate and failover
time of the passing runs under reports/runs (or the directory given), by the target each run recorded.

    python benchmarks/target_compare.py [runs-dir] [--experiments a,b,c]
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

COLUMNS = (("recovery", "recovery s"), ("worst 10s error rate", "worst 10 s errors"), ("failover time", "failover s"))


def target_of(run_dir: Path) -> str:
    events = run_dir / "events.jsonl"
    if not events.exists():
        return "?"
    with events.open() as handle:
        first = json.loads(handle.readline() or "{}")
    return str(first.get("target", "docker"))


def collect(runs: Path, experiments: set[str] | None) -> dict[tuple[str, str], list[dict[str, float]]]:
    found: dict[tuple[str, str], list[dict[str, float]]] = defaultdict(list)
    for outcome_file in sorted(runs.glob("*/outcome.json")):
        outcome = json.loads(outcome_file.read_text())
        if outcome.get("verdict") != "pass" or (experiments and outcome["experiment"] not in experiments):
            continue
        figures = {"wall": float(outcome["wall_s"])}
        for judgement in outcome.get("judgements", []):
            if judgement.get("measured") is not None:
                figures[judgement["name"]] = float(judgement["measured"])
        found[(outcome["experiment"], target_of(outcome_file.parent))].append(figures)
    return found


def median(values: list[float]) -> str:
    return f"{statistics.median(values):.3g}" if values else "-"


def table(found: dict[tuple[str, str], list[dict[str, float]]]) -> str:
    header = "| experiment | target | passing runs | wall s | " + " | ".join(label for _, label in COLUMNS) + " |"
    lines = [header, "|" + "---|" * (4 + len(COLUMNS))]
    for (experiment, target), runs in sorted(found.items()):
        cells = [median([r[name] for r in runs if name in r]) for name, _ in COLUMNS]
        lines.append(f"| {experiment} | {target} | {len(runs)} | {median([r['wall'] for r in runs])} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", type=Path, default=Path("reports/runs"))
    parser.add_argument("--experiments", default="app-replica-kill,zone-partition,redis-master-failover")
    args = parser.parse_args()
    print(table(collect(args.runs, set(args.experiments.split(",")) if args.experiments else None)))


if __name__ == "__main__":
    main()
