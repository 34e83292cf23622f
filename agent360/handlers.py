"""HTTP handlers; failures are turned into 400/503 answers by the app's middleware."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from aiohttp import web

from agent360 import metrics
from agent360.config import Config
from agent360.errors import DependencyError
from agent360.readiness import SharedOutageGrace
from agent360.stores import Cache, Database
from agent360.tasks import Task, format_timestamp, new_task, parse_limit, validate_id

CONFIG: web.AppKey[Config] = web.AppKey("config")
CACHE: web.AppKey[Cache] = web.AppKey("cache")
DATABASE: web.AppKey[Database] = web.AppKey("database")
REDIS_GRACE: web.AppKey[SharedOutageGrace] = web.AppKey("redis_grace")
BACKGROUND_WRITES: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("background_writes")
log = logging.getLogger(__name__)


async def health(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    return web.json_response({"status": "ok", "zone": config.zone, "version": config.version})


async def ready(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    if config.ready_checks == "none":
        return web.json_response({"status": "ready", "checks": "disabled"})
    timeout = config.ready_timeout
    redis, cassandra = await asyncio.gather(
        _check(request.app[CACHE].ping(timeout), timeout), _check(request.app[DATABASE].ping(timeout), timeout)
    )
    checks = {"redis": redis, "cassandra": cassandra}
    failed = [name for name, result in checks.items() if result != "ok" and _counted(config.ready_checks, name)]
    grace = request.app[REDIS_GRACE]
    redis_failing_s = grace.observe(redis == "ok")
    if "redis" in failed and not grace.counts(redis_failing_s):
        if grace.own or (redis_failing_s >= config.ready_redis_local_after
                         and await request.app[CACHE].master_answers_sentinels(timeout)):
            grace.own = True  # until Redis answers again: a Sentinel that is slow to reply must not flip it back
            checks["redis"] = f"{redis} (the Sentinels see the master answering: this replica's own link)"
            return _ready_answer(checks, failed)
        failed.remove("redis")
        checks["redis"] = f"{redis} (failing for {redis_failing_s:.1f}s, within grace {grace.grace_s:g}s)"
    return _ready_answer(checks, failed)


def _ready_answer(checks: dict[str, str], failed: list[str]) -> web.Response:
    body = {"status": "not ready" if failed else "ready", "checks": checks, "failed": failed}
    return web.json_response(body, status=503 if failed else 200)


def _counted(ready_checks: str, dependency: str) -> bool:
    """The weak build "cassandra" looks at Redis but never lets it take the replica out."""
    return ready_checks == "deps" or dependency == ready_checks


async def _check(probe: Awaitable[None], timeout: float) -> str:
    try:
        await asyncio.wait_for(probe, timeout)
    except DependencyError as error:
        return error.message
    except TimeoutError:
        return f"timed out after {timeout:g}s"
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return "ok"


async def metrics_text(request: web.Request) -> web.Response:
    return web.Response(body=metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE})


async def create_task(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "body is not valid JSON")
    task = new_task(request.match_info["agent_id"], body)
    if request.app[CONFIG].write_ack == "cached":
        _insert_later(request.app, task)
    else:
        await request.app[DATABASE].insert_task(task)
    await _cache_and_announce(request.app, task)
    created = {"agent_id": task.agent_id, "task_id": task.task_id, "created_at": format_timestamp(task.created_at)}
    return web.json_response(created, status=201)


async def _cache_and_announce(app: web.Application, task: Task) -> None:
    """Cache the task and append its "created" event; the weak build "best-effort" acknowledges without them."""
    cache = app[CACHE]
    try:
        await cache.cache_task(task)
        await cache.append_event(task, "created")
    except DependencyError as error:
        if app[CONFIG].events != "best-effort":
            raise
        log.warning("task %s/%s acknowledged without its event: %s", task.agent_id, task.task_id, error.message)


def _insert_later(app: web.Application, task: Task) -> None:
    """The weak build's write: acknowledged before Cassandra has it; a failed insert is only logged."""
    async def insert() -> None:
        try:
            await app[DATABASE].insert_task(task)
        except Exception as error:
            log.warning("background insert of %s/%s failed: %s", task.agent_id, task.task_id, error)

    pending = app[BACKGROUND_WRITES]
    background = asyncio.get_running_loop().create_task(insert())
    pending.add(background)
    background.add_done_callback(pending.discard)


async def get_task(request: web.Request) -> web.Response:
    agent_id = validate_id(request.match_info["agent_id"], "agent_id")
    task_id = validate_id(request.match_info["task_id"], "task_id")
    try:
        cached = await request.app[CACHE].get_task(agent_id, task_id)
    except DependencyError:
        cached = None
    if cached is not None:
        return web.json_response({**cached, "source": "cache"})
    task = await request.app[DATABASE].get_task(agent_id, task_id)
    if task is None:
        return _error(404, "task not found")
    return web.json_response({**task.to_json(), "source": "db"})


async def list_tasks(request: web.Request) -> web.Response:
    agent_id = validate_id(request.match_info["agent_id"], "agent_id")
    limit = parse_limit(request.query.get("limit"))
    tasks = await request.app[DATABASE].list_tasks(agent_id, limit)
    return web.json_response({"tasks": [task.to_json() for task in tasks]})


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def dependency_error(error: DependencyError) -> web.Response:
    return _error(503, error.message, dependency=error.dependency)


def bad_request(message: str) -> web.Response:
    return _error(400, message)
