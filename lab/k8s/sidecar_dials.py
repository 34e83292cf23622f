"""A Toxiproxy sidecar cannot be disabled while it dials. Its accept loop dials each upstream without a timeout, and
a disable (or the enable after it) waits for that loop. On Kubernetes a dial can hang for two minutes: a SYN sent in
the moment a stopped member's old pod address was still in kube-proxy's rules keeps going there. Before a run first
switches a sidecar's proxy, the sidecar's pending dials to its upstreams are ended from the pod's node (`ss -K`), and
again until a switch that does not answer has taken effect; each would have failed anyway."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from lab.k8s.node_faults import LabNodes

EVERY_S = 0.5


def dial_ender(nodes: LabNodes, node: str, pid: int, upstreams: list[str]) -> Callable[[], None]:
    """Ends the SYN-SENT sockets to any of `upstreams` (ip:port) in the network namespace of process `pid` on
    `node`."""
    targets = [upstream.rpartition(":") for upstream in upstreams if ":" in upstream]
    match = " or ".join(f"( dst {host} and dport = :{int(port)} )" for host, _, port in targets)
    script = f"nsenter -t {pid} -n ss -K -tn state syn-sent '( {match} )'"

    def end() -> None:
        if targets:
            nodes.run(node, script, check=False)

    return end


@contextmanager
def pending_dials_ended(end: Callable[[], None], every_s: float = EVERY_S) -> Iterator[None]:
    """End pending dials now and every `every_s` until the block is done."""
    done = threading.Event()

    def keep_ending() -> None:
        end()
        while not done.wait(every_s):
            end()

    worker = threading.Thread(target=keep_ending, name="end-pending-dials", daemon=True)
    worker.start()
    try:
        yield
    finally:
        done.set()
        worker.join()
