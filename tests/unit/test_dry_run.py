"""The dry run: per activity, what it would hit, chosen as the real action chooses; nothing injected."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaos360.dry_run import dry_run, plan
from chaos360.effects import effect_of
from chaos360.validation import parse
from kernel import reachability
from kernel.errors import UsageError
from kernel.fault import Lab
from kernel.inventory import Inventory
from kernel.ledger import Ledger
from kernel.run import Run, attach
from tests.hostile_corpus import FIXTURE_INVENTORY, LAB_ID, REPO, action, base, sandbox_inventory

INVENTORY = Inventory.model_validate(json.loads(FIXTURE_INVENTORY.read_text()))


def _experiment(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((REPO / "experiments" / f"{name}.yaml").read_text()))


def _plan(experiment: dict[str, Any], master: str | None = "redis-a") -> list[str]:
    return plan(experiment, INVENTORY, master=lambda inventory: master)


@pytest.mark.parametrize(("experiment", "line"), [
    ("zone-partition", "isolate-zone-a: isolate zone a (app-a, toxiproxy-a, redis-a, sentinel-a, cassandra-a) "
                       "from zones b, c"),
    ("app-replica-kill", "crash-one-app-replica: kill app-b (zone b)"),
    ("cassandra-node-loss", "stop-one-cassandra-node: stop cassandra-c (zone c) until healed"),
    ("redis-master-failover", "stop-the-redis-master: redis master: stop the current master (now redis-a per "
                              "Sentinel; resolved at run time); wait up to 20 s for a failover"),
    ("datastore-latency", "slow-app-to-cassandra: latency 300 ms, jitter 50 ms on link app->cassandra in every zone "
                          "via toxiproxy-a, toxiproxy-b, toxiproxy-c (to cassandra-a, cassandra-b, cassandra-c)"),
    ("flapping-link", "flap-app-to-redis: cut link app->redis in every zone via toxiproxy-a, toxiproxy-b, "
                      "toxiproxy-c (to redis-a, redis-b, redis-c) for 1 s, 6 times, 1 s apart"),
    ("rolling-update", "rolling-restart-of-every-replica: rolling restart of app-a, app-b, app-c, one at a time "
                       "behind a surge replica"),
    ("canary-fault", "freeze-the-v2-canary-then-roll-back: route 10% of traffic to a v2 canary, pause it, roll it "
                     "back after 10 s"),
])
def test_the_plan_names_what_each_action_hits(experiment: str, line: str):
    lines = _plan(_experiment(experiment))
    assert line in lines
    assert lines[0].startswith("start-load: start load: 20 users")
    assert lines[-1].startswith("rollback heal-every-fault: heal every recorded fault")
    assert len(lines) == 6


def test_an_unknown_master_is_resolved_at_run_time():
    assert "(unknown now; resolved at run time)" in " ".join(_plan(_experiment("redis-master-failover"), None))


def test_a_link_in_one_zone_goes_through_that_zone_only():
    document = base()
    document["method"][1] = action("actions.links", "degrade_link", link="app->redis", toxic="latency",
                                   attributes={"latency": 300}, zone="a")
    assert "degrade-link: latency 300 ms on link app->redis in zone a via toxiproxy-a (to redis-a, redis-b, " \
           "redis-c)" in _plan(document)


def test_an_invalid_experiment_has_no_plan():
    document = base()
    document["method"][1] = action("actions.instances", "kill_instances", role="app", count=3)
    with pytest.raises(UsageError, match=r"^method\[1\]\.provider\.arguments\.count: count 3 of role app"):
        _plan(document)


class _Target:
    def __init__(self) -> None:
        self.hit: list[str] = []

    def restart_count(self, name: str) -> int:
        return 0

    def kill(self, name: str) -> int:
        self.hit.append(name)
        return 1

    def stop(self, name: str, timeout_s: int = 0) -> None:
        self.hit.append(name)

    def wait_restarted(self, name: str, before: int, timeout_s: float) -> float:
        return 0.1

    def is_running(self, name: str) -> bool:
        return False

    def set_proxy_enabled(self, sidecar: str, proxy: str, enabled: bool) -> None:
        self.hit.append(f"{sidecar}/{proxy}")

    def toxics(self, sidecar: str) -> dict[str, list[str]]:
        return {f"{hit.split('/')[1]}:disabled": [] for hit in self.hit if hit.startswith(f"{sidecar}/")}


def _run_on_fakes(tmp_path: Path) -> Run:
    run = Run(tmp_path, LAB_ID, "dry-run", target_factory=lambda _: _Target())
    run.__dict__.update(inventory=INVENTORY, ledger=Ledger(LAB_ID, tmp_path))
    return run


def _act(tmp_path: Path, module: str, func: str, arguments: dict[str, Any]) -> tuple[list[str], Any]:
    """What the real action hits on a run against a fake target, and the dry run's effect for the same call."""
    run = _run_on_fakes(tmp_path)
    getattr(importlib.import_module(module), func)(**arguments, configuration=attach({}, run))
    document = base()
    document["method"][1] = action(module, func, **arguments)
    return run.target.hit, effect_of(parse(document).calls[4], Lab(INVENTORY))


@pytest.mark.parametrize(("module", "func", "arguments"), [
    ("actions.instances", "kill_instances", {"role": "app"}),
    ("actions.instances", "kill_instances", {"role": "redis", "zone": "c"}),
    ("actions.instances", "stop_instances", {"role": "sentinel", "zone": "b"}),
    ("actions.cassandra", "stop_nodes", {}),
    ("actions.cassandra", "stop_nodes", {"zone": "b"}),
])
def test_the_plan_chooses_the_instances_the_action_chooses(tmp_path: Path, module: str, func: str,
                                                            arguments: dict[str, Any]):
    hit, effect = _act(tmp_path, module, func, arguments)
    assert sorted(name for _, name in effect.hit) == sorted(hit)


@pytest.mark.parametrize("zone", [None, "a", "c"])
def test_the_plan_chooses_the_proxies_the_action_chooses(tmp_path: Path, zone: str | None):
    hit, effect = _act(tmp_path, "actions.links", "cut_link", {"link": "app->cassandra", "zone": zone})
    sidecars, proxies = re.search(r"via (.*) \(to (.*)\)", effect.text).groups()  # type: ignore[union-attr]
    assert {h.split("/")[0] for h in hit} == set(sidecars.split(", "))
    assert {h.split("/")[1] for h in hit} == set(proxies.split(", "))


def test_dry_run_checks_the_file_against_the_lab_and_injects_nothing(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch):
    sandbox_inventory(tmp_path / "state")
    monkeypatch.setenv("CHAOS360_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("CHAOS360_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setattr(reachability, "lab_reachable", lambda inventory: None)
    path = REPO / "experiments" / "app-replica-kill.yaml"
    lines = dry_run(path, LAB_ID, master=lambda inventory: None)
    assert lines[0] == f"{path}: app-replica-kill against lab {LAB_ID} (dry run: nothing injected)"
    assert "  crash-one-app-replica: kill app-b (zone b)" in lines
    assert not (tmp_path / "runs").exists()
    assert not (tmp_path / "state" / f"ledger-{LAB_ID}.json").exists()
    monkeypatch.setattr(reachability, "lab_reachable", lambda inventory: "lab down")
    with pytest.raises(UsageError, match="lab down"):
        dry_run(path, LAB_ID)
