"""Agent360 on Kubernetes, rendered from the same topology and configuration as the Docker lab.

Every datastore member is its own single-replica StatefulSet pinned to its zone, behind a Service with a fixed
cluster IP: the Docker lab's fixed addresses become stable virtual ones, so Redis, Sentinel and Cassandra announce the
same addresses after any restart and the app's address maps (through its Toxiproxy sidecar) stay valid. The app is
one Deployment of three replicas spread over the zones, as the guide has it; each replica carries a Toxiproxy
sidecar, so a link fault degrades one zone's replica exactly as the Docker lab's per-zone sidecar does.

`deploy/k8s/` holds the rendering, applied with `kubectl apply -k` (a unit test keeps it equal to this module).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from lab import configs
from lab.topology import Instance, LabSettings, Role, Topology, plan

NAMESPACE = "agent360"
SERVICE_SUBNET = "10.96.36.0/24"
"""Inside the service range of most clusters (10.96.0.0/12 by default): the members' fixed cluster IPs."""
PART_OF = {"app.kubernetes.io/part-of": "agent360"}
ROLE_LABEL = "chaos360.io/role"
INSTANCE_LABEL = "chaos360.io/instance"
ZONE_KEY = "topology.kubernetes.io/zone"
STORAGE_CLASS = "chaos360-local"
IMAGES = {"base": "chaos360/base:k8s", "cassandra": "chaos360/cassandra:k8s", "app": "chaos360/app:k8s",
          "toxiproxy": "chaos360/toxiproxy:k8s"}
APP_NODE_PORT = 30080
CANARY_NODE_PORT = 30081  # the canary's Service, weighted by the balancer in front (lab/k8s/canary.py)
PROMETHEUS_NODE_PORT = 30090
CONFIG_MAP = "agent360-config"
APP_PODS_SERVICE = "agent360-pods"

Doc = dict[str, Any]


def topology() -> Topology:
    return plan(LabSettings(subnet=SERVICE_SUBNET))


def _labels(instance: Instance) -> dict[str, str]:
    return {**PART_OF, ROLE_LABEL: instance.role.value, INSTANCE_LABEL: instance.name}


def _service(instance: Instance, ports: dict[str, int]) -> Doc:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": instance.name, "labels": _labels(instance)},
            "spec": {"clusterIP": instance.ip, "selector": {INSTANCE_LABEL: instance.name},
                     "publishNotReadyAddresses": True,
                     "ports": [{"name": name, "port": port, "targetPort": port} for name, port in ports.items()]}}


def _member(instance: Instance, container: Doc, data_path: str | None, storage: str = "1Gi") -> Doc:
    """One datastore member: a single-replica StatefulSet in its zone, its data on a claim that outlives the pod."""
    volumes = [{"name": "config", "configMap": {"name": CONFIG_MAP}}]
    mounts = [{"name": "config", "mountPath": "/config", "readOnly": True}]
    claims = []
    if data_path:
        mounts.append({"name": "data", "mountPath": data_path})
        claims = [{"metadata": {"name": "data"},
                   "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": STORAGE_CLASS,
                            "resources": {"requests": {"storage": storage}}}}]
    else:
        volumes.append({"name": "data", "emptyDir": {}})
        mounts.append({"name": "data", "mountPath": "/data"})
    spec: Doc = {
        "serviceName": instance.name, "replicas": 1, "selector": {"matchLabels": {INSTANCE_LABEL: instance.name}},
        "template": {"metadata": {"labels": _labels(instance)},
                     "spec": {"nodeSelector": {ZONE_KEY: instance.zone}, "terminationGracePeriodSeconds": 10,
                              "enableServiceLinks": False, "containers": [{**container, "volumeMounts": mounts}],
                              "volumes": volumes}},
    }
    if claims:
        spec["volumeClaimTemplates"] = claims
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": instance.name, "labels": _labels(instance)}, "spec": spec}


def _copy_then_exec(key: str, path: str, command: str) -> list[str]:
    """Copy the member's configuration once: restarts keep what Sentinel rewrote."""
    return ["sh", "-c", f"mkdir -p $(dirname {path}); [ -f {path} ] || cp /config/{key} {path}; exec {command}"]


