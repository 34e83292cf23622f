"""Bring the lab up, report on it and take it down: Docker containers started with testcontainers."""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
from concurrent.futures import ThreadPoolExecutor

import docker
import docker.errors
import redis
from docker.models.containers import Container
from docker.types import IPAMConfig, IPAMPool

from kernel import inventory as inventory_store
from kernel.errors import LabError, UsageError
from kernel.inventory import Inventory, InventoryInstance
from kernel.ledger import Ledger
from kernel.progress import Progress
from lab import build, schema
from lab.containers import LABEL_CONFIG, LABEL_LAB, ContainerSpec, build_container, container_spec
from lab.readiness import Check, run_checks, sentinel_view, wait_until
from lab.topology import Instance, LabSettings, Profile, Role, Topology, plan

READY_TIMEOUT_S = 240
STAGES: tuple[tuple[Role, ...], ...] = (
    (Role.CASSANDRA, Role.REDIS, Role.TOXIPROXY),
    (Role.SENTINEL,),
    (Role.APP, Role.LB, Role.PROMETHEUS),
)


def docker_client() -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except docker.errors.DockerException as error:
        reason = str(error).split("(")[0].strip() or error.__class__.__name__
        raise UsageError(f"Docker daemon not reachable ({reason}); start it with scripts/setup.sh") from None
    return client


def remove_container(container: Container, volumes: bool = False) -> None:
    """Remove a container, forcibly; one already gone (removed by a concurrent command) is what was wanted."""
    with contextlib.suppress(docker.errors.NotFound):
        container.remove(force=True, v=volumes)


def network_name(lab_id: str) -> str:
    return f"{lab_id}-net"


def spec_hash(spec: ContainerSpec) -> str:
    payload = json.dumps([spec.instance.name, spec.instance.ip, spec.image, spec.command, spec.env], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def lab_containers(client: docker.DockerClient, lab_id: str) -> dict[str, Container]:
    found = client.containers.list(all=True, filters={"label": f"{LABEL_LAB}={lab_id}"})
    return {c.name: c for c in found}


def _ensure_network(client: docker.DockerClient, settings: LabSettings) -> None:
    name = network_name(settings.lab_id)
    existing = client.networks.list(names=[name])
    if existing:
        return
    ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=settings.subnet)])
    try:
        client.networks.create(name, driver="bridge", ipam=ipam, labels={LABEL_LAB: settings.lab_id})
    except docker.errors.APIError as error:
        raise UsageError(f"cannot create network {name} on {settings.subnet}: {error.explanation}") from None


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _check_ports(instances: list[Instance]) -> None:
    for instance in instances:
        for port_name, port in instance.host_ports.items():
            if not _port_free(port):
                raise UsageError(
                    f"port 127.0.0.1:{port} ({instance.name} {port_name}) is already taken; "
                    "free it or choose another --port-base"
                )


def _check_images(tags: dict[str, str]) -> None:
    missing = sorted({tag for tag in tags.values() if not build.image_exists(tag)})
    if missing:
        raise UsageError(
            f"image {missing[0]} is missing: run `chaos360 lab build` (or `docker pull` it, for an upstream image)"
        )


def _replace_changed(specs: list[ContainerSpec], existing: dict[str, Container], lab_id: str,
                     progress: Progress) -> None:
    """App replicas whose build changed are replaced (a new deployment); any other change needs `lab down`."""
    changed = [s for s in specs if s.instance.container_name(lab_id) in existing
               and existing[s.instance.container_name(lab_id)].labels.get(LABEL_CONFIG) != spec_hash(s)]
    refused = [s.instance.name for s in changed if s.instance.role is not Role.APP]
    if refused:
        raise UsageError(
            f"lab {lab_id} runs with another configuration ({', '.join(refused)}); run `chaos360 lab down` first"
        )
    for spec in changed:
        remove_container(existing.pop(spec.instance.container_name(lab_id)))
        progress.step(f"{spec.instance.name} replaced: its build changed")


def _start_one(spec: ContainerSpec, settings: LabSettings, existing: dict[str, Container]) -> str:
    name = spec.instance.container_name(settings.lab_id)
    current = existing.get(name)
    if current is not None and current.status == "running":
        return f"{spec.instance.name} reused"
    if current is not None:
        current.start()
        return f"{spec.instance.name} restarted"
    container = build_container(spec, settings.lab_id, network_name(settings.lab_id), spec_hash(spec))
    try:
        container.start()
    except (TimeoutError, RuntimeError) as error:
        raise LabError(f"{spec.instance.name} did not start: {str(error).splitlines()[0][:300]}") from None
    return f"{spec.instance.name} started"


def _start_stage(specs: list[ContainerSpec], settings: LabSettings, existing: dict[str, Container],
                 progress: Progress) -> None:
    with ThreadPoolExecutor(max_workers=len(specs)) as pool:
        for message in pool.map(lambda s: _start_one(s, settings, existing), specs):
            progress.step(message)


def to_inventory(topology: Topology, tags: dict[str, str]) -> Inventory:
    settings = topology.settings
    instances = tuple(
        InventoryInstance(
            name=i.name, role=i.role.value, zone=i.zone, container=i.container_name(settings.lab_id),
            ip=i.ip, ports=i.container_ports, host_ports=i.host_ports,
        )
        for i in topology.instances
    )
    return Inventory(
        lab_id=settings.lab_id, profile=settings.profile.value, network=network_name(settings.lab_id),
        subnet=settings.subnet, images=tags, instances=instances,
        settings={
            "sentinel_down_after_ms": settings.sentinel_down_after_ms,
            "sentinel_failover_timeout_ms": settings.sentinel_failover_timeout_ms,
            "port_base": settings.port_base,
            "cassandra_heap": settings.cassandra_heap,
        },
    )


