"""Failures of the datastores the service depends on."""

from __future__ import annotations


class DependencyError(Exception):
    """A Redis or Cassandra operation failed; `retryable` marks connection errors and timeouts."""

    def __init__(self, dependency: str, message: str, retryable: bool = False) -> None:
        super().__init__(f"{dependency}: {message}")
        self.dependency = dependency
        self.message = message
        self.retryable = retryable
