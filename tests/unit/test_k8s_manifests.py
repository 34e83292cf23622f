"""deploy/k8s: the guide's objects, rendered from the lab's topology and kept equal to the committed files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lab.k8s import agent360, manifests
from lab.k8s.manifests import documents, rendered

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "k8s"


def _by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for docs in documents().values() for d in docs if d["kind"] == kind}


def test_deploy_k8s_is_the_current_rendering() -> None:
    committed = {str(p.relative_to(DEPLOY)): p.read_text() for p in DEPLOY.rglob("*") if p.is_file()}
    assert committed == rendered(), "run `python -m lab.k8s.manifests` and commit deploy/k8s"


def test_the_app_is_one_deployment_of_three_spread_over_zones_updated_one_at_a_time() -> None:
    app = _by_kind("Deployment")["agent360"]["spec"]
    assert app["replicas"] == 3
    assert app["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    spread = app["template"]["spec"]["topologySpreadConstraints"][0]
    assert (spread["maxSkew"], spread["topologyKey"], spread["whenUnsatisfiable"]) == (
        1, "topology.kubernetes.io/zone", "DoNotSchedule")
    assert spread["matchLabelKeys"] == ["pod-template-hash"], "a rollout spreads its own revision over the zones"
    container = app["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert "preStop" in container["lifecycle"]
    assert [c["name"] for c in app["template"]["spec"]["containers"]] == ["agent360"]


def test_the_sidecar_starts_before_the_app_and_outlives_its_drain() -> None:
    """A plain second container gets SIGTERM with the app: the app then drained its last requests into a dead proxy
    (a rolling update answered 503 to 30% of requests for 8 s). A native sidecar stops after the app has exited."""
    pod = _by_kind("Deployment")["agent360"]["spec"]["template"]["spec"]
    sidecars = pod["initContainers"]
    assert [(c["name"], c["restartPolicy"]) for c in sidecars] == [("toxiproxy", "Always")]


def test_the_app_reaches_every_datastore_through_its_own_sidecar() -> None:
    env = manifests.app_env(manifests.topology())
    assert env["AGENT360_CASSANDRA_CONTACT_POINTS"].split(",") == ["127.0.0.1:9142", "127.0.0.1:9143",
                                                                   "127.0.0.1:9144"]
    assert "10.96.36.41:6379=127.0.0.1:6380" in env["AGENT360_REDIS_ADDRESS_MAP"]
    assert env["AGENT360_SENTINELS"] == "10.96.36.51:26379,10.96.36.52:26379,10.96.36.53:26379"


def test_each_member_is_pinned_to_its_zone_behind_a_fixed_address() -> None:
    services = _by_kind("Service")
    for name, zone in (("redis-a", "a"), ("sentinel-b", "b"), ("cassandra-c", "c")):
        member = _by_kind("StatefulSet")[name]["spec"]
        assert member["replicas"] == 1
        assert member["template"]["spec"]["nodeSelector"] == {"topology.kubernetes.io/zone": zone}
        assert services[name]["spec"]["clusterIP"].startswith("10.96.36.")


def test_cassandra_racks_are_the_zones_of_one_datacenter() -> None:
    for zone in "abc":
        container = _by_kind("StatefulSet")[f"cassandra-{zone}"]["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e["value"] for e in container["env"]}
        assert (env["CASSANDRA_DC"], env["CASSANDRA_RACK"]) == ("dc1", zone)
        assert env["CASSANDRA_BROADCAST_ADDRESS"] == _by_kind("Service")[f"cassandra-{zone}"]["spec"]["clusterIP"]


def test_redis_and_sentinel_announce_their_fixed_addresses_with_quorum_two() -> None:
    files = rendered()
    assert "replica-announce-ip 10.96.36.42" in files["config/redis-b.conf"]
    assert "replicaof 10.96.36.41 6379" in files["config/redis-b.conf"]
    assert "replicaof" not in files["config/redis-a.conf"]
    sentinel = files["config/sentinel-c.conf"]
    assert "sentinel monitor mymaster 10.96.36.41 6379 2" in sentinel
    assert "sentinel announce-ip 10.96.36.53" in sentinel


def test_the_guide_alert_rules_ship_with_prometheus() -> None:
    rules = rendered()["config/alerts.yaml"]
    assert "HighErrorRate" in rules and "PodRestart" in rules


def test_every_claim_has_a_volume_on_its_zone() -> None:
    volumes = [d for d in agent360.storage() if d["kind"] == "PersistentVolume"]
    assert sorted(v["spec"]["claimRef"]["name"] for v in volumes) == [
        "chaos360-reports", "data-cassandra-a-0", "data-cassandra-b-0", "data-cassandra-c-0",
        "data-redis-a-0", "data-redis-b-0", "data-redis-c-0"]
    reports = next(v for v in volumes if v["spec"]["claimRef"]["name"] == "chaos360-reports")
    assert reports["spec"]["storageClassName"] == "", "the claim names no class: it binds only a volume without one"
    volumes.remove(reports)
    for volume in volumes:
        zone = volume["metadata"]["name"][-1]
        term = volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]
        assert term["values"] == [zone]


def _pod(labels: dict[str, str], ready: bool = True) -> dict[str, Any]:
    return {"metadata": {"labels": labels},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_member_problems_name_what_is_not_ready() -> None:
    members = [_pod({"chaos360.io/instance": f"{role}-{z}"}) for role in ("redis", "sentinel", "cassandra")
               for z in "abc"]
    apps = [_pod({"app": "agent360"}) for _ in range(3)]
    prometheus = [_pod({"app": "prometheus"})]
    assert agent360.member_problems(members + apps + prometheus) == []
    members[0] = _pod({"chaos360.io/instance": "redis-a"}, ready=False)
    assert agent360.member_problems(members + apps[:2] + prometheus) == ["redis-a not ready", "app 2/3 ready"]
    assert agent360.member_problems(members[1:] + apps) == ["redis-a not ready", "prometheus not ready"]


def test_the_runner_role_is_least_privilege() -> None:
    rules = manifests.RUNNER_RULES
    flat = [(group, resource, verb) for rule in rules for group in rule["apiGroups"] for resource in rule["resources"]
            for verb in rule["verbs"]]
    assert not any("*" in item for item in flat)
    assert not any(resource == "secrets" for _, resource, _ in flat)
    assert ("", "pods", "delete") in flat and ("networking.k8s.io", "networkpolicies", "create") in flat
    cluster_roles = _by_kind("ClusterRole")
    assert cluster_roles["chaos360-runner-nodes"]["rules"] == [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}]


def test_the_runner_may_hold_its_run_lease_and_nothing_more_of_coordination() -> None:
    leases = [rule for rule in manifests.RUNNER_RULES if rule["apiGroups"] == ["coordination.k8s.io"]]
    assert leases == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                       "verbs": ["get", "create", "update", "delete"]}]


def test_the_scheduled_drill_waits_for_a_running_one_and_is_off_until_turned_on() -> None:
    cron = _by_kind("CronJob")["chaos360-drill"]["spec"]
    assert cron["concurrencyPolicy"] == "Forbid" and cron["suspend"] is True
    job = cron["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0 and job["activeDeadlineSeconds"] > 0
    pod = job["template"]["spec"]
    assert pod["serviceAccountName"] == "chaos360-runner" and pod["restartPolicy"] == "Never"
    assert job["template"]["metadata"]["labels"]["chaos360.io/role"] == "runner", "the zone cut lets the runner through"
    (container,) = pod["containers"]
    command, *experiments = container["args"]
    assert command == "run" and all(a.startswith("/opt/chaos360/experiments/") for a in experiments)
    env = {e["name"]: e for e in container["env"]}
    assert env["CHAOS360_TARGET"]["value"] == "k8s"
    assert env["CHAOS360_K8S_NAMESPACES"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "chaos360-reports"


def test_the_game_day_job_is_outside_the_kustomization() -> None:
    files = rendered()
    assert "jobs/game-day.yaml" in files
    assert "jobs/game-day.yaml" not in yaml.safe_load(files["kustomization.yaml"])["resources"]
    job = yaml.safe_load(files["jobs/game-day.yaml"])
    assert job["kind"] == "Job" and job["metadata"]["generateName"] == "chaos360-game-day-"
