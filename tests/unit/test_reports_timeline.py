"""The timeline's traffic buckets: achieved and intended rate under a paced load."""

from kernel.record import Request
from reports.timeline import buckets

T0 = 1_700_000_000.0


def _req(t: float, latency_ms: float = 10.0) -> Request:
    return Request(T0 + t, "GET /x", "read", True, 200, latency_ms, None, "task", "agent")


def _paced(users: int, pace_s: float, seconds: float, stall_at: float, stall_s: float) -> list[Request]:
    """Every user sends every pace_s; the request each sends at stall_at takes stall_s."""
    history = []
    for user in range(users):
        t = user * pace_s / users
        while t < seconds:
            stalled = stall_at <= t < stall_at + pace_s
            history.append(_req(t, stall_s * 1000 if stalled else 10.0))
            t += stall_s if stalled else pace_s
    return history


def test_a_stall_dips_the_achieved_rate_but_not_the_intended_one() -> None:
    stalled = buckets(_paced(10, 0.1, 8.0, stall_at=3.0, stall_s=2.0), T0, pace_s=0.1)
    by_second = {int(b.start_s): b for b in stalled}
    assert by_second[1].rps == by_second[1].intended_rps == 100
    assert by_second[4].rps == 0 and by_second[4].intended_rps == 100
    assert by_second[4].p95_ms is not None and by_second[4].p95_ms > 900


def test_an_unpaced_load_has_no_intended_rate() -> None:
    assert all(b.intended_rps is None for b in buckets(_paced(2, 0.5, 3.0, 1.0, 1.0), T0))


def test_a_lab_repair_is_a_harness_marker_naming_what_was_repaired() -> None:
    from kernel.record import Event
    from reports.timeline import markers

    repaired = Event(12.0, "lab.repair", {"repaired": ["node-c: restarted kube-router and kube-proxy"]})
    (marker,) = markers([repaired], t0=10.0)
    assert (marker.source, marker.label) == ("harness", "lab repaired: node-c: restarted kube-router and kube-proxy")
    assert marker.at_s == 2.0 and marker.notable