def redis_conf(topo: Topology, instance: Instance) -> str:
    """`repl-timeout 20`: a replica that starts before the master's pod is reachable waits that long, not Redis's
    default 60 s, before it connects again (measured: `lab up` spent 61 s on redis-b's first connect). It must stay
    above the master's ping period (10 s): at 10 an idle replica link timed out again and again."""
    return configs.redis_conf(topo, instance) + f"replica-announce-ip {instance.ip}\nrepl-timeout 20\n"


def sentinel_conf(topo: Topology, instance: Instance) -> str:
    return configs.sentinel_conf(topo) + f"sentinel announce-ip {instance.ip}\n"


def _redis(instance: Instance) -> list[Doc]:
    command = _copy_then_exec(f"{instance.name}.conf", "/data/redis.conf", "redis-server /data/redis.conf")
    container = {"name": "redis", "image": IMAGES["base"], "command": command,
                 "ports": [{"name": "redis", "containerPort": 6379}],
                 "readinessProbe": {"exec": {"command": ["redis-cli", "ping"]}, "periodSeconds": 2}}
    return [_service(instance, {"redis": 6379}), _member(instance, container, "/data")]


def _sentinel(instance: Instance) -> list[Doc]:
    command = _copy_then_exec(f"{instance.name}.conf", "/data/sentinel.conf", "redis-sentinel /data/sentinel.conf")
    container = {"name": "sentinel", "image": IMAGES["base"], "command": command,
                 "ports": [{"name": "sentinel", "containerPort": 26379}],
                 "readinessProbe": {"exec": {"command": ["redis-cli", "-p", "26379", "ping"]}, "periodSeconds": 2}}
    return [_service(instance, {"sentinel": 26379}), _member(instance, container, None)]


def _cassandra(topo: Topology, instance: Instance) -> list[Doc]:
    env = {**configs.cassandra_env(topo, instance), "CASSANDRA_LISTEN_ADDRESS": "auto"}
    container = {"name": "cassandra", "image": IMAGES["cassandra"],
                 "env": [{"name": k, "value": v} for k, v in env.items()],
                 "ports": [{"name": "cql", "containerPort": 9042}, {"name": "gossip", "containerPort": 7000}],
                 "readinessProbe": {"tcpSocket": {"port": 9042}, "periodSeconds": 3}}
    return [_service(instance, {"cql": 9042, "gossip": 7000}),
            _member(instance, container, "/var/lib/cassandra", storage="5Gi")]


def _loopback_sidecars(topo: Topology) -> Topology:
    """The app's sidecar is in its own pod: every proxied address is on the pod's loopback."""
    instances = tuple(replace(i, ip="127.0.0.1") if i.role is Role.TOXIPROXY else i for i in topo.instances)
    return replace(topo, instances=instances)


def app_env(topo: Topology) -> dict[str, str]:
    env = configs.app_env(_loopback_sidecars(topo), topo.one(Role.APP, "a"))
    env.pop("AGENT360_ZONE")
    return env


