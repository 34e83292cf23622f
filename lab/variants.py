"""Extra app replicas with a chosen environment, beside the lab's own: to prove how a build behaves."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import docker.errors
from docker.models.containers import Container

from kernel.errors import UsageError
from kernel.inventory import Inventory
from lab import configs
from lab.containers import ContainerSpec, build_container
from lab.docker_lab import docker_client, network_name, remove_container, settings_of
from lab.topology import VARIANT_SLOTS, Instance, LabSettings, Role, plan, variant_host_port, variant_ip


def _variant_instance(topology_app: Instance, slot: int, settings: LabSettings) -> Instance:
    return dataclasses.replace(
        topology_app,
        name=f"variant{slot}-{topology_app.zone}",
        ip=variant_ip(settings, slot),
        host_ports={"http": variant_host_port(settings, slot)},
    )


def start_variant(inventory: Inventory, slot: int, env: dict[str, str], zone: str = "a") -> tuple[Container, str]:
    """Start one extra app replica in `zone` with `env` on top of the lab's (replacing a stale one in its slot)."""
    if not 0 <= slot < VARIANT_SLOTS:
        raise UsageError(f"variant slot {slot} outside 0..{VARIANT_SLOTS - 1}")
    settings = settings_of(inventory)
    topology = plan(settings)
    instance = _variant_instance(topology.one(Role.APP, zone), slot, settings)
    spec = ContainerSpec(instance, inventory.images["app"], None, {**configs.app_env(topology, instance), **env})
    container = build_container(spec, inventory.lab_id, network_name(inventory.lab_id), "variant")
    stale = docker_client().containers.list(all=True, filters={"name": instance.container_name(inventory.lab_id)})
    for leftover in stale:
        remove_container(leftover)
    container.start()
    return container, f"http://127.0.0.1:{instance.host_ports['http']}"


@contextmanager
def variant_app(inventory: Inventory, slot: int, env: dict[str, str], zone: str = "a") -> Iterator[str]:
    """Run one extra app replica in `zone` with `env` on top of the lab's; yields its base URL on loopback."""
    container, url = start_variant(inventory, slot, env, zone)
    try:
        yield url
    finally:
        with contextlib.suppress(docker.errors.NotFound):  # a heal may have removed it already
            container.stop()
