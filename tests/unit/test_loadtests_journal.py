from pathlib import Path

import pytest

from loadtests.journal import Journal, classify, error_kind
from loadtests.records import RequestRecord, read_requests


class Timeout(BaseException):
    """Stands in for gevent.timeout.Timeout, matched by name."""


class HTTPConnectionClosed(Exception):
    """Stands in for geventhttpclient's error, matched by name."""


class RetriesExceeded(Exception):
    """Stands in for geventhttpclient's wrapper of the last retried error."""

    def __init__(self, original: BaseException | None) -> None:
        super().__init__("retries exceeded")
        self.original = original


class EmptyResponse(Exception):
    pass


@pytest.mark.parametrize(("error", "kind"), [
    (ConnectionRefusedError(111, "refused"), "connection_refused"),
    (TimeoutError("timed out"), "timeout"),
    (Timeout(), "timeout"),
    (ConnectionResetError(104, "reset"), "connection_reset"),
    (BrokenPipeError(32, "pipe"), "connection_reset"),
    (HTTPConnectionClosed("closed"), "connection_reset"),
    (RetriesExceeded(TimeoutError("timed out")), "timeout"),
    (RetriesExceeded(EmptyResponse()), "connection_reset"),
    (RetriesExceeded(BrokenPipeError(32, "pipe")), "connection_reset"),
    (RetriesExceeded(None), "other"),
    (OSError(113, "no route"), "other"),
    (ValueError("x"), "other"),
])
def test_error_kind(error: BaseException, kind: str) -> None:
    assert error_kind(error) == kind


@pytest.mark.parametrize(("status", "error", "expected"), [
    (200, None, None), (201, None, None), (204, None, None),
    (404, None, "http_404"), (503, None, "http_503"), (302, None, "http_302"), (0, None, "other"),
    (201, TimeoutError(), "timeout"), (0, ConnectionRefusedError(), "connection_refused"),
])
def test_classify_only_2xx_without_transport_error_is_ok(
    status: int, error: BaseException | None, expected: str | None
) -> None:
    assert classify(status, error) == expected


def _record(task_id: str) -> RequestRecord:
    return RequestRecord(1.0, "POST /v1/agents/[id]/tasks", "create", True, 201, 1.0, None, task_id, "a")


def test_journal_writes_whole_lines_only_on_flush(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    journal = Journal(path)
    journal.add(_record("a"))
    assert path.read_text() == ""
    journal.flush()
    journal.add(_record("b"))
    assert [r.task_id for r in read_requests(path)] == ["a"]
    journal.close()
    journal.close()
    assert [r.task_id for r in read_requests(path)] == ["a", "b"]
    assert path.read_text().endswith("\n")
