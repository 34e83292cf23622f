"""What each call of an experiment would hit in a lab: instances, zones, links, chosen as the actions choose them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

from actions.links import _proxies
from actions.selection import select
from chaos360.schemas import Arguments, Provider
from kernel.errors import UsageError
from kernel.inventory import Inventory, InventoryInstance
from kernel.problems import Invalid, field_path
from kernel.run import Run

OVERRIDE_HINT = "set allow_majority: true in the chaos360 extension to override"
UNITS = {"latency": "ms", "jitter": "ms", "timeout": "ms", "delay": "ms", "rate": "KB/s", "bytes": "bytes"}
REDIS_MASTER = "the redis master"


@dataclass(frozen=True)
class Call:
    """One activity of an experiment: where it stands, what it calls, its parsed arguments."""

    where: tuple[int | str, ...]
    name: str
    provider: Provider
    arguments: Arguments

    def field(self, argument: str = "") -> str:
        return field_path([*self.where, "provider", "arguments", argument] if argument else self.where)

    def get(self, argument: str) -> Any:
        return getattr(self.arguments, argument)


@dataclass(frozen=True)
class Lab:
    inventory: Inventory
    allow_majority: bool = False
    master: Callable[[Inventory], str | None] = lambda _: None


@dataclass(frozen=True)
class Effect:
    """What a call does: `hit` the (role, instance) pairs it takes down for a while, `down`, `isolated` and `cut`
    what stays so until healed; `blame` names the argument that chose them."""

    text: str
    hit: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    down: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    isolated: frozenset[str] = field(default_factory=frozenset)
    rejoined: frozenset[str] = field(default_factory=frozenset)
    cut: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    heals: bool = False
    blame: str = ""


def effect_of(call: Call, lab: Lab) -> Effect:
    try:
        return _EFFECTS.get(call.provider.func, _probe)(call, lab)
    except UsageError as error:
        raise Invalid(call.field(), str(error)) from None


def _listed(instances: list[InventoryInstance]) -> str:
    return ", ".join(f"{i.name} (zone {i.zone})" if i.zone else i.name for i in instances)


def _selected(call: Call, lab: Lab, role: str) -> list[InventoryInstance]:
    """The actions' own choice (actions.selection.select), and never every instance of a role by default."""
    count = call.get("count")
    try:
        chosen = select(lab.inventory, role, call.get("zone"), count, allow_majority=lab.allow_majority)
    except UsageError as error:
        blamed = str(error).split(" ", 1)[0]
        raise Invalid(call.field(blamed if blamed in ("role", "count") else "zone"), str(error)) from None
    members = lab.inventory.by_role(role)
    if len(chosen) == len(members) and not lab.allow_majority:
        raise Invalid(call.field("count"), f"{count} of {len(members)} {role} instances is every {role} instance, "
                                           f"beyond the blast radius; {OVERRIDE_HINT}")
    return chosen


def _instances(verb: str, lasting: bool, role: str | None = None) -> Callable[[Call, Lab], Effect]:
    def effect(call: Call, lab: Lab) -> Effect:
        chosen = _selected(call, lab, role or call.get("role"))
        hit = frozenset((i.role, i.name) for i in chosen)
        return Effect(f"{verb} {_listed(chosen)}" + (" until healed" if lasting else ""), hit=hit,
                      down=hit if lasting else frozenset(), blame="count")

    return effect


def _zone(call: Call, lab: Lab) -> str:
    zone = str(call.get("zone"))
    if zone not in lab.inventory.zones:
        raise Invalid(call.field("zone"), f"zone {zone!r} is not one of {', '.join(lab.inventory.zones)}")
    if len(lab.inventory.zones) < 2:
        raise Invalid(call.field("zone"), "a partition needs at least two zones (use the ha profile)")
    return zone


def _members(lab: Lab, zone: str) -> str:
    return ", ".join(i.name for i in lab.inventory.instances if i.zone == zone)


def _isolate(call: Call, lab: Lab) -> Effect:
    zone = _zone(call, lab)
    others = ", ".join(z for z in lab.inventory.zones if z != zone)
    return Effect(f"isolate zone {zone} ({_members(lab, zone)}) from zones {others}", isolated=frozenset({zone}),
                  blame="zone")


def _rejoin(call: Call, lab: Lab) -> Effect:
    zone = _zone(call, lab)
    return Effect(f"rejoin zone {zone} ({_members(lab, zone)})", rejoined=frozenset({zone}))


