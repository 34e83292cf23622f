"""Whether the lab answers at all: a TCP connect to its load balancer's published port, with a short timeout."""

from __future__ import annotations

import socket

from kernel.inventory import Inventory

CONNECT_TIMEOUT_S = 1.0


def lab_reachable(inventory: Inventory) -> str | None:
    """None when the lab's load balancer accepts a connection; otherwise why not, in one line."""
    balancers = inventory.by_role("lb")
    port = balancers[0].host_ports.get("http") if balancers else None
    host = balancers[0].host if balancers else ""
    if port is None:
        return f"lab {inventory.lab_id!r}: its inventory names no load balancer port; run `chaos360 lab up`"
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            return None
    except OSError as error:
        return (f"lab {inventory.lab_id!r} does not answer on {host}:{port}, its load balancer "
                f"({error.strerror or error}); check `chaos360 lab status`")
