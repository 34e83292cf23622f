"""Prometheus metrics in the default registry (which also holds the process collector)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
INFO = Gauge(
    "agent360_info", "Build and configuration of this replica.", ["zone", "version", "redis_mode", "cassandra_cl"]
)
DEPENDENCY_RETRIES = Counter(
    "agent360_dependency_retries_total", "Dependency operations retried after a retryable failure.", ["dependency"]
)
DEPENDENCY_FAILURES = Counter(
    "agent360_dependency_failures_total", "Dependency operations that failed after all retries.", ["dependency"]
)
EVENTS_REAPPENDED = Counter(
    "agent360_events_reappended_total", "Queue events appended again after a master change had lost them."
)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def set_info(zone: str, version: str, redis_mode: str, cassandra_cl: str) -> None:
    INFO.clear()
    INFO.labels(zone, version, redis_mode, cassandra_cl).set(1)


def exposition() -> bytes:
    return generate_latest(REGISTRY)