def _drop_master(call: Call, lab: Lab) -> Effect:
    mode, master = call.get("mode"), lab.master(lab.inventory)
    now = f"now {master} per Sentinel" if master else "unknown now"
    name = master or REDIS_MASTER
    zone = (lab.inventory.get(master).zone if master else None) or f"the zone of {REDIS_MASTER}"
    text = f"redis master: {mode} the current master ({now}; resolved at run time)"
    if mode == "isolate":
        return Effect(text + f", isolating {zone}", isolated=frozenset({zone}), blame="mode")
    hit = frozenset({("redis", name)})
    return Effect(f"{text}; wait up to {call.get('wait_failover_s'):g} s for a failover", hit=hit,
                  down=hit if mode in ("stop", "pause") else frozenset(), blame="mode")


def _proxy_pairs(call: Call, lab: Lab) -> list[tuple[str, str]]:
    """The (sidecar, proxy) pairs the link actions choose, by their own rule."""
    try:
        return _proxies(cast(Run, SimpleNamespace(inventory=lab.inventory)), call.get("link"), call.get("zone"))
    except UsageError as error:
        raise Invalid(call.field("zone"), str(error)) from None


def _link_text(call: Call, lab: Lab) -> tuple[str, frozenset[str]]:
    pairs = _proxy_pairs(call, lab)
    zone = call.get("zone")
    sidecars = ", ".join(dict.fromkeys(s for s, _ in pairs))
    where = f"in zone {zone}" if zone else "in every zone"
    zones = frozenset({zone}) if zone else frozenset(lab.inventory.zones)
    return f"link {call.get('link')} {where} via {sidecars} (to {', '.join(dict.fromkeys(p for _, p in pairs))})", zones


def _degrade(call: Call, lab: Lab) -> Effect:
    attributes = call.get("attributes") or {}
    shown = ", ".join(f"{k} {v} {UNITS.get(k, '')}".strip() for k, v in attributes.items())
    share = f" on {call.get('toxicity'):.0%} of connections" if call.get("toxicity") < 1 else ""
    stream = f" ({call.get('stream')})" if call.get("stream") != "downstream" else ""
    toxic = call.get("toxic")
    what = shown if toxic in attributes else f"{toxic} ({shown})" if shown else toxic
    link, _ = _link_text(call, lab)
    return Effect(f"{what}{stream}{share} on {link}")


def _cut(call: Call, lab: Lab) -> Effect:
    link, zones = _link_text(call, lab)
    return Effect(f"cut {link} until healed", cut=frozenset((call.get("link"), z) for z in zones), blame="zone")


def _flap(call: Call, lab: Lab) -> Effect:
    link, _ = _link_text(call, lab)
    return Effect(f"cut {link} for {call.get('down_s'):g} s, {call.get('cycles')} times, "
                  f"{call.get('up_s'):g} s apart")


def _rolling(call: Call, lab: Lab) -> Effect:
    apps = ", ".join(i.name for i in lab.inventory.by_role("app"))
    return Effect(f"rolling restart of {apps}, one at a time behind a surge replica")


def _canary(call: Call, lab: Lab) -> Effect:
    return Effect(f"route 10% of traffic to a v2 canary, {call.get('fault')} it, roll it back after "
                  f"{call.get('canary_s'):g} s")


def _start_load(call: Call, lab: Lab) -> Effect:
    return Effect(f"start load: {call.get('users')} users (spawning {call.get('spawn_rate'):g}/s) for "
                  f"{call.get('duration_s'):g} s through {lab.inventory.host_url('lb')}")


def _heal(call: Call, lab: Lab) -> Effect:
    return Effect(f"heal every recorded fault, then wait up to {call.get('wait_ready_s'):g} s for the lab", heals=True)


def _probe(call: Call, lab: Lab) -> Effect:
    arguments = ", ".join(f"{k}={v}" for k, v in call.arguments.model_dump(exclude_defaults=True).items())
    return Effect(f"probe {call.provider.func}({arguments})")


_EFFECTS: dict[str, Callable[[Call, Lab], Effect]] = {
    "kill_instances": _instances("kill", lasting=False),
    "stop_instances": _instances("stop", lasting=True),
    "pause_instances": _instances("pause", lasting=True),
    "stop_nodes": _instances("stop", lasting=True, role="cassandra"),
    "isolate_zone": _isolate,
    "rejoin_zone": _rejoin,
    "drop_master": _drop_master,
    "degrade_link": _degrade,
    "cut_link": _cut,
    "flap_link": _flap,
    "rolling_restart": _rolling,
    "canary_fault": _canary,
    "start_load": _start_load,
    "stop_load": lambda call, lab: Effect("stop the load"),
    "heal_all": _heal,
}
