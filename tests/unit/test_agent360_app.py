import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import REGISTRY

from agent360.app import create_app
from agent360.config import Config
from agent360.errors import DependencyError
from agent360.tasks import Task

STORED = Task("agent-1", "t1", '{"n":1}', datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC))


class FakeCache:
    def __init__(self, journal: list[str]) -> None:
        self.journal = journal
        self.entries: dict[tuple[str, str], dict[str, Any]] = {}
        self.fail: DependencyError | None = None
        self.ping_delay = 0.0
        self.master_answers = False

    async def start(self) -> None:
        self.journal.append("cache.start")

    async def close(self) -> None:
        self.journal.append("cache.close")

    async def ping(self, timeout: float) -> None:
        await asyncio.sleep(self.ping_delay)
        if self.fail:
            raise self.fail

    async def master_answers_sentinels(self, timeout: float) -> bool:
        return self.master_answers

    async def cache_task(self, task: Task) -> None:
        if self.fail:
            raise self.fail
        self.journal.append(f"cache.set {task.task_id}")
        self.entries[(task.agent_id, task.task_id)] = task.to_json()

    async def append_event(self, task: Task, kind: str) -> None:
        self.journal.append(f"cache.event {kind} {task.task_id}")

    async def get_task(self, agent_id: str, task_id: str) -> dict[str, Any] | None:
        if self.fail:
            raise self.fail
        return self.entries.get((agent_id, task_id))


class FakeDatabase:
    def __init__(self, journal: list[str]) -> None:
        self.journal = journal
        self.rows: dict[tuple[str, str], Task] = {(STORED.agent_id, STORED.task_id): STORED}
        self.fail: DependencyError | None = None
        self.ping_delay = 0.0
        self.limits: list[int] = []

    async def start(self) -> None:
        self.journal.append("db.start")

    async def close(self) -> None:
        self.journal.append("db.close")

    async def ping(self, timeout: float) -> None:
        await asyncio.sleep(self.ping_delay)
        if self.fail:
            raise self.fail

    async def insert_task(self, task: Task) -> None:
        if self.fail:
            raise self.fail
        self.journal.append(f"db.insert {task.task_id}")
        self.rows[(task.agent_id, task.task_id)] = task

    async def get_task(self, agent_id: str, task_id: str) -> Task | None:
        if self.fail:
            raise self.fail
        return self.rows.get((agent_id, task_id))

    async def list_tasks(self, agent_id: str, limit: int) -> list[Task]:
        self.limits.append(limit)
        return [task for (agent, _), task in sorted(self.rows.items()) if agent == agent_id][:limit]


Scenario = Callable[[TestClient, FakeCache, FakeDatabase], Awaitable[None]]


def run(scenario: Scenario, config: Config | None = None) -> list[str]:
    journal: list[str] = []
    cache, database = FakeCache(journal), FakeDatabase(journal)

    async def main() -> None:
        app = create_app(config or Config(ready_timeout=0.2), cache=cache, database=database)
        async with TestClient(TestServer(app)) as client:
            await scenario(client, cache, database)

    asyncio.run(main())
    return journal


def test_health_names_zone_and_version():
    async def scenario(client, cache, database):
        response = await client.get("/health")
        assert response.status == 200
        assert await response.json() == {"status": "ok", "zone": "c", "version": "v9"}

    run(scenario, Config(zone="c", version="v9"))


def test_stores_are_started_and_closed_with_the_app():
    async def scenario(client, cache, database):
        pass

    journal = run(scenario)
    assert journal[:2] == ["cache.start", "db.start"]
    assert journal[-2:] == ["cache.close", "db.close"]


def test_ready_when_both_dependencies_answer():
    async def scenario(client, cache, database):
        response = await client.get("/ready")
        assert response.status == 200
        assert (await response.json())["failed"] == []

    run(scenario)


def test_not_ready_names_the_failing_dependency():
    async def scenario(client, cache, database):
        database.fail = DependencyError("cassandra", "not connected: NoHostAvailable", retryable=True)
        response = await client.get("/ready")
        body = await response.json()
        assert response.status == 503
        assert body["failed"] == ["cassandra"]
        assert body["checks"] == {"redis": "ok", "cassandra": "not connected: NoHostAvailable"}

    run(scenario)


def test_a_hanging_dependency_fails_readiness_within_the_deadline():
    async def scenario(client, cache, database):
        cache.ping_delay = 5.0
        started = asyncio.get_running_loop().time()
        response = await client.get("/ready")
        assert response.status == 503
        assert (await response.json())["failed"] == ["redis"]
        assert asyncio.get_running_loop().time() - started < 1.0

    run(scenario, Config(ready_timeout=0.2, ready_redis_grace=0))


