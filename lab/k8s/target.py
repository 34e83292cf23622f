"""Kubernetes as a fault target: the guide's faults on pods, members and zones, addressed by instance name.

Names are the Docker lab's: a datastore member (`redis-a`, `sentinel-b`, `cassandra-c`) is the pod labelled
`chaos360.io/instance=<name>`; `app-<zone>` is the app replica running on a node of that zone. Every call stays in the
one namespace the access allows. Pod deletion and NetworkPolicy use chaostoolkit-kubernetes; a crash, a freeze and a
node-level zone cut need the node (the lab's), and are refused elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any, Protocol

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config import kube_config
from kubernetes.stream import stream
from urllib3.exceptions import HTTPError

from kernel.errors import LabError, UsageError
from kernel.inventory import Inventory, InventoryInstance
from kernel.ledger import Ledger, Undo
from kernel.waiting import wait_for
from lab.k8s.access import ClusterAccess
from lab.k8s.canary import SERVER as CANARY_SERVER
from lab.k8s.canary import EdgeCanary
from lab.k8s.cluster_ledger import ConfigMapLedgerStore
from lab.k8s.node_faults import LabNodes
from lab.k8s.node_repair import DAEMONS, restart_network_daemons, stale_nodes
from lab.k8s.not_on_kubernetes import NotOnKubernetes
from lab.k8s.rollout import DeploymentRollouts
from lab.k8s.service_inventory import APP_SELECTOR, pod_ready, read_inventory
from lab.k8s.sidecar_dials import dial_ender, pending_dials_ended
from lab.links import SidecarUnanswered, ToxiproxySidecars
from lab.readiness import Check

INSTANCE_LABEL = "chaos360.io/instance"
ZONE_LABEL = "chaos360.io/zone"
FAULT_LABEL = "chaos360.io/fault"
ZONE_KEY = "topology.kubernetes.io/zone"
POLICY_PREFIX = "chaos360-isolate-"
ROLE_LABEL, RUNNER_ROLE = "chaos360.io/role", "runner"
ISOLATION_MODES = ("node", "policy")
ISOLATION_ENV = "CHAOS360_K8S_ISOLATION"
STOP_WAIT_S = 60.0
SWITCH_WAIT_S = 30.0


class ExternalBalancer(Protocol):
    """A balancer outside the cluster that health-checks every node (lab.k8s.edge is the lab's)."""

    def check(self, nodes: int) -> Check: ...

    def server_states(self) -> dict[str, str]: ...


class KubernetesTarget(ToxiproxySidecars, DeploymentRollouts, EdgeCanary, NotOnKubernetes):
    def __init__(self, access: ClusterAccess, nodes: LabNodes | None = None, isolation: str = "policy") -> None:
        if isolation not in ISOLATION_MODES:
            raise UsageError(f"isolation {isolation!r} is not one of {list(ISOLATION_MODES)}")
        if isolation == "node" and nodes is None:
            raise UsageError("node-level zone isolation needs the cluster's nodes: only the Kubernetes lab has them")
        self.access, self.nodes, self.isolation = access, nodes, isolation
        self._exec_lock = threading.Lock()
        self._dials_ended: set[str] = set()
        self.balancer: InventoryInstance | None = None
        self.external_balancer: ExternalBalancer | None = None
        """The balancer in front of the nodes (the lab's): its view joins the serving checks."""
        self.namespace = access.namespace
        try:
            _, current = config.list_kube_config_contexts(str(access.kubeconfig))
            self._api = config.new_client_from_config(str(access.kubeconfig), context=access.context)
            # the client's exec swaps its API client's transport while it runs: a client of its own, one at a time
            self._exec_core: Any = client.CoreV1Api(
                config.new_client_from_config(str(access.kubeconfig), context=access.context))
        except (config.ConfigException, OSError) as error:
            raise UsageError(f"kubeconfig {access.kubeconfig}: {error}") from None
        self.context = access.context or current["name"]
        if refusal := access.refusal(self.context):
            raise UsageError(refusal)
        self.core: Any = client.CoreV1Api(self._api)
        self.apps: Any = client.AppsV1Api(self._api)
        self.networking: Any = client.NetworkingV1Api(self._api)
        if not access.allow_cluster_admin and self.is_cluster_admin():
            raise UsageError(f"the identity of kube context {self.context!r} may do anything in every namespace "
                             "(cluster-admin); use the runner's ServiceAccount, or set "
                             "CHAOS360_K8S_ALLOW_CLUSTER_ADMIN=1 for a cluster you own")

    @property
    def api_client(self) -> Any:
        return self._api

    def is_cluster_admin(self) -> bool:
        review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(verb="*", resource="*", group="*")))
        authorization: Any = client.AuthorizationV1Api(self._api)
        try:
            return bool(authorization.create_self_subject_access_review(review).status.allowed)
        except (HTTPError, OSError) as error:
            raise LabError(f"the Kubernetes API of context {self.context!r} does not answer: {error}") from None

    @contextlib.contextmanager
    def _chaosk8s(self) -> Iterator[dict[str, str]]:
        """chaostoolkit-kubernetes checks KUBECONFIG, then loads the client's default kubeconfig (fixed when the
        client was imported) with the context from its secrets: point both at this access's kubeconfig."""
        before_env, before_default = os.environ.get("KUBECONFIG"), kube_config.KUBE_CONFIG_DEFAULT_LOCATION
        os.environ["KUBECONFIG"] = kube_config.KUBE_CONFIG_DEFAULT_LOCATION = str(self.access.kubeconfig)
        try:
            yield {"KUBERNETES_CONTEXT": self.context}
        finally:
            kube_config.KUBE_CONFIG_DEFAULT_LOCATION = before_default
            if before_env is None:
                os.environ.pop("KUBECONFIG", None)
            else:
                os.environ["KUBECONFIG"] = before_env

    # --- names -> pods -------------------------------------------------------------------------------------------

    def node_zones(self) -> dict[str, str]:
        return {n.metadata.name: (n.metadata.labels or {}).get(ZONE_KEY, "") for n in self.core.list_node().items}

    def pods(self, selector: str = "") -> list[Any]:
        return [p for p in self.core.list_namespaced_pod(self.namespace, label_selector=selector).items
                if p.metadata.deletion_timestamp is None]

    def pod(self, name: str) -> Any:
        """The live pod behind an instance name; a usage error for a name the namespace does not have."""
        role, _, zone = name.rpartition("-")
        if role == "app":
            zones = self.node_zones()
            found = [p for p in self.pods(APP_SELECTOR) if zones.get(p.spec.node_name or "") == zone]
        else:
            found = self.pods(f"{INSTANCE_LABEL}={name}")
        if not found:
            raise UsageError(f"no pod for {name!r} in namespace {self.namespace}")
        return max(found, key=lambda p: p.metadata.creation_timestamp)

    @staticmethod
    def _main(pod: Any) -> Any:
        statuses = {s.name: s for s in pod.status.container_statuses or []}
        main = pod.spec.containers[0].name
        if main not in statuses:
            raise LabError(f"pod {pod.metadata.name} has no status for container {main} yet")
        return statuses[main]

    def restart_count(self, name: str) -> int:
        return int(self._main(self.pod(name)).restart_count)

    def is_running(self, name: str) -> bool:
        try:
            status = self._main(self.pod(name))
        except (UsageError, LabError):
            return False
        return status.state.running is not None and bool(status.ready)

    def _node_task(self, name: str) -> tuple[str, str]:
        if self.nodes is None:
            raise UsageError(f"crashing or freezing {name} needs its node; only the Kubernetes lab gives that access "
                             "(use pod deletion on other clusters)")
        pod = self.pod(name)
        container_id = str(self._main(pod).container_id or "").removeprefix("containerd://")
        if not container_id:
            raise LabError(f"{name} ({pod.metadata.name}) has no running container")
        return pod.spec.node_name, container_id

    # --- faults --------------------------------------------------------------------------------------------------

    def kill(self, name: str) -> int:
        """Crash: the main container's process is killed from its node; the kubelet restarts it (restartCount+1)."""
        node, container_id = self._node_task(name)
        assert self.nodes is not None
        return self.nodes.crash(node, container_id)

    def delete_pod(self, name: str, grace_period_s: int = 0) -> str:
        """The guide's "kill pods": delete the pod; its controller replaces it with a new one."""
        from chaosk8s.pod.actions import terminate_pods

        pod = self.pod(name)
        with self._chaosk8s() as secrets:
            deleted = terminate_pods(name_pattern=f"^{pod.metadata.name}$", ns=self.namespace, qty=1,
                                     grace_period=grace_period_s, secrets=secrets)
        if deleted != [pod.metadata.name]:
            raise LabError(f"deleting {pod.metadata.name} deleted {deleted}")
        return str(pod.metadata.name)

    def pause(self, name: str) -> None:
        node, container_id = self._node_task(name)
        assert self.nodes is not None
        self.nodes.freeze(node, container_id, frozen=True)

    def resume(self, name: str) -> None:
        node, container_id = self._node_task(name)
        assert self.nodes is not None
        self.nodes.freeze(node, container_id, frozen=False)

    def stop(self, name: str, timeout_s: int = 2) -> None:
        """A member taken down until `start`: its StatefulSet scaled to zero and its pod given `timeout_s` to end
        (as `docker stop -t`); returns once the pod is gone, so the fault has taken effect."""
        self._scale(name, 0)
        for pod in self.pods(f"{INSTANCE_LABEL}={name}"):
            with contextlib.suppress(ApiException):
                self.core.delete_namespaced_pod(pod.metadata.name, self.namespace, grace_period_seconds=timeout_s)
        wait_for(lambda: not self.core.list_namespaced_pod(self.namespace,
                                                           label_selector=f"{INSTANCE_LABEL}={name}").items,
                 timeout_s + STOP_WAIT_S, f"{name}'s pod to end", poll_s=0.5)

    def start(self, name: str) -> None:
        """A member scaled back to one; an app replica needs nothing (its Deployment keeps it running)."""
        if not name.startswith("app-"):
            self._scale(name, 1)

    def _scale(self, name: str, replicas: int) -> None:
        if name.startswith("app-"):
            raise UsageError(f"{name} is a replica of a Deployment: delete or crash its pod instead")
        try:
            self.apps.patch_namespaced_stateful_set_scale(name, self.namespace, {"spec": {"replicas": replicas}})
        except ApiException as error:
            raise LabError(f"scaling {name} to {replicas}: {error.reason}") from None

    def wait_restarted(self, name: str, restarts_before: int, timeout_s: float = 60.0) -> float:
        started = time.monotonic()
        wait_for(lambda: self.restart_count(name) > restarts_before and self.is_running(name), timeout_s,
                 f"{name} to restart", poll_s=0.5)
        return time.monotonic() - started

    def exec(self, name: str, command: list[str], container: str | None = None) -> tuple[int, str]:
        pod = self.pod(name)
        with self._exec_lock:
            response = stream(self._exec_core.connect_get_namespaced_pod_exec, pod.metadata.name, self.namespace,
                              command=command, container=container or pod.spec.containers[0].name, stderr=True,
                              stdin=False, stdout=True, tty=False, _preload_content=False)
            response.run_forever(timeout=60)
            output = response.read_stdout() + response.read_stderr()
            code = response.returncode
            response.close()
        return int(code if code is not None else -1), output

    # --- links ---------------------------------------------------------------------------------------------------

    def set_proxy_enabled(self, sidecar: str, proxy: str, enabled: bool) -> None:
        """On the lab a switch does not wait for a pending dial of the sidecar's (see sidecar_dials); elsewhere a
        switch that does not answer is an error."""
        if self.nodes is not None and sidecar not in self._dials_ended:
            with contextlib.suppress(LabError, UsageError):  # a replica restarting has no dial to end
                self._dial_ender(sidecar)()
            self._dials_ended.add(sidecar)
        try:
            super().set_proxy_enabled(sidecar, proxy, enabled)
            return
        except SidecarUnanswered:
            if self.nodes is None:
                raise
        with pending_dials_ended(self._dial_ender(sidecar)):
            wait_for(lambda: self._proxy_enabled(sidecar, proxy) == enabled, SWITCH_WAIT_S,
                     f"{sidecar}/{proxy} {'enabled' if enabled else 'disabled'}", poll_s=0.25)

    def _proxy_enabled(self, sidecar: str, proxy: str) -> bool:
        return f"{proxy}:disabled" not in self.toxics(sidecar)

    def _dial_ender(self, sidecar: str) -> Callable[[], None]:
        assert self.nodes is not None
        proxies = self._toxiproxy(sidecar, "GET", "/proxies")
        upstreams = [str(p.get("upstream", "")) for p in proxies.values()] if isinstance(proxies, dict) else []
        node, container_id = self._node_task(f"app-{self._sidecar(sidecar).zone}")
        return dial_ender(self.nodes, node, self.nodes.task_pid(node, container_id), upstreams)

    # --- zones ---------------------------------------------------------------------------------------------------

    def isolate(self, zone: str) -> list[str]:
        """Cut the zone off the others, both ways: packet filters on its nodes, or a NetworkPolicy on its pods."""
        if zone not in set(self.node_zones().values()):
            raise UsageError(f"no node in zone {zone!r}")
        if self.isolation == "node":
            assert self.nodes is not None
            return self.nodes.isolate(zone)
        return self._isolate_by_policy(zone)

    def rejoin(self, zone: str, isolation: str | None = None) -> list[str]:
        """Undo `isolate` of the zone; `isolation` names the mode it was cut in when that is not this target's."""
        if (isolation or self.isolation) == "node":
            if self.nodes is None:
                raise UsageError("a node-level zone cut can only be undone with the cluster's nodes (the lab's)")
            return self.nodes.rejoin()
        with contextlib.suppress(ApiException):
            self.networking.delete_namespaced_network_policy(f"{POLICY_PREFIX}{zone}", self.namespace)
        return [f"{POLICY_PREFIX}{zone}"]

    def _rejoin_either(self, zone: str) -> None:
        """The ledger's undo of a zone cut, whichever way it was made (the healer may not be the run that cut)."""
        if self.nodes is not None:
            self.nodes.rejoin()
        self.rejoin(zone, "policy")

    def _label_zones(self) -> dict[str, list[str]]:
        """Label every pod of the namespace with its node's zone, the runner's aside (the harness watches from outside
        the failure); returns zone -> pod names."""
        zones = self.node_zones()
        found: dict[str, list[str]] = {}
        for pod in self.pods():
            if is_runner(pod):
                continue
            zone = zones.get(pod.spec.node_name or "", "")
            if zone and (pod.metadata.labels or {}).get(ZONE_LABEL) != zone:
                self.core.patch_namespaced_pod(pod.metadata.name, self.namespace,
                                               {"metadata": {"labels": {ZONE_LABEL: zone}}})
            found.setdefault(zone, []).append(pod.metadata.name)
        return found

    def _pod_cidrs(self) -> list[str]:
        return sorted({n.spec.pod_cidr for n in self.core.list_node().items if n.spec.pod_cidr})

    def _isolate_by_policy(self, zone: str) -> list[str]:
        """Most CNIs apply a new policy to new connections only; with the nodes (the lab's), the zone's established
        connections are made to meet it too. Elsewhere they may outlive the cut."""
        from chaosk8s.networking.actions import create_network_policy

        members = self._label_zones().get(zone, [])
        with self._chaosk8s() as secrets:
            create_network_policy(spec=isolation_policy(zone, self._pod_cidrs()), ns=self.namespace, secrets=secrets)
        if self.nodes is not None:
            self.nodes.forget_connections([p.status.pod_ip for p in self.pods(f"{ZONE_LABEL}={zone}")
                                           if p.status.pod_ip])
        return members

    def isolation_policies(self) -> list[str]:
        listed = self.networking.list_namespaced_network_policy(self.namespace, label_selector=FAULT_LABEL)
        return [p.metadata.name for p in listed.items]

    def isolation_rules(self, name: str) -> list[str]:
        """Zone filters on a node (node mode), or the isolation policies of the namespace."""
        if self.nodes is not None and name in self.nodes.nodes:
            return self.nodes.rules(name)
        return self.isolation_policies()

    @cached_property
    def inventory(self) -> Inventory:
        """The guide's parts in the namespace, at addresses the harness reaches; read once, when first asked."""
        return read_inventory(self.core, self.namespace, self.namespace, {"context": self.context}, self.balancer)

    # --- the ledger ----------------------------------------------------------------------------------------------

    def ledger(self) -> Ledger:
        """The fault ledger in the cluster: whoever can reach the namespace heals what a crashed run left."""
        return Ledger(self.namespace, store=ConfigMapLedgerStore(self.core, self.namespace))

    def apply(self, undo: Undo) -> None:
        """Carry out one undo from the ledger; every operation is idempotent."""
        args = undo.args
        operations = {
            "start": lambda: self.start(str(args["name"])),
            "resume": lambda: self.resume(str(args["name"])),
            "rejoin": lambda: self._rejoin_either(str(args["zone"])),
            "remove_toxic": lambda: self.remove_toxic(str(args["sidecar"]), str(args["proxy"]), str(args["toxic"])),
            "enable_proxy": lambda: self.set_proxy_enabled(str(args["sidecar"]), str(args["proxy"]), True),
            "await_rollout": lambda: self.await_rollout(),
            "remove_variant": lambda: self.remove_variant(int(args["slot"])),
        }
        if undo.op not in operations:
            raise LabError(f"unknown undo operation {undo.op!r} on Kubernetes")
        operations[undo.op]()

    def balancer_states(self) -> dict[str, str]:
        """The app Service's view: each replica (app-<zone>) UP when its pod is Ready, so in the endpoints; and the
        canary as the balancer in front sees it, when there is one."""
        zones = self.node_zones()
        states = {f"app-{zones.get(node, '')}": "UP" if ready else "DOWN"
                  for node, ready in self.replicas_ready().items()}
        if self.external_balancer is not None:
            with contextlib.suppress(OSError):
                states.update({k: v for k, v in self.external_balancer.server_states().items() if k == CANARY_SERVER})
        return states

    def repair_stale(self) -> list[str]:
        """A lab node whose replica is Ready while the balancer sees the node DOWN has stale network daemons
        (see node_repair): restart them."""
        if self.nodes is None or self.external_balancer is None:
            return []
        try:
            states = self.external_balancer.server_states()
        except OSError:
            return []
        stale = stale_nodes(states, self.replicas_ready())
        restart_network_daemons(self.nodes, stale)
        return [f"{node}: restarted {' and '.join(DAEMONS)} (replica Ready, the balancer saw the node DOWN)"
                for node in stale]

    def replicas_ready(self) -> dict[str, bool]:
        """Node -> whether an app replica on it is Ready."""
        found: dict[str, bool] = {}
        for pod in self.pods(APP_SELECTOR):
            node = pod.spec.node_name or ""
            found[node] = found.get(node, False) or pod_ready(pod)
        return found

    # --- state ---------------------------------------------------------------------------------------------------

    def _sidecar(self, name: str) -> InventoryInstance:
        return self.inventory.get(name)

    def redis_master(self) -> str:
        """The member most Sentinels name as master (by its Service address)."""
        addresses = {s.spec.cluster_ip: s.metadata.name for s in self.core.list_namespaced_service(
            self.namespace, label_selector=f"{INSTANCE_LABEL}").items}
        votes: dict[str, int] = {}
        for sentinel in sorted(n for n in addresses.values() if n.startswith("sentinel-")):
            code, output = self.exec(sentinel, ["redis-cli", "-p", "26379", "sentinel",
                                                "get-master-addr-by-name", "mymaster"])
            if code == 0 and output.split():
                name = addresses.get(output.split()[0], output.split()[0])
                votes[name] = votes.get(name, 0) + 1
        if not votes:
            raise LabError("no Sentinel names a Redis master")
        return max(votes, key=lambda n: votes[n])

    def unready(self, serving_only: bool = False) -> list[str]:
        """Pods of the namespace not Ready and nodes not Ready, one line each (readiness probes already are the
        serving view, so `serving_only` asks the same)."""
        found = []
        for pod in self.pods():
            if is_runner(pod):
                continue  # the harness's own runs (a drill that failed is a finding, not an unready service)
            if not pod_ready(pod) and pod.status.phase != "Succeeded":
                found.append(f"pod {pod.metadata.name} not ready ({pod.status.phase})")
        found += short_workloads("statefulset", self.apps.list_namespaced_stateful_set(self.namespace).items)
        found += short_workloads("deployment", self.apps.list_namespaced_deployment(self.namespace).items)
        nodes = self.core.list_node().items
        for node in nodes:
            ready = {c.type: c.status for c in node.status.conditions or []}.get("Ready")
            if ready != "True":
                found.append(f"node {node.metadata.name} not Ready")
        return found + self._balancer_unready(len(nodes))

    def _balancer_unready(self, nodes: int) -> list[str]:
        """The lab's external balancer must see every node serve: a Ready pod whose node drops its NodePort traffic
        is invisible to the kubelet's probes."""
        if self.external_balancer is None:
            return []
        check = self.external_balancer.check(nodes)
        return [] if check.ok else [f"{check.name}: {check.detail}"]


