"""The lab's topology: which instances a profile has, where they sit and how they are reached.

Pure data: nothing here talks to Docker, so the plan can be unit-tested and printed by `--dry-run`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    APP = "app"
    LB = "lb"
    REDIS = "redis"
    SENTINEL = "sentinel"
    CASSANDRA = "cassandra"
    TOXIPROXY = "toxiproxy"
    PROMETHEUS = "prometheus"


class Profile(StrEnum):
    HA = "ha"
    MINIMAL = "minimal"


ZONES: dict[Profile, tuple[str, ...]] = {Profile.HA: ("a", "b", "c"), Profile.MINIMAL: ("a",)}
ZONED_ROLES = (Role.APP, Role.TOXIPROXY, Role.REDIS, Role.SENTINEL, Role.CASSANDRA)
HOST_OCTET = {
    Role.LB: 10,
    Role.PROMETHEUS: 11,
    Role.APP: 20,
    Role.TOXIPROXY: 30,
    Role.REDIS: 40,
    Role.SENTINEL: 50,
    Role.CASSANDRA: 60,
}
CONTAINER_PORTS: dict[Role, dict[str, int]] = {
    Role.APP: {"http": 8080},
    Role.LB: {"http": 80, "stats": 8404, "admin": 9999},
    Role.REDIS: {"redis": 6379},
    Role.SENTINEL: {"sentinel": 26379},
    Role.CASSANDRA: {"cql": 9042},
    Role.TOXIPROXY: {"api": 8474},
    Role.PROMETHEUS: {"http": 9090},
}
HOST_PORT_OFFSET: dict[tuple[Role, str], int] = {
    (Role.LB, "http"): 80,
    (Role.LB, "stats"): 404,
    (Role.LB, "admin"): 999,
    (Role.PROMETHEUS, "http"): 90,
    (Role.APP, "http"): 81,
    (Role.TOXIPROXY, "api"): 474,
    (Role.REDIS, "redis"): 379,
    (Role.SENTINEL, "sentinel"): 263,
    (Role.CASSANDRA, "cql"): 42,
}
REDIS_PROXY_PORT = 6380
CASSANDRA_PROXY_PORT = 9142
VARIANT_SLOTS = 6
VARIANT_OCTET = 24
VARIANT_PORT_OFFSET = 84
CASSANDRA_TOKENS = ("-9223372036854775808", "-3074457345618258603", "3074457345618258602")


@dataclass(frozen=True)
class LabSettings:
    """What a user may choose about the lab; everything else follows from it."""

    profile: Profile = Profile.HA
    lab_id: str = "chaos360"
    subnet: str = "172.28.36.0/24"
    port_base: int = 18000
    sentinel_down_after_ms: int = 1000
    sentinel_failover_timeout_ms: int = 5000
    cassandra_heap: str = "512M"
    app_env: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        network = ipaddress.ip_network(self.subnet, strict=True)
        if network.num_addresses < 256:
            raise ValueError(f"subnet {self.subnet} is smaller than a /24")
        if not 1024 <= self.port_base <= 64000:
            raise ValueError(f"port base {self.port_base} is outside 1024..64000")
        if not self.lab_id.replace("-", "").isalnum():
            raise ValueError(f"lab id {self.lab_id!r} may hold only letters, digits and dashes")

    @property
    def zones(self) -> tuple[str, ...]:
        return ZONES[self.profile]


@dataclass(frozen=True)
class Instance:
    """One container of the lab: its identity, its place and how to reach it."""

    name: str
    role: Role
    zone: str | None
    ip: str
    ordinal: int
    container_ports: dict[str, int] = field(default_factory=dict)
    host_ports: dict[str, int] = field(default_factory=dict)

    def container_name(self, lab_id: str) -> str:
        return f"{lab_id}-{self.name}"


@dataclass(frozen=True)
class Topology:
    settings: LabSettings
    instances: tuple[Instance, ...]

    def by_role(self, role: Role) -> tuple[Instance, ...]:
        return tuple(i for i in self.instances if i.role is role)

    def one(self, role: Role, zone: str | None = None) -> Instance:
        matches = [i for i in self.by_role(role) if zone is None or i.zone == zone]
        if not matches:
            raise KeyError(f"no {role} instance in zone {zone}")
        return matches[0]

    def get(self, name: str) -> Instance:
        for instance in self.instances:
            if instance.name == name:
                return instance
        raise KeyError(name)

    @property
    def initial_redis_master(self) -> Instance:
        return self.by_role(Role.REDIS)[0]


def _ip(settings: LabSettings, role: Role, ordinal: int) -> str:
    network = ipaddress.ip_network(settings.subnet)
    return str(network.network_address + HOST_OCTET[role] + ordinal + 1)


def _instance(settings: LabSettings, role: Role, zone: str | None, ordinal: int) -> Instance:
    name = f"{role.value}-{zone}" if zone else role.value
    ports = CONTAINER_PORTS[role]
    host_ports = {
        port_name: settings.port_base + HOST_PORT_OFFSET[(role, port_name)] + ordinal
        for port_name in ports
        if (role, port_name) in HOST_PORT_OFFSET
    }
    return Instance(name, role, zone, _ip(settings, role, ordinal), ordinal, dict(ports), host_ports)


def plan(settings: LabSettings) -> Topology:
    """Lay out every instance of the chosen profile with its address and published ports."""
    instances: list[Instance] = []
    for role in ZONED_ROLES:
        for ordinal, zone in enumerate(settings.zones):
            instances.append(_instance(settings, role, zone, ordinal))
    instances.append(_instance(settings, Role.LB, None, 0))
    instances.append(_instance(settings, Role.PROMETHEUS, None, 0))
    return Topology(settings, tuple(instances))


def variant_ip(settings: LabSettings, slot: int) -> str:
    """Address of an extra app replica (surge, canary, or a build under test) beside the lab's own."""
    network = ipaddress.ip_network(settings.subnet)
    return str(network.network_address + VARIANT_OCTET + slot)


def variant_host_port(settings: LabSettings, slot: int) -> int:
    return settings.port_base + VARIANT_PORT_OFFSET + slot
