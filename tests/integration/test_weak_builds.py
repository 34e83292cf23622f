"""Each weaker build of the service starts and behaves as agent360/README.md documents."""

import threading
import time
import uuid

import pytest

from kernel import service_client
from kernel.inventory import Inventory
from lab.readiness import current_master
from lab.target import DockerLabTarget
from lab.topology import REDIS_PROXY_PORT
from lab.variants import variant_app

pytestmark = pytest.mark.integration
UNREACHABLE_CASSANDRA = {
    "AGENT360_CASSANDRA_CONTACT_POINTS": "172.28.36.250:9042",
    "AGENT360_CASSANDRA_ADDRESS_MAP": "",
}


def _ready_status(base_url: str) -> int:
    return service_client.request("GET", f"{base_url}/ready").status


def _wait_status(base_url: str, path: str, wanted: int, timeout_s: float = 30) -> int:
    deadline = time.monotonic() + timeout_s
    status = 0
    while time.monotonic() < deadline:
        status = service_client.request("GET", f"{base_url}{path}").status
        if status == wanted:
            return status
        time.sleep(0.3)
    return status


def _wait_cassandra_serves(base_url: str, timeout_s: float = 60) -> None:
    """Block until the replica answers a list, which only Cassandra serves; /ready is left unasked."""
    assert _wait_status(base_url, "/v1/agents/wait-cassandra/tasks?limit=1", 200, timeout_s) == 200, (
        f"{base_url} never served a list from Cassandra within {timeout_s:g}s"
    )


