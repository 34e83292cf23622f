"""Agent360 user journeys: create a task, read back one of the user's acknowledged tasks, list tasks.

Run only inside Locust (it monkey-patches gevent); the harness starts it through loadtests.controller.
Every request is journaled as one JSON line to $CHAOS360_REQUESTS_FILE (see loadtests/README.md).
"""

from __future__ import annotations

import atexit
import os
import random
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any

import gevent
from gevent import GreenletExit
from locust import FastHttpUser, constant_pacing, events, task
from locust.contrib.fasthttp import LocustBadStatusCode
from locust.exception import ResponseError, StopUser

from loadtests.journal import FLUSH_INTERVAL_S, REQUESTS_FILE_ENV, Journal, classify
from loadtests.payloads import task_payload
from loadtests.records import Kind, RequestRecord
from loadtests.schedule import PACE_S

CREATE = "POST /v1/agents/[id]/tasks"
READ = "GET /v1/agents/[id]/tasks/[task_id]"
LIST = "GET /v1/agents/[id]/tasks"
LIST_LIMIT = 20
REMEMBERED_TASKS = 1000
TIMEOUT_S = 3.0

_journal: Journal | None = None
_stopping = False


@events.init_command_line_parser.add_listener
def _pace_option(parser: Any) -> None:
    parser.add_argument("--pace-s", type=float, default=PACE_S, help="seconds between a user's request starts")


@events.init.add_listener
def _open_journal(**_: Any) -> None:
    global _journal
    path = os.environ.get(REQUESTS_FILE_ENV)
    if path:
        _journal = Journal(Path(path))
        gevent.spawn(_flush_forever)
        atexit.register(_close_journal)


def _flush_forever() -> None:
    while _journal is not None:
        gevent.sleep(FLUSH_INTERVAL_S)
        _journal.flush()


@events.test_stopping.add_listener
def _stop_sending(**_: Any) -> None:
    """Locust kills waiting users without notice; a request started in that instant would be lost mid-flight."""
    global _stopping
    _stopping = True


@events.quit.add_listener
def _close_journal(**_: Any) -> None:
    global _journal
    if _journal is not None:
        journal, _journal = _journal, None
        journal.close()


@events.request.add_listener
def _on_request(
    name: str, response_time: float, response: Any, context: dict[str, Any], exception: BaseException | None,
    start_time: float | None = None, **_: Any,
) -> None:
    if "kind" not in context:
        return
    status = int(getattr(response, "status_code", 0) or 0)
    transport_error = None if isinstance(exception, LocustBadStatusCode | ResponseError) else exception
    error = classify(status, transport_error)
    context["outcome"].ok = error is None
    if _journal is not None:
        started = start_time if start_time is not None else time.time() - response_time / 1000
        _journal.add(RequestRecord(
            t=started, name=name, kind=context["kind"], ok=error is None, status=status,
            latency_ms=float(response_time), error=error, task_id=context.get("task_id"),
            agent_id=context.get("agent_id"),
        ))


def _journal_cancelled(name: str, kind: Kind, started: float, task_id: str | None, agent_id: str) -> None:
    """A request still in flight when Locust killed its user: no request event fires, its outcome is unknown."""
    if _journal is not None:
        latency_ms = (time.time() - started) * 1000
        _journal.add(RequestRecord(started, name, kind, False, 0, latency_ms, "cancelled", task_id, agent_id))


class _Outcome:
    """Handed to the request listener through the context, so the journey acts on the journaled verdict."""

    ok = False


class Agent360User(FastHttpUser):
    connection_timeout = TIMEOUT_S
    network_timeout = TIMEOUT_S

    def on_start(self) -> None:
        self.agent_id = f"load-{uuid.uuid4().hex[:16]}"
        self.acknowledged: deque[str] = deque(maxlen=REMEMBERED_TASKS)

    def wait_time(self) -> float:
        """Constant pacing: a request starts every pace_s seconds, at once after one that took longer."""
        pace = getattr(self.environment.parsed_options, "pace_s", PACE_S)
        return constant_pacing(pace)(self)

    def context(self) -> dict[str, Any]:
        return {"agent_id": self.agent_id}

    def _send(self, method: str, path: str, name: str, kind: Kind, task_id: str | None = None, **kwargs: Any) -> bool:
        """Send one request; True when it succeeded (2xx, no transport error)."""
        if _stopping:
            raise StopUser()
        started, outcome = time.time(), _Outcome()
        context = {"kind": kind, "task_id": task_id, "outcome": outcome}
        try:
            self.client.request(method, path, name=name, context=context, **kwargs)
        except GreenletExit:
            _journal_cancelled(name, kind, started, task_id, self.agent_id)
            raise
        return outcome.ok

    @task(5)
    def create_task(self) -> None:
        task_id = uuid.uuid4().hex
        body = {"task_id": task_id, "payload": task_payload(self.agent_id, task_id)}
        if self._send("POST", f"/v1/agents/{self.agent_id}/tasks", CREATE, "create", task_id, json=body):
            self.acknowledged.append(task_id)

    @task(4)
    def read_task(self) -> None:
        if not self.acknowledged:
            self.create_task()
            return
        task_id = random.choice(self.acknowledged)
        self._send("GET", f"/v1/agents/{self.agent_id}/tasks/{task_id}", READ, "read", task_id)

    @task(1)
    def list_tasks(self) -> None:
        self._send("GET", f"/v1/agents/{self.agent_id}/tasks?limit={LIST_LIMIT}", LIST, "list")
