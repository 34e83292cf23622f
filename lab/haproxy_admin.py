"""HAProxy's runtime API on loopback: server states and weights, for rolling updates and canaries."""

from __future__ import annotations

import socket

from kernel.errors import LabError
from kernel.inventory import Inventory

BACKEND = "agent360"
STATES = ("ready", "drain", "maint")


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