def settings_of(inventory: Inventory) -> LabSettings:
    """The lab's settings as its inventory keeps them (the app's extra environment aside)."""
    kept = inventory.settings
    return LabSettings(
        profile=Profile(inventory.profile), lab_id=inventory.lab_id, subnet=inventory.subnet,
        port_base=int(kept["port_base"]),
        sentinel_down_after_ms=int(kept.get("sentinel_down_after_ms", LabSettings.sentinel_down_after_ms)),
        sentinel_failover_timeout_ms=int(kept.get("sentinel_failover_timeout_ms",
                                                  LabSettings.sentinel_failover_timeout_ms)),
        cassandra_heap=str(kept.get("cassandra_heap", LabSettings.cassandra_heap)),
    )


def recreate(inventory: Inventory, names: list[str], progress: Progress) -> None:
    """Create and start the named instances afresh, as `up` first made them; present ones are left alone.
    App replicas are not re-created here: their environment may hold a build's settings the inventory lacks."""
    settings = settings_of(inventory)
    topology = plan(settings)
    existing = lab_containers(docker_client(), settings.lab_id)
    wanted = [topology.get(name) for name in names]
    refused = [i.name for i in wanted if i.role is Role.APP]
    if refused:
        raise UsageError(f"app replicas are not re-created this way ({', '.join(refused)}); run `chaos360 lab up`")
    specs = [container_spec(topology, i, inventory.images) for i in wanted]
    _ensure_network(docker_client(), settings)
    _start_stage(specs, settings, existing, progress)


def _running_master(topology: Topology, existing: dict[str, Container]) -> Instance:
    """The Redis master the running Sentinels name (a weak direct-mode build must point at it), else the first."""
    sentinels = [s for s in topology.by_role(Role.SENTINEL) if s.container_name(topology.settings.lab_id) in existing]
    for sentinel in sentinels:
        try:
            address = str(sentinel_view(sentinel.host_ports["sentinel"])["master"]).split(":")[0]
        except (redis.RedisError, OSError, KeyError):
            continue
        return next((r for r in topology.by_role(Role.REDIS) if r.ip == address), topology.initial_redis_master)
    return topology.initial_redis_master


def up(settings: LabSettings, progress: Progress) -> Inventory:
    """Start (or reuse) every container and return only when the whole stack is ready."""
    client = docker_client()
    topology = plan(settings)
    tags = build.role_images()
    _check_images(tags)
    existing = lab_containers(client, settings.lab_id)
    master = _running_master(topology, existing)
    specs = [container_spec(topology, i, tags, master) for i in topology.instances]
    _check_ports([s.instance for s in specs if s.instance.container_name(settings.lab_id) not in existing])
    _replace_changed(specs, existing, settings.lab_id, progress)
    _ensure_network(client, settings)
    inventory = to_inventory(topology, tags)
    for stage in STAGES:
        if Role.APP in stage:
            schema.ensure(inventory, progress)
        stage_specs = [s for s in specs if s.instance.role in stage]
        _start_stage(stage_specs, settings, existing, progress)
    wait_until(lambda: run_checks(inventory), READY_TIMEOUT_S, progress)
    path = inventory_store.save(inventory)
    progress.step(f"lab {settings.lab_id} ({settings.profile}) is ready; inventory at {path}")
    return inventory


def down(lab_id: str, progress: Progress) -> int:
    client = docker_client()
    containers = lab_containers(client, lab_id)
    with ThreadPoolExecutor(max_workers=max(1, len(containers))) as pool:
        list(pool.map(lambda c: remove_container(c, volumes=True), containers.values()))
    for network in client.networks.list(names=[network_name(lab_id)]):
        network.remove()
    inventory_store.inventory_path(lab_id).unlink(missing_ok=True)
    progress.step(f"removed {len(containers)} containers of lab {lab_id}")
    return len(containers)


def instance_states(client: docker.DockerClient, inventory: Inventory) -> dict[str, dict[str, object]]:
    containers = lab_containers(client, inventory.lab_id)
    states: dict[str, dict[str, object]] = {}
    for instance in inventory.instances:
        container = containers.get(instance.container)
        if container is None:
            states[instance.name] = {"state": "missing", "restarts": 0}
            continue
        attrs = container.attrs["State"]
        states[instance.name] = {
            "state": "paused" if attrs.get("Paused") else container.status,
            "restarts": container.attrs.get("RestartCount", 0),
            "started_at": attrs.get("StartedAt"),
        }
    return states


def unrestored_check(lab_id: str) -> Check:
    """A lab whose data was lost and not restored yet is not ready, however well its empty nodes serve."""
    lost = [e for e in Ledger(lab_id).entries() if e.undo.op == "restore"]
    detail = "; ".join(f"{e.undo.args.get('what')} lost, backup {e.undo.args.get('backup')} not restored yet "
                       "(run `chaos360 heal`)" for e in lost)
    return Check("data restored", not lost, detail or "no data loss awaits its restore")


def status(lab_id: str) -> dict[str, object]:
    """The inventory with each instance's container state and the readiness checks."""
    client = docker_client()
    inventory = inventory_store.load(lab_id)
    states = instance_states(client, inventory)
    checks = [*run_checks(inventory), unrestored_check(lab_id)]
    instances = [
        {**i.model_dump(), **states[i.name]} for i in inventory.instances
    ]
    return {
        "lab_id": lab_id,
        "profile": inventory.profile,
        "ready": all(c.ok for c in checks),
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
        "instances": instances,
        "images": inventory.images,
    }
