"""chaos360 inside the cluster: the scheduled drill (deploy/k8s's CronJob, its schedule shortened) runs in a pod as
the runner's ServiceAccount, writes its report and history line to its volume, heals what it broke, and a second
run started while it works is refused by the namespace's run lease."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lab.k8s.agent360 import REPORTS_DIR
from lab.k8s.cluster import kubectl
from lab.k8s.cluster_lock import LEASE_NAME
from lab.k8s.lab_target import open_lab_target
from lab.k8s.leftovers import find_leftovers
from lab.k8s.manifests import DRILL_CRONJOB, DRILL_SCHEDULE, NAMESPACE, drill_arguments
from tests.integration.k8s.conftest import LAB

pytestmark = [pytest.mark.integration, pytest.mark.k8s]
HISTORY = f"{REPORTS_DIR}/reports/history.jsonl"
OVERLAP_JOB = "chaos360-overlap"


def _ns(*args: str, timeout_s: float = 30.0) -> str:
    return kubectl(LAB, "-n", NAMESPACE, *args, timeout_s=timeout_s)


def _until(check: Callable[[], Any], timeout_s: float, poll_s: float = 2.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(poll_s)
    return None


def _jobs() -> list[dict[str, Any]]:
    return list(json.loads(_ns("get", "jobs", "-l", "chaos360.io/role=runner", "-o", "json"))["items"])


def _scheduled() -> list[dict[str, Any]]:
    """The CronJob's own runs (`kubectl create job --from=cronjob` makes one owned by it too, marked manual)."""
    return [j for j in _jobs() if any(o["kind"] == "CronJob" for o in j["metadata"].get("ownerReferences", []))
            and (j["metadata"].get("annotations") or {}).get("cronjob.kubernetes.io/instantiate") != "manual"]


def _span(job: dict[str, Any]) -> tuple[str, str]:
    """When a Job started and ended (a failed one has no completionTime: its Failed condition says when)."""
    status = job["status"]
    ended = status.get("completionTime") or next(
        (c["lastTransitionTime"] for c in status.get("conditions", []) if c["type"] == "Failed"), "~")
    return status.get("startTime", ""), ended


def _finished(name: str) -> str | None:
    job = json.loads(_ns("get", "job", name, "-o", "json"))
    conditions = {c["type"]: c["status"] for c in job.get("status", {}).get("conditions", [])}
    return next((kind for kind in ("Complete", "Failed") if conditions.get(kind) == "True"), None)


def _lease_exists() -> bool:
    return LEASE_NAME in _ns("get", "leases", "-o", "name")


def _node_a(script: str) -> str:
    nodes = open_lab_target(LAB).nodes
    assert nodes is not None
    return nodes.run("node-a", script, check=False)


def _drill(schedule: str, arguments: list[str], suspend: bool) -> None:
    container = {"name": "chaos360", "args": arguments}
    patch = {"spec": {"schedule": schedule, "suspend": suspend,
                      "jobTemplate": {"spec": {"template": {"spec": {"containers": [container]}}}}}}
    _ns("patch", "cronjob", DRILL_CRONJOB, "--type=strategic", "-p", json.dumps(patch))


@pytest.fixture
def drill_every_minute(k8s_lab: object) -> Iterator[None]:
    _drill("*/1 * * * *", drill_arguments(("zone-partition",)), suspend=False)
    try:
        yield
    finally:
        _drill(DRILL_SCHEDULE, drill_arguments(), suspend=True)
        _ns("delete", "jobs", "-l", "chaos360.io/role=runner", "--wait=true", timeout_s=120)
        _ns("delete", "job", OVERLAP_JOB, "--ignore-not-found", "--wait=true", timeout_s=120)


def test_the_scheduled_drill_runs_in_the_cluster_and_a_second_run_is_refused(drill_every_minute: None) -> None:
    lines_before = len(_node_a(f"cat {HISTORY} 2>/dev/null").splitlines())
    first = _until(_scheduled, timeout_s=150)
    assert first, "the CronJob started no drill within 150 s of its every-minute schedule"
    name = first[0]["metadata"]["name"]
    assert _until(_lease_exists, timeout_s=120, poll_s=1), f"{name} never took the namespace's run lease"

    _ns("create", "job", f"--from=cronjob/{DRILL_CRONJOB}", OVERLAP_JOB)
    assert _until(lambda: _finished(OVERLAP_JOB), timeout_s=180) == "Failed", "an overlapping run was not refused"
    refused = _ns("logs", f"job/{OVERLAP_JOB}")
    assert f"namespace {NAMESPACE} is busy" in refused and f"holds lease {LEASE_NAME}" in refused, refused[-2000:]

    assert _until(lambda: _finished(name), timeout_s=480, poll_s=5) == "Complete", _ns("logs", f"job/{name}")[-3000:]
    log = _ns("logs", f"job/{name}")
    assert "zone-partition: PASS" in log, log[-3000:]
    history = _node_a(f"cat {HISTORY}").splitlines()
    assert len(history) > lines_before, "the drill appended no history line"
    last = json.loads(history[-1])
    assert last["experiment"] == "zone-partition" and last["verdict"] == "pass", last
    run_dir = last["run_dir"].removeprefix("/var/lib/chaos360/")
    assert not run_dir.startswith("/"), f"the report is not on the runner's volume: {last['run_dir']}"
    assert _node_a(f"test -s {REPORTS_DIR}/{run_dir}/report.html && echo present").strip() == "present"

    starts = sorted(_span(job) for job in _scheduled())
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(starts)), \
        f"two scheduled drills overlapped despite concurrencyPolicy Forbid: {starts}"
    assert not _lease_exists(), "the finished drill left its run lease"
    assert find_leftovers(open_lab_target(LAB)) == []
