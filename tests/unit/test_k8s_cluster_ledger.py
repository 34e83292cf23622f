"""The cluster ledger's compare-and-swap over a ConfigMap, against an in-memory API that behaves like the server's
(resourceVersion preconditions, 404 and 409)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from kernel.errors import UsageError
from kernel.ledger import Ledger, Undo
from lab.k8s.cluster_ledger import DATA_KEY, LEDGER_LABELS, ConfigMapLedgerStore


class FakeCore:
    def __init__(self) -> None:
        self.data: dict[str, str] | None = None
        self.version = 0
        self.writes = 0
        self.before_write: list[Any] = []  # callables run before the next write lands: a concurrent writer

    def read_namespaced_config_map(self, name: str, namespace: str) -> Any:
        if self.data is None:
            raise ApiException(status=404, reason="Not Found")
        return SimpleNamespace(data=dict(self.data), metadata=SimpleNamespace(resource_version=str(self.version)))

    def _interleave(self) -> None:
        while self.before_write:
            self.before_write.pop(0)()

    def create_namespaced_config_map(self, namespace: str, body: dict[str, Any]) -> None:
        self._interleave()
        if self.data is not None:
            raise ApiException(status=409, reason="AlreadyExists")
        assert body["metadata"]["labels"] == LEDGER_LABELS
        self._store(body["data"])

    def replace_namespaced_config_map(self, name: str, namespace: str, body: dict[str, Any]) -> None:
        self._interleave()
        if self.data is None:
            raise ApiException(status=404, reason="Not Found")
        if body["metadata"]["resourceVersion"] != str(self.version):
            raise ApiException(status=409, reason="Conflict")
        self._store(body["data"])

    def delete_namespaced_config_map(self, name: str, namespace: str, body: dict[str, Any]) -> None:
        self._interleave()
        if body["preconditions"]["resourceVersion"] != str(self.version):
            raise ApiException(status=409, reason="Conflict")
        self.data, self.writes = None, self.writes + 1

    def _store(self, data: dict[str, str]) -> None:
        self.data, self.version, self.writes = dict(data), self.version + 1, self.writes + 1


def _ledger(core: FakeCore) -> Ledger:
    return Ledger("agent360", store=ConfigMapLedgerStore(core, "agent360"))


def test_reading_an_absent_ledger_creates_nothing():
    core = FakeCore()
    assert _ledger(core).entries() == []
    assert core.writes == 0 and core.data is None


def test_a_write_that_lost_the_race_is_applied_again_on_what_the_winner_wrote():
    core = FakeCore()
    first = _ledger(core).record("kill", Undo(op="start", args={"name": "redis-a"}))
    core.before_write.append(lambda: _ledger(core).record("pause", Undo(op="resume", args={"name": "sentinel-b"})))
    _ledger(core).record("zone-partition", Undo(op="rejoin", args={"zone": "c"}))
    assert [e.fault for e in _ledger(core).entries()] == ["kill", "pause", "zone-partition"]
    assert _ledger(core).entries()[0] == first


def test_the_last_discard_deletes_the_configmap():
    core = FakeCore()
    ledger = _ledger(core)
    entries = [ledger.record("kill", Undo(op="start", args={"name": f"m{n}"})) for n in range(2)]
    ledger.discard(entries[0].id)
    assert core.data is not None
    ledger.discard(entries[1].id)
    assert core.data is None


def test_heal_applies_newest_first_and_keeps_what_failed():
    core = FakeCore()
    ledger = _ledger(core)
    ledger.record("stop", Undo(op="start", args={"name": "redis-c"}))
    ledger.record("pause", Undo(op="resume", args={"name": "sentinel-b"}))
    applied: list[str] = []

    def apply(undo: Undo) -> None:
        applied.append(undo.op)
        if undo.op == "start":
            raise RuntimeError("API down")

    report = ledger.heal(apply)
    assert applied == ["resume", "start"]
    assert [e.fault for e in report.healed] == ["pause"] and [e.fault for e, _ in report.failed] == ["stop"]
    assert [e.fault for e in ledger.entries()] == ["stop"]


def test_a_corrupt_ledger_is_one_clear_error():
    core = FakeCore()
    core.data = {DATA_KEY: '{"not": "a list"}'}
    with pytest.raises(UsageError, match="ConfigMap agent360/chaos360-ledger is corrupt"):
        _ledger(core).entries()


def test_an_api_that_does_not_answer_is_one_lab_error():
    from urllib3.exceptions import MaxRetryError

    from kernel.errors import LabError

    core = FakeCore()

    def refuse(name: str, namespace: str) -> Any:
        raise MaxRetryError(None, "/api/v1/namespaces/agent360/configmaps/chaos360-ledger", "Connection refused")

    core.read_namespaced_config_map = refuse  # type: ignore[method-assign]
    with pytest.raises(LabError, match="ConfigMap agent360/chaos360-ledger not readable"):
        _ledger(core).entries()
