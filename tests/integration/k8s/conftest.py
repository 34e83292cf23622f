"""The Kubernetes lab for its tests: started once (after the Docker lab's tests, which it replaces), taken down by
the last of them (test_teardown.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LAB = "chaos360"
UP_TIMEOUT_S = 600


def cli(*args: str, timeout_s: float = UP_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chaos360", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout_s, check=False)


@pytest.fixture(scope="session")
def k8s_lab() -> Iterator[subprocess.CompletedProcess[str]]:
    down = cli("lab", "down")
    assert down.returncode == 0, down.stderr
    started = cli("lab", "up", "--profile", "k8s")
    yield started
    cli("lab", "down")


def killed_after_injecting(script: str) -> None:
    """Run `script` (Python that prints "injected" once its faults are in) as a harness, and SIGKILL it there."""
    harness = subprocess.Popen([sys.executable, "-c", script + "print('injected', flush=True)\nimport time\n"
                                "time.sleep(600)\n"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert harness.stdout is not None and harness.stdout.readline().strip() == "injected"
    harness.kill()
    harness.wait(timeout=10)


NODE_STATE = ("tail -n 400 /var/log/k8s/kube-proxy.log | grep -E '^E' | grep -v nodePortAddresses | tail -n 3; "
              "tail -n 400 /var/log/k8s/kube-router.log | grep -E '^E' | grep -v modprobe | tail -n 3; "
              "grep -h exited /var/log/k8s/*.log | tail -n 3; "
              "echo \"nat KUBE-SVL rules: $(iptables -t nat -S | grep -c -- '-A KUBE-SVL')\"; "
              "iptables -S | grep -E 'no local endpoints|KUBE-POD-FW' | head -n 4")


def lab_state() -> str:
    """What a failed Kubernetes-lab test leaves for its reader: the balancer's view, the app's pods and endpoints,
    and each node's recent proxy and router errors."""
    from lab.k8s.cluster import kubectl
    from lab.k8s.edge import check

    parts = [f"balancer: {check(3).detail}"]
    for args in (("-n", "agent360", "get", "pods", "-o", "wide"), ("-n", "agent360", "get", "endpointslices")):
        try:
            parts.append(kubectl(LAB, *args, timeout_s=10))
        except Exception as error:
            parts.append(f"kubectl {' '.join(args)}: {error}")
    for node in ("node-a", "node-b", "node-c"):
        state = subprocess.run(["docker", "exec", f"{LAB}-{node}", "sh", "-c", NODE_STATE], capture_output=True,
                               text=True, timeout=30, check=False)
        parts.append(f"--- {node}\n{(state.stdout + state.stderr).strip()}")
    return "\n".join(parts)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    if report.failed and call.when == "call":
        try:
            report.sections.append(("Kubernetes lab state", lab_state()))
        except Exception as error:
            report.sections.append(("Kubernetes lab state", f"unavailable: {error}"))
    return report


BROKEN = pytest.StashKey[str]()


@pytest.fixture(autouse=True)
def healed_after_a_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that fails on the cluster may leave a fault or a stale node behind: heal it (and wait for the lab) so
    the next test starts clean, as the Docker lab's tests do. A lab that a heal cannot bring back fails the tests
    after it at once, with the heal's words, instead of each waiting out its own timeouts."""
    from chaos360.healing import heal_lab
    from kernel.errors import Chaos360Error
    from tests.integration.conftest import FAILED

    uses_lab = "k8s_lab" in request.fixturenames
    broken = request.session.stash.get(BROKEN, "")
    if uses_lab and broken and not request.module.__name__.endswith("test_teardown"):
        pytest.fail(f"the Kubernetes lab did not recover after an earlier failure: {broken}")
    yield
    if request.node.stash.get(FAILED, False) and uses_lab:
        try:
            healed = heal_lab(LAB, wait_ready_s=180, check_ready=True)
        except Chaos360Error as error:
            request.session.stash[BROKEN] = f"{request.node.name}: heal failed: {error}"
            return
        if healed.failed:
            request.session.stash[BROKEN] = f"{request.node.name}: {healed.summary()}"
