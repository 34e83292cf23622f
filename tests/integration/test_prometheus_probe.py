"""Prometheus as a probe: the guide's alert rules are loaded, restarts and the 5xx ratio are measured."""

from __future__ import annotations

import time

import pytest

from kernel.inventory import Inventory
from kernel.service_client import run as smoke_run
from lab.target import DockerLabTarget
from probes import prometheus

pytestmark = pytest.mark.integration


def test_the_guides_alert_rules_are_loaded(lab: Inventory) -> None:
    states = prometheus.alert_states(lab.host_url("prometheus"))
    assert {"HighErrorRate", "PodRestart"} <= set(states)
    assert set(states.values()) <= {"inactive", "pending", "firing"}


def test_scalars_and_empty_results(lab: Inventory) -> None:
    base = lab.host_url("prometheus")
    assert prometheus.scalar(base, "vector(2)") == 2.0
    assert prometheus.scalar(base, "vector(0) / 0") is None
    assert prometheus.scalar(base, 'up{job="no-such-job"}') is None


def test_a_crash_shows_as_a_restart_and_traffic_as_a_ratio(lab: Inventory, target: DockerLabTarget) -> None:
    base = lab.host_url("prometheus")
    assert smoke_run(lab.host_url("lb"), tasks=20).ok
    before = target.restart_count("app-c")
    target.kill("app-c")
    target.wait_restarted("app-c", before)
    deadline = time.monotonic() + 30
    view = prometheus.server_view(base, 20)
    while (view.max_restarts or 0) < 1 and time.monotonic() < deadline:
        time.sleep(1)
        view = prometheus.server_view(base, 20)
    assert view.max_restarts is not None and view.max_restarts >= 1
    assert view.five_xx_ratio is not None and 0 <= view.five_xx_ratio <= 1


def test_no_5xx_series_is_a_ratio_of_zero_not_unknown(lab: Inventory) -> None:
    base = lab.host_url("prometheus")
    expr = prometheus.FIVE_XX_RATIO.format(window=60).replace('status=~"5.."', 'status="599"')
    assert smoke_run(lab.host_url("lb"), tasks=5).ok
    deadline = time.monotonic() + 30
    while (ratio := prometheus.scalar(base, expr)) is None and time.monotonic() < deadline:
        time.sleep(1)
    assert ratio == 0.0
