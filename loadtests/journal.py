"""Request classification and the buffered requests.jsonl writer used inside the Locust process.

Kept free of locust/gevent imports so that it can be tested in the harness process.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from loadtests.records import RequestRecord

REQUESTS_FILE_ENV = "CHAOS360_REQUESTS_FILE"
FLUSH_INTERVAL_S = 0.25

# geventhttpclient's errors, matched by name to stay free of its import.
_RESET_NAMES = frozenset({"HTTPConnectionClosed", "EmptyResponse"})
_TIMEOUT_NAMES = frozenset({"Timeout"})
_MAX_WRAPPING = 5


def _innermost(error: BaseException) -> BaseException:
    """geventhttpclient wraps a timeout or an empty response in RetriesExceeded(original=...)."""
    for _ in range(_MAX_WRAPPING):
        inner = getattr(error, "original", None)
        if not isinstance(inner, BaseException):
            break
        error = inner
    return error


def error_kind(error: BaseException) -> str:
    """A short, stable name for a transport error (not for an HTTP status)."""
    error = _innermost(error)
    names = {cls.__name__ for cls in type(error).__mro__}
    if isinstance(error, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(error, TimeoutError) or names & _TIMEOUT_NAMES:
        return "timeout"
    if isinstance(error, ConnectionResetError | BrokenPipeError | ConnectionAbortedError) or names & _RESET_NAMES:
        return "connection_reset"
    return "other"


def classify(status: int, transport_error: BaseException | None) -> str | None:
    """None when the request succeeded (2xx, no transport error), else its error kind."""
    if transport_error is not None:
        return error_kind(transport_error)
    if 200 <= status < 300:
        return None
    return f"http_{status}" if status else "other"


class Journal:
    """Buffers records in memory; flush() appends only whole lines, so a reader never sees half a record."""

    def __init__(self, path: Path) -> None:
        self._file: IO[str] | None = open(path, "a", encoding="utf-8")  # noqa: SIM115 -- closed in close()
        self._pending: list[str] = []

    def add(self, record: RequestRecord) -> None:
        self._pending.append(record.to_json() + "\n")

    def flush(self) -> None:
        if self._file is None or not self._pending:
            return
        lines, self._pending = "".join(self._pending), []
        self._file.write(lines)
        self._file.flush()

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None
