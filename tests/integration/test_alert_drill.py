"""The alert drill on the real lab: a replica the balancer cannot hide keeps failing until the lab's Prometheus fires
the guide's HighErrorRate, which must then resolve after the heal."""

import subprocess
import sys
from pathlib import Path

import pytest

from chaos360.runner import run_file
from kernel.inventory import Inventory
from kernel.verdict import Verdict
from lab.leftovers import find_leftovers
from lab.target import DockerLabTarget

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_health_checks_turned_off_are_a_leftover_that_heal_turns_back_on(lab: Inventory, target: DockerLabTarget):
    target.set_balancer_checks("app-b", False)
    assert target.balancer_checks()["app-b"] is False
    assert "load balancer: health checks of app-b off" in find_leftovers(lab)
    healed = subprocess.run([sys.executable, "-m", "chaos360", "heal"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, check=False)
    assert healed.returncode == 0, healed.stdout + healed.stderr
    assert target.balancer_checks() == {name: True for name in target.balancer_checks()}
    assert find_leftovers(lab) == []


def test_the_alert_drill_fires_high_error_rate_after_its_for_duration_and_sees_it_resolve(lab: Inventory):
    outcome = run_file(ROOT / "experiments" / "alert-drill.yaml", lab.lab_id)
    print(outcome.summary, *outcome.reasons, sep="\n")
    judged = {j["name"]: j for j in outcome.judgements}
    assert outcome.verdict is Verdict.PASS, outcome.summary
    assert 300 <= judged["alert fired"]["measured"] <= 420, judged["alert fired"]
    assert 0 < judged["alert resolved"]["measured"] <= 330, judged["alert resolved"]
    assert find_leftovers(lab) == []

