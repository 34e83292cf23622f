"""HAProxy's runtime API on loopback: server states and weights, for rolling updates and canaries."""

from __future__ import annotations

import socket

from kernel.errors import LabError
from kernel.inventory import Inventory

BACKEND = "agent360"
STATES = ("ready", "drain", "maint")
CHECK_CONFIGURED, CHECK_ENABLED = 0x2, 0x4  # srv_check_state bits CHK_ST_CONFIGURED and CHK_ST_ENABLED


def command(inventory: Inventory, line: str) -> str:
    lb = inventory.by_role("lb")[0]
    try:
        with socket.create_connection(("127.0.0.1", lb.host_ports["admin"]), timeout=3) as conn:
            conn.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
    except OSError as error:
        raise LabError(f"HAProxy runtime API unreachable: {error}") from None
    answer = b"".join(chunks).decode(errors="replace").strip()
    if answer and not answer.startswith(("#", "Weight", "weight")) and "No such" in answer:
        raise LabError(f"HAProxy refused {line!r}: {answer}")
    return answer


def set_state(inventory: Inventory, server: str, state: str) -> None:
    if state not in STATES:
        raise LabError(f"server state {state!r} is not one of {STATES}")
    command(inventory, f"set server {BACKEND}/{server} state {state}")


def set_weight(inventory: Inventory, server: str, weight: int) -> None:
    command(inventory, f"set weight {BACKEND}/{server} {weight}")


def sessions(inventory: Inventory) -> dict[str, int]:
    """Current sessions per server, from `show stat`."""
    lines = command(inventory, "show stat").splitlines()
    header = lines[0].lstrip("# ").split(",")
    result = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") == BACKEND and row.get("svname") not in ("FRONTEND", "BACKEND"):
            result[row["svname"]] = int(row.get("scur") or 0)
    return result


def set_checks(inventory: Inventory, server: str, enabled: bool) -> None:
    """Health checks on or off for one server; off, HAProxy keeps it in rotation whatever it answers."""
    command(inventory, f"{'enable' if enabled else 'disable'} health {BACKEND}/{server}")


def checks(inventory: Inventory) -> dict[str, bool]:
    return checks_enabled(command(inventory, f"show servers state {BACKEND}"))


def checks_enabled(servers_state: str) -> dict[str, bool]:
    """Per health-checked server of the backend, whether its checks run, from `show servers state` (a version
    line, a `# be_id ...` header, one row per server); servers configured without checks are left out."""
    lines = servers_state.splitlines()
    header = next((line.lstrip("# ").split() for line in lines if line.startswith("# be_id")), None)
    if header is None:
        raise LabError(f"HAProxy `show servers state` without a header: {servers_state[:200]!r}")
    rows = [dict(zip(header, line.split(), strict=False)) for line in lines if line and line[0].isdigit()]
    states = {row["srv_name"]: int(row["srv_check_state"]) for row in rows
              if row.get("be_name") == BACKEND and "srv_check_state" in row}
    return {name: bool(state & CHECK_ENABLED) for name, state in states.items() if state & CHECK_CONFIGURED}
