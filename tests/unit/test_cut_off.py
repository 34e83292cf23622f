"""A link cut's replica: excluded from all_ready while cut, judged on leaving the balancer and staying out."""

from pathlib import Path

from chaos360.recorders import faulted_apps
from kernel.ledger import Ledger, Undo
from kernel.record import Event
from kernel.verdict import Verdict
from lab.docker_lab import to_inventory
from lab.topology import LabSettings, plan
from probes.cut_off import judge_cut_off_unready

INVENTORY = to_inventory(plan(LabSettings()), {})
T0 = 1_700_000_000.0


def _cut(at: float = 0.0, cut_off: tuple[str, ...] = ("app-a",)) -> Event:
    return Event(T0 + at, "fault.effect", {"fault": "link-down", "proxies": ["toxiproxy-a/cassandra-a"],
                                           "present": 1, "cut_off": list(cut_off)})


def _ready(at: float, app_a: bool) -> Event:
    return Event(T0 + at, "ready", {"all_ready": True, "instances": {"app-a": app_a, "app-b": True, "app-c": True}})


def _heal(at: float) -> Event:
    return Event(T0 + at, "fault.heal", {"fault": "link-down", "entry": "e1"})


def test_a_cut_replica_out_after_two_seconds_and_until_the_heal_passes():
    events = [_cut(), _ready(0.5, True), _ready(1.5, True), _ready(2.0, False), _ready(8.0, False), _heal(9.0),
              _ready(9.5, True)]
    judgement = judge_cut_off_unready(events, limit_s=10)
    assert judgement.verdict is Verdict.PASS and judgement.measured == 2.0
    assert "app-a out after 2.0s" in judgement.detail


def test_a_cut_replica_that_stays_ready_fails():
    judgement = judge_cut_off_unready([_cut(), _ready(1.0, True), _ready(5.0, True), _heal(9.0)], limit_s=10)
    assert judgement.verdict is Verdict.FAIL and judgement.measured is None
    assert "app-a answered ready in all 2 samples while cut off" in judgement.detail


def test_a_cut_replica_back_in_the_balancer_before_the_heal_fails():
    events = [_cut(), _ready(1.0, False), _ready(4.0, True), _heal(9.0)]
    judgement = judge_cut_off_unready(events, limit_s=10)
    assert judgement.verdict is Verdict.FAIL and "answered ready again 4.0s after the cut" in judgement.detail


def test_leaving_later_than_the_limit_fails_and_no_cut_is_unknown():
    slow = judge_cut_off_unready([_cut(), _ready(12.0, False), _heal(20.0)], limit_s=10)
    assert slow.verdict is Verdict.FAIL and slow.measured == 12.0
    assert judge_cut_off_unready([_ready(1.0, True)], limit_s=10).verdict is Verdict.UNKNOWN


def test_a_cut_link_excludes_the_replicas_behind_its_sidecar_and_a_toxic_does_not(tmp_path: Path):
    ledger = Ledger("lab", tmp_path)
    faulted = faulted_apps(INVENTORY, ledger)
    ledger.record("toxic-latency", Undo(op="remove_toxic", args={"sidecar": "toxiproxy-b", "proxy": "redis-a",
                                                                 "toxic": "t"}), run="r")
    assert faulted() == set()
    ledger.record("link-down", Undo(op="enable_proxy", args={"sidecar": "toxiproxy-a", "proxy": "cassandra-a"}),
                  run="r")
    assert faulted() == {"app-a"}
