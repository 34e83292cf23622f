"""Configuration files and environments of the lab's services, rendered from the topology."""

from __future__ import annotations

import json
from importlib import resources

from kernel.target import CANARY_SLOT, SURGE_SLOT
from lab.topology import (
    CASSANDRA_PROXY_PORT,
    CASSANDRA_TOKENS,
    REDIS_PROXY_PORT,
    Instance,
    Role,
    Topology,
    variant_ip,
)

MASTER_NAME = "mymaster"
SENTINEL_QUORUM = 2
FAIL_OPEN_SUFFIX = "-failopen"
"""Each replica again as an unchecked backup: when every replica fails its readiness at once (a shared dependency
in failover), the load balancer fails open instead of answering 503 to everything."""
CANARY_WEIGHTS = (90, 10)
"""The guide's VirtualService: 90% of traffic to v1, 10% to v2."""


def redis_conf(topology: Topology, instance: Instance) -> str:
    """Append-only persistence (fsync every second): a master restarted by a heal or its restart policy comes back
    with its data. Without it, it came back empty, and replicas that synced from it lost the queue (measured: up
    to every event of an interrupted run)."""
    lines = ["bind 0.0.0.0", "port 6379", "protected-mode no", "dir /data", "appendonly yes", "appendfsync everysec",
             "save ''"]
    master = topology.initial_redis_master
    if instance != master:
        lines.append(f"replicaof {master.ip} 6379")
    return "\n".join(lines) + "\n"


def sentinel_conf(topology: Topology) -> str:
    settings = topology.settings
    master = topology.initial_redis_master
    quorum = min(SENTINEL_QUORUM, len(topology.by_role(Role.SENTINEL)))
    return (
        "port 26379\nprotected-mode no\ndir /data\n"
        f"sentinel monitor {MASTER_NAME} {master.ip} 6379 {quorum}\n"
        f"sentinel down-after-milliseconds {MASTER_NAME} {settings.sentinel_down_after_ms}\n"
        f"sentinel failover-timeout {MASTER_NAME} {settings.sentinel_failover_timeout_ms}\n"
        f"sentinel parallel-syncs {MASTER_NAME} 1\n"
    )


def toxiproxy_conf(topology: Topology) -> str:
    """One proxy per datastore node, so each link can be degraded on its own."""
    proxies = [
        {
            "name": redis.name,
            "listen": f"0.0.0.0:{REDIS_PROXY_PORT + redis.ordinal}",
            "upstream": f"{redis.ip}:6379",
            "enabled": True,
        }
        for redis in topology.by_role(Role.REDIS)
    ] + [
        {
            "name": node.name,
            "listen": f"0.0.0.0:{CASSANDRA_PROXY_PORT + node.ordinal}",
            "upstream": f"{node.ip}:9042",
            "enabled": True,
        }
        for node in topology.by_role(Role.CASSANDRA)
    ]
    return json.dumps(proxies, indent=1)


def haproxy_cfg(topology: Topology) -> str:
    apps = topology.by_role(Role.APP)
    servers = "\n".join(f"  server {app.name} {app.ip}:8080 check weight {CANARY_WEIGHTS[0] // len(apps)}"
                         for app in apps)
    servers += "".join(f"\n  server {app.name}{FAIL_OPEN_SUFFIX} {app.ip}:8080 backup" for app in apps)
    settings = topology.settings
    servers += (
        f"\n  server surge {variant_ip(settings, SURGE_SLOT)}:8080 check disabled"
        f"\n  server canary {variant_ip(settings, CANARY_SLOT)}:8080 check disabled weight {CANARY_WEIGHTS[1]}"
    )
    return balancer_cfg(servers)


def balancer_cfg(servers: str) -> str:
    """HAProxy in front of the app: health-checked on /ready, failing open to every server when none is ready;
    runtime commands (surge, canary) on its admin socket."""
    return f"""global
  maxconn 4096
  stats socket ipv4@0.0.0.0:9999 level admin
defaults
  mode http
  timeout connect 2s
  timeout check 2s
  timeout client 30s
  timeout server 10s
  option redispatch
  retries 2
frontend http
  bind :80
  default_backend agent360
frontend stats
  bind :8404
  stats enable
  stats uri /stats
  stats refresh 5s
backend agent360
  balance roundrobin
  option httpchk GET /ready
  option allbackups
  default-server inter 1s fall 2 rise 2
{servers}
"""


