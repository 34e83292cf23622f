"""The load controller's plumbing against a local fake of the Agent360 API, and a short run against the lab."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from loadtests.controller import LoadController, LoadSpec, LoadStartError, discard_prepared, prepare
from loadtests.processes import find_load_processes
from loadtests.records import RequestRecord, read_requests, summarize, tail_requests

RUN_S = 8
NAMES = {"create": "POST /v1/agents/[id]/tasks", "read": "GET /v1/agents/[id]/tasks/[task_id]",
         "list": "GET /v1/agents/[id]/tasks"}
SLOW_S = 4.0  # longer than the locustfile's 3 s network timeout


@dataclass
class FakeAgent360:
    """Every 10th create answers 503, every 13th is acknowledged but lost (404 on read), every 41st is too slow."""

    tasks: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    received_creates: list[str] = field(default_factory=list)
    creates: int = 0

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        agent_id, task_id = request.match_info["agent_id"], body["task_id"]
        self.received_creates.append(task_id)
        self.creates += 1
        if self.creates % 10 == 0:
            return web.json_response({"error": "cassandra down"}, status=503)
        task = {"agent_id": agent_id, "task_id": task_id, "created_at": "2026-01-01T00:00:00.000Z"}
        if self.creates % 13 != 0:
            self.tasks[agent_id, task_id] = task
        if self.creates % 41 == 0:
            await asyncio.sleep(SLOW_S)
        return web.json_response(task, status=201)

    async def read(self, request: web.Request) -> web.Response:
        task = self.tasks.get((request.match_info["agent_id"], request.match_info["task_id"]))
        return web.json_response(task or {"error": "task not found"}, status=200 if task else 404)

    async def list(self, request: web.Request) -> web.Response:
        mine = [t for (agent, _), t in self.tasks.items() if agent == request.match_info["agent_id"]]
        return web.json_response({"tasks": mine[: int(request.query.get("limit", "50"))]})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/agents/{agent_id}/tasks", self.create)
        app.router.add_get("/v1/agents/{agent_id}/tasks", self.list)
        app.router.add_get("/v1/agents/{agent_id}/tasks/{task_id}", self.read)
        return app


@contextmanager
def serve(app: web.Application) -> Iterator[str]:
    """Serve app on a free 127.0.0.1 port from a background event loop."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Run:
    controller: LoadController
    records: list[RequestRecord]
    live: list[RequestRecord]
    fake: FakeAgent360
    exit_code: int | None


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One 8 s run of 5 users against the fake, left to end by itself."""
    fake = FakeAgent360()
    with serve(fake.app()) as url:
        controller = LoadController(LoadSpec(base_url=url, users=5, spawn_rate=5, duration_s=RUN_S),
                                    tmp_path_factory.mktemp("load"))
        with controller:
            live, offset = tail_requests(controller.requests_file, 0)
            time.sleep(2)
            more, offset = tail_requests(controller.requests_file, offset)
            exit_code = controller.wait(RUN_S + 20)
    return Run(controller, read_requests(controller.requests_file), live + more, fake, exit_code)


def test_locust_ends_by_itself_and_leaves_no_process(fake_run: Run) -> None:
    assert fake_run.exit_code is not None, fake_run.controller.log_tail()
    assert not fake_run.controller.running
    assert find_load_processes(fake_run.controller.marker) == []


def test_the_journal_is_readable_live(fake_run: Run) -> None:
    assert fake_run.live, "tail_requests saw nothing while Locust ran"
    assert fake_run.live == fake_run.records[: len(fake_run.live)]


def test_records_name_routes_and_each_user_has_its_own_agent(fake_run: Run) -> None:
    records = fake_run.records
    assert {r.kind for r in records} == set(NAMES)
    assert all(r.name == NAMES[r.kind] for r in records)
    assert len({r.agent_id for r in records}) == 5
    assert all((r.task_id is None) == (r.kind == "list") for r in records)


def test_ok_only_for_2xx_and_errors_are_classified(fake_run: Run) -> None:
    records = fake_run.records
    assert all(r.ok == (200 <= r.status < 300 and r.error is None) for r in records)
    assert all(r.error == f"http_{r.status}" for r in records if r.status and not r.ok)
    errors = summarize(records).errors
    assert errors.get("http_503", 0) > 0 and errors.get("http_404", 0) > 0 and errors.get("timeout", 0) > 0
    assert {r.kind for r in records if r.error == "http_404"} == {"read"}
    assert "cancelled" not in errors, "a request was cut off when Locust stopped"
    timeouts = [r for r in records if r.error == "timeout"]
    assert all(r.kind == "create" and r.status == 0 and r.outcome_unknown for r in timeouts)
    assert all(2500 < r.latency_ms < SLOW_S * 1000 for r in timeouts)


def test_reads_only_ask_for_the_users_own_acknowledged_writes(fake_run: Run) -> None:
    acknowledged = {(r.agent_id, r.task_id) for r in fake_run.records if r.acknowledged_write}
    reads = [(r.agent_id, r.task_id) for r in fake_run.records if r.kind == "read"]
    assert reads and set(reads) <= acknowledged


def test_every_create_the_server_received_is_journaled(fake_run: Run) -> None:
    journaled = {r.task_id for r in fake_run.records if r.kind == "create"}
    assert set(fake_run.fake.received_creates) <= journaled


def test_request_rate(fake_run: Run) -> None:
    summary = summarize(fake_run.records)
    print(f"fake, 5 users: {summary.total} requests in {summary.span_s:.1f}s = {summary.rps:.1f} rps")
    assert summary.rps > 5
    assert RUN_S - 2 < summary.span_s < RUN_S + 1


def test_stop_during_a_run_ends_locust_within_seconds(tmp_path: Path) -> None:
    with serve(FakeAgent360().app()) as url:
        controller = LoadController(LoadSpec(base_url=url, users=5, duration_s=120), tmp_path).start()
        assert controller.running
        time.sleep(1)
        started = time.monotonic()
        controller.stop()
        elapsed = time.monotonic() - started
        controller.stop()
    assert not controller.running and controller.returncode is not None
    assert elapsed < 8, f"stop() took {elapsed:.1f}s"
    assert find_load_processes(controller.marker) == []
    assert read_requests(controller.requests_file)


def test_the_context_manager_stops_locust_when_the_harness_raises(tmp_path: Path) -> None:
    with serve(FakeAgent360().app()) as url:
        controller = LoadController(LoadSpec(base_url=url, users=2, duration_s=60), tmp_path)
        with pytest.raises(RuntimeError, match="harness failed"), controller:
            raise RuntimeError("harness failed")
    assert not controller.running
    assert find_load_processes(controller.marker) == []


def test_a_closed_port_yields_connection_refused_records(tmp_path: Path) -> None:
    spec = LoadSpec(base_url=f"http://127.0.0.1:{closed_port()}", users=2, duration_s=30)
    with LoadController(spec, tmp_path) as controller:
        time.sleep(0.6)
    records = read_requests(controller.requests_file)
    assert records and all(not r.ok and r.status == 0 and r.error == "connection_refused" for r in records)
    assert not any(r.outcome_unknown for r in records)


def test_a_bad_locustfile_raises_a_clear_error_from_start(tmp_path: Path) -> None:
    controller = LoadController(LoadSpec(base_url="http://127.0.0.1:9", users=1, duration_s=5), tmp_path,
                                locustfile=tmp_path / "missing_locustfile.py")
    with pytest.raises(LoadStartError, match=r"(?s)locust exited with code \d+ before sending a request.*missing"):
        controller.start()
    assert not controller.running
    assert find_load_processes(controller.marker) == []


@pytest.mark.integration
def test_a_short_run_against_the_lab(tmp_path: Path, base_url: str) -> None:
    controller = LoadController(LoadSpec(base_url=base_url, users=5, spawn_rate=5, duration_s=RUN_S), tmp_path)
    with controller:
        exit_code = controller.wait(RUN_S + 20)
    assert exit_code is not None and find_load_processes(controller.marker) == []
    records = read_requests(controller.requests_file)
    summary = summarize(records)
    print(f"lab, 5 users: {summary.total} requests in {summary.span_s:.1f}s = {summary.rps:.1f} rps, {summary.errors}")
    assert {r.kind for r in records} == set(NAMES)
    service_errors = sum(n for error, n in summary.errors.items() if error != "cancelled")
    assert summary.rps > 5 and service_errors / summary.total < 0.01


def test_a_prepared_locust_takes_the_spec_and_runs(tmp_path: Path) -> None:
    prepare(tmp_path, marker="prepared-run")
    assert find_load_processes("prepared-run"), "the prepared process carries the run's marker"
    with serve(FakeAgent360().app()) as url:
        controller = LoadController(LoadSpec(base_url=url, users=3, duration_s=3), tmp_path, marker="prepared-run")
        with controller:
            assert controller.wait(30) in (0, 1), "locust exits 1 when some requests failed"
    records = read_requests(controller.requests_file)
    assert {r.name for r in records} >= {NAMES["create"]}
    assert find_load_processes("prepared-run") == []


def test_a_prepared_locust_the_run_never_used_goes_away(tmp_path: Path) -> None:
    prepare(tmp_path, marker="unused-run")
    discard_prepared("unused-run")
    assert find_load_processes("unused-run") == []
    assert not (tmp_path / "requests.jsonl").exists()
