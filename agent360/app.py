"""The aiohttp application: routes, request metrics, error mapping and the datastores' lifecycle."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Handler

from agent360 import handlers, metrics
from agent360.cassandra_store import CassandraStore
from agent360.config import Config
from agent360.errors import DependencyError
from agent360.handlers import BACKGROUND_WRITES, CACHE, CONFIG, DATABASE, REDIS_GRACE
from agent360.readiness import SharedOutageGrace
from agent360.redis_store import RedisStore
from agent360.stores import Cache, Database
from agent360.tasks import BadRequest

log = logging.getLogger(__name__)

UNMATCHED_ROUTE = "unmatched"
CLIENT_CLOSED = 499
DEPENDENCY_LOG_INTERVAL_S = 1.0


def route_template(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED_ROUTE


class _Throttle:
    """Log a dependency failure at most once per interval per dependency (outages fail every request)."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._last: dict[str, float] = {}

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        if now - self._last.get(key, float("-inf")) < self._interval:
            return False
        self._last[key] = now
        return True


_throttle = _Throttle(DEPENDENCY_LOG_INTERVAL_S)


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time every request by route template; map client and dependency errors to answers."""
    started = time.perf_counter()
    status = 500
    try:
        response = await _answer(request, handler)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    except asyncio.CancelledError:
        status = CLIENT_CLOSED
        raise
    finally:
        route = route_template(request)
        metrics.HTTP_REQUESTS.labels(request.method, route, str(status)).inc()
        metrics.HTTP_DURATION.labels(request.method, route).observe(time.perf_counter() - started)


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BadRequest as error:
        return handlers.bad_request(str(error))
    except DependencyError as error:
        if _throttle.allow(error.dependency):
            log.warning("%s %s -> 503: %s", request.method, request.path, error)
        return handlers.dependency_error(error)


def create_app(config: Config, cache: Cache | None = None, database: Database | None = None) -> web.Application:
    app = web.Application(middlewares=[observe])
    app[CONFIG] = config
    app[CACHE] = cache if cache is not None else RedisStore(config)
    app[DATABASE] = database if database is not None else CassandraStore(config)
    app[REDIS_GRACE] = SharedOutageGrace(config.ready_redis_grace)
    app[BACKGROUND_WRITES] = set()
    app.cleanup_ctx.append(_datastores)
    app.router.add_get("/health", handlers.health)
    app.router.add_get("/ready", handlers.ready)
    app.router.add_get("/metrics", handlers.metrics_text)
    app.router.add_post("/v1/agents/{agent_id}/tasks", handlers.create_task)
    app.router.add_get("/v1/agents/{agent_id}/tasks", handlers.list_tasks)
    app.router.add_get("/v1/agents/{agent_id}/tasks/{task_id}", handlers.get_task)
    metrics.set_info(config.zone, config.version, config.redis_mode, config.cassandra_cl)
    return app


async def _datastores(app: web.Application) -> AsyncIterator[None]:
    """Start the background connectors; close the clients on shutdown."""
    await app[CACHE].start()
    await app[DATABASE].start()
    yield
    await app[CACHE].close()
    await app[DATABASE].close()