def _app(topo: Topology) -> list[Doc]:
    labels = {**PART_OF, ROLE_LABEL: "app", "app": "agent360"}
    env: list[Doc] = [{"name": k, "value": v} for k, v in app_env(topo).items()]
    env.append({"name": "AGENT360_ZONE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}})
    app = {"name": "agent360", "image": IMAGES["app"], "env": env,
           "ports": [{"name": "http", "containerPort": 8080}],
           "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 5, "failureThreshold": 3},
           "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 1, "failureThreshold": 2},
           "lifecycle": {"preStop": {"exec": {"command": ["sleep", "3"]}}}}
    sidecar = {"name": "toxiproxy", "image": IMAGES["toxiproxy"], "restartPolicy": "Always",
               "command": ["/usr/local/bin/toxiproxy-server", "-host", "0.0.0.0", "-port", "8474", "-config",
                           "/config/toxiproxy.json"],
               "ports": [{"name": "toxiproxy", "containerPort": 8474}],
               "readinessProbe": {"tcpSocket": {"port": 8474}, "periodSeconds": 2},
               "volumeMounts": [{"name": "config", "mountPath": "/config", "readOnly": True}]}
    spread = {"maxSkew": 1, "topologyKey": ZONE_KEY, "whenUnsatisfiable": "DoNotSchedule",
              "labelSelector": {"matchLabels": {"app": "agent360"}}, "matchLabelKeys": ["pod-template-hash"]}
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "agent360", "labels": labels},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "agent360"}},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"topologySpreadConstraints": [spread], "terminationGracePeriodSeconds": 15,
                                       "enableServiceLinks": False, "initContainers": [sidecar],
                                       "containers": [app],
                                       "volumes": [{"name": "config", "configMap": {"name": CONFIG_MAP}}]}}},
    }
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "agent360", "labels": labels},
               "spec": {"type": "NodePort", "selector": {"app": "agent360"}, "externalTrafficPolicy": "Local",
                        "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": APP_NODE_PORT}]}}
    pods = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": APP_PODS_SERVICE, "labels": labels},
            "spec": {"clusterIP": "None", "publishNotReadyAddresses": True, "selector": {"app": "agent360"},
                     "ports": [{"name": "http", "port": 8080, "targetPort": 8080}]}}
    return [deployment, service, pods]


def _schema_job() -> Doc:
    """Creates the keyspace once Cassandra answers (idempotent); retried until the ring is up."""
    script = ("from cassandra.cluster import Cluster\nfrom agent360.schema import ensure_schema\n"
              f"hosts = {[i.ip for i in topology().by_role(Role.CASSANDRA)]!r}\n"
              "with Cluster(hosts, connect_timeout=10) as cluster:\n"
              "    ensure_schema(cluster.connect(), datacenter='dc1', replication_factor=3)\n"
              "print('schema agent360 ready')\n")
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "agent360-schema", "labels": PART_OF},
            "spec": {"backoffLimit": 30, "template": {"metadata": {"labels": PART_OF}, "spec": {
                "restartPolicy": "OnFailure", "containers": [{
                    "name": "schema", "image": IMAGES["app"],
                    "command": ["/opt/agent360/bin/python", "-c", script]}]}}}}


def prometheus_yml() -> str:
    """Debian's Prometheus has no Kubernetes discovery: the replicas are found through a headless Service's DNS."""
    job = {"job_name": "agent360",
           "dns_sd_configs": [{"names": [f"{APP_PODS_SERVICE}.{NAMESPACE}.svc.cluster.local"], "type": "A",
                               "port": 8080, "refresh_interval": "5s"}]}
    config = {"global": {"scrape_interval": "2s", "evaluation_interval": "2s"},
              "rule_files": ["/config/alerts.yaml"], "scrape_configs": [job]}
    return json.dumps(config, indent=1)


def _prometheus() -> list[Doc]:
    labels = {**PART_OF, ROLE_LABEL: "prometheus", "app": "prometheus"}
    command = ("prometheus --config.file=/config/prometheus.yml --storage.tsdb.path=/data "
               "--web.listen-address=0.0.0.0:9090 --storage.tsdb.retention.time=2d")
    container = {"name": "prometheus", "image": IMAGES["base"], "command": ["sh", "-c", f"exec {command}"],
                 "ports": [{"name": "http", "containerPort": 9090}],
                 "readinessProbe": {"httpGet": {"path": "/-/ready", "port": 9090}, "periodSeconds": 2},
                 "volumeMounts": [{"name": "config", "mountPath": "/config", "readOnly": True},
                                  {"name": "data", "mountPath": "/data"}]}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "prometheus", "labels": labels},
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "prometheus"}},
                           "template": {"metadata": {"labels": labels},
                                        "spec": {"enableServiceLinks": False,
                                                 "containers": [container],
                                                 "volumes": [{"name": "config", "configMap": {"name": CONFIG_MAP}},
                                                             {"name": "data", "emptyDir": {}}]}}}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "prometheus", "labels": labels},
               "spec": {"type": "NodePort", "selector": {"app": "prometheus"},
                        "ports": [{"name": "http", "port": 9090, "targetPort": 9090,
                                   "nodePort": PROMETHEUS_NODE_PORT}]}}
    return [deployment, service]


