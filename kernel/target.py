"""The target interface: what actions and probes may ask of a system, whatever runs it (Docker lab, Kubernetes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from kernel.inventory import Inventory
from kernel.ledger import Undo


class Target(Protocol):
    """Primitives on instances named in the inventory. Each returns plain evidence."""

    @property
    def inventory(self) -> Inventory: ...

    def kill(self, name: str) -> int:
        """Crash the instance; it comes back as a pod's container would. Returns the killed process id."""

    def stop(self, name: str, timeout_s: int = 2) -> None:
        """Take the instance down until `start`."""

    def start(self, name: str) -> None:
        """Bring a stopped or paused instance back; a no-op when it runs."""

    def pause(self, name: str) -> None:
        """Freeze every process of the instance until `resume`."""

    def resume(self, name: str) -> None: ...

    def is_running(self, name: str) -> bool: ...

    def restart_count(self, name: str) -> int: ...

    def wait_restarted(self, name: str, restarts_before: int, timeout_s: float = 60.0) -> float:
        """Seconds until the instance runs again after a crash."""

    def isolate(self, zone: str) -> list[str]:
        """Drop traffic between the zone's instances and every other zone, both ways. Returns the instances cut."""

    def rejoin(self, zone: str) -> list[str]: ...

    def isolation_rules(self, name: str) -> list[str]:
        """The chaos360 packet-filter rules present in the instance's network namespace."""

    def add_toxic(self, sidecar: str, proxy: str, toxic: ToxicSpec) -> str:
        """Degrade one proxied link; returns the toxic's name."""

    def remove_toxic(self, sidecar: str, proxy: str, toxic_name: str) -> None: ...

    def set_proxy_enabled(self, sidecar: str, proxy: str, enabled: bool) -> None: ...

    def toxics(self, sidecar: str) -> dict[str, list[str]]:
        """Proxy name -> toxic names present, plus disabled proxies under the key '<proxy>:disabled'."""

    def exec(self, name: str, command: list[str]) -> tuple[int, str]: ...

    def variant_slots(self) -> list[int]:
        """Slots of the extra app replicas present (surge, canary, or left by a killed harness)."""

    def remove_variant(self, slot: int) -> None: ...

    def start_variant(self, slot: int, env: dict[str, str], zone: str = "a") -> str:
        """Start an extra app replica (surge, canary) with `env` on top of the lab's; returns its base URL."""

    def break_variant(self, slot: int, how: str) -> None:
        """Pause, kill or stop an extra app replica (`how`), as a broken release would be."""

    def redis_master(self) -> str:
        """The Redis master most Sentinels name, as an instance name."""

    def unready(self, serving_only: bool = False) -> list[str]:
        """What keeps the system from being ready, one line each; empty when ready. `serving_only` asks only
        whether every part serves, skipping slower views (cluster gossip) that bring-up and heals wait for."""

    def repair_stale(self) -> list[str]:
        """Repair what of the lab's own plumbing (not the system under test) went stale under a fault; what was
        repaired, one line each. Heals call it when the lab stays unready."""

    def balancer_states(self) -> dict[str, str]:
        """Every server behind the load balancer, extra replicas included, with its state (UP, DOWN, MAINT...)."""

    def set_balancer_state(self, server: str, state: str) -> None:
        """Put a server in rotation ("ready"), drain it ("drain") or take it out ("maint")."""

    def balancer_sessions(self) -> dict[str, int]:
        """Open sessions per server behind the load balancer."""

    def balancer_checks(self) -> dict[str, bool]:
        """Per server behind the load balancer, whether it is health-checked (unchecked: it stays in rotation)."""

    def set_balancer_checks(self, server: str, enabled: bool) -> None:
        """Turn the load balancer's health checks of one server on or off."""

    def destroy(self, name: str) -> None:
        """Remove the instance with its data, as a lost machine and disk would; `recreate` brings it back empty."""

    def recreate(self, names: list[str]) -> None:
        """Bring destroyed instances back as the lab first made them (same address, tokens, rack), empty and
        started; instances present are left alone."""

    def copy_out(self, name: str, path: str, dest: Path) -> list[Path]:
        """Copy the files of directory `path` in the instance into local directory `dest`; returns them."""

    def copy_in(self, name: str, source: Path, path: str) -> None:
        """Copy the files of local directory `source` into directory `path` of the instance (created if needed)."""

    def apply(self, undo: Undo) -> None:
        """Carry out one undo from the fault ledger; idempotent."""


def unchecked_servers(target: Target) -> list[str]:
    """Servers behind the load balancer whose health checks are off: they stay in rotation whatever they answer."""
    return [server for server, on in target.balancer_checks().items() if not on]


SURGE_SLOT = 4  # the extra replica a rolling update runs before each replacement; the balancer's "surge"
CANARY_SLOT = 5  # the v2 replica of a canary release; the balancer's "canary"

TOXIC_ATTRIBUTES = {
    "latency": ("latency", "jitter"),
    "bandwidth": ("rate",),
    "timeout": ("timeout",),
    "reset_peer": ("timeout",),
    "slow_close": ("delay",),
    "limit_data": ("bytes",),
}


@dataclass(frozen=True)
class ToxicSpec:
    """A Toxiproxy toxic as data: kind, direction, share of connections, and its attributes."""

    kind: str
    stream: str = "downstream"
    toxicity: float = 1.0
    attributes: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in TOXIC_ATTRIBUTES:
            raise ValueError(f"toxic kind {self.kind!r} is not one of {sorted(TOXIC_ATTRIBUTES)}")
        if self.stream not in ("upstream", "downstream"):
            raise ValueError(f"toxic stream {self.stream!r} must be upstream or downstream")
        if not 0.0 <= self.toxicity <= 1.0:
            raise ValueError(f"toxicity {self.toxicity} must be within 0..1")
        for key, value in self.attributes:
            if key not in TOXIC_ATTRIBUTES[self.kind]:
                raise ValueError(f"toxic {self.kind} has no attribute {key!r}")
            if not 0 <= value <= 3_600_000:
                raise ValueError(f"toxic attribute {key}={value} is out of range")


@dataclass(frozen=True)
class RolloutState:
    """One look at a controller's rolling update of the app: what it wants, what is new, what serves."""

    desired: int
    updated: int
    serving: int
    leaving: tuple[str, ...] = ()
    """Old replicas being replaced (terminating), by pod or replica name."""
    done: bool = False


@runtime_checkable
class ControllerRollout(Protocol):
    """A target whose own controller replaces the app's replicas on a restart (a Kubernetes Deployment): the
    harness starts the rollout and watches it, instead of driving a balancer by hand."""

    def restart_app(self) -> None: ...

    def rollout_state(self) -> RolloutState: ...
