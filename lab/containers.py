"""How each lab instance runs as a container: image, command, environment, wait strategy."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")

from docker.types import EndpointConfig
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import (
    HttpWaitStrategy,
    LogMessageWaitStrategy,
    WaitStrategy,
)

from lab import configs
from lab.topology import Instance, Role, Topology

LABEL_LAB = "chaos360.lab"
LABEL_ROLE = "chaos360.role"
LABEL_ZONE = "chaos360.zone"
LABEL_NAME = "chaos360.instance"
LABEL_CONFIG = "chaos360.config"
STARTUP_TIMEOUT_S = 180


@dataclass(frozen=True)
class ContainerSpec:
    """Everything Docker needs to create one instance, as plain data."""

    instance: Instance
    image: str
    command: list[str] | None
    env: dict[str, str] = field(default_factory=dict)
    config_files: dict[str, str] = field(default_factory=dict)


def _config_command(files: dict[str, str], exec_line: str) -> list[str]:
    """Write each config file from the environment once, then exec: a restart keeps runtime rewrites."""
    writes = [
        f'[ -f {path} ] || printf "%s" "${var}" > {path}' for var, path in files.items()
    ]
    script = "; ".join(["mkdir -p /data /etc/lab", *writes, f"exec {exec_line}"])
    return ["sh", "-c", script]


def _files_env(files: dict[str, str], contents: dict[str, str]) -> dict[str, str]:
    return {var: contents[var] for var in files}


def _spec_redis(topology: Topology, instance: Instance, images: dict[str, str]) -> ContainerSpec:
    files = {"LAB_REDIS_CONF": "/data/redis.conf"}
    env = {"LAB_REDIS_CONF": configs.redis_conf(topology, instance)}
    return ContainerSpec(instance, images["redis"], _config_command(files, "redis-server /data/redis.conf"), env)


def _spec_sentinel(topology: Topology, instance: Instance, images: dict[str, str]) -> ContainerSpec:
    files = {"LAB_SENTINEL_CONF": "/data/sentinel.conf"}
    env = {"LAB_SENTINEL_CONF": configs.sentinel_conf(topology)}
    command = _config_command(files, "redis-sentinel /data/sentinel.conf")
    return ContainerSpec(instance, images["sentinel"], command, env)


def _spec_toxiproxy(topology: Topology, instance: Instance, images: dict[str, str]) -> ContainerSpec:
    files = {"LAB_TOXIPROXY_CONF": "/etc/lab/toxiproxy.json"}
    env = {"LAB_TOXIPROXY_CONF": configs.toxiproxy_conf(topology)}
    exec_line = "/usr/local/bin/toxiproxy-server -host 0.0.0.0 -port 8474 -config /etc/lab/toxiproxy.json"
    return ContainerSpec(instance, images["toxiproxy"], _config_command(files, exec_line), env)


def _spec_cassandra(topology: Topology, instance: Instance, images: dict[str, str]) -> ContainerSpec:
    return ContainerSpec(instance, images["cassandra"], None, configs.cassandra_env(topology, instance))


def _spec_app(topology: Topology, instance: Instance, images: dict[str, str], master: Instance) -> ContainerSpec:
    return ContainerSpec(instance, images["app"], None, configs.app_env(topology, instance, master))


def _spec_lb(topology: Topology, instance: Instance, images: dict[str, str]) -> ContainerSpec:
    files = {"LAB_HAPROXY_CFG": "/etc/lab/haproxy.cfg"}
    env = {"LAB_HAPROXY_CFG": configs.haproxy_cfg(topology)}
    command = _config_command(files, "haproxy -W -db -f /etc/lab/haproxy.cfg")
    return ContainerSpec(instance, images["lb"], command, env)


def _spec_prometheus(topology: Topology, instance: Instance, images: dict[str, str]) -> ContainerSpec:
    files = {"LAB_PROMETHEUS_YML": "/etc/lab/prometheus.yml", "LAB_ALERTS": "/etc/lab/alerts.yaml"}
    env = {"LAB_PROMETHEUS_YML": configs.prometheus_yml(topology), "LAB_ALERTS": configs.alert_rules()}
    exec_line = (
        "prometheus --config.file=/etc/lab/prometheus.yml --storage.tsdb.path=/data "
        "--web.listen-address=0.0.0.0:9090 --storage.tsdb.retention.time=2d"
    )
    return ContainerSpec(instance, images["prometheus"], _config_command(files, exec_line), env)


_SPEC_BUILDERS = {
    Role.REDIS: _spec_redis,
    Role.SENTINEL: _spec_sentinel,
    Role.TOXIPROXY: _spec_toxiproxy,
    Role.CASSANDRA: _spec_cassandra,
    Role.LB: _spec_lb,
    Role.PROMETHEUS: _spec_prometheus,
}


def container_spec(topology: Topology, instance: Instance, images: dict[str, str],
                   redis_master: Instance | None = None) -> ContainerSpec:
    if instance.role is Role.APP:
        return _spec_app(topology, instance, images, redis_master or topology.initial_redis_master)
    return _SPEC_BUILDERS[instance.role](topology, instance, images)


def wait_strategy(role: Role) -> WaitStrategy:
    strategies: dict[Role, WaitStrategy] = {
        Role.REDIS: LogMessageWaitStrategy("Ready to accept connections"),
        Role.SENTINEL: LogMessageWaitStrategy(r"\+monitor master"),
        Role.CASSANDRA: LogMessageWaitStrategy("Starting listening for CQL clients"),
        Role.TOXIPROXY: HttpWaitStrategy(8474, "/version"),
        Role.APP: HttpWaitStrategy(8080, "/health"),
        Role.LB: HttpWaitStrategy(8404, "/stats"),
        Role.PROMETHEUS: HttpWaitStrategy(9090, "/-/ready"),
    }
    return strategies[role].with_startup_timeout(STARTUP_TIMEOUT_S).with_poll_interval(0.5)


class LabContainer(DockerContainer):
    """A testcontainers container with the lab's identity: fixed IP, labels, loopback-only ports."""

    def with_loopback_port(self, container_port: int, host_port: int) -> LabContainer:
        self.ports[f"{container_port}/tcp"] = ("127.0.0.1", host_port)  # type: ignore[assignment]
        return self


def build_container(spec: ContainerSpec, lab_id: str, network: str, spec_hash: str) -> LabContainer:
    instance = spec.instance
    container = LabContainer(spec.image)
    container.with_name(instance.container_name(lab_id))
    for key, value in spec.env.items():
        container.with_env(key, value)
    if spec.command:
        container.with_command(spec.command)
    for port_name, host_port in instance.host_ports.items():
        container.with_loopback_port(instance.container_ports[port_name], host_port)
    labels = {
        LABEL_LAB: lab_id,
        LABEL_ROLE: instance.role.value,
        LABEL_ZONE: instance.zone or "",
        LABEL_NAME: instance.name,
        LABEL_CONFIG: spec_hash,
    }
    container.with_kwargs(
        labels=labels,
        hostname=instance.name,
        restart_policy={"Name": "unless-stopped"},
        network=network,
        networking_config={
            network: EndpointConfig("1.41", aliases=[instance.name], ipv4_address=instance.ip),
        },
        stop_signal="SIGTERM",
    )
    container.waiting_for(wait_strategy(instance.role))
    return container


def describe_command(spec: ContainerSpec) -> str:
    return shlex.join(spec.command) if spec.command else "(image default)"