def config_files(topo: Topology) -> dict[str, str]:
    """The members' configuration files; kustomize makes them a ConfigMap whose name changes with its content, so
    a changed file rolls the pods that read it."""
    data = {f"{i.name}.conf": redis_conf(topo, i) for i in topo.by_role(Role.REDIS)}
    data.update({f"{i.name}.conf": sentinel_conf(topo, i) for i in topo.by_role(Role.SENTINEL)})
    data["toxiproxy.json"] = configs.toxiproxy_conf(topo)
    data["prometheus.yml"] = prometheus_yml()
    data["alerts.yaml"] = configs.alert_rules()
    return data


RUNNER = "chaos360-runner"
RUNNER_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "delete", "patch"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create", "get"]},
    {"apiGroups": [""], "resources": ["services", "endpoints"], "verbs": ["get", "list"]},
    {"apiGroups": [""], "resources": ["services"], "verbs": ["create", "delete"]},
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "create", "update", "patch", "delete"]},
    {"apiGroups": ["apps"], "resources": ["statefulsets", "deployments"], "verbs": ["get", "list", "patch"]},
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create", "delete"]},
    {"apiGroups": ["apps"], "resources": ["statefulsets/scale", "deployments/scale"],
     "verbs": ["get", "patch", "update"]},
    {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"],
     "verbs": ["get", "list", "create", "delete"]},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
     "verbs": ["get", "create", "update", "delete"]},
]
"""What the harness does in its namespace: find, crash and replace pods, scale members, restart the app's rollout,
start and remove a canary (a Deployment and its Service), cut zones with policies, keep its ledger and its run lease.
Nothing beyond the namespace but reading nodes (their zones)."""
RUNNER_IMAGE = "chaos360/runner:k8s"
REPORTS_CLAIM = "chaos360-reports"
DRILL_CRONJOB = "chaos360-drill"
DRILL_SCHEDULE = "30 3 * * *"
DRILL_EXPERIMENTS = ("zone-partition", "redis-master-failover", "cassandra-node-loss")
"""The drills a runner inside the cluster can do (zones cut by NetworkPolicy, members scaled down); a crash needs
the node, which a pod does not have."""
RUN_DEADLINE_S = 3600


def _runner() -> list[Doc]:
    labels = {**PART_OF, ROLE_LABEL: "runner"}
    subject = [{"kind": "ServiceAccount", "name": RUNNER, "namespace": NAMESPACE}]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": RUNNER, "labels": labels}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": RUNNER, "labels": labels},
         "rules": RUNNER_RULES},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": RUNNER, "labels": labels},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": RUNNER}, "subjects": subject},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": f"{RUNNER}-nodes", "labels": labels},
         "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": f"{RUNNER}-nodes", "labels": labels},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": f"{RUNNER}-nodes"},
         "subjects": subject},
    ]