def _wait_create_succeeds(base_url: str, agent: str, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while _create(base_url, agent) != 201:
        assert time.monotonic() < deadline, f"{base_url} accepted no write within {timeout_s:g}s"
        time.sleep(0.2)


def _create(base_url: str, agent: str) -> int:
    return service_client.create_task(base_url, agent, uuid.uuid4().hex).status


def test_ready_checks_none_reports_ready_while_cassandra_is_unreachable(lab: Inventory):
    with (
        variant_app(lab, 0, UNREACHABLE_CASSANDRA) as resilient,
        variant_app(lab, 1, {**UNREACHABLE_CASSANDRA, "AGENT360_READY_CHECKS": "none"}) as weak,
    ):
        assert _wait_status(weak, "/health", 200) == 200
        assert _wait_status(resilient, "/health", 200) == 200
        assert _ready_status(resilient) == 503
        assert _ready_status(weak) == 200
        assert _create(weak, "weak-ready") == 503


def test_consistency_all_fails_writes_with_one_cassandra_node_down(lab: Inventory, target: DockerLabTarget, heal_lab):
    with variant_app(lab, 0, {}) as resilient, variant_app(lab, 1, {"AGENT360_CASSANDRA_CL": "ALL"}) as weak:
        assert _wait_status(weak, "/ready", 200) == 200 and _wait_status(resilient, "/ready", 200) == 200
        assert _create(weak, "weak-all") == 201
        target.stop("cassandra-b")
        time.sleep(3)
        weak_statuses = [_create(weak, "weak-all") for _ in range(10)]
        resilient_statuses = [_create(resilient, "resilient") for _ in range(10)]
    assert set(resilient_statuses) == {201}, resilient_statuses
    assert set(weak_statuses) == {503}, weak_statuses


def _direct_to_current_master(lab: Inventory) -> dict[str, str]:
    master = lab.get(current_master(lab))
    sidecar = lab.get("toxiproxy-a")
    return {
        "AGENT360_REDIS_MODE": "direct",
        "AGENT360_REDIS_DIRECT": f"{sidecar.ip}:{REDIS_PROXY_PORT + master_ordinal(lab, master.name)}",
    }


def master_ordinal(lab: Inventory, name: str) -> int:
    return [i.name for i in lab.by_role("redis")].index(name)


def test_direct_redis_mode_never_follows_a_failover(lab: Inventory, target: DockerLabTarget, heal_lab):
    direct = _direct_to_current_master(lab)
    with variant_app(lab, 0, {}) as resilient, variant_app(lab, 1, direct) as weak:
        assert _wait_status(weak, "/ready", 200) == 200 and _wait_status(resilient, "/ready", 200) == 200
        assert _create(weak, "weak-direct") == 201
        old_master = current_master(lab)
        target.stop(old_master, timeout_s=0)
        deadline = time.monotonic() + 15
        while current_master(lab) == old_master and time.monotonic() < deadline:
            time.sleep(0.2)
        assert current_master(lab) != old_master
        _wait_create_succeeds(resilient, "resilient")
        resilient_statuses = [_create(resilient, "resilient") for _ in range(10)]
        weak_statuses = [_create(weak, "weak-direct") for _ in range(10)]
    assert set(resilient_statuses) == {201}, resilient_statuses
    assert 201 not in weak_statuses, weak_statuses


def test_no_retries_fails_on_a_brief_redis_outage_that_retries_ride_out(
    lab: Inventory, target: DockerLabTarget, heal_lab
):
    """The weak write is made and answered inside the outage; the resilient one starts in it and must outlast it."""
    master = current_master(lab)
    with variant_app(lab, 0, {}) as resilient, variant_app(lab, 1, {"AGENT360_RETRIES": "0"}) as weak:
        assert _wait_status(weak, "/ready", 200) == 200 and _wait_status(resilient, "/ready", 200) == 200
        results: dict[str, int] = {}
        resilient_write = threading.Thread(target=lambda: results.__setitem__("resilient", _create(resilient, "r")))
        target.set_proxy_enabled("toxiproxy-a", master, False)
        try:
            results["weak"] = _create(weak, "weak")
            resilient_write.start()
            time.sleep(0.35)
        finally:
            target.set_proxy_enabled("toxiproxy-a", master, True)
        resilient_write.join(timeout=15)
    assert results == {"resilient": 201, "weak": 503}


def _ready_answers_during_failover(lab: Inventory, target: DockerLabTarget, urls: dict[str, str]) -> dict[str, list]:
    """Every /ready answer of each url, polled from stopping the Redis master until 2 s after the switch."""
    answers: dict[str, list] = {name: [] for name in urls}
    old_master = current_master(lab)
    target.stop(old_master, timeout_s=0)
    switched_at = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (switched_at is None or time.monotonic() < switched_at + 2):
        for name, url in urls.items():
            response = service_client.request("GET", f"{url}/ready")
            answers[name].append((response.status, response.body))
        if switched_at is None and current_master(lab) != old_master:
            switched_at = time.monotonic()
        time.sleep(0.2)
    assert switched_at is not None, "Sentinel did not fail over within 20 s"
    return answers


def test_readiness_rides_out_a_redis_failover_that_fails_a_build_without_grace(
    lab: Inventory, target: DockerLabTarget, heal_lab
):
    with variant_app(lab, 0, {}) as resilient, variant_app(lab, 1, {"AGENT360_READY_REDIS_GRACE": "0"}) as strict:
        assert _wait_status(strict, "/ready", 200) == 200 and _wait_status(resilient, "/ready", 200) == 200
        answers = _ready_answers_during_failover(lab, target, {"resilient": resilient, "strict": strict})
    assert {status for status, _ in answers["resilient"]} == {200}, answers["resilient"]
    assert any("within grace 5s" in str(body) for _, body in answers["resilient"]), answers["resilient"]
    assert 503 in {status for status, _ in answers["strict"]}, answers["strict"]


def test_a_redis_outage_longer_than_the_grace_makes_the_replica_unready(lab: Inventory):
    no_sentinel = {"AGENT360_SENTINELS": "172.28.36.250:26379", "AGENT360_READY_REDIS_GRACE": "1"}
    with variant_app(lab, 0, no_sentinel) as replica:
        _wait_cassandra_serves(replica)
        first = service_client.request("GET", f"{replica}/ready")
        assert _wait_status(replica, "/ready", 503, timeout_s=10) == 503
    assert first.status == 200 and "within grace 1s" in str(first.body), first
