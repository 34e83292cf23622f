import asyncio

import pytest

from agent360.errors import DependencyError
from agent360.retry import RetryPolicy, run_once, with_retries

FAST = 0.0


class Flaky:
    def __init__(self, failures: int, retryable: bool = True) -> None:
        self.failures = failures
        self.retryable = retryable
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise DependencyError("redis", f"failure {self.calls}", retryable=self.retryable)
        return "done"


def test_retryable_failures_are_retried_up_to_the_bound():
    operation = Flaky(failures=2)
    assert asyncio.run(with_retries("redis", RetryPolicy(2, 1.0, backoff_step=FAST), operation)) == "done"
    assert operation.calls == 3


def test_the_last_failure_is_raised_once_retries_are_spent():
    operation = Flaky(failures=5)
    with pytest.raises(DependencyError, match="failure 3"):
        asyncio.run(with_retries("redis", RetryPolicy(2, 1.0, backoff_step=FAST), operation))
    assert operation.calls == 3


def test_zero_retries_means_one_attempt():
    operation = Flaky(failures=1)
    with pytest.raises(DependencyError):
        asyncio.run(with_retries("redis", RetryPolicy(0, 1.0), operation))
    assert operation.calls == 1


def test_non_retryable_failures_are_not_retried():
    operation = Flaky(failures=1, retryable=False)
    with pytest.raises(DependencyError):
        asyncio.run(with_retries("cassandra", RetryPolicy(3, 1.0, backoff_step=FAST), operation))
    assert operation.calls == 1


def test_on_retry_runs_before_each_retry():
    calls: list[str] = []

    async def on_retry() -> None:
        calls.append("dropped")

    asyncio.run(with_retries("redis", RetryPolicy(3, 1.0, backoff_step=FAST), Flaky(failures=2), on_retry))
    assert calls == ["dropped", "dropped"]


def test_a_slow_operation_becomes_a_retryable_timeout():
    async def slow() -> None:
        await asyncio.sleep(5)

    with pytest.raises(DependencyError) as caught:
        asyncio.run(run_once("cassandra", 0.05, slow))
    assert caught.value.retryable and caught.value.dependency == "cassandra"
    assert "timed out" in caught.value.message


def test_backoff_grows_linearly_and_is_capped():
    policy = RetryPolicy(5, 1.0)
    assert [policy.backoff(n) for n in (1, 2, 3)] == pytest.approx([0.2, 0.4, 0.6])
    assert policy.backoff(10) == 1.0
