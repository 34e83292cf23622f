"""Degrade the links from the app to a datastore through the Toxiproxy sidecars: latency, timeouts, resets, down."""

from __future__ import annotations

import time
from typing import Any

from kernel.errors import UsageError
from kernel.ledger import Undo
from kernel.run import Run, current_run
from kernel.target import ToxicSpec

LINKS = {"app->redis": "redis", "app->cassandra": "cassandra"}


def _proxies(run: Run, link: str, zone: str | None) -> list[tuple[str, str]]:
    if link not in LINKS:
        raise UsageError(f"link {link!r} is not one of {', '.join(LINKS)}")
    if zone is not None and zone not in run.inventory.zones:
        raise UsageError(f"zone {zone!r} is not one of {', '.join(run.inventory.zones)}")
    sidecars = [s.name for s in run.inventory.by_role("toxiproxy") if zone is None or s.zone == zone]
    upstreams = [i.name for i in run.inventory.by_role(LINKS[link])]
    return [(sidecar, proxy) for sidecar in sidecars for proxy in upstreams]


def _behind(run: Run, sidecar: str) -> list[str]:
    """The app replicas whose datastore links go through `sidecar` (those of its zone)."""
    zone = run.inventory.get(sidecar).zone
    return [app.name for app in run.inventory.by_role("app") if app.zone == zone]


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
    pairs = _proxies(run, link, zone)
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
    pairs = _proxies(run, link, zone)
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
    pairs = _proxies(run, link, zone)
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