def prometheus_yml(topology: Topology) -> str:
    targets = [
        {"targets": [f"{app.ip}:8080"], "labels": {"instance_name": app.name, "zone": app.zone}}
        for app in topology.by_role(Role.APP)
    ]
    config = {
        "global": {"scrape_interval": "2s", "evaluation_interval": "2s"},
        "rule_files": ["/etc/lab/alerts.yaml"],
        "scrape_configs": [{"job_name": "agent360", "static_configs": targets}],
    }
    return json.dumps(config, indent=1)


def alert_rules() -> str:
    return resources.files("lab").joinpath("files/alerts.yaml").read_text()


def cassandra_env(topology: Topology, node: Instance) -> dict[str, str]:
    nodes = topology.by_role(Role.CASSANDRA)
    return {
        "CASSANDRA_CLUSTER_NAME": "agent360-cluster",
        "CASSANDRA_SEEDS": ",".join(n.ip for n in nodes[:2]),
        "CASSANDRA_DC": "dc1",
        "CASSANDRA_RACK": node.zone or "rack1",
        "CASSANDRA_ENDPOINT_SNITCH": "GossipingPropertyFileSnitch",
        "CASSANDRA_INITIAL_TOKEN": CASSANDRA_TOKENS[node.ordinal],
        "MAX_HEAP_SIZE": topology.settings.cassandra_heap,
        "CASSANDRA_LISTEN_ADDRESS": node.ip,
        "CASSANDRA_BROADCAST_ADDRESS": node.ip,
    }


def _proxy_maps(topology: Topology, sidecar: Instance) -> tuple[str, str, str]:
    redis_map = ",".join(
        f"{r.ip}:6379={sidecar.ip}:{REDIS_PROXY_PORT + r.ordinal}" for r in topology.by_role(Role.REDIS)
    )
    cassandra_map = ",".join(
        f"{c.ip}={sidecar.ip}:{CASSANDRA_PROXY_PORT + c.ordinal}" for c in topology.by_role(Role.CASSANDRA)
    )
    contact_points = ",".join(
        f"{sidecar.ip}:{CASSANDRA_PROXY_PORT + c.ordinal}" for c in topology.by_role(Role.CASSANDRA)
    )
    return redis_map, cassandra_map, contact_points


def app_env(topology: Topology, app: Instance, master: Instance | None = None) -> dict[str, str]:
    """The service reaches every datastore through the Toxiproxy sidecar of its own zone.

    `master` is where a direct-mode (weak) build points: the Redis master at the time the replica starts.
    """
    sidecar = topology.one(Role.TOXIPROXY, app.zone)
    redis_map, cassandra_map, contact_points = _proxy_maps(topology, sidecar)
    master = master or topology.initial_redis_master
    env = {
        "AGENT360_PORT": "8080",
        "AGENT360_ZONE": app.zone or "a",
        "AGENT360_SENTINELS": ",".join(f"{s.ip}:26379" for s in topology.by_role(Role.SENTINEL)),
        "AGENT360_REDIS_MASTER_NAME": MASTER_NAME,
        "AGENT360_REDIS_ADDRESS_MAP": redis_map,
        "AGENT360_REDIS_DIRECT": f"{sidecar.ip}:{REDIS_PROXY_PORT + master.ordinal}",
        "AGENT360_CASSANDRA_CONTACT_POINTS": contact_points,
        "AGENT360_CASSANDRA_ADDRESS_MAP": cassandra_map,
        "AGENT360_CASSANDRA_DC": "dc1",
    }
    env.update(dict(topology.settings.app_env))
    if env.get("AGENT360_REDIS_MODE", "sentinel") != "direct":
        del env["AGENT360_REDIS_DIRECT"]
    return env
