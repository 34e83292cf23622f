"""The guide's 90/10 canary on Kubernetes without a mesh: a one-replica Deployment `agent360-canary` (the app's own
pod template, its environment on top) behind its own NodePort Service, weighted 10 against the nodes' 90 by the
balancer in front of the cluster (the lab's edge HAProxy, as a cloud balancer or an ingress would weigh it). Only a
cluster with such a balancer the harness can steer has a canary; elsewhere it is refused in one line."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from kubernetes.client.exceptions import ApiException

from kernel.errors import LabError, UsageError
from kernel.inventory import Inventory
from kernel.target import CANARY_SLOT
from kernel.waiting import poll_until, wait_for
from lab import haproxy_admin
from lab.k8s.edge import CANARY as SERVER
from lab.k8s.manifests import CANARY_NODE_PORT
from lab.k8s.rollout import APP_DEPLOYMENT

CANARY = "agent360-canary"
FAULT_LABEL = "chaos360.io/fault"
GONE_WAIT_S = 60.0
START_WAIT_S = 120.0


class EdgeCanary:
    """Variant slots of the KubernetesTarget: its `apps`, `core`, `namespace`, `nodes`, `external_balancer` and
    `inventory`."""

    apps: Any
    core: Any
    namespace: str
    nodes: Any
    external_balancer: Any

    @property
    def inventory(self) -> Inventory:
        raise NotImplementedError  # the target's own

    def _steerable(self) -> None:
        if self.external_balancer is None or self.nodes is None:
            raise UsageError("a canary needs a balancer in front of the cluster that the harness can weigh (the "
                             "Kubernetes lab's edge); this cluster has none known to chaos360")

    def variant_slots(self) -> list[int]:
        """The canary's slot while its Deployment or its Service exists (a run killed between the two leaves one)."""
        selector = f"{FAULT_LABEL}=canary"
        found = (self.apps.list_namespaced_deployment(self.namespace, label_selector=selector).items
                 or self.core.list_namespaced_service(self.namespace, label_selector=selector).items)
        return [CANARY_SLOT] if found else []

    def start_variant(self, slot: int, env: dict[str, str], zone: str = "a") -> str:
        """The canary's pod in `zone`; returns its address once it has one (the balancer does not send to it yet)."""
        self._steerable()
        if slot != CANARY_SLOT:
            raise UsageError(f"the Kubernetes target has the canary slot only ({CANARY_SLOT}), not {slot}")
        if self.variant_slots():
            self.remove_variant(CANARY_SLOT)  # a stale one, left by a run killed while it started its canary
        app = self.apps.read_namespaced_deployment(APP_DEPLOYMENT, self.namespace)
        template = self.apps.api_client.sanitize_for_serialization(app.spec.template)
        try:
            self.apps.create_namespaced_deployment(self.namespace, canary_deployment(template, env, zone))
            self.core.create_namespaced_service(self.namespace, canary_service())
        except ApiException as error:
            raise LabError(f"creating the canary: {error.reason}: {error.body or ''}"[:300]) from None
        pod = poll_until(self._canary_pod, lambda p: p is not None and bool(p.status.pod_ip), START_WAIT_S, 1.0)
        if pod is None or not pod.status.pod_ip:
            raise LabError(f"the canary's pod has no address within {START_WAIT_S:.0f} s")
        return f"http://{pod.status.pod_ip}:8080"

    def _canary_pod(self) -> Any:
        pods = [p for p in self.core.list_namespaced_pod(self.namespace, label_selector=f"app={CANARY}").items
                if p.metadata.deletion_timestamp is None]
        return pods[0] if pods else None

    def break_variant(self, slot: int, how: str) -> None:
        """pause: its process frozen; kill: its process crashed (the kubelet restarts it); stop: its pod gone."""
        self._steerable()
        if how == "stop":
            self.apps.patch_namespaced_deployment_scale(CANARY, self.namespace, {"spec": {"replicas": 0}})
            return
        breaks = {"pause": lambda node, cid: self.nodes.freeze(node, cid, frozen=True),
                  "kill": lambda node, cid: self.nodes.crash(node, cid)}
        if how not in breaks:
            raise UsageError(f"cannot {how} the canary; one of pause, kill, stop")
        node, container_id = self._canary_task()
        breaks[how](node, container_id)

    def _canary_task(self) -> tuple[str, str]:
        pod = self._canary_pod()
        statuses = {s.name: s for s in (pod.status.container_statuses or [])} if pod else {}
        main = statuses.get("agent360")
        if pod is None or main is None or not main.container_id:
            raise LabError("the canary has no running container")
        return pod.spec.node_name, str(main.container_id).removeprefix("containerd://")

    def remove_variant(self, slot: int) -> None:
        """Out of rotation first, thawed (a frozen process cannot end), then deleted; returns once its pod is gone."""
        if self.external_balancer is not None:
            with contextlib.suppress(LabError):
                haproxy_admin.set_state(self.inventory, SERVER, "maint")
        with contextlib.suppress(LabError):
            node, container_id = self._canary_task()
            self.nodes.freeze(node, container_id, frozen=False)
        for delete in (self.apps.delete_namespaced_deployment, self.core.delete_namespaced_service):
            with contextlib.suppress(ApiException):
                delete(CANARY, self.namespace, propagation_policy="Foreground")
        wait_for(lambda: self._canary_pod() is None and not self.variant_slots(), GONE_WAIT_S, "the canary gone",
                 poll_s=0.5)

    def set_balancer_state(self, server: str, state: str) -> None:
        if server != SERVER:
            raise UsageError(f"{server}: the Kubernetes target steers only the canary (the Service follows "
                             "readiness for the others)")
        self._steerable()
        haproxy_admin.set_state(self.inventory, SERVER, state)


def canary_deployment(template: dict[str, Any], env: dict[str, str], zone: str) -> dict[str, Any]:
    """The app's pod template as the cluster runs it (as the API writes it), labelled as the canary (outside the app
    Service), in `zone`, with `env` on top of its environment."""
    labels = {"app": CANARY, FAULT_LABEL: "canary", "app.kubernetes.io/part-of": "agent360"}
    spec = copy.deepcopy(template["spec"])
    spec.pop("topologySpreadConstraints", None)
    spec["nodeSelector"] = {"topology.kubernetes.io/zone": zone}
    main = spec["containers"][0]
    kept = [e for e in main.get("env") or [] if e["name"] not in env]
    main["env"] = kept + [{"name": k, "value": v} for k, v in env.items()]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": CANARY, "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": CANARY}},
                     "template": {"metadata": {"labels": labels}, "spec": spec}}}


def canary_service() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": CANARY, "labels": {"app": CANARY, FAULT_LABEL: "canary"}},
            "spec": {"type": "NodePort", "selector": {"app": CANARY}, "externalTrafficPolicy": "Cluster",
                     "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": CANARY_NODE_PORT}]}}

