"""What a fault can leave behind in the lab, looked for directly in the system rather than in the ledger."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import docker

from kernel.inventory import Inventory
from kernel.ledger import Ledger
from kernel.target import unchecked_servers
from lab.containers import LABEL_LAB
from lab.links import ToxiproxySidecars
from lab.target import DockerLabTarget
from loadtests.processes import find_load_processes


def container_leftovers(inventory: Inventory, client: docker.DockerClient) -> list[str]:
    found = []
    for container in client.containers.list(all=True, filters={"label": f"{LABEL_LAB}={inventory.lab_id}"}):
        if "-variant" in container.name:
            found.append(f"extra replica {container.name} ({container.status})")
        elif container.status != "running":
            found.append(f"container {container.name} is {container.status}")
    return found


def network_leftovers(inventory: Inventory, target: DockerLabTarget) -> list[str]:
    names = [i.name for i in inventory.instances]
    with ThreadPoolExecutor(max_workers=8) as pool:
        rules = dict(zip(names, pool.map(target.isolation_rules, names), strict=True))
    return [f"{name}: {len(found)} isolation rule(s)" for name, found in rules.items() if found]


def toxic_leftovers(inventory: Inventory, target: ToxiproxySidecars) -> list[str]:
    found = []
    for sidecar in inventory.by_role("toxiproxy"):
        for proxy, toxics in target.toxics(sidecar.name).items():
            if proxy.endswith(":disabled"):
                found.append(f"{sidecar.name}: proxy {proxy.removesuffix(':disabled')} disabled")
            found += [f"{sidecar.name}/{proxy}: toxic {name}" for name in toxics]
    return found


def balancer_leftovers(target: DockerLabTarget) -> list[str]:
    return [f"load balancer: health checks of {server} off" for server in unchecked_servers(target)]


def find_leftovers(inventory: Inventory) -> list[str]:
    """Every trace of a fault or of load still present; empty when the lab is clean."""
    client = docker.from_env()
    target = DockerLabTarget(inventory, client)
    found = [f"ledger entry {e.fault} ({e.id})" for e in Ledger(inventory.lab_id).entries()]
    found += [f"load process {pid}" for pid in find_load_processes()]
    found += container_leftovers(inventory, client)
    found += network_leftovers(inventory, target)
    found += toxic_leftovers(inventory, target)
    found += balancer_leftovers(target)
    return found