def short_workloads(kind: str, workloads: list[Any]) -> list[str]:
    """StatefulSets and Deployments with fewer Ready replicas than they ask for: a member scaled back up has no pod
    for a moment, and a pod that does not exist yet is not an unready pod."""
    found = []
    for workload in workloads:
        wanted, ready = workload.spec.replicas or 0, workload.status.ready_replicas or 0
        if ready < wanted:
            found.append(f"{kind} {workload.metadata.name}: {ready}/{wanted} replicas ready")
    return found


def is_runner(pod: Any) -> bool:
    """A pod of the harness's own (a drill or game-day Job): outside every fault and every readiness judgement."""
    return (pod.metadata.labels or {}).get(ROLE_LABEL) == RUNNER_ROLE


def isolation_policy(zone: str, pod_cidrs: list[str]) -> dict[str, Any]:
    """Pods of the zone talk only to pods of the zone, to DNS, to the harness (outside the cluster or the runner's
    pod) and to what is not a pod (nodes)."""
    not_pods = {"ipBlock": {"cidr": "0.0.0.0/0", "except": pod_cidrs}}
    same_zone = {"podSelector": {"matchLabels": {ZONE_LABEL: zone}}}
    runner = {"podSelector": {"matchLabels": {ROLE_LABEL: RUNNER_ROLE}}}
    dns = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}
    dns_ports = [{"protocol": protocol, "port": 53} for protocol in ("UDP", "TCP")]
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": f"{POLICY_PREFIX}{zone}", "labels": {FAULT_LABEL: "zone-partition", ZONE_LABEL: zone}},
        "spec": {"podSelector": {"matchLabels": {ZONE_LABEL: zone}}, "policyTypes": ["Ingress", "Egress"],
                 "ingress": [{"from": [same_zone, runner, not_pods]}],
                 "egress": [{"to": [same_zone, runner, not_pods]},
                            {"to": [dns], "ports": dns_ports}]},
    }
