"""A generated corpus of malformed and hostile experiment files, and a sandboxed lab to refuse them against.

Each case writes its file (or link, directory, FIFO...) into a directory and returns the path to pass to
`chaos360 run`, with a needle the refusal must contain (the field or the problem). Argument cases are derived from
the real signatures of the actions and probes, not from chaos360's own schemas.
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
BASE_EXPERIMENT = REPO / "experiments" / "app-replica-kill.yaml"
FIXTURE_INVENTORY = REPO / "tests" / "fixtures" / "inventory-chaos360.json"
LAB_ID = "hostile360"
PORT_SHIFT = 30_000
SLOT = ("method", 1)
HOSTILE_VALUES: tuple[object, ...] = (
    {"x": 1}, [1, 2], True, 10**18, -1, 1e308, float("nan"), "\u202e\U0001f4a5",
)

Writer = Callable[[Path], Path]


@dataclass(frozen=True)
class Case:
    id: str
    write: Writer
    needle: str


def sandbox_inventory(state_dir: Path) -> str:
    """The fixture inventory under another lab id, container names and ports: a slip could touch no real lab."""
    data = json.loads(FIXTURE_INVENTORY.read_text())
    data["lab_id"] = LAB_ID
    for instance in data["instances"]:
        instance["container"] = instance["container"].replace("chaos360", LAB_ID)
        instance["host_ports"] = {k: v + PORT_SHIFT for k, v in instance["host_ports"].items()}
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / f"inventory-{LAB_ID}.json").write_text(json.dumps(data))
    return LAB_ID


def base() -> dict[str, Any]:
    return dict(yaml.safe_load(BASE_EXPERIMENT.read_text()))


def _yaml_file(name: str, document: object) -> Writer:
    def write(directory: Path) -> Path:
        path = directory / name
        path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
        return path

    return write


def _text_file(name: str, text: str | bytes) -> Writer:
    def write(directory: Path) -> Path:
        path = directory / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return path

    return write


def _mutated(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    document = base()
    change(document)
    return document


def action(module: str, func: str, **arguments: Any) -> dict[str, Any]:
    return {"type": "action", "name": func.replace("_", "-"),
            "provider": {"type": "python", "module": module, "func": func, "arguments": arguments}}


def _with_call(module: str, func: str, arguments: dict[str, Any], kind: str = "action") -> dict[str, Any]:
    document = base()
    document["method"][1] = {**action(module, func, **arguments), "type": kind, "name": "hostile"}
    return document


VALID_ARGUMENTS: dict[tuple[str, str], dict[str, Any]] = {
    ("actions.instances", "kill_instances"): {"role": "app", "zone": "b", "count": 1},
    ("actions.instances", "stop_instances"): {"role": "app", "zone": "b"},
    ("actions.instances", "pause_instances"): {"role": "app", "zone": "b"},
    ("actions.cassandra", "stop_nodes"): {"zone": "c"},
    ("actions.network", "isolate_zone"): {"zone": "a"},
    ("actions.network", "rejoin_zone"): {"zone": "a"},
    ("actions.redis", "drop_master"): {"mode": "stop"},
    ("actions.links", "degrade_link"): {"link": "app->cassandra", "toxic": "latency", "attributes": {"latency": 300}},
    ("actions.links", "cut_link"): {"link": "app->redis", "zone": "a"},
    ("actions.links", "flap_link"): {"link": "app->redis"},
    ("actions.deploy", "rolling_restart"): {},
    ("actions.deploy", "canary_fault"): {"fault": "pause"},
    ("actions.load", "start_load"): {"users": 20},
    ("actions.load", "stop_load"): {},
    ("actions.heal", "heal_all"): {},
    ("probes.checks", "lab_ready"): {},
    ("probes.checks", "burst_within_objective"): {"requests": 30},
    ("probes.checks", "wait_for_recovery"): {"fault": "app-replica-kill"},
    ("probes.checks", "objectives_met"): {"fault": "app-replica-kill"},
}


def _parameters(module: str, func: str) -> list[inspect.Parameter]:
    function = getattr(importlib.import_module(module), func)
    return [p for p in inspect.signature(function).parameters.values() if p.name != "configuration"]


def argument_cases() -> list[Case]:
    """Every argument of every callable provider given each hostile value; an unknown and a missing argument."""
    cases = []
    for (module, func), valid in VALID_ARGUMENTS.items():
        kind = "probe" if module.startswith("probes.") else "action"
        field = "method[1].provider.arguments"
        for parameter in _parameters(module, func):
            for n, value in enumerate(HOSTILE_VALUES):
                document = _with_call(module, func, {**valid, parameter.name: value}, kind)
                cases.append(Case(f"{func}-{parameter.name}-{n}", _yaml_file(f"{func}-{parameter.name}-{n}.yaml",
                                  document), f"{field}.{parameter.name}"))
            if parameter.default is inspect.Parameter.empty:
                missing = {k: v for k, v in valid.items() if k != parameter.name}
                cases.append(Case(f"{func}-no-{parameter.name}", _yaml_file(f"{func}-no-{parameter.name}.yaml",
                                  _with_call(module, func, missing, kind)), f"{field}.{parameter.name}"))
        cases.append(Case(f"{func}-unknown-argument", _yaml_file(f"{func}-unknown.yaml",
                          _with_call(module, func, {**valid, "colour": "red"}, kind)), f"{field}.colour"))
    return cases


def _set(path: tuple[Any, ...], value: object) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        target: Any = document
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.pop(key)


PROCESS = {"type": "process", "path": "/bin/sh", "arguments": "-c 'touch /tmp/chaos360-pwned'"}
HTTP = {"type": "http", "url": "http://169.254.169.254/latest/meta-data/"}
DOCUMENT_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("no-title", _drop("title"), "title: missing"),
    ("no-description", _drop("description"), "description"),
    ("no-method", _drop("method"), "method: missing"),
    ("title-list", _set(("title",), ["a", "b"]), "title"),
    ("title-int", _set(("title",), 42), "title"),
    ("title-empty", _set(("title",), ""), "title"),
    ("title-huge", _set(("title",), "x" * 100_000), "title"),
    ("method-mapping", _set(("method",), {"a": 1}), "method"),
    ("method-string", _set(("method",), "kill everything"), "method"),
    ("method-item-string", _set(("method", 1), "kill"), "method[1]"),
    ("method-item-null", _set(("method", 1), None), "method[1]"),
    ("method-huge", _set(("method",), [{"type": "action"}] * 500), "method"),
    ("unknown-top-level", _set(("payload",), {"x": 1}), "unknown field 'payload'"),
    ("runtime-no-rollbacks", _set(("runtime",), {"rollbacks": {"strategy": "never"}}), "unknown field 'runtime'"),
    ("dry-run-key", _set(("dry",), "activities"), "unknown field 'dry'"),
    ("process-provider", _set(("method", 1, "provider"), PROCESS), "method[1].provider"),
    ("http-provider", _set(("method", 1, "provider"), HTTP), "method[1].provider"),
    ("os-system", _set(("method", 1, "provider"), {"type": "python", "module": "os", "func": "system",
                                                   "arguments": {"command": "id"}}), "method[1].provider.module"),
    ("subprocess", _set(("method", 1, "provider", "module"), "subprocess"), "method[1].provider.module"),
    ("builtins-eval", _set(("method", 1, "provider"), {"type": "python", "module": "builtins", "func": "eval",
                                                       "arguments": {"source": "1"}}), "method[1].provider.module"),
    ("antigravity", _set(("method", 1, "provider", "module"), "antigravity"), "method[1].provider.module"),
    ("dotted-escape", _set(("method", 1, "provider", "module"), "actions.instances.os"), "provider.module"),
    ("private-helper", _set(("method", 1, "provider", "func"), "_down"), "method[1].provider.func"),
    ("selection-select", _set(("method", 1, "provider"), {"type": "python", "module": "actions.selection",
                                                          "func": "select"}), "method[1].provider.module"),
    ("cli-main", _set(("method", 1, "provider"), {"type": "python", "module": "chaos360.cli", "func": "main",
                                                  "arguments": {"argv": ["lab", "down"]}}), "provider.module"),
    ("ledger-module", _set(("method", 1, "provider"), {"type": "python", "module": "kernel.ledger",
                                                       "func": "Ledger"}), "method[1].provider.module"),
    ("empty-module", _set(("method", 1, "provider", "module"), ""), "method[1].provider.module"),
    ("unicode-func", _set(("method", 1, "provider", "func"), "kill_\u0456nstances"), "method[1].provider.func"),
    ("func-list", _set(("method", 1, "provider", "func"), ["kill_instances"]), "method[1].provider.func"),
    ("arguments-list", _set(("method", 1, "provider", "arguments"), ["app", "b"]), "provider.arguments"),
    ("arguments-int-key", _set(("method", 1, "provider", "arguments"), {1: "app"}), "arguments: keys must be"),
    ("substitution", _set(("method", 1, "provider", "arguments", "count"), "${count}"), "arguments.count"),
    ("probe-as-action", _set(("method", 2, "type"), "action"), "method[2]"),
    ("fault-as-probe", _set(("method", 1, "type"), "probe"), "method[1]"),
    ("activity-type-process", _set(("method", 1, "type"), "process"), "method[1].type"),
    ("activity-ref", _set(("method", 1), {"ref": "start-load"}), "method[1]"),
    ("activity-no-name", lambda d: d["method"][1].pop("name"), "method[1].name"),
    ("activity-controls", _set(("method", 1, "controls"), [{"name": "x", "provider": PROCESS}]), "method[1]"),
    ("fault-in-background", _set(("method", 1, "background"), True), "method[1].background"),
    ("background-string", _set(("method", 1, "background"), "yes"), "method[1].background"),
    ("pause-huge", _set(("method", 1, "pauses"), {"after": 1e308}), "method[1].pauses.after"),
    ("pause-negative", _set(("method", 1, "pauses"), {"before": -5}), "method[1].pauses.before"),
    ("pause-substitution", _set(("method", 1, "pauses"), {"after": "${forever}"}), "method[1].pauses.after"),
    ("pause-unknown", _set(("method", 1, "pauses"), {"during": 5}), "method[1].pauses"),
    ("timeout-huge", _set(("method", 1, "timeout"), 10**18), "method[1].timeout"),
    ("kill-in-rollbacks", _set(("rollbacks", 0, "provider"), {"type": "python", "module": "actions.instances",
                                                              "func": "kill_instances", "arguments": {"role": "app"}}),
     "rollbacks[0].provider.func"),
    ("load-in-rollbacks", _set(("rollbacks", 0, "provider"), {"type": "python", "module": "actions.load",
                                                              "func": "start_load"}), "rollbacks[0].provider.func"),
    ("rollbacks-mapping", _set(("rollbacks",), {"heal": True}), "rollbacks"),
    ("control-os", _set(("controls", 0, "provider", "module"), "os"), "controls[0].provider.module"),
    ("control-process", _set(("controls", 0, "provider"), PROCESS), "controls[0].provider"),
    ("no-controls", _drop("controls"), "controls: missing"),
    ("no-control", _set(("controls",), []), "controls: expected exactly one control"),
    ("two-controls", lambda d: d["controls"].append(d["controls"][0]), "controls: expected exactly one control"),
    ("control-scope", _set(("controls", 0, "scope"), "before"), "controls[0]"),
    ("dynamic-configuration", _set(("configuration", "x"), {"type": "probe", "name": "p", "provider": PROCESS}),
     "configuration"),
    ("vault-configuration", _set(("configuration", "token"), {"type": "vault", "path": "secret/x"}), "configuration"),
    ("env-without-default", _set(("configuration", "x"), {"type": "env", "key": "CHAOS360_NO_SUCH_VARIABLE_EVER"}),
     "Chaos Toolkit"),
    ("vault-secret", _set(("secrets",), {"k8s": {"token": {"type": "vault", "path": "x"}}}), "secrets"),
    ("secrets-list", _set(("secrets",), ["a"]), "secrets"),
    ("probe-tolerance", _set(("steady-state-hypothesis", "probes", 0, "tolerance"),
                             {"type": "probe", "provider": PROCESS}), "steady-state-hypothesis.probes[0].tolerance"),
    ("tolerance-missing", lambda d: d["steady-state-hypothesis"]["probes"][0].pop("tolerance"),
     "steady-state-hypothesis.probes[0].tolerance"),
    ("hypothesis-action", _set(("steady-state-hypothesis", "probes", 0, "type"), "action"),
     "steady-state-hypothesis.probes[0].type"),
    ("hypothesis-fault", _set(("steady-state-hypothesis", "probes", 0, "provider"),
                              {"type": "python", "module": "actions.network", "func": "isolate_zone",
                               "arguments": {"zone": "a"}}), "steady-state-hypothesis.probes[0]"),
    ("hypothesis-list", _set(("steady-state-hypothesis",), ["probe"]), "steady-state-hypothesis"),
    ("tags-mixed", _set(("tags",), ["ok", 3, None]), "tags[1]"),
    ("extension-no-name", _set(("extensions",), [{"stop_conditions": {}}]), "extensions[0].name"),
    ("extension-majority-string", _set(("extensions",), [{"name": "chaos360", "allow_majority": "yes"}]),
     "extensions[0].allow_majority"),
    ("extension-unknown-key", _set(("extensions",), [{"name": "chaos360", "allow_everything": True}]),
     "extensions[0]"),
    ("extension-twice", _set(("extensions",), [{"name": "chaos360"}, {"name": "chaos360"}]), "extensions[1]"),
    ("stop-conditions-bad", _set(("extensions",), [{"name": "chaos360", "stop_conditions": {"window_s": "x"}}]),
     "stop_conditions.window_s"),
    ("deep-junk-argument", _set(("method", 1, "provider", "arguments", "count"), json.loads("[" * 20 + "]" * 20)),
     "arguments.count"),
    ("version-float", _set(("version",), 1.0), "version"),
    ("title-date", _set(("title",), datetime.date(2024, 1, 1)), "title"),
]


def with_method(*calls: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["method"][1:2] = list(calls)

    return change


def _every_zone(document: dict[str, Any]) -> None:
    document["extensions"] = [{"name": "chaos360", "allow_majority": True}]
    document["method"][1:2] = [action("actions.network", "isolate_zone", zone=z) for z in "abc"]


KILL, STOP = ("actions.instances", "kill_instances"), ("actions.instances", "stop_instances")
CUT, FLAP = ("actions.links", "cut_link"), ("actions.links", "flap_link")
SELECTOR_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("zone-unknown", with_method(action(*KILL, role="app", zone="d")), "arguments.zone: zone 'd'"),
    ("zone-case", with_method(action(*KILL, role="app", zone="A")), "arguments.zone"),
    ("zone-unicode", with_method(action(*KILL, role="app", zone="\u0430")), "arguments.zone"),
    ("role-unknown", with_method(action(*KILL, role="database")), "arguments.role"),
    ("role-nothing-in-zone", with_method(action(*KILL, role="lb", zone="a")), "arguments.zone: no lb instance"),
    ("prometheus-in-zone", with_method(action(*STOP, role="prometheus", zone="b")), "arguments.zone"),
    ("every-app", with_method(action(*KILL, role="app", count=3)), "arguments.count"),
    ("majority-app", with_method(action(*STOP, role="app", count=2)), "blast radius"),
    ("every-lb", with_method(action(*STOP, role="lb")), "every lb instance"),
    ("every-prometheus", with_method(action(*KILL, role="prometheus")), "every prometheus instance"),
    ("count-beyond-zone", with_method(action(*KILL, role="app", zone="b", count=2)), "arguments.count"),
    ("count-huge", with_method(action(*KILL, role="redis", count=10**18)), "arguments.count"),
    ("cassandra-every", with_method(action("actions.cassandra", "stop_nodes", count=3)), "arguments.count"),
    ("cassandra-zone-unknown", with_method(action("actions.cassandra", "stop_nodes", zone="x")), "arguments.zone"),
    ("two-stops-add-up", with_method(action(*STOP, role="app", zone="a"), action(*STOP, role="app", zone="b")),
     "method[2].provider.arguments.count"),
    ("pause-then-kill", with_method(action("actions.instances", "pause_instances", role="sentinel", zone="a"),
                                action(*KILL, role="sentinel", zone="c")), "method[2].provider.arguments.count"),
    ("master-and-replica", with_method(action("actions.redis", "drop_master", mode="stop"),
                                   action(*STOP, role="redis", zone="b")), "method[2].provider.arguments.count"),
    ("two-zones", with_method(action("actions.network", "isolate_zone", zone="a"),
                          action("actions.network", "isolate_zone", zone="b")), "method[2].provider.arguments.zone"),
    ("every-zone", _every_zone, "method[3].provider.arguments.zone: isolates every zone"),
    ("isolate-unknown-zone", with_method(action("actions.network", "isolate_zone", zone="z")), "arguments.zone"),
    ("rejoin-unknown-zone", with_method(action("actions.network", "rejoin_zone", zone="../../etc")), "arguments.zone"),
    ("cut-everywhere", with_method(action(*CUT, link="app->redis")), "every zone"),
    ("cut-zone-unknown", with_method(action(*CUT, link="app->redis", zone="q")), "arguments.zone"),
    ("flap-zone-unknown", with_method(action(*FLAP, link="app->redis", zone="q")), "arguments.zone"),
    ("link-unknown", with_method(action(*CUT, link="app->postgres", zone="a")), "arguments.link"),
    ("link-arrow", with_method(action(*CUT, link="app\u2192redis", zone="a")), "arguments.link"),
]



def _bomb(levels: int = 12, width: int = 9) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "\n".join(lines) + f"\ntitle: bomb\ndescription: bomb\nmethod: *a{levels - 1}\n"


def _merge_bomb(levels: int = 40) -> str:
    lines = ["m0: &m0 {k0: v}"]
    for level in range(1, levels):
        lines.append(f"m{level}: &m{level} {{<<: [*m{level - 1}, *m{level - 1}], k{level}: v}}")
    return "\n".join(lines) + "\n"


def _valid_text() -> str:
    return BASE_EXPERIMENT.read_text()


TEXT_CASES: list[tuple[str, str, str | bytes, str]] = [
    ("broken-bracket", "broken-bracket.yaml", "title: [unclosed\nmethod: []\n", "invalid YAML"),
    ("broken-indent", "broken-indent.yaml", "title: x\n  description: y\n method: []\n", "invalid YAML"),
    ("tabs", "tabs.yaml", "title: x\n\tdescription: y\n", "invalid YAML"),
    ("tab-indented-valid", "tab-indented.yaml", _valid_text().replace("  ", "\t"), "invalid YAML"),
    ("colons", "colons.yaml", "title: : :\n", "invalid YAML"),
    ("two-documents", "two.yaml", _valid_text() + "\n---\n" + _valid_text(), "invalid YAML"),
    ("duplicate-key", "duplicate.yaml", _valid_text() + "\ntitle: again\n", "duplicate key 'title'"),
    ("python-object", "python.yaml", "title: !!python/object/apply:os.system ['touch /tmp/chaos360-pwned']\n",
     "invalid YAML"),
    ("python-name", "python-name.yaml", "method: !!python/name:os.system\n", "invalid YAML"),
    ("binary-tag", "binary.yaml", "title: !!binary aGVsbG8=\ndescription: x\nmethod: []\n", "title"),
    ("billion-laughs", "bomb.yaml", _bomb(), "invalid YAML: its aliases expand"),
    ("merge-bomb", "merge-bomb.yaml", _merge_bomb(), "invalid YAML: its aliases expand"),
    ("recursive-alias", "recursive.yaml", "method: &m [*m]\ntitle: x\ndescription: y\n", "invalid YAML"),
    ("deep-nesting", "deep.yaml", "method: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper"),
    ("moderately-deep", "deep40.yaml", "method: " + "[" * 40 + "]" * 40 + "\n", "nested deeper"),
    ("many-values", "many.yaml", "method: [" + "a, " * 300_000 + "a]\n", "more than 20000 values"),
    ("empty", "empty.yaml", "", "got nothing"),
    ("only-comments", "comments.yaml", "# nothing here\n", "got nothing"),
    ("null", "null.yaml", "null\n", "got nothing"),
    ("list", "list.yaml", "- title: x\n- title: y\n", "got a list"),
    ("scalar", "scalar.yaml", "42\n", "got a number"),
    ("string", "string.yaml", "kill everything\n", "got a string"),
    ("huge-int-digits", "digits.yaml", "title: x\ncount: " + "9" * 5000 + "\n", "invalid YAML"),
    ("two-mb", "two-mb.yaml", _valid_text() + "#" + "x" * 2_000_000 + "\n", "larger than 1 MB"),
    ("just-over-1mb", "over.yaml", "#" + "x" * 1_000_000 + "\n", "larger than 1 MB"),
    ("latin1", "latin1.yaml", "title: caf\xe9\n".encode("latin-1"), "not UTF-8"),
    ("utf16", "utf16.yaml", _valid_text().encode("utf-16"), "not UTF-8"),
    ("nul-byte", "nul.yaml", b"title: x\x00\ndescription: y\n", "NUL byte"),
    ("binary-garbage", "garbage.yaml", random.Random(360).randbytes(4096), "not UTF-8"),
    ("control-chars", "control.yaml", "title: \x1b[31mred\x07\n", "invalid YAML"),
    ("json-broken", "broken.json", '{"title": "x",', "invalid JSON"),
    ("json-list", "list.json", "[1, 2, 3]", "got a list"),
    ("json-nan-count", "nan.json", json.dumps(_with_call("actions.instances", "kill_instances",
                                                         {"role": "app", "count": float("nan")})),
     "arguments.count"),
    ("json-duplicate", "duplicate.json", '{"title": "a", "title": "b"}', "duplicate key"),
    ("json-deep", "deep.json", "[" * 100_000 + "]" * 100_000, "nested deeper"),
    ("json-moderately-deep", "deep40.json", '{"method": ' + "[" * 40 + "]" * 40 + "}", "nested deeper"),
    ("json-huge-number", "huge.json", '{"title": ' + "9" * 5000 + "}", "invalid JSON"),
    ("wrong-suffix", "experiment.txt", _valid_text(), "expected a .yaml, .yml or .json file"),
    ("no-suffix", "experiment", _valid_text(), "expected a .yaml, .yml or .json file"),
    ("double-suffix", "x.yaml.sh", _valid_text(), "expected a .yaml, .yml or .json file"),
    ("newline-name", "bad\nname.yaml", "title: [\n", "invalid YAML"),
    ("unicode-name", "\u202eexperiment\U0001f4a5.yaml", "title: [\n", "invalid YAML"),
]


def _symlink(name: str, target: str | Path) -> Writer:
    def write(directory: Path) -> Path:
        path = directory / name
        path.symlink_to(target)
        return path

    return write


def _directory(directory: Path) -> Path:
    path = directory / "x.yaml"
    path.mkdir()
    return path


def _fifo(directory: Path) -> Path:
    path = directory / "fifo.yaml"
    os.mkfifo(path)
    return path


def _loop(directory: Path) -> Path:
    (directory / "a.yaml").symlink_to(directory / "b.yaml")
    (directory / "b.yaml").symlink_to(directory / "a.yaml")
    return directory / "a.yaml"


def _given(path: str) -> Writer:
    return lambda directory: Path(path)


PATH_CASES: list[tuple[str, Writer, str]] = [
    ("symlink-shadow", _symlink("shadow.yaml", "/etc/shadow"), "links to /etc/shadow"),
    ("symlink-passwd", _symlink("passwd.json", "/etc/passwd"), "links to /etc/passwd"),
    ("symlink-directory", _symlink("dir.yaml", "/etc"), "not a regular file"),
    ("symlink-broken", _symlink("gone.yaml", "/nonexistent/x.yaml"), "broken symbolic link"),
    ("symlink-loop", _loop, "broken symbolic link"),
    ("symlink-dev-zero", _symlink("zero.yaml", "/dev/zero"), "not a regular file"),
    ("directory", _directory, "not a regular file"),
    ("fifo", _fifo, "not a regular file"),
    ("missing", lambda d: d / "missing.yaml", "no such experiment file"),
    ("dotdot-passwd", _given("../../../../../../etc/passwd"), "expected a .yaml"),
    ("dotdot-missing", _given("../../x.yaml"), "no such experiment file"),
    ("dev-null", _given("/dev/null"), "not a regular file"),
    ("dev-stdin", _given("/dev/stdin"), ""),
    ("proc-environ", _given("/proc/self/environ"), "expected a .yaml"),
    ("url", _given("http://127.0.0.1:1/x.yaml"), "no such experiment file"),
    ("objectives-file", _given(str(REPO / "experiments" / "objectives.yaml")), "unknown field 'error_rate'"),
    ("etc-directory", _given("/etc/"), "not a regular file"),
]


def cases() -> list[Case]:
    found = argument_cases()
    for name, change, needle in DOCUMENT_CASES + SELECTOR_CASES:
        found.append(Case(name, _yaml_file(f"{name}.yaml", _mutated(change)), needle))
    found += [Case(name, _text_file(file, text), needle) for name, file, text, needle in TEXT_CASES]
    found += [Case(name, write, needle) for name, write, needle in PATH_CASES]
    return found


CASES = cases()
