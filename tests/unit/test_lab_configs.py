import json

import yaml

from lab import configs
from lab.topology import CASSANDRA_PROXY_PORT, LabSettings, Profile, Role, plan


def test_replicas_follow_the_initial_master_and_the_master_follows_nobody():
    topology = plan(LabSettings())
    master, *replicas = topology.by_role(Role.REDIS)
    assert "replicaof" not in configs.redis_conf(topology, master)
    for replica in replicas:
        assert f"replicaof {master.ip} 6379" in configs.redis_conf(topology, replica)


def test_sentinels_monitor_with_the_guides_quorum_and_lab_timings():
    topology = plan(LabSettings(sentinel_down_after_ms=1500, sentinel_failover_timeout_ms=6000))
    conf = configs.sentinel_conf(topology)
    assert f"sentinel monitor mymaster {topology.initial_redis_master.ip} 6379 2" in conf
    assert "down-after-milliseconds mymaster 1500" in conf
    assert "failover-timeout mymaster 6000" in conf


def test_minimal_profile_quorum_is_one():
    conf = configs.sentinel_conf(plan(LabSettings(profile=Profile.MINIMAL)))
    assert conf.count(" 6379 1\n") == 1


def test_toxiproxy_has_one_proxy_per_datastore_node():
    topology = plan(LabSettings())
    proxies = json.loads(configs.toxiproxy_conf(topology))
    names = sorted(p["name"] for p in proxies)
    assert names == ["cassandra-a", "cassandra-b", "cassandra-c", "redis-a", "redis-b", "redis-c"]
    listens = [p["listen"] for p in proxies]
    assert len(set(listens)) == len(listens)


def test_app_reaches_datastores_only_through_its_own_zone_sidecar():
    topology = plan(LabSettings())
    app_b = topology.one(Role.APP, "b")
    sidecar = topology.one(Role.TOXIPROXY, "b")
    env = configs.app_env(topology, app_b)
    for mapping in env["AGENT360_CASSANDRA_ADDRESS_MAP"].split(","):
        assert mapping.split("=")[1].startswith(sidecar.ip + ":")
    for mapping in env["AGENT360_REDIS_ADDRESS_MAP"].split(","):
        assert mapping.split("=")[1].startswith(sidecar.ip + ":")
    node_c = topology.one(Role.CASSANDRA, "c")
    assert f"{node_c.ip}={sidecar.ip}:{CASSANDRA_PROXY_PORT + 2}" in env["AGENT360_CASSANDRA_ADDRESS_MAP"]


def test_app_env_overrides_select_a_weaker_build():
    topology = plan(LabSettings(app_env=(("AGENT360_REDIS_MODE", "direct"),)))
    env = configs.app_env(topology, topology.one(Role.APP, "a"))
    assert env["AGENT360_REDIS_MODE"] == "direct"


def test_haproxy_checks_readiness_of_every_app():
    topology = plan(LabSettings())
    cfg = configs.haproxy_cfg(topology)
    assert "option httpchk GET /ready" in cfg
    for app in topology.by_role(Role.APP):
        assert f"server {app.name} {app.ip}:8080 check weight 30" in cfg
        assert f"server {app.name}-failopen {app.ip}:8080 backup\n" in cfg


def test_prometheus_scrapes_every_app_and_loads_the_guides_rules():
    topology = plan(LabSettings())
    config = json.loads(configs.prometheus_yml(topology))
    targets = [t for group in config["scrape_configs"][0]["static_configs"] for t in group["targets"]]
    assert sorted(targets) == sorted(f"{a.ip}:8080" for a in topology.by_role(Role.APP))
    rules = yaml.safe_load(configs.alert_rules())["groups"][0]["rules"]
    by_name = {r["alert"]: r for r in rules}
    assert "> 0.1" in by_name["HighErrorRate"]["expr"] and by_name["HighErrorRate"]["for"] == "5m"
    assert "> 3" in by_name["PodRestart"]["expr"]
