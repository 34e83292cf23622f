"""The canary on Kubernetes is the app's own pod template as the cluster runs it, outside the app Service, in one
zone, with the canary's environment on top; it is refused on a cluster without a balancer the harness can weigh."""

from __future__ import annotations

from typing import Any

import pytest

from kernel.errors import UsageError
from kernel.target import CANARY_SLOT
from lab.k8s.canary import CANARY, EdgeCanary, canary_deployment, canary_service
from lab.k8s.manifests import CANARY_NODE_PORT


def _template() -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "agent360", "chaos360.io/role": "app"}},
            "spec": {"topologySpreadConstraints": [{"maxSkew": 1}],
                     "initContainers": [{"name": "toxiproxy", "restartPolicy": "Always"}],
                     "containers": [{"name": "agent360", "image": "chaos360/agent360:k8s",
                                     "env": [{"name": "AGENT360_VERSION", "value": "v1"},
                                             {"name": "AGENT360_RETRIES", "value": "3"}]}]}}


def test_the_canary_runs_the_apps_template_outside_its_service_with_its_own_environment() -> None:
    template = _template()
    canary = canary_deployment(template, {"AGENT360_VERSION": "v2"}, "a")
    pod = canary["spec"]["template"]
    assert pod["metadata"]["labels"]["app"] == CANARY and canary["spec"]["replicas"] == 1
    assert canary["metadata"]["labels"]["chaos360.io/fault"] == "canary", "the leftovers finder looks for it"
    assert pod["spec"]["nodeSelector"] == {"topology.kubernetes.io/zone": "a"}
    assert "topologySpreadConstraints" not in pod["spec"]
    assert pod["spec"]["initContainers"] == template["spec"]["initContainers"], "with its own sidecar"
    env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
    assert env == {"AGENT360_VERSION": "v2", "AGENT360_RETRIES": "3"}
    assert template["spec"]["containers"][0]["env"][0]["value"] == "v1", "the app's template is left as it was"


def test_the_canary_service_reaches_its_pod_from_any_node_on_the_weighted_port() -> None:
    spec = canary_service()["spec"]
    assert spec["selector"] == {"app": CANARY} and spec["externalTrafficPolicy"] == "Cluster"
    assert spec["ports"][0]["nodePort"] == CANARY_NODE_PORT


class NoBalancer(EdgeCanary):
    apps = core = nodes = external_balancer = None
    namespace = "payments"


def test_a_cluster_without_a_steerable_balancer_refuses_the_canary_in_one_line() -> None:
    with pytest.raises(UsageError) as refused:
        NoBalancer().start_variant(CANARY_SLOT, {"AGENT360_VERSION": "v2"})
    assert "\n" not in str(refused.value) and "balancer" in str(refused.value)
