"""The harness's waits (all through kernel.waiting): what each returns, and what it says when time runs out."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actions import redis as redis_actions
from kernel import waiting
from kernel.errors import LabError
from kernel.ledger import Ledger
from kernel.progress import Progress
from kernel.run import Run, attach
from lab.docker_lab import to_inventory
from lab.readiness import Check, wait_until
from lab.topology import LabSettings, plan
from loadtests.controller import LoadController, LoadSpec, LoadStartError
from probes import stored_tasks

INVENTORY = to_inventory(plan(LabSettings()), {})


@pytest.fixture
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(waiting.time, "sleep", lambda _s: None)


def _answers(*answers: Any) -> Iterator[Any]:
    yield from answers


def test_the_lab_wait_reports_each_change_of_the_failing_checks(no_pauses: None) -> None:
    rounds = _answers([Check("redis", False, "no master")], [Check("redis", False, "no master")],
                      [Check("redis", False, "2 replicas")], [Check("redis", True, "ok")])
    out = io.StringIO()
    assert wait_until(lambda: next(rounds), 60, Progress(out))[0].ok
    assert [line.split("] ")[1] for line in out.getvalue().splitlines()] == [
        "waiting: redis: no master", "waiting: redis: 2 replicas"]


def test_the_lab_wait_names_what_still_fails_when_time_runs_out() -> None:
    with pytest.raises(LabError, match=r"^lab not ready after 0s: redis: no master; haproxy: down$"):
        wait_until(lambda: [Check("redis", False, "no master"), Check("haproxy", False, "down")], 0,
                   Progress(quiet=True))


def test_stored_tasks_retries_a_node_not_back_yet_then_names_the_last_error(no_pauses: None,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def read(*_: object) -> stored_tasks.StoredTasks:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(stored_tasks, "_read", read)
    outcomes = _answers(OSError("refused"), OSError("refused"), {("a1", "t1"): "{}"})
    assert stored_tasks.stored_tasks(INVENTORY, ["a1"]) == {("a1", "t1"): "{}"}
    outcomes = _answers(OSError("refused"))
    with pytest.raises(LabError, match=r"^Cassandra tasks table not readable at consistency ALL within 0s: "
                                       r"OSError: refused$"):
        stored_tasks.stored_tasks(INVENTORY, ["a1"], retry_for_s=0)


class _Locust:
    def __init__(self, returncode: int | None) -> None:
        self.returncode = returncode
        self.pid = 4242

    def poll(self) -> int | None:
        return self.returncode


def _controller(tmp_path: Path, exited: int | None, requested: bool) -> LoadController:
    controller = LoadController(LoadSpec(base_url="http://127.0.0.1:18080"), tmp_path, start_timeout_s=0.05)
    controller._process = _Locust(exited)  # type: ignore[assignment]
    if requested:
        controller.requests_file.write_text("{}\n")
    return controller


def test_load_starts_once_its_first_request_is_journaled_even_if_locust_has_exited(tmp_path: Path) -> None:
    _controller(tmp_path, exited=0, requested=True)._wait_for_first_request()


@pytest.mark.parametrize(("exited", "refusal"), [
    (3, r"^locust exited with code 3 before sending a request; last lines of .*locust\.log:\n\(no log\)$"),
    (None, r"^locust sent no request within 0\.05s; last lines of .*locust\.log:\n\(no log\)$"),
])
def test_load_that_never_requests_says_why(tmp_path: Path, exited: int | None, refusal: str) -> None:
    with pytest.raises(LoadStartError, match=refusal):
        _controller(tmp_path, exited=exited, requested=False)._wait_for_first_request()


class _Sentinels:
    """A target whose Sentinels name the masters given, one per question; LabError for a None."""

    def __init__(self, *masters: str | None) -> None:
        self.masters = iter(masters)
        self.stopped: list[str] = []

    def redis_master(self) -> str:
        master = next(self.masters, None)
        if master is None:
            raise LabError("no Sentinel answers")
        return master

    def stop(self, name: str, timeout_s: int = 2) -> None:
        self.stopped.append(name)


def _dropped(tmp_path: Path, target: _Sentinels, wait_failover_s: float) -> dict[str, Any]:
    run = Run(tmp_path, "lab", "redis-master-failover", target_factory=lambda _: target)
    run.__dict__.update(inventory=INVENTORY, ledger=Ledger("lab", tmp_path))
    return redis_actions.drop_master("stop", wait_failover_s, configuration=attach({}, run))


def test_dropping_the_master_waits_through_silent_sentinels_for_the_new_one(tmp_path: Path) -> None:
    target = _Sentinels("redis-a", "redis-a", None, "redis-b")
    dropped = _dropped(tmp_path, target, wait_failover_s=5)
    assert (dropped["old_master"], dropped["new_master"], target.stopped) == ("redis-a", "redis-b", ["redis-a"])
    assert dropped["switched_after_s"] is not None


def test_a_master_that_never_changes_is_the_old_one_with_no_switch_time(tmp_path: Path) -> None:
    dropped = _dropped(tmp_path, _Sentinels("redis-a", "redis-a"), wait_failover_s=0.15)
    assert (dropped["new_master"], dropped["switched_after_s"]) == ("redis-a", None)
