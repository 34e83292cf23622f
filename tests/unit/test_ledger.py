import pytest

from kernel.errors import UsageError
from kernel.ledger import Ledger, Undo


def test_heal_undoes_newest_first_and_empties_the_ledger(tmp_path):
    ledger = Ledger("lab", tmp_path)
    ledger.record("stop", Undo(op="start", args={"name": "redis-a"}))
    ledger.record("isolate", Undo(op="rejoin", args={"zone": "b"}))
    applied = []
    report = ledger.heal(applied.append)
    assert [u.op for u in applied] == ["rejoin", "start"]
    assert [e.fault for e in report.healed] == ["isolate", "stop"]
    assert ledger.entries() == []
    assert Ledger("lab", tmp_path).heal(applied.append).summary() == "nothing to heal"


def test_a_failed_undo_stays_in_the_ledger_and_the_others_still_heal(tmp_path):
    ledger = Ledger("lab", tmp_path)
    ledger.record("stop", Undo(op="start", args={"name": "a"}))
    ledger.record("pause", Undo(op="resume", args={"name": "b"}))

    def apply(undo: Undo) -> None:
        if undo.op == "resume":
            raise RuntimeError("docker said no")

    report = ledger.heal(apply)
    assert [e.fault for e in report.healed] == ["stop"]
    assert [e.fault for e, _ in report.failed] == ["pause"]
    assert "FAILED to heal pause: RuntimeError: docker said no" in report.summary()
    assert [e.fault for e in Ledger("lab", tmp_path).entries()] == ["pause"]


def test_the_ledger_survives_a_new_process(tmp_path):
    Ledger("lab", tmp_path).record("kill", Undo(op="start", args={"name": "app-a"}), run="r1")
    (entry,) = Ledger("lab", tmp_path).entries()
    assert (entry.fault, entry.undo.args["name"], entry.run) == ("kill", "app-a", "r1")


def test_a_corrupt_ledger_is_one_clear_error(tmp_path):
    (tmp_path / "ledger-lab.json").write_text("{not json")
    with pytest.raises(UsageError, match="corrupt"):
        Ledger("lab", tmp_path).entries()
