"""The ha lab behaves like the guide's stack: it serves, survives crashes, node loss and a master failover."""

import time
import uuid

import pytest
import redis

from kernel import service_client
from kernel.inventory import Inventory
from lab.readiness import check_cassandra, check_redis_roles, current_master, haproxy_backends, run_checks
from lab.target import DockerLabTarget

pytestmark = pytest.mark.integration


def _poll(predicate, timeout_s: float, interval_s: float = 0.2):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    return predicate()


def test_lab_is_ready_with_every_part(lab: Inventory):
    checks = {c.name: c for c in run_checks(lab)}
    assert all(c.ok for c in checks.values()), checks
    assert set(haproxy_backends(lab)) == {"app-a", "app-b", "app-c"}


def test_200_tasks_created_through_haproxy_are_all_read_back(lab: Inventory, base_url: str):
    result = service_client.run(base_url, tasks=200)
    assert result.failures == ()
    assert (result.created, result.read_back) == (200, 200)


def test_crashed_app_restarts_and_the_service_keeps_serving(
    lab: Inventory, target: DockerLabTarget, base_url: str, heal_lab
):
    restarts_before = target.restart_count("app-b")
    target.kill("app-b")
    agent = f"crash-{uuid.uuid4().hex[:6]}"
    outcomes = [service_client.create_task(base_url, agent, f"t{n}") for n in range(60)]
    target.wait_restarted("app-b", restarts_before, timeout_s=60)
    served = sum(1 for o in outcomes if o.status == 201)
    assert target.restart_count("app-b") == restarts_before + 1
    assert served / len(outcomes) >= 0.9, [o.status for o in outcomes]
    back_up = _poll(lambda: haproxy_backends(lab).get("app-b", "").startswith("UP"), timeout_s=60)
    assert back_up, haproxy_backends(lab)


def test_local_quorum_writes_and_reads_survive_one_cassandra_node_stopped(
    lab: Inventory, target: DockerLabTarget, base_url: str, heal_lab
):
    target.stop("cassandra-c")
    assert not target.is_running("cassandra-c")
    down = _poll(lambda: "2/3" in check_cassandra(lab).detail, timeout_s=60)
    assert down, check_cassandra(lab).detail
    result = service_client.run(base_url, tasks=50)
    assert result.failures == ()
    assert result.read_back == 50


def test_sentinels_promote_a_replica_and_writes_resume_after_the_master_stops(
    lab: Inventory, target: DockerLabTarget, base_url: str, heal_lab
):
    old_master = current_master(lab)
    settings = lab.settings
    window_s = (int(settings["sentinel_down_after_ms"]) + int(settings["sentinel_failover_timeout_ms"])) / 1000
    target.stop(old_master, timeout_s=0)
    stopped_at = time.monotonic()
    new_master = _poll(lambda: current_master(lab) != old_master and current_master(lab), timeout_s=window_s + 10)
    assert new_master and new_master != old_master
    agent = f"failover-{uuid.uuid4().hex[:6]}"

    def write_ok() -> bool:
        return service_client.create_task(base_url, agent, uuid.uuid4().hex).status == 201

    assert _poll(write_ok, timeout_s=window_s + 10, interval_s=0.1)
    writes_back_after_s = time.monotonic() - stopped_at
    assert writes_back_after_s <= window_s + 2.0, f"writes resumed {writes_back_after_s:.1f}s after the stop"
    burst = [service_client.create_task(base_url, agent, f"after-{n}") for n in range(20)]
    assert all(o.status == 201 for o in burst), [o.status for o in burst]


def test_a_replica_that_says_master_keeps_the_lab_unready_until_the_sentinels_convert_it(
    lab: Inventory, heal_lab
):
    replica = next(i for i in lab.by_role("redis") if i.name != current_master(lab))
    client = redis.Redis("127.0.0.1", replica.host_ports["redis"], decode_responses=True)
    try:
        client.execute_command("REPLICAOF", "NO", "ONE")
    finally:
        client.close()
    check = check_redis_roles(lab)
    assert not check.ok
    assert f"{replica.name} is master" in check.detail
    converted = _poll(lambda: check_redis_roles(lab).ok, timeout_s=60, interval_s=0.5)
    assert converted, check_redis_roles(lab).detail
