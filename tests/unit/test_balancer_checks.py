"""Which servers HAProxy health-checks, read from `show servers state`."""

from __future__ import annotations

import pytest

from kernel.errors import LabError
from lab.haproxy_admin import checks_enabled

HEADER = ("# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
          "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
          "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port "
          "srv_check_addr srv_agent_addr srv_agent_port")


def _row(server_id: int, name: str, check_state: int, backend: str = "agent360") -> str:
    return (f"4 {backend} {server_id} {name} 172.28.36.2{server_id} 2 0 30 30 72 15 3 3 {check_state} 0 0 0 - 8080 - "
            "0 0 - - 0")


def test_checks_on_off_and_servers_without_checks() -> None:
    text = "\n".join(["1", HEADER, _row(1, "app-a", 2), _row(2, "app-b", 6), _row(4, "app-a-failopen", 0),
                      _row(8, "canary", 14), _row(9, "other", 2, backend="stats")])
    assert checks_enabled(text) == {"app-a": False, "app-b": True, "canary": True}


def test_an_answer_without_the_header_is_an_error_not_an_empty_backend() -> None:
    with pytest.raises(LabError, match="without a header"):
        checks_enabled("Unknown command")
