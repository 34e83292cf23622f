"""Bounded retries with a short linear backoff for dependency operations."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from agent360 import metrics
from agent360.errors import DependencyError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    retries: int
    timeout: float
    backoff_step: float = 0.2
    backoff_cap: float = 1.0

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_step * attempt, self.backoff_cap)


async def with_retries(
    dependency: str,
    policy: RetryPolicy,
    operation: Callable[[], Awaitable[T]],
    on_retry: Callable[[], Awaitable[None]] | None = None,
) -> T:
    """Run `operation` under `policy.timeout`, retrying retryable DependencyErrors `policy.retries` times."""
    attempt = 0
    while True:
        try:
            return await run_once(dependency, policy.timeout, operation)
        except DependencyError as error:
            if not error.retryable or attempt >= policy.retries:
                metrics.DEPENDENCY_FAILURES.labels(dependency).inc()
                raise
        attempt += 1
        metrics.DEPENDENCY_RETRIES.labels(dependency).inc()
        if on_retry is not None:
            await on_retry()
        await asyncio.sleep(policy.backoff(attempt))


async def run_once(dependency: str, timeout: float, operation: Callable[[], Awaitable[T]]) -> T:
    """One attempt under a deadline; a timeout becomes a retryable DependencyError."""
    try:
        async with asyncio.timeout(timeout):
            return await operation()
    except TimeoutError:
        raise DependencyError(dependency, f"timed out after {timeout:g}s", retryable=True) from None
