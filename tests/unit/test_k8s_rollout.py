"""A rolling update on Kubernetes is judged from the Deployment and its pods: done only when every replica runs the
new template and no old pod is left; serving counts what the Service routes to."""

from __future__ import annotations

from types import SimpleNamespace

from lab.k8s.rollout import judge_rollout


def _deployment(generation: int = 2, observed: int = 2, updated: int = 3, available: int = 3,
                replicas: int = 3) -> SimpleNamespace:
    return SimpleNamespace(metadata=SimpleNamespace(generation=generation), spec=SimpleNamespace(replicas=3),
                           status=SimpleNamespace(observed_generation=observed, updated_replicas=updated,
                                                  available_replicas=available, replicas=replicas))


def _pod(name: str, ready: bool = True, leaving: bool = False) -> SimpleNamespace:
    conditions = [SimpleNamespace(type="Ready", status="True" if ready else "False")]
    return SimpleNamespace(metadata=SimpleNamespace(name=name, deletion_timestamp="now" if leaving else None),
                           status=SimpleNamespace(conditions=conditions))


def test_a_finished_rollout_is_done_with_every_replica_serving() -> None:
    state = judge_rollout(_deployment(), [_pod("p1"), _pod("p2"), _pod("p3")])
    assert (state.done, state.serving, state.updated, state.leaving) == (True, 3, 3, ())


def test_a_terminating_pod_is_leaving_and_not_serving_and_the_rollout_not_done() -> None:
    state = judge_rollout(_deployment(), [_pod("p1"), _pod("p2"), _pod("p3"), _pod("old", leaving=True)])
    assert (state.done, state.serving, state.leaving) == (False, 3, ("old",))


def test_a_template_the_controller_has_not_seen_yet_is_not_done() -> None:
    state = judge_rollout(_deployment(generation=3, observed=2), [_pod("p1"), _pod("p2"), _pod("p3")])
    assert not state.done


def test_a_surge_replica_not_ready_yet_is_not_serving() -> None:
    state = judge_rollout(_deployment(updated=1, available=3, replicas=4),
                          [_pod("p1"), _pod("p2"), _pod("p3"), _pod("new", ready=False)])
    assert (state.done, state.serving) == (False, 3)
