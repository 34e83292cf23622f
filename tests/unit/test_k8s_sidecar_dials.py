"""A sidecar's pending dials are ended in its pod's network namespace, only those to its own upstreams, and again
and again while a switch that did not answer takes effect."""

from __future__ import annotations

import threading
import time

from lab.k8s.sidecar_dials import dial_ender, pending_dials_ended


class RecordingNodes:
    def __init__(self) -> None:
        self.scripts: list[tuple[str, str]] = []

    def run(self, node: str, script: str, check: bool = True) -> str:
        self.scripts.append((node, script))
        return ""


def test_only_syn_sent_sockets_to_the_sidecars_upstreams_are_ended_in_its_namespace() -> None:
    nodes = RecordingNodes()
    dial_ender(nodes, "node-b", 4242, ["10.96.36.41:6379", "10.96.36.62:9042"])()  # type: ignore[arg-type]
    [(node, script)] = nodes.scripts
    assert node == "node-b"
    assert script.startswith("nsenter -t 4242 -n ss -K -tn state syn-sent ")
    assert "( dst 10.96.36.41 and dport = :6379 ) or ( dst 10.96.36.62 and dport = :9042 )" in script


def test_a_sidecar_without_upstreams_ends_nothing() -> None:
    nodes = RecordingNodes()
    dial_ender(nodes, "node-a", 1, [""])()  # type: ignore[arg-type]
    assert nodes.scripts == []


def test_dials_are_ended_at_once_and_on_until_the_switch_is_done() -> None:
    ended: list[float] = []
    lock = threading.Lock()

    def end() -> None:
        with lock:
            ended.append(time.monotonic())

    with pending_dials_ended(end, every_s=0.05):
        time.sleep(0.3)
    count = len(ended)
    time.sleep(0.15)
    assert count >= 4, "ended once at once, then every 50 ms"
    assert len(ended) == count, "nothing is ended after the switch"
