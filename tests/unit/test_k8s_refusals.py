"""On a Kubernetes target, an experiment whose steps need what that target does not have is refused when it is
checked, before any fault, in one line naming the step; the experiments it can run pass the same check."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chaos360.validation import validate
from kernel.errors import UsageError
from kernel.experiment_file import read_experiment
from kernel.inventory import Inventory, InventoryInstance
from lab.k8s.not_on_kubernetes import experiment_refusal

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
RUNS_ON_KUBERNETES = {"app-replica-kill", "zone-partition", "redis-master-failover", "cassandra-node-loss",
                      "rolling-update", "canary-fault", "datastore-latency", "flapping-link", "zone-db-link-cut",
                      "zone-redis-link-cut"}


def _instance(name: str, role: str, zone: str | None, ip: str, ports: dict[str, int]) -> InventoryInstance:
    return InventoryInstance(name=name, role=role, zone=zone, container=name, ip=ip, ports=ports, host_ports=ports,
                             host=ip)


def k8s_inventory() -> Inventory:
    """Shaped as lab/k8s/service_inventory.py reads it from a cluster."""
    members = [_instance(f"{role}-{zone}", role, zone, f"10.96.36.{base + n}", {port_name: port})
               for role, base, port_name, port in (("redis", 41, "redis", 6379), ("sentinel", 51, "sentinel", 26379),
                                                   ("cassandra", 61, "cql", 9042))
               for n, zone in enumerate("abc")]
    apps = [_instance(f"{role}-{zone}", role, zone, f"10.244.{n}.2", ports) for n, zone in enumerate("abc")
            for role, ports in (("app", {"http": 8080}), ("toxiproxy", {"api": 8474}))]
    edges = [_instance("lb", "lb", None, "127.0.0.1", {"http": 18080}),
             _instance("prometheus", "prometheus", None, "10.96.0.9", {"http": 9090})]
    return Inventory(lab_id="lab", profile="k8s", network="k8s:agent360", subnet="", settings={}, images={},
                     instances=tuple(members + apps + edges))


def _experiments() -> list[Path]:
    return sorted(p for p in EXPERIMENTS.glob("*.yaml") if p.name != "objectives.yaml")


@pytest.mark.parametrize("path", _experiments(), ids=lambda p: p.stem)
def test_each_experiment_runs_on_kubernetes_or_is_refused_in_one_line(path: Path) -> None:
    if path.stem in RUNS_ON_KUBERNETES:
        validate(path, read_experiment(path), k8s_inventory())
        return
    with pytest.raises(UsageError) as refused:
        validate(path, read_experiment(path), k8s_inventory())
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"experiments/{path.name}: method[") or f"{path.name}: method[" in message
    assert "not have yet; run this experiment on the Docker lab" in message


def test_the_refusal_belongs_to_the_kubernetes_target_only() -> None:
    path = EXPERIMENTS / "zone-db-link-cut.yaml"
    validate(path, read_experiment(path), k8s_inventory().model_copy(update={"profile": "ha"}))


@pytest.mark.parametrize("path", _experiments(), ids=lambda p: p.stem)
def test_the_gate_leaves_out_on_kubernetes_exactly_what_the_check_refuses(path: Path) -> None:
    reason = experiment_refusal(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert (reason is None) == (path.stem in RUNS_ON_KUBERNETES), reason
    assert reason is None or (reason.startswith("step '") and "\n" not in reason)
