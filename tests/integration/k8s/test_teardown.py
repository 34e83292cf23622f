"""Runs last among the Kubernetes lab's tests: `lab down` leaves nothing behind."""

from __future__ import annotations

import subprocess

import docker
import pytest

from kernel import inventory as inventory_store
from lab.containers import LABEL_LAB
from lab.k8s import cluster, control_plane, host_routes
from lab.k8s.versions import bin_dir
from tests.integration.k8s.conftest import LAB, cli

pytestmark = [pytest.mark.integration, pytest.mark.k8s]


def test_down_leaves_no_node_balancer_route_process_network_or_state(k8s_lab: subprocess.CompletedProcess[str]) -> None:
    home = cluster.home(LAB)
    components = control_plane.components(bin_dir(), home, "172.31.250.1")
    down = cli("lab", "down", timeout_s=180)
    assert down.returncode == 0, down.stderr
    client = docker.from_env()
    assert client.containers.list(all=True, filters={"label": f"{LABEL_LAB}={LAB}"}) == []
    assert host_routes.installed() == []
    assert host_routes.remove_refusals() == 0, "lab down left the refusal of unserved Services"
    assert client.networks.list(names=[cluster.network_name(LAB)]) == []
    assert [c.name for c in components if control_plane.running_pid(home, c)] == []
    running = subprocess.run(["pgrep", "-f", str(bin_dir())], capture_output=True, text=True, check=False)
    assert running.stdout.strip() == ""
    assert not home.exists()
    assert inventory_store.find(LAB) is None
    status = cli("lab", "status", timeout_s=60)
    assert status.returncode != 0
