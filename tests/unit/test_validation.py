"""Validation before the first fault: each rule refuses its bad case in one line and lets its good case through."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import socket
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from actions.deploy import CANARY_FAULTS
from chaos360 import runner
from chaos360.schemas import PROVIDERS
from chaos360.validation import check_file, validate
from kernel.errors import UsageError
from kernel.experiment_file import read_experiment
from kernel.inventory import Inventory
from kernel.reachability import lab_reachable
from kernel.run import Run, attach
from kernel.target import Target
from probes.checks import CHECK_NAMES as CHECKS
from tests.hostile_corpus import FIXTURE_INVENTORY, REPO, action, base

EXPERIMENTS = sorted(p for p in (REPO / "experiments").glob("*.yaml") if p.name != "objectives.yaml")
INVENTORY = Inventory.model_validate(json.loads(FIXTURE_INVENTORY.read_text()))
MAJORITY = [{"name": "chaos360", "allow_majority": True}]


def _write(tmp_path: Path, document: object, name: str = "x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document) if name.endswith(".json") else yaml.safe_dump(document, sort_keys=False))
    return path


def _with(*calls: dict[str, Any], extensions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    document = base()
    document["method"][1:2] = list(calls)
    if extensions is not None:
        document["extensions"] = extensions
    return document


def _problem(tmp_path: Path, document: object, inventory: Inventory | None = INVENTORY) -> str | None:
    path = _write(tmp_path, document)
    try:
        validate(path, read_experiment(path), inventory)
    except UsageError as error:
        line = str(error)
        assert "\n" not in line and line.startswith(f"{path}: "), line
        return line.removeprefix(f"{path}: ")
    return None


@pytest.fixture
def lab_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    state = tmp_path / "state"
    state.mkdir()
    (state / "inventory-chaos360.json").write_text(FIXTURE_INVENTORY.read_text())
    monkeypatch.setenv("CHAOS360_STATE_DIR", str(state))
    return "chaos360"


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_every_real_experiment_validates(path: Path, lab_state: str):
    experiment = check_file(path, lab_state, reachable=lambda inventory: None)
    assert experiment["title"] == path.stem
    assert runner.load(path) == experiment


def test_a_real_experiment_as_json_validates(tmp_path: Path):
    assert _problem(tmp_path, yaml.safe_load(EXPERIMENTS[0].read_text())) is None
    path = _write(tmp_path, yaml.safe_load(EXPERIMENTS[0].read_text()), "x.json")
    assert validate(path, read_experiment(path), INVENTORY).experiment.title == EXPERIMENTS[0].stem


KILL = ("actions.instances", "kill_instances")
STOP = ("actions.instances", "stop_instances")
ISOLATE, REJOIN = ("actions.network", "isolate_zone"), ("actions.network", "rejoin_zone")
CUT = ("actions.links", "cut_link")
HEAL = ("actions.heal", "heal_all")
RULES: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    ("schema", {**base(), "payload": 1}, base(), "experiment: unknown field 'payload'"),
    ("the healing control", {**base(), "controls": []}, base(), "controls: expected exactly one control"),
    ("provider type", _with({**action(*KILL, role="app"), "provider": {"type": "process", "path": "/bin/sh"}}),
     _with(action(*KILL, role="app")), "method[1].provider: provider type 'process' is refused"),
    ("module", _with(action("os", "system", command="id")), _with(action(*KILL, role="app")),
     "method[1].provider.module: module 'os' is refused"),
    ("function", _with(action("actions.instances", "select")), _with(action(*KILL, role="app")),
     "method[1].provider.func: actions.instances has no function 'select'"),
    ("argument type", _with(action(*KILL, role="app", count="1")), _with(action(*KILL, role="app", count=1)),
     "method[1].provider.arguments.count: Input should be a valid integer, got '1'"),
    ("argument range", _with(action("actions.load", "start_load", duration_s=86400)),
     _with(action("actions.load", "start_load", duration_s=3600)), "method[1].provider.arguments.duration_s"),
    ("unknown argument", _with(action(*KILL, role="app", force=True)), _with(action(*KILL, role="app")),
     "method[1].provider.arguments.force: unknown argument of actions.instances.kill_instances"),
    ("enum", _with(action("actions.redis", "drop_master", mode="nuke")), _with(action("actions.redis", "drop_master")),
     "method[1].provider.arguments.mode: mode 'nuke' is not one of kill, stop, pause, isolate"),
    ("unknown role", _with(action(*KILL, role="db")), _with(action(*KILL, role="redis")),
     "method[1].provider.arguments.role: role 'db' is not one of"),
    ("unknown zone", _with(action(*KILL, role="app", zone="d")), _with(action(*KILL, role="app", zone="c")),
     "method[1].provider.arguments.zone: zone 'd' is not one of a, b, c"),
    ("selector matching nothing", _with(action(*KILL, role="lb", zone="a")), _with(action(*KILL, role="app", zone="a")),
     "method[1].provider.arguments.zone: no lb instance in zone a"),
    ("blast radius", _with(action(*KILL, role="app", count=2)),
     _with(action(*KILL, role="app", count=2), extensions=MAJORITY),
     "method[1].provider.arguments.count: count 2 of role app exceeds the blast radius (1 of 3; "
     "set allow_majority: true to override)"),
    ("every instance of a role", _with(action(*STOP, role="lb")), _with(action(*STOP, role="lb"), extensions=MAJORITY),
     "method[1].provider.arguments.count: 1 of 1 lb instances is every lb instance"),
    ("faults add up", _with(action(*STOP, role="app", zone="a"), action(*STOP, role="app", zone="b")),
     _with(action(*STOP, role="app", zone="a"), action(*HEAL), action(*STOP, role="app", zone="b")),
     "method[2].provider.arguments.count: takes 2 of 3 app instances down at once (app-a, app-b)"),
    ("zones add up", _with(action(*ISOLATE, zone="a"), action(*ISOLATE, zone="b")),
     _with(action(*ISOLATE, zone="a"), action(*REJOIN, zone="a"), action(*ISOLATE, zone="b")),
     "method[2].provider.arguments.zone: isolates 2 of 3 zones at once (a, b)"),
    ("never every zone", _with(*(action(*ISOLATE, zone=z) for z in "abc"), extensions=MAJORITY),
     _with(*(action(*ISOLATE, zone=z) for z in "ab"), extensions=MAJORITY),
     "method[3].provider.arguments.zone: isolates every zone at once (a, b, c)"),
    ("link cut everywhere", _with(action(*CUT, link="app->redis")), _with(action(*CUT, link="app->redis", zone="a")),
     "method[1].provider.arguments.zone: cuts link app->redis in every zone"),
    ("faults in rollbacks", {**base(), "rollbacks": [action(*KILL, role="app")]}, base(),
     "rollbacks[0].provider.func: actions.instances.kill_instances is a fault"),
    ("override is typed", _with(action(*KILL, role="app"), extensions=[{"name": "chaos360", "allow_majority": 1}]),
     _with(action(*KILL, role="app"), extensions=[{"name": "chaos360", "allow_majority": False}]),
     "extensions[0].allow_majority: Input should be a valid boolean"),
    ("Chaos Toolkit's own validation", {**base(), "configuration": {"x": {"type": "env", "key": "CHAOS360_NOPE_X"}}},
     {**base(), "configuration": {"x": {"type": "env", "key": "CHAOS360_NOPE_X", "default": "1"}}},
     "experiment: Chaos Toolkit refuses it: Configuration makes reference to an environment key"),
]


@pytest.mark.parametrize(("rule", "bad", "good", "message"), RULES, ids=[r[0] for r in RULES])
def test_each_rule_refuses_its_bad_case_and_passes_its_good_one(tmp_path: Path, rule: str, bad: dict[str, Any],
                                                              good: dict[str, Any], message: str):
    problem = _problem(tmp_path, bad)
    assert problem is not None and problem.startswith(message), problem
    assert _problem(tmp_path, good) is None


def test_without_an_inventory_only_static_checks_run(tmp_path: Path):
    assert _problem(tmp_path, _with(action(*KILL, role="app", zone="d")), inventory=None) is None
    assert _problem(tmp_path, _with(action(*KILL, role="ghost")), inventory=None) is not None


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (lambda p: p / "missing.yaml", "no such experiment file"),
        (lambda p: (p / "d.yaml").mkdir() or p / "d.yaml", "is not a regular file"),
        (lambda p: (p / "s.yaml").symlink_to("/etc/shadow") or p / "s.yaml", "links to /etc/shadow"),
        (lambda p: (p / "big.yaml").write_text("#" * 1_000_001) and p / "big.yaml", "larger than 1 MB"),
        (lambda p: (p / "l1.yaml").write_bytes(b"title: caf\xe9") and p / "l1.yaml", "not UTF-8 text"),
        (lambda p: (p / "x.txt").write_text("title: x") and p / "x.txt", "expected a .yaml, .yml or .json file"),
    ],
    ids=["missing", "directory", "symlink", "huge", "latin-1", "suffix"],
)
def test_files_that_are_no_experiment_are_refused(tmp_path: Path, write: Callable[[Path], Path], message: str):
    path = write(tmp_path)
    with pytest.raises(UsageError, match=re.escape(f"{path}: ")) as raised:
        check_file(path)
    assert message in str(raised.value)


def test_a_yaml_bomb_is_refused_quickly(tmp_path: Path):
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"] + [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]"
                                                        for n in range(1, 12)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(levels) + "\n")
    with pytest.raises(UsageError, match="aliases expand to more than"):
        check_file(path)


def test_static_problems_win_over_an_unreachable_lab(tmp_path: Path, lab_state: str):
    bad = _write(tmp_path, _with(action(*KILL, role="app", zone="d")), "bad.yaml")
    with pytest.raises(UsageError, match=r"arguments\.zone"):
        check_file(bad, lab_state, reachable=lambda inventory: "lab down")
    with pytest.raises(UsageError, match=re.escape(f"{EXPERIMENTS[0]}: lab down")):
        check_file(EXPERIMENTS[0], lab_state, reachable=lambda inventory: "lab down")


def test_a_lab_without_inventory_is_refused(tmp_path: Path, lab_state: str):
    with pytest.raises(UsageError, match="no inventory for lab 'elsewhere'"):
        check_file(EXPERIMENTS[0], "elsewhere", reachable=lambda inventory: None)


def test_the_lab_answers_when_its_load_balancer_accepts_a_connection():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert lab_reachable(_with_lb_port(port)) is None
    problem = lab_reachable(_with_lb_port(port))
    assert problem is not None and f"127.0.0.1:{port}" in problem


def _with_lb_port(port: int) -> Inventory:
    instances = [i.model_copy(update={"host_ports": {"http": port}}) if i.role == "lb" else i
                 for i in INVENTORY.instances]
    return INVENTORY.model_copy(update={"instances": tuple(instances)})


@pytest.mark.parametrize("provider", PROVIDERS, ids=[p.name for p in PROVIDERS])
def test_each_schema_has_the_parameters_and_defaults_of_its_function(provider):
    function = getattr(importlib.import_module(provider.module), provider.func)
    parameters = {name: p.default for name, p in inspect.signature(function).parameters.items()
                  if name != "configuration"}
    fields = {name: field.default if not field.is_required() else inspect.Parameter.empty
              for name, field in provider.arguments.model_fields.items()}
    assert fields == parameters


@pytest.mark.parametrize("module", sorted({p.module for p in PROVIDERS}))
def test_every_callable_of_a_provider_module_has_a_schema(module: str):
    functions = inspect.getmembers(importlib.import_module(module), inspect.isfunction)
    callable_ = {name for name, f in functions if f.__module__ == module and not name.startswith("_")
                 and "configuration" in inspect.signature(f).parameters}
    assert callable_ == {p.func for p in PROVIDERS if p.module == module}


class _Passed(Exception):
    """The action accepted its arguments and went on to reach the lab."""


class _Unreachable(Run):
    @property
    def inventory(self) -> Inventory:
        raise _Passed

    @property
    def target(self) -> Target:
        raise _Passed


def _reaching_no_lab(tmp_path: Path) -> dict[str, Any]:
    return attach({}, _Unreachable(tmp_path, "lab", "arguments"))


def test_enums_are_the_actions_own(tmp_path: Path):
    import actions.deploy
    import probes.checks

    for fault in CANARY_FAULTS:
        with pytest.raises(_Passed):
            actions.deploy.canary_fault(fault, configuration=_reaching_no_lab(tmp_path))
    with pytest.raises(UsageError, match="is not one of"):
        actions.deploy.canary_fault("explode")
    with pytest.raises(ValueError, match="known") as raised:
        run: Any = SimpleNamespace(requests_file=Path("/nonexistent"))
        probes.checks._judgements(run, "f", [], 0.0, run, ["nope"])
    assert re.findall(r"'(\w+)'", str(raised.value).split("known:")[1]) == sorted(CHECKS)


@pytest.mark.parametrize(("arguments", "refused"), [
    ({"down_s": 30, "up_s": 60, "cycles": 50}, False), ({"down_s": 30.5}, True), ({"up_s": 61}, True),
    ({"cycles": 51}, True), ({"cycles": 0}, True), ({"down_s": 0}, True),
])
def test_flap_limits_are_the_actions_own(tmp_path: Path, arguments: dict[str, Any], refused: bool):
    import actions.links

    with pytest.raises(UsageError if refused else _Passed):
        actions.links.flap_link("app->redis", **arguments, configuration=_reaching_no_lab(tmp_path))
    problem = _problem(tmp_path, _with(action("actions.links", "flap_link", link="app->redis", **arguments)))
    assert (problem is not None) == refused, problem