def test_a_redis_outage_shorter_than_the_grace_keeps_the_replica_ready():
    async def scenario(client, cache, database):
        cache.fail = DependencyError("redis", "no master")
        response = await client.get("/ready")
        body = await response.json()
        assert response.status == 200
        assert body["failed"] == []
        assert body["checks"]["redis"].startswith("no master (failing for 0.")
        assert "within grace 30s" in body["checks"]["redis"]

    run(scenario, Config(ready_timeout=0.2, ready_redis_grace=30))


def test_a_redis_outage_longer_than_the_grace_makes_the_replica_unready():
    async def scenario(client, cache, database):
        cache.fail = DependencyError("redis", "no master")
        assert (await client.get("/ready")).status == 200
        await asyncio.sleep(0.35)
        response = await client.get("/ready")
        assert response.status == 503
        assert (await response.json())["checks"]["redis"] == "no master"

    run(scenario, Config(ready_timeout=0.2, ready_redis_grace=0.3))


def test_a_redis_failure_the_sentinels_do_not_share_ends_the_grace_early():
    async def scenario(client, cache, database):
        cache.fail = DependencyError("redis", "Connection refused")
        cache.master_answers = True
        assert (await client.get("/ready")).status == 200
        await asyncio.sleep(0.15)
        response = await client.get("/ready")
        assert response.status == 503
        assert "this replica's own link" in (await response.json())["checks"]["redis"]
        cache.master_answers = False
        assert (await client.get("/ready")).status == 503, "a Sentinel slow to answer does not flip it back"
        cache.fail = None
        assert (await client.get("/ready")).status == 200
        cache.fail = DependencyError("redis", "MasterNotFoundError")
        await asyncio.sleep(0.15)
        assert (await client.get("/ready")).status == 200, "a new outage the Sentinels share is within grace"

    run(scenario, Config(ready_timeout=0.2, ready_redis_grace=30, ready_redis_local_after=0.1))


def test_the_grace_does_not_cover_cassandra():
    async def scenario(client, cache, database):
        database.fail = DependencyError("cassandra", "Unavailable")
        response = await client.get("/ready")
        assert response.status == 503
        assert (await response.json())["failed"] == ["cassandra"]

    run(scenario, Config(ready_timeout=0.2, ready_redis_grace=30))


def test_ready_checks_none_is_always_ready():
    async def scenario(client, cache, database):
        cache.fail = database.fail = DependencyError("redis", "down")
        response = await client.get("/ready")
        assert response.status == 200

    run(scenario, Config(ready_checks="none"))


def test_the_cassandra_only_weak_build_stays_ready_while_redis_fails():
    async def scenario(client, cache, database):
        cache.fail = DependencyError("redis", "MasterNotFoundError")
        response = await client.get("/ready")
        body = await response.json()
        assert response.status == 200 and body["failed"] == [] and body["checks"]["redis"] == "MasterNotFoundError"
        database.fail = DependencyError("cassandra", "NoHostAvailable")
        assert (await client.get("/ready")).status == 503

    run(scenario, Config(ready_checks="cassandra", ready_redis_grace=0.0))


def test_create_writes_database_then_cache_then_event():
    async def scenario(client, cache, database):
        response = await client.post("/v1/agents/agent-7/tasks", json={"payload": {"x": [1]}, "task_id": "job_1"})
        assert response.status == 201
        body = await response.json()
        assert body["agent_id"] == "agent-7" and body["task_id"] == "job_1"
        assert body["created_at"].endswith("Z")

    journal = run(scenario)
    assert [e for e in journal if "job_1" in e] == ["db.insert job_1", "cache.set job_1", "cache.event created job_1"]


def test_create_generates_a_hex_task_id():
    async def scenario(client, cache, database):
        response = await client.post("/v1/agents/agent-7/tasks", json={"payload": None})
        task_id = (await response.json())["task_id"]
        assert response.status == 201 and len(task_id) == 32 and int(task_id, 16) >= 0

    run(scenario)


def test_create_answers_503_naming_the_dependency_and_skips_the_cache_when_cassandra_fails():
    async def scenario(client, cache, database):
        database.fail = DependencyError("cassandra", "timed out after 2s", retryable=True)
        response = await client.post("/v1/agents/a/tasks", json={"payload": 1, "task_id": "t9"})
        assert response.status == 503
        assert await response.json() == {"error": "timed out after 2s", "dependency": "cassandra"}

    journal = run(scenario)
    assert not [e for e in journal if "t9" in e]


def test_the_cached_ack_weak_build_acknowledges_a_write_cassandra_refused():
    async def scenario(client, cache, database):
        database.fail = DependencyError("cassandra", "NoHostAvailable")
        response = await client.post("/v1/agents/a/tasks", json={"payload": 1, "task_id": "t8"})
        assert response.status == 201
        await asyncio.sleep(0.05)
        assert ("a", "t8") not in database.rows

    journal = run(scenario, Config(write_ack="cached"))
    assert [e for e in journal if "t8" in e] == ["cache.set t8", "cache.event created t8"]


