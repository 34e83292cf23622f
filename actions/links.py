"""Degrade the links from the app to a datastore through the Toxiproxy sidecars: latency, timeouts, resets, down."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from kernel.errors import UsageError
from kernel.fault import Arguments, Call, Declared, Footprint, Lab, Zone, one_of
from kernel.inventory import Inventory
from kernel.ledger import Undo
from kernel.problems import Invalid
from kernel.run import Run, current_run
from kernel.target import TOXIC_ATTRIBUTES, ToxicSpec

LINKS = {"app->redis": "redis", "app->cassandra": "cassandra"}
UNITS = {"latency": "ms", "jitter": "ms", "timeout": "ms", "delay": "ms", "rate": "KB/s", "bytes": "bytes"}
Link = Annotated[str, one_of(LINKS, "link")]


class CutLink(Arguments):
    link: Link
    zone: Zone | None = None


class DegradeLink(Arguments):
    link: Link
    toxic: Annotated[str, one_of(TOXIC_ATTRIBUTES, "toxic")] = "latency"
    attributes: dict[str, int] | None = None
    stream: Literal["upstream", "downstream"] = "downstream"
    toxicity: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 1.0
    zone: Zone | None = None

    @field_validator("attributes")
    @classmethod
    def _attributes_of_the_toxic(cls, value: dict[str, int] | None, info: ValidationInfo) -> dict[str, int] | None:
        kind = info.data.get("toxic")
        if value is not None and kind is not None:
            ToxicSpec(kind, attributes=tuple(sorted(value.items())))
        return value


class FlapLink(Arguments):
    link: Link
    down_s: Annotated[float, Field(gt=0, le=30, allow_inf_nan=False)] = 1.0
    up_s: Annotated[float, Field(gt=0, le=60, allow_inf_nan=False)] = 2.0
    cycles: Annotated[int, Field(ge=1, le=50)] = 5
    zone: Zone | None = None


def _proxies(inventory: Inventory, link: str, zone: str | None) -> list[tuple[str, str]]:
    """The (sidecar, proxy) pairs of the link: in one zone's sidecar, or in every zone's."""
    if link not in LINKS:
        raise UsageError(f"link {link!r} is not one of {', '.join(LINKS)}")
    if zone is not None and zone not in inventory.zones:
        raise UsageError(f"zone {zone!r} is not one of {', '.join(inventory.zones)}")
    sidecars = [s.name for s in inventory.by_role("toxiproxy") if zone is None or s.zone == zone]
    upstreams = [i.name for i in inventory.by_role(LINKS[link])]
    return [(sidecar, proxy) for sidecar in sidecars for proxy in upstreams]


def _behind(run: Run, sidecar: str) -> list[str]:
    """The app replicas whose datastore links go through `sidecar` (those of its zone)."""
    zone = run.inventory.get(sidecar).zone
    return [app.name for app in run.inventory.in_zone(zone, "app")] if zone else []


def _toxic(kind: str, stream: str, toxicity: float, attributes: dict[str, int] | None) -> ToxicSpec:
    try:
        return ToxicSpec(kind, stream, float(toxicity), tuple(sorted((attributes or {}).items())))
    except (ValueError, TypeError) as error:
        raise UsageError(str(error)) from None


def degrade_link(link: str, toxic: str = "latency", attributes: dict[str, int] | None = None,
                 stream: str = "downstream", toxicity: float = 1.0, zone: str | None = None,
                 configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Add one toxic to every proxy of the link (in one zone's sidecar, or all)."""
    run = current_run(configuration)
    spec = _toxic(toxic, stream, toxicity, attributes)
    degraded = []
    name = f"chaos360_{spec.kind}_{spec.stream}"
    pairs = _proxies(run.inventory, link, zone)
    for sidecar, proxy in pairs:
        run.record_fault(f"toxic-{spec.kind}", Undo(op="remove_toxic",
                         args={"sidecar": sidecar, "proxy": proxy, "toxic": name}), sidecar=sidecar, proxy=proxy)
        run.target.add_toxic(sidecar, proxy, spec)
        degraded.append(f"{sidecar}/{proxy}")
    present = sum(1 for sidecar, proxy in pairs if name in run.target.toxics(sidecar).get(proxy, []))
    run.record_effect(f"toxic-{spec.kind}", present == len(pairs) > 0, link=link, proxies=degraded, present=present)
    return {"link": link, "toxic": spec.kind, "attributes": dict(spec.attributes), "proxies": degraded,
            "present": present, "at": time.time()}


