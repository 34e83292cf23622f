"""DR figures by data size: backup, verify and restore times, RTO, backup size, and the harness's peak memory.

Usage: .venv/bin/python benchmarks/dr_bench.py [--sizes 10000,100000,1000000]
Needs the ha lab up (`chaos360 lab up`). Each size adds that many tasks to Cassandra directly (agents
"drbench-<size>-<n>", 1000 tasks each; the sizes add up, `tasks_in_table` says how many the backup holds), then
backs the lab up, verifies the backup, loses
every data set (the restore's undo in the fault ledger first, so `chaos360 heal` finishes an interrupted run),
restores and reads every bench task back at consistency ALL. Prints one JSON line per size and a table; nothing here
asserts a time.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager

from cassandra.concurrent import execute_concurrent_with_args

from actions.backup import backup, new_backup_id
from actions.disaster import victims
from actions.restore import restore
from kernel.backup_store import default_store
from kernel.cassandra_access import host_cluster
from kernel.inventory import load
from kernel.ledger import Ledger, Undo
from lab.target import DockerLabTarget
from probes.backup_check import backup_problems
from probes.stored_tasks import stored_tasks

PER_AGENT = 1000
INSERT = "INSERT INTO agent360.tasks (agent_id, task_id, payload, created_at) VALUES (?, ?, ?, toTimestamp(now()))"


def _agents(size: int) -> list[str]:
    return [f"drbench-{size}-{n}" for n in range(size // PER_AGENT)]


def _payload(agent: str, task: str) -> str:
    return json.dumps({"agent": agent, "task": task, "pad": "x" * 64}, separators=(",", ":"))


def seed(lab_id: str, size: int) -> float:
    inventory = load(lab_id)
    started = time.monotonic()
    with host_cluster(inventory, request_timeout=30.0) as session:
        statement = session.prepare(INSERT)
        for agent in _agents(size):
            rows = [(agent, f"t{n:06d}", _payload(agent, f"t{n:06d}")) for n in range(PER_AGENT)]
            execute_concurrent_with_args(session, statement, rows, concurrency=64, raise_on_first_error=True)
    return time.monotonic() - started


@contextmanager
def _timer(phases: dict[str, float], name: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    phases[name] = round(time.monotonic() - started, 2)


def drill(lab_id: str, size: int) -> dict[str, object]:
    inventory = load(lab_id)
    target = DockerLabTarget(inventory)
    store = default_store(lab_id)
    backup_id = new_backup_id()
    figures: dict[str, float] = {}
    with _timer(figures, "backup_s"):
        manifest = backup(target, inventory, store, backup_id)
    with _timer(figures, "verify_s"):
        _, problems = backup_problems(store, backup_id)
    if problems:
        raise SystemExit(f"backup {backup_id} does not verify: {problems[0]}")
    ledger = Ledger(lab_id)
    entry = ledger.record("lose-data", Undo(op="restore", args={"backup": backup_id, "store": store.location(),
                                                                 "what": "all"}))
    disaster = time.monotonic()
    for name in victims(inventory, "all"):
        target.destroy(name)
    phases: dict[str, float] = {}

    @contextmanager
    def phase(name: str) -> Iterator[None]:
        with _timer(phases, name):
            yield

    with _timer(figures, "restore_s"):
        restore(target, inventory, store, backup_id, "all", phase)
    ledger.discard(entry.id)
    with _timer(figures, "read_back_s"):
        stored = stored_tasks(inventory, _agents(size), retry_for_s=120)
    figures["rto_s"] = round(time.monotonic() - disaster, 2)
    missing = size - sum(1 for key in stored if key[0].startswith(f"drbench-{size}-"))
    return {"tasks": size, **figures, "phases": phases, "backup_bytes": sum(f.size for f in manifest.files),
            "backup_files": len(manifest.files), "missing_after_restore": missing,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--lab-id", default="chaos360")
    args = parser.parse_args()
    rows = []
    in_table = 0
    for size in (int(s) for s in args.sizes.split(",")):
        seeded = seed(args.lab_id, size)
        in_table += size
        row = {**drill(args.lab_id, size), "seed_s": round(seeded, 1), "tasks_in_table": in_table}
        print(json.dumps(row), flush=True)
        rows.append(row)
    print("| bench tasks in the table | backup s | verify s | restore s | RTO s | backup MB | missing | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['tasks_in_table']} | {r['backup_s']} | {r['verify_s']} | {r['restore_s']} | {r['rto_s']} | "
              f"{int(r['backup_bytes']) / 1e6:.1f} | {r['missing_after_restore']} | {r['peak_rss_mb']} |")


if __name__ == "__main__":
    main()
