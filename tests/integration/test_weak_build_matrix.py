"""The harness must fail weak builds: each weaker build of the service fails the experiment aimed at it."""

from pathlib import Path

import pytest

from chaos360.runner import run_file
from kernel.inventory import Inventory
from kernel.progress import Progress
from kernel.verdict import Verdict
from lab import docker_lab
from lab.topology import LabSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
# Each weak build (its environment, space-separated) with the experiment that must catch it; different in kind:
# Sentinel use, readiness, consistency level, retries, durability, the queue, timeouts.
MATRIX = [
    ("AGENT360_REDIS_MODE=direct", "redis-master-failover"),
    ("AGENT360_READY_CHECKS=none", "zone-partition"),
    ("AGENT360_CASSANDRA_CL=ALL", "cassandra-node-loss"),
    ("AGENT360_RETRIES=0", "flapping-link"),
    ("AGENT360_READY_CHECKS=none", "zone-db-link-cut"),
    ("AGENT360_WRITE_ACK=cached", "zone-db-link-cut"),
    ("AGENT360_READY_CHECKS=cassandra", "zone-redis-link-cut"),
    ("AGENT360_READY_REDIS_GRACE=60 AGENT360_READY_REDIS_LOCAL_AFTER=60", "zone-redis-link-cut"),
    ("AGENT360_EVENTS=best-effort", "zone-redis-link-cut"),
    ("AGENT360_REQUEST_TIMEOUT=0.25", "datastore-latency"),
]


@pytest.fixture
def weak_lab(lab: Inventory, request: pytest.FixtureRequest):
    """Replace the app replicas with a weaker build; restore the resilient build afterwards."""
    env = tuple((key, value) for key, _, value in (item.partition("=") for item in request.param.split()))
    yield docker_lab.up(LabSettings(app_env=env), Progress())
    docker_lab.up(LabSettings(), Progress())


@pytest.mark.parametrize(("weak_lab", "experiment"), MATRIX, indirect=["weak_lab"], ids=[f"{b}-{e}" for b, e in MATRIX])
def test_weak_build_fails_its_experiment(weak_lab: Inventory, experiment: str):
    outcome = run_file(EXPERIMENTS / f"{experiment}.yaml", weak_lab.lab_id)
    print(outcome.summary)
    assert outcome.verdict in (Verdict.FAIL, Verdict.ABORTED), outcome.summary
    assert any("limit" in reason or "not met" in reason for reason in outcome.reasons), outcome.reasons
