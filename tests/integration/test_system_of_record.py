"""Acknowledged writes are judged from Cassandra itself: a task only the Redis cache holds is lost, a row whose
payload differs from the one sent is changed, even though the service's own read path answers both."""

from __future__ import annotations

import json
import uuid

import pytest
import redis

from agent360.tasks import cache_key
from kernel import service_client
from kernel.cassandra_access import host_cluster
from kernel.errors import LabError
from kernel.inventory import Inventory
from kernel.verdict import Verdict
from lab.readiness import current_master
from lab.target import DockerLabTarget
from loadtests.payloads import payload_matches, task_payload
from probes.integrity import judge_lost_writes
from probes.stored_tasks import stored_tasks

pytestmark = pytest.mark.integration


def _create(base_url: str, agent: str, task: str) -> None:
    payload = task_payload(agent, task)
    outcome = service_client.request("POST", f"{base_url}/v1/agents/{agent}/tasks",
                                     {"task_id": task, "payload": payload})
    assert outcome.status == 201, outcome


def _cache_only(lab: Inventory, agent: str, task: str) -> None:
    master = lab.get(current_master(lab))
    value = {"agent_id": agent, "task_id": task, "payload": task_payload(agent, task),
             "created_at": "2026-01-01T00:00:00.000Z"}
    with redis.Redis(port=master.host_ports["redis"]) as client:
        client.set(cache_key(agent, task), json.dumps(value), ex=600)


def _overwrite_payload(lab: Inventory, agent: str, task: str) -> None:
    with host_cluster(lab, consistency="ALL") as session:
        session.execute("UPDATE agent360.tasks SET payload = %s WHERE agent_id = %s AND task_id = %s",
                        (json.dumps({"source": "someone else"}), agent, task))


def test_a_cached_only_task_is_lost_and_an_overwritten_one_changed_though_the_api_serves_both(
    lab: Inventory, base_url: str
):
    agent = f"sor-{uuid.uuid4().hex[:10]}"
    _create(base_url, agent, "kept")
    _create(base_url, agent, "overwritten")
    _cache_only(lab, agent, "cached-only")
    _overwrite_payload(lab, agent, "overwritten")

    served = [service_client.read_task(base_url, agent, t).status for t in ("kept", "overwritten", "cached-only")]
    assert served == [200, 200, 200]
    stored = stored_tasks(lab, [agent])
    assert set(stored) == {(agent, "kept"), (agent, "overwritten")}
    assert payload_matches(agent, "kept", stored[(agent, "kept")])

    acknowledged = {(agent, t) for t in ("kept", "overwritten", "cached-only")}
    changed = {key for key in acknowledged & stored.keys() if not payload_matches(*key, stored[key])}
    judgement = judge_lost_writes(acknowledged, set(stored), set(), changed)
    assert judgement.verdict is Verdict.FAIL and judgement.measured == 2.0, judgement.detail
    assert f"lost e.g. {agent}/cached-only" in judgement.detail
    assert f"changed e.g. {agent}/overwritten" in judgement.detail


def test_with_a_cassandra_node_stopped_the_table_is_unreadable_not_passed(
    lab: Inventory, target: DockerLabTarget, heal_lab
) -> None:
    """Consistency ALL: with a node down the read fails after its retries, and the judgement can say so."""
    target.stop("cassandra-c")
    with pytest.raises(LabError, match="not readable at consistency ALL within 3s"):
        stored_tasks(lab, ["anyone"], retry_for_s=3)