def cut_link(link: str, zone: str | None = None, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Disable every proxy of the link: connections refused until healed. The datastores stay up and connected
    to each other; only the app replicas behind the cut sidecars (`cut_off`) lose them."""
    run = current_run(configuration)
    pairs = _proxies(run.inventory, link, zone)
    cut = []
    for sidecar, proxy in pairs:
        run.record_fault("link-down", Undo(op="enable_proxy", args={"sidecar": sidecar, "proxy": proxy}),
                         affects=_behind(run, sidecar), sidecar=sidecar, proxy=proxy)
        run.target.set_proxy_enabled(sidecar, proxy, False)
        cut.append(f"{sidecar}/{proxy}")
    present = sum(1 for sidecar, proxy in pairs if f"{proxy}:disabled" in run.target.toxics(sidecar))
    cut_off = sorted({app for sidecar, _ in pairs for app in _behind(run, sidecar)})
    run.record_effect("link-down", present == len(pairs) > 0, link=link, proxies=cut, present=present,
                      cut_off=cut_off)
    return {"link": link, "down": cut, "present": present, "cut_off": cut_off, "at": time.time()}


def flap_link(link: str, down_s: float = 1.0, up_s: float = 2.0, cycles: int = 5, zone: str | None = None,
              configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Cut the link for `down_s`, restore it for `up_s`, `cycles` times: brief outages that retries should absorb."""
    if not (0 < down_s <= 30 and 0 < up_s <= 60 and isinstance(cycles, int) and 1 <= cycles <= 50):
        raise UsageError("flap_link needs 0 < down_s <= 30, 0 < up_s <= 60 and 1 <= cycles <= 50")
    run = current_run(configuration)
    pairs = _proxies(run.inventory, link, zone)
    seen_down = 0
    for cycle in range(cycles):
        entries = [run.record_fault("link-flap", Undo(op="enable_proxy", args={"sidecar": s, "proxy": p}),
                                    sidecar=s, proxy=p, cycle=cycle) for s, p in pairs]
        for sidecar, proxy in pairs:
            run.target.set_proxy_enabled(sidecar, proxy, False)
        seen_down += sum(1 for s, p in pairs[:1] if f"{p}:disabled" in run.target.toxics(s))
        time.sleep(down_s)
        for (sidecar, proxy), entry in zip(pairs, entries, strict=True):
            run.target.set_proxy_enabled(sidecar, proxy, True)
            run.ledger.discard(entry)
        run.events.append("fault.heal", fault="link-flap", cycle=cycle)
        time.sleep(up_s)
    run.record_effect("link-flap", seen_down == cycles, link=link, proxies=[f"{s}/{p}" for s, p in pairs],
                      cycles=cycles)
    return {"link": link, "cycles": cycles, "down_s": down_s, "proxies": len(pairs), "at": time.time()}


def _link_text(call: Call, lab: Lab) -> tuple[str, frozenset[str]]:
    zone = call.get("zone")
    try:
        pairs = _proxies(lab.inventory, call.get("link"), zone)
    except UsageError as error:
        raise Invalid(call.field("zone"), str(error)) from None
    sidecars = ", ".join(dict.fromkeys(s for s, _ in pairs))
    where = f"in zone {zone}" if zone else "in every zone"
    zones = frozenset({zone}) if zone else frozenset(lab.inventory.zones)
    return f"link {call.get('link')} {where} via {sidecars} (to {', '.join(dict.fromkeys(p for _, p in pairs))})", zones


def _plan_degrade(call: Call, lab: Lab) -> Footprint:
    attributes = call.get("attributes") or {}
    shown = ", ".join(f"{k} {v} {UNITS.get(k, '')}".strip() for k, v in attributes.items())
    share = f" on {call.get('toxicity'):.0%} of connections" if call.get("toxicity") < 1 else ""
    stream = f" ({call.get('stream')})" if call.get("stream") != "downstream" else ""
    toxic = call.get("toxic")
    what = shown if toxic in attributes else f"{toxic} ({shown})" if shown else toxic
    link, _ = _link_text(call, lab)
    return Footprint(f"{what}{stream}{share} on {link}")


def _plan_cut(call: Call, lab: Lab) -> Footprint:
    link, zones = _link_text(call, lab)
    return Footprint(f"cut {link} until healed", cut=frozenset((call.get("link"), z) for z in zones), blame="zone")


def _plan_flap(call: Call, lab: Lab) -> Footprint:
    link, _ = _link_text(call, lab)
    return Footprint(f"cut {link} for {call.get('down_s'):g} s, {call.get('cycles')} times, "
                  f"{call.get('up_s'):g} s apart")


DECLARED = (
    Declared(degrade_link, "fault", DegradeLink, _plan_degrade),
    Declared(cut_link, "fault", CutLink, _plan_cut),
    Declared(flap_link, "fault", FlapLink, _plan_flap),
)