def test_create_answers_503_when_redis_fails():
    async def scenario(client, cache, database):
        cache.fail = DependencyError("redis", "MasterNotFoundError", retryable=True)
        response = await client.post("/v1/agents/a/tasks", json={"payload": 1})
        assert response.status == 503
        assert (await response.json())["dependency"] == "redis"

    run(scenario)


def test_the_best_effort_weak_build_acknowledges_a_write_without_its_event():
    async def scenario(client, cache, database):
        cache.fail = DependencyError("redis", "MasterNotFoundError", retryable=True)
        response = await client.post("/v1/agents/a/tasks", json={"payload": 1, "task_id": "t7"})
        assert response.status == 201 and ("a", "t7") in database.rows

    journal = run(scenario, Config(events="best-effort"))
    assert [e for e in journal if "t7" in e] == ["db.insert t7"]


def test_bad_requests_answer_400():
    async def scenario(client, cache, database):
        cases = [
            ("/v1/agents/a/tasks", b"{not json"),
            ("/v1/agents/a/tasks", b'["payload"]'),
            ("/v1/agents/a/tasks", b'{"task": 1}'),
            ("/v1/agents/a/tasks", b'{"payload": 1, "task_id": "has space"}'),
            ("/v1/agents/a/tasks", b'{"payload": 1, "task_id": "' + b"x" * 65 + b'"}'),
            ("/v1/agents/a.b/tasks", b'{"payload": 1}'),
        ]
        for path, data in cases:
            response = await client.post(path, data=data, headers={"Content-Type": "application/json"})
            assert response.status == 400, (path, data)
            assert "error" in await response.json()

    run(scenario)


def test_read_prefers_the_cache():
    async def scenario(client, cache, database):
        cache.entries[("agent-1", "t1")] = {"agent_id": "agent-1", "task_id": "t1", "payload": "cached"}
        body = await (await client.get("/v1/agents/agent-1/tasks/t1")).json()
        assert body["source"] == "cache" and body["payload"] == "cached"

    run(scenario)


def test_read_falls_back_to_the_database_on_a_miss_or_a_redis_error():
    async def scenario(client, cache, database):
        miss = await client.get("/v1/agents/agent-1/tasks/t1")
        assert miss.status == 200
        assert await miss.json() == {
            "agent_id": "agent-1", "task_id": "t1", "payload": {"n": 1},
            "created_at": "2024-05-06T07:08:09.123Z", "source": "db",
        }
        cache.fail = DependencyError("redis", "down", retryable=True)
        assert (await (await client.get("/v1/agents/agent-1/tasks/t1")).json())["source"] == "db"

    run(scenario)


def test_read_answers_404_and_503():
    async def scenario(client, cache, database):
        assert (await client.get("/v1/agents/agent-1/tasks/none")).status == 404
        database.fail = DependencyError("cassandra", "NoHostAvailable", retryable=True)
        response = await client.get("/v1/agents/agent-1/tasks/none")
        assert response.status == 503
        assert (await response.json())["dependency"] == "cassandra"

    run(scenario)


def test_list_uses_the_default_limit_and_refuses_out_of_range_ones():
    async def scenario(client, cache, database):
        body = await (await client.get("/v1/agents/agent-1/tasks")).json()
        assert [t["task_id"] for t in body["tasks"]] == ["t1"]
        assert (await client.get("/v1/agents/agent-1/tasks?limit=500")).status == 200
        assert database.limits == [50, 500]
        for bad in ("0", "501", "many"):
            assert (await client.get(f"/v1/agents/agent-1/tasks?limit={bad}")).status == 400

    run(scenario)


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_count_requests_by_route_template():
    route = "/v1/agents/{agent_id}/tasks/{task_id}"
    found = {"method": "GET", "route": route, "status": "404"}
    before = _sample("http_requests_total", found)
    timed_before = _sample("http_request_duration_seconds_count", {"method": "GET", "route": route})

    async def scenario(client, cache, database):
        await client.get("/v1/agents/agent-1/tasks/missing")
        await client.get("/no/such/path")
        response = await client.get("/metrics")
        text = await response.text()
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
        assert 'agent360_info{cassandra_cl="ONE",redis_mode="direct",version="v1",zone="b"} 1.0' in text
        assert "process_cpu_seconds_total" in text or "python_info" in text

    run(scenario, Config(zone="b", redis_mode="direct", cassandra_cl="ONE"))
    assert _sample("http_requests_total", found) == before + 1
    assert _sample("http_request_duration_seconds_count", {"method": "GET", "route": route}) == timed_before + 1
    assert _sample("http_requests_total", {"method": "GET", "route": "unmatched", "status": "404"}) >= 1
