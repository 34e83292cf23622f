"""The service's HTTP API as the harness calls it: one request's answer, create and read a task, a smoke run."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

REQUEST_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Answer:
    """One HTTP answer of the service: status 0 when it did not answer at all."""

    ok: bool
    status: int
    latency_s: float
    body: dict[str, object]


def request(method: str, url: str, payload: dict[str, object] | None = None) -> Answer:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT_S) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except OSError:
        return Answer(False, 0, time.monotonic() - started, {})
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = {}
    return Answer(200 <= status < 300, status, time.monotonic() - started, body if isinstance(body, dict) else {})


def create_task(base_url: str, agent_id: str, task_id: str) -> Answer:
    return request("POST", f"{base_url}/v1/agents/{agent_id}/tasks", {"task_id": task_id, "payload": {"n": task_id}})


def read_task(base_url: str, agent_id: str, task_id: str) -> Answer:
    return request("GET", f"{base_url}/v1/agents/{agent_id}/tasks/{task_id}")


def listed_task_ids(base_url: str, agent_id: str, limit: int) -> set[str]:
    """Task ids the service lists for an agent; empty when the list fails."""
    outcome = request("GET", f"{base_url}/v1/agents/{agent_id}/tasks?limit={limit}")
    tasks = outcome.body.get("tasks") if outcome.ok else None
    return {str(t.get("task_id")) for t in tasks if isinstance(t, dict)} if isinstance(tasks, list) else set()


@dataclass(frozen=True)
class SmokeResult:
    created: int
    read_back: int
    failures: tuple[str, ...]
    p95_latency_s: float

    @property
    def ok(self) -> bool:
        return not self.failures


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))] if ordered else 0.0


def run(base_url: str, tasks: int = 200, workers: int = 8) -> SmokeResult:
    agent_id = f"smoke-{uuid.uuid4().hex[:8]}"
    ids = [f"t{n:05d}" for n in range(tasks)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        created = list(pool.map(lambda t: create_task(base_url, agent_id, t), ids))
        acknowledged = [t for t, outcome in zip(ids, created, strict=True) if outcome.status == 201]
        reads = list(pool.map(lambda t: read_task(base_url, agent_id, t), acknowledged))
    failures = [f"create {t}: HTTP {o.status}" for t, o in zip(ids, created, strict=True) if o.status != 201]
    failures += [
        f"read {t}: HTTP {o.status}" for t, o in zip(acknowledged, reads, strict=True)
        if not (o.ok and o.body.get("task_id") == t)
    ]
    latencies = [o.latency_s for o in created + reads]
    read_back = sum(1 for t, o in zip(acknowledged, reads, strict=True) if o.ok and o.body.get("task_id") == t)
    return SmokeResult(len(acknowledged), read_back, tuple(failures), _p95(latencies))
