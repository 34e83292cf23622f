"""A lab whose data set was lost is not ready until its restore ran, however well its empty nodes serve."""

from pathlib import Path

import pytest

from kernel.ledger import Ledger, Undo
from lab.docker_lab import unrestored_check


def test_a_loss_awaiting_its_restore_keeps_the_lab_from_being_ready(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAOS360_STATE_DIR", str(tmp_path))
    assert unrestored_check("lab1").ok
    ledger = Ledger("lab1")
    ledger.record("stop", Undo(op="start", args={"name": "cassandra-c"}))
    assert unrestored_check("lab1").ok
    entry = ledger.record("lose-data", Undo(op="restore", args={"backup": "b7", "store": "/x", "what": "all"}))
    check = unrestored_check("lab1")
    assert not check.ok and unrestored_check("other-lab").ok
    assert "all lost, backup b7 not restored yet" in check.detail and "chaos360 heal" in check.detail
    ledger.discard(entry.id)
    assert unrestored_check("lab1").ok
