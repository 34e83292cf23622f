"""The unchanged experiment files on the Kubernetes lab, through the CLI a user types: the resilient build passes
them, in both zone-isolation modes, and weaker builds (rolled out by the Deployment) fail theirs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from chaos360.healing import heal_lab
from kernel.run import RUNS_DIR_ENV
from lab.k8s.cluster import kubectl
from lab.k8s.lab_target import open_lab_target
from lab.k8s.leftovers import find_leftovers
from lab.k8s.manifests import NAMESPACE, documents
from tests.integration.k8s.conftest import LAB, ROOT

pytestmark = [pytest.mark.integration, pytest.mark.k8s]
RUN_TIMEOUT_S = 600  # a run on the lab takes 15-40 s
REDIS_PROXY_PORT = 6380  # the app's Toxiproxy sidecar: redis-a, -b, -c on 6380, 6381, 6382


def run(experiment: str, isolation: str = "node") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHAOS360_K8S_ISOLATION": isolation}
    return subprocess.run([sys.executable, "-m", "chaos360", "run", "--quiet", f"experiments/{experiment}.yaml"],
                          cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=env, check=False)


@pytest.fixture(scope="module")
def k8s_ready(k8s_lab: subprocess.CompletedProcess[str]) -> None:
    assert k8s_lab.returncode == 0, k8s_lab.stderr[-2000:]


GATE_TIMEOUT_S = 1800  # ten experiments of 15-45 s each, and the closing heal
RUNS_ON_KUBERNETES = {"app-replica-kill", "zone-partition", "redis-master-failover", "cassandra-node-loss",
                      "rolling-update", "canary-fault", "datastore-latency", "flapping-link", "zone-db-link-cut",
                      "zone-redis-link-cut"}


def test_the_gate_passes_every_experiment_kubernetes_runs_and_names_what_it_leaves_out(
        k8s_ready: None, tmp_path: Path) -> None:
    """The user's gate, `chaos360 --target k8s gate`, with the zone cut by the nodes' packet filters."""
    env = {**os.environ, "CHAOS360_K8S_ISOLATION": "node", RUNS_DIR_ENV: str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "chaos360", "--target", "k8s", "gate", "--quiet"], cwd=ROOT,
                            capture_output=True, text=True, timeout=GATE_TIMEOUT_S, env=env, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert "chaos360: redis-master-returns left out on Kubernetes: step " in output
    [junit] = tmp_path.glob("*-gate/junit.xml")
    cases = ElementTree.parse(junit).getroot().iter("testcase")
    verdicts = {case.get("name"): next((p.get("value") for p in case.iter("property") if p.get("name") == "verdict"),
                                       None) for case in cases}
    assert verdicts == dict.fromkeys(RUNS_ON_KUBERNETES, "pass")
    assert find_leftovers(open_lab_target(LAB)) == []


def test_the_resilient_build_passes_a_zone_cut_by_network_policy(k8s_ready: None) -> None:
    result = run("zone-partition", "policy")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "zone-partition: PASS" in output
    assert "fault effect 1 faults" in output
    assert find_leftovers(open_lab_target(LAB)) == []


def _set_env(pairs: list[str]) -> None:
    """Roll the build out and wait, as a user would, until the lab is ready (its balancer sees every zone serve)."""
    kubectl(LAB, "-n", NAMESPACE, "set", "env", "deployment/agent360", *pairs)
    kubectl(LAB, "-n", NAMESPACE, "rollout", "status", "deployment/agent360", "--timeout=240s", timeout_s=260)
    ready = heal_lab(LAB, wait_ready_s=120, check_ready=True)
    assert not ready.failed, ready.summary()


@pytest.fixture
def weak_build(request: pytest.FixtureRequest) -> Iterator[None]:
    """The app Deployment rolled out with a weaker build's environment; rolled back to the resilient one after."""
    pairs = list(request.param.split())
    if "AGENT360_REDIS_MODE=direct" in pairs:
        master = open_lab_target(LAB).redis_master()
        pairs.append(f"AGENT360_REDIS_DIRECT=127.0.0.1:{REDIS_PROXY_PORT + 'abc'.index(master[-1])}")
    _set_env(pairs)
    try:
        yield
    finally:
        _set_env([f"{pair.partition('=')[0]}-" for pair in pairs])


WEAK_BUILDS = [
    ("AGENT360_READY_CHECKS=none", "zone-partition"),
    ("AGENT360_CASSANDRA_CL=ALL", "cassandra-node-loss"),
    ("AGENT360_REDIS_MODE=direct", "redis-master-failover"),
    ("AGENT360_RETRIES=0", "flapping-link"),
    ("AGENT360_READY_CHECKS=cassandra", "zone-redis-link-cut"),
]


@pytest.mark.parametrize(("weak_build", "experiment"), WEAK_BUILDS, indirect=["weak_build"],
                         ids=[f"{build}-{experiment}" for build, experiment in WEAK_BUILDS])
def test_a_weak_build_fails_its_experiment_on_kubernetes(k8s_ready: None, weak_build: None, experiment: str) -> None:
    result = run(experiment)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert f"{experiment}: FAIL" in output or f"{experiment}: ABORTED" in output, output[-3000:]
    assert "> limit" in output or "aborted: error rate" in output, output[-3000:]


def _sidecar_as_plain_container() -> list[dict[str, object]]:
    """The Toxiproxy sidecar moved to the pod's containers, as sidecars were written before native ones: it gets
    SIGTERM with the app, so the app drains its last requests into a proxy that is gone."""
    deployment = next(d for docs in documents().values() for d in docs
                      if d["kind"] == "Deployment" and d["metadata"]["name"] == "agent360")
    sidecar = {k: v for k, v in deployment["spec"]["template"]["spec"]["initContainers"][0].items()
               if k != "restartPolicy"}
    return [{"op": "remove", "path": "/spec/template/spec/initContainers"},
            {"op": "add", "path": "/spec/template/spec/containers/-", "value": sidecar}]


def _patch_app(patch: list[dict[str, object]]) -> None:
    kubectl(LAB, "-n", NAMESPACE, "patch", "deployment/agent360", "--type=json", "-p", json.dumps(patch))
    kubectl(LAB, "-n", NAMESPACE, "rollout", "status", "deployment/agent360", "--timeout=240s", timeout_s=260)
    ready = heal_lab(LAB, wait_ready_s=120, check_ready=True)
    assert not ready.failed, ready.summary()


@pytest.fixture
def sidecar_stopping_with_the_app() -> Iterator[None]:
    plain = _sidecar_as_plain_container()
    _patch_app(plain)
    try:
        yield
    finally:
        sidecar = {**plain[1]["value"], "restartPolicy": "Always"}  # type: ignore[dict-item]
        _patch_app([{"op": "remove", "path": "/spec/template/spec/containers/1"},
                    {"op": "add", "path": "/spec/template/spec/initContainers", "value": [sidecar]}])


def test_a_sidecar_that_stops_with_the_app_fails_the_rolling_update(
        k8s_ready: None, sidecar_stopping_with_the_app: None) -> None:
    result = run("rolling-update")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "rolling-update: FAIL" in output, output[-3000:]
    assert "> limit" in output or "recovery fail" in output, output[-3000:]
