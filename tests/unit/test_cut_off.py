"""A link cut's replica: excluded from all_ready while cut, judged on leaving the balancer and staying out."""

from pathlib import Path

from actions import links
from chaos360.recorders import faulted_apps
from kernel.ledger import Ledger
from kernel.record import Event, read_events
from kernel.run import Run, attach
from kernel.verdict import Verdict
from lab.docker_lab import to_inventory
from lab.topology import LabSettings, plan
from probes.checks import judge_fault_effect
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


class _Sidecars:
    """Toxiproxy as the link actions see it: proxies disabled or carrying toxics."""

    def __init__(self) -> None:
        self.state: dict[str, dict[str, list[str]]] = {}

    def set_proxy_enabled(self, sidecar: str, proxy: str, enabled: bool) -> None:
        proxies = self.state.setdefault(sidecar, {})
        proxies.pop(f"{proxy}:disabled", None) if enabled else proxies.setdefault(f"{proxy}:disabled", [])

    def add_toxic(self, sidecar: str, proxy: str, spec) -> None:
        self.state.setdefault(sidecar, {}).setdefault(proxy, []).append(f"chaos360_{spec.kind}_{spec.stream}")

    def toxics(self, sidecar: str) -> dict[str, list[str]]:
        return self.state.get(sidecar, {})


def _run(tmp_path: Path) -> Run:
    run = Run(tmp_path, "lab", "zone-db-link-cut", target_factory=lambda _: _Sidecars())
    run.__dict__.update(inventory=INVENTORY, ledger=Ledger("lab", tmp_path))
    return run


def test_a_cut_link_takes_out_the_replicas_behind_its_sidecar_and_a_toxic_none(tmp_path: Path):
    run = _run(tmp_path)
    configuration = attach({}, run)
    faulted = faulted_apps(INVENTORY, run.ledger)
    links.degrade_link("app->redis", zone="b", attributes={"latency": 100}, configuration=configuration)
    assert faulted() == set()
    links.cut_link("app->cassandra", zone="a", configuration=configuration)
    assert faulted() == {"app-a"}
    effects = [e for e in read_events(run.run_dir / "events.jsonl") if e.kind == "fault.effect"]
    assert [(e.get("fault"), e.get("took_effect"), e.get("cut_off")) for e in effects] == [
        ("toxic-latency", True, None), ("link-down", True, ["app-a"])]


def test_an_effect_not_seen_by_the_action_fails_the_fault_effect_check() -> None:
    seen = Event(T0, "fault.effect", {"fault": "link-down", "took_effect": True})
    unseen = Event(T0, "fault.effect", {"fault": "link-down", "present": 1, "proxies": ["x"]})
    assert judge_fault_effect([seen]).verdict is Verdict.PASS
    assert judge_fault_effect([seen, unseen]).verdict is Verdict.FAIL
