"""The lab's external balancer: its configuration and how its node checks are judged."""

import pytest

from lab.k8s import edge
from lab.k8s.edge import edge_cfg, judge_nodes
from lab.k8s.manifests import APP_NODE_PORT, CANARY_NODE_PORT
from lab.k8s.nodes import Node


def _row(name: str, status: str, check_status: str = "L7OK", code: str = "200") -> dict[str, str]:
    return {"svname": name, "status": status, "check_status": check_status, "check_code": code}


def test_every_node_checked_and_each_a_fail_open_backup() -> None:
    nodes = [Node(name=f"node-{z}", zone=z, ip=f"172.31.250.{11 + i}") for i, z in enumerate("abc")]
    cfg = edge_cfg(nodes)
    assert f"server node-b 172.31.250.12:{APP_NODE_PORT} check" in cfg
    assert f"server node-c-failopen 172.31.250.13:{APP_NODE_PORT} backup" in cfg
    assert "option allbackups" in cfg and "option httpchk GET /ready" in cfg


def test_all_nodes_up_is_ready() -> None:
    check = judge_nodes([_row("node-a", "UP"), _row("node-b", "UP 1/2")], 2)
    assert check.ok and check.detail == "2/2 nodes UP (node-a, node-b)"


def test_a_down_node_says_how_its_check_ended() -> None:
    check = judge_nodes([_row("node-a", "UP"), _row("node-c", "DOWN", "L4TOUT", "")], 2)
    assert not check.ok
    assert check.detail == "1/2 nodes UP (node-a); node-c DOWN (L4TOUT)"
    refused = judge_nodes([_row("node-a", "DOWN", "L7STS", "503")], 1)
    assert refused.detail == "0/1 nodes UP (none); node-a DOWN (L7STS 503)"


def test_the_nodes_share_ninety_and_a_canary_port_ten_out_of_rotation_until_steered() -> None:
    nodes = [Node(name=f"node-{z}", zone=z, ip=f"172.31.250.{11 + i}") for i, z in enumerate("abc")]
    cfg = edge_cfg(nodes)
    assert cfg.count(" weight 30") == 3
    assert f"server canary 172.31.250.11:{CANARY_NODE_PORT} check disabled weight 10" in cfg
    assert "stats socket ipv4@0.0.0.0:9999 level admin" in cfg


def test_a_canary_in_rotation_does_not_stand_in_for_a_node_that_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [_row("node-a", "UP"), _row("node-b", "UP"), _row("node-c", "DOWN", "L4TOUT", ""), _row("canary", "UP")]
    monkeypatch.setattr(edge, "_server_rows", lambda: rows)
    check = edge.check(3)
    assert not check.ok and check.detail.startswith("2/3 nodes UP")
    assert edge.server_states()["canary"] == "UP", "the canary's state is still there for the run to steer by"
