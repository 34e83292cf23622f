"""The app's rolling update on Kubernetes is the Deployment controller's: the harness restarts the Deployment (as
`kubectl rollout restart` does) and watches what users would feel, the replicas that serve, until it is done."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubernetes.client.exceptions import ApiException

from kernel.errors import LabError
from kernel.target import RolloutState
from kernel.waiting import poll_until
from lab.k8s.service_inventory import APP_SELECTOR, pod_ready

APP_DEPLOYMENT = "agent360"
RESTARTED_AT = "chaos360.io/restartedAt"
ROLLOUT_WAIT_S = 300.0


class DeploymentRollouts:
    """The ControllerRollout of the app's Deployment (needs the target's `apps`, `core` and `namespace`)."""

    apps: Any
    core: Any
    namespace: str

    def restart_app(self) -> None:
        """A new pod template (a restart stamp), so the controller replaces every replica by its own strategy."""
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        try:
            self.apps.patch_namespaced_deployment(APP_DEPLOYMENT, self.namespace, patch)
        except ApiException as error:
            raise LabError(f"restarting deployment {APP_DEPLOYMENT}: {error.reason}") from None

    def rollout_state(self) -> RolloutState:
        deployment = self.apps.read_namespaced_deployment(APP_DEPLOYMENT, self.namespace)
        pods = self.core.list_namespaced_pod(self.namespace, label_selector=APP_SELECTOR).items
        return judge_rollout(deployment, pods)

    def await_rollout(self, timeout_s: float = ROLLOUT_WAIT_S) -> RolloutState:
        """The undo of a rolling update: it cannot be taken back, only let finish."""
        state = poll_until(self.rollout_state, lambda s: s.done, timeout_s, poll_s=1.0)
        if not state.done:
            raise LabError(f"deployment {APP_DEPLOYMENT} still rolling out after {timeout_s:.0f} s: "
                           f"{state.updated}/{state.desired} updated, {state.serving} serving")
        return state


def judge_rollout(deployment: Any, pods: list[Any]) -> RolloutState:
    """Serving: pods Ready and not terminating (what the Service routes to). Done: the controller has seen the
    latest template, every replica runs it and is available, and no old pod is left."""
    spec, status = deployment.spec, deployment.status
    desired = int(spec.replicas or 0)
    live = [p for p in pods if p.metadata.deletion_timestamp is None]
    serving = sum(1 for p in live if pod_ready(p))
    leaving = tuple(sorted(p.metadata.name for p in pods if p.metadata.deletion_timestamp is not None))
    done = ((status.observed_generation or 0) >= (deployment.metadata.generation or 0)
            and (status.updated_replicas or 0) == desired and (status.available_replicas or 0) == desired
            and (status.replicas or 0) == desired and len(live) == desired and not leaving)
    return RolloutState(desired=desired, updated=int(status.updated_replicas or 0), serving=serving,
                        leaving=leaving, done=done)

