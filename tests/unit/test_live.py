"""The live view: phases from events, rates from requests, a rewritten line on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import json
import time
from collections import deque
from pathlib import Path

from chaos360.live import LiveView, Mode, phase_of, rates
from kernel.record import Event, EventLog, Request


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _request(t: float, ok: bool = True) -> Request:
    return Request(t, "GET x", "read", ok, 200 if ok else 503, 10.0, None if ok else "http_503", None, None)


def test_phases_follow_the_events() -> None:
    phase = "starting"
    for kind, fields in [("run.start", {}), ("load.start", {}), ("fault.inject", {"fault": "isolate", "zone": "a"})]:
        phase = phase_of(Event(0.0, kind, fields), phase)
    assert phase == "under fault: isolate (a)"
    assert phase_of(Event(0.0, "ready", {}), phase) == phase
    assert phase_of(Event(0.0, "run.aborted", {"condition": "error rate above 50% for 10 s"}), phase) \
        == "ABORTING: error rate above 50% for 10 s"


def test_rates_count_requests_that_ended_in_the_window() -> None:
    now = 100.0
    window = deque([_request(now - 4, ok=False), _request(now - 3), _request(now - 2), _request(now - 1),
                    _request(now - 30)])
    rps, error_rate = rates(window, now)
    assert rps == 4 / 5 and error_rate == 0.25
    assert rates(deque(), now) == (0.0, None)


def _record(run_dir: Path) -> None:
    log = EventLog(run_dir / "events.jsonl")
    log.append("run.start")
    log.append("fault.inject", fault="kill", instance="app-b")
    now = time.time()
    (run_dir / "requests.jsonl").write_text("".join(
        json.dumps(_request(now - 1 + i * 0.01, ok=i % 10 != 0).__dict__) + "\n" for i in range(50)))


def test_plain_lines_when_not_a_terminal(tmp_path: Path) -> None:
    _record(tmp_path)
    stream = io.StringIO()
    view = LiveView(tmp_path, "app-replica-kill", Mode.AUTO, stream)
    view._show(view.status())
    view._show(view.status())
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, "an unchanged phase is not repeated within PLAIN_EVERY_S"
    assert "app-replica-kill: under fault: kill (app-b)" in lines[0] and "errors 10.0%" in lines[0]
    assert "\r" not in stream.getvalue()


def test_one_rewritten_line_on_a_terminal(tmp_path: Path) -> None:
    _record(tmp_path)
    stream = _Terminal()
    view = LiveView(tmp_path, "app-replica-kill", Mode.AUTO, stream)
    view._show(view.status())
    view._show(view.status())
    assert stream.getvalue().count("\r\033[K") == 2 and "\n" not in stream.getvalue()


def test_json_lines(tmp_path: Path) -> None:
    _record(tmp_path)
    stream = io.StringIO()
    view = LiveView(tmp_path, "app-replica-kill", Mode.JSON, stream)
    view._show(view.status())
    status = json.loads(stream.getvalue())
    assert status["kind"] == "progress" and status["phase"] == "under fault: kill (app-b)"
    assert status["rps"] == 10.0 and status["error_rate"] == 0.1


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    _record(tmp_path)
    stream = io.StringIO()
    with LiveView(tmp_path, "x", Mode.QUIET, stream):
        time.sleep(0.6)
    assert stream.getvalue() == ""
