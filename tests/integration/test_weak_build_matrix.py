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
MATRIX = [
    ("AGENT360_REDIS_MODE=direct", "redis-master-failover"),
    ("AGENT360_READY_CHECKS=none", "zone-partition"),
    ("AGENT360_CASSANDRA_CL=ALL", "cassandra-node-loss"),
    ("AGENT360_RETRIES=0", "flapping-link"),
    ("AGENT360_READY_CHECKS=none", "zone-db-link-cut"),
    ("AGENT360_WRITE_ACK=cached", "zone-db-link-cut"),
]


@pytest.fixture
def weak_lab(lab: Inventory, request: pytest.FixtureRequest):
    """Replace the app replicas with a weaker build; restore the resilient build afterwards."""
    key, _, value = request.param.partition("=")
    yield docker_lab.up(LabSettings(app_env=((key, value),)), Progress())
    docker_lab.up(LabSettings(), Progress())


@pytest.mark.parametrize(("weak_lab", "experiment"), MATRIX, indirect=["weak_lab"], ids=[f"{b}-{e}" for b, e in MATRIX])
def test_weak_build_fails_its_experiment(weak_lab: Inventory, experiment: str):
    outcome = run_file(EXPERIMENTS / f"{experiment}.yaml", weak_lab.lab_id)
    print(outcome.summary)
    assert outcome.verdict in (Verdict.FAIL, Verdict.ABORTED), outcome.summary
    assert any("limit" in reason or "not met" in reason for reason in outcome.reasons), outcome.reasons