def runner_pod(arguments: list[str]) -> Doc:
    """The pod template of a run inside the cluster: the runner's ServiceAccount, its namespace as the only one it
    may touch, reports and the drill history on the claim; SIGTERM (a deleted Job) heals before it exits."""
    labels = {**PART_OF, ROLE_LABEL: "runner"}
    namespace = {"valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}
    container = {"name": "chaos360", "image": RUNNER_IMAGE, "imagePullPolicy": "IfNotPresent", "args": arguments,
                 "env": [{"name": "CHAOS360_TARGET", "value": "k8s"}, {"name": "CHAOS360_K8S_NAMESPACE", **namespace},
                         {"name": "CHAOS360_K8S_NAMESPACES", **namespace}],
                 "volumeMounts": [{"name": "reports", "mountPath": "/var/lib/chaos360"}],
                 "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "1536Mi"}},
                 "securityContext": {"allowPrivilegeEscalation": False}}
    return {"metadata": {"labels": labels}, "spec": {
        "serviceAccountName": RUNNER, "restartPolicy": "Never", "terminationGracePeriodSeconds": 180,
        "containers": [container],
        "volumes": [{"name": "reports", "persistentVolumeClaim": {"claimName": REPORTS_CLAIM}}]}}


def run_job_spec(arguments: list[str]) -> Doc:
    """Never retried (a drill that failed is a finding, not a flake to re-run) and bounded in time."""
    return {"backoffLimit": 0, "activeDeadlineSeconds": RUN_DEADLINE_S, "ttlSecondsAfterFinished": 7 * 86400,
            "template": runner_pod(arguments)}


def drill_arguments(experiments: tuple[str, ...] = DRILL_EXPERIMENTS) -> list[str]:
    return ["run", *(f"/opt/chaos360/experiments/{name}.yaml" for name in experiments)]


def _runs() -> list[Doc]:
    """The reports' claim and the scheduled drill: suspended until a team turns it on (`kubectl patch cronjob
    chaos360-drill -p '{"spec":{"suspend":false}}'`); a drill still running when the next is due makes it wait."""
    labels = {**PART_OF, ROLE_LABEL: "runner"}
    return [
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": REPORTS_CLAIM, "labels": labels},
         "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": DRILL_CRONJOB, "labels": labels},
         "spec": {"schedule": DRILL_SCHEDULE, "suspend": True, "concurrencyPolicy": "Forbid",
                  "startingDeadlineSeconds": 600, "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 3,
                  "jobTemplate": {"metadata": {"labels": labels}, "spec": run_job_spec(drill_arguments())}}},
    ]


def game_day_job() -> Doc:
    """deploy/k8s/jobs/game-day.yaml: one run on demand (`kubectl create -f`), not part of the kustomization."""
    labels = {**PART_OF, ROLE_LABEL: "runner"}
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"generateName": "chaos360-game-day-", "namespace": NAMESPACE, "labels": labels},
            "spec": run_job_spec(drill_arguments(("zone-partition",)))}


def documents() -> dict[str, list[Doc]]:
    """File name -> the objects it holds, for deploy/k8s/."""
    topo = topology()
    return {
        "namespace.yaml": [{"apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"name": NAMESPACE, "labels": PART_OF}}],
        "redis.yaml": [doc for i in topo.by_role(Role.REDIS) for doc in _redis(i)],
        "sentinel.yaml": [doc for i in topo.by_role(Role.SENTINEL) for doc in _sentinel(i)],
        "cassandra.yaml": [doc for i in topo.by_role(Role.CASSANDRA) for doc in _cassandra(topo, i)],
        "schema-job.yaml": [_schema_job()],
        "app.yaml": _app(topo),
        "prometheus.yaml": _prometheus(),
        "runner.yaml": _runner(),
        "runs.yaml": _runs(),
    }


def kustomization(files: list[str], config: list[str]) -> Doc:
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "namespace": NAMESPACE,
            "resources": files,
            "configMapGenerator": [{"name": CONFIG_MAP, "options": {"labels": PART_OF},
                                    "files": [f"config/{name}" for name in config]}]}


HEADER = "# Rendered by `python -m lab.k8s.manifests` from lab/k8s/manifests.py: edit that, then render again.\n"


def rendered() -> dict[str, str]:
    """Relative path -> content of every file of deploy/k8s/."""
    config = config_files(topology())
    files = {name: HEADER + yaml.safe_dump_all(docs, sort_keys=False, width=120) for name, docs in documents().items()}
    files.update({f"config/{name}": text for name, text in config.items()})
    files["jobs/game-day.yaml"] = HEADER + yaml.safe_dump(game_day_job(), sort_keys=False, width=120)
    files["kustomization.yaml"] = HEADER + yaml.safe_dump(kustomization(list(documents()), list(config)),
                                                          sort_keys=False)
    return files


def write(directory: Path) -> list[Path]:
    written = []
    for name, text in rendered().items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


DEPLOY_DIR = Path(__file__).resolve().parents[2] / "deploy" / "k8s"

if __name__ == "__main__":
    for path in write(DEPLOY_DIR):
        print(path)
