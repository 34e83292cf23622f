"""The lab as a fault target: container primitives addressed by inventory name, never outside the lab."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
from docker.models.containers import Container

from actions.restore import restore
from kernel.backup_store import open_store
from kernel.errors import LabError, UsageError
from kernel.inventory import Inventory, InventoryInstance
from kernel.ledger import Undo
from kernel.progress import Progress
from kernel.target import CANARY_SLOT, SURGE_SLOT
from kernel.waiting import wait_for
from lab import archive, docker_lab, haproxy_admin
from lab.containers import LABEL_LAB
from lab.docker_lab import remove_container
from lab.links import ToxiproxySidecars
from lab.readiness import SERVING_CHECKS, current_master, haproxy_servers, run_checks
from lab.variants import start_variant

RULE_COMMENT = "chaos360-isolation"


class DockerLabTarget(ToxiproxySidecars):
    """Crash, stop and start lab instances; every call checks the container belongs to this lab."""

    def __init__(self, inventory: Inventory, client: docker.DockerClient | None = None) -> None:
        self.inventory = inventory
        self._client = client or docker.from_env()

    def container(self, name: str) -> Container:
        instance = self.inventory.get(name)
        try:
            container = self._client.containers.get(instance.container)
        except docker.errors.NotFound:
            raise LabError(f"container {instance.container} of {name} is missing") from None
        if container.labels.get(LABEL_LAB) != self.inventory.lab_id:
            raise UsageError(f"container {instance.container} is not part of lab {self.inventory.lab_id}")
        return container

    def restart_count(self, name: str) -> int:
        container = self.container(name)
        return int(container.attrs.get("RestartCount", 0))

    def kill(self, name: str) -> int:
        """Crash: SIGKILL the container's main process from the host, so the restart policy brings it back."""
        container = self.container(name)
        pid = int(container.attrs["State"]["Pid"])
        if pid <= 0:
            raise LabError(f"{name} is not running; nothing to crash")
        os.kill(pid, signal.SIGKILL)
        return pid

    def pause(self, name: str) -> None:
        self.container(name).pause()

    def resume(self, name: str) -> None:
        container = self.container(name)
        if container.attrs["State"].get("Paused"):
            container.unpause()

    def exec(self, name: str, command: list[str]) -> tuple[int, str]:
        result = self.container(name).exec_run(command)
        return int(result.exit_code), result.output.decode(errors="replace")

    def stop(self, name: str, timeout_s: int = 2) -> None:
        self.container(name).stop(timeout=timeout_s)

    def start(self, name: str) -> None:
        container = self.container(name)
        container.reload()
        if container.attrs["State"].get("Paused"):
            container.unpause()
        elif container.status != "running":
            container.start()

    def is_running(self, name: str) -> bool:
        container = self.container(name)
        return container.status == "running" and not container.attrs["State"].get("Paused")

    def wait_restarted(self, name: str, restarts_before: int, timeout_s: float = 60.0) -> float:
        """Seconds until the container runs again with a higher restart count."""

        def back() -> bool:
            container = self.container(name)
            return container.status == "running" and int(container.attrs.get("RestartCount", 0)) > restarts_before

        return wait_for(back, timeout_s, f"{name} back after its crash")

    def _zone_members(self, zone: str) -> tuple[list[InventoryInstance], list[InventoryInstance]]:
        inside = list(self.inventory.in_zone(zone))
        if not inside:
            raise UsageError(f"zone {zone!r} is not one of {list(self.inventory.zones)}")
        return inside, [i for i in self.inventory.instances if i.zone and i.zone != zone]

    def _iptables(self, name: str, arguments: list[str]) -> subprocess.CompletedProcess[str]:
        """Run iptables inside the instance's network namespace, entered from the host."""
        pid = int(self.container(name).attrs["State"]["Pid"])
        if pid <= 0:
            raise LabError(f"{name} is not running; its network cannot be changed")
        return subprocess.run(["nsenter", "-t", str(pid), "-n", "iptables", "-w", "5", *arguments],
                              capture_output=True, text=True, check=False)

    def _cut(self, name: str, peers: list[str]) -> None:
        for chain, flag in (("INPUT", "-s"), ("OUTPUT", "-d")):
            result = self._iptables(name, ["-I", chain, flag, ",".join(peers), "-j", "DROP",
                                           "-m", "comment", "--comment", RULE_COMMENT])
            if result.returncode != 0:
                raise LabError(f"iptables in {name} failed: {result.stderr.strip()}")

    def isolate(self, zone: str) -> list[str]:
        inside, outside = self._zone_members(zone)
        peers = [i.ip for i in outside]
        running = [i.name for i in inside if self.is_running(i.name)]
        with ThreadPoolExecutor(max_workers=max(1, len(running))) as pool:
            list(pool.map(lambda n: self._cut(n, peers), running))
        return running

    def isolation_rules(self, name: str) -> list[str]:
        if not self.is_running(name):
            return []
        result = self._iptables(name, ["-S"])
        return [line for line in result.stdout.splitlines() if RULE_COMMENT in line]

    def _clear_rules(self, name: str) -> None:
        for rule in self.isolation_rules(name):
            arguments = rule.split()
            arguments[0] = "-D"
            self._iptables(name, [a.strip('"') for a in arguments])

    def rejoin(self, zone: str) -> list[str]:
        inside, _ = self._zone_members(zone)
        names = [i.name for i in inside]
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            list(pool.map(self._clear_rules, names))
        return names

    def variant_slots(self) -> list[int]:
        pattern = re.compile(rf"{re.escape(self.inventory.lab_id)}-variant(\d+)-.+")
        lab_filter = {"label": f"{LABEL_LAB}={self.inventory.lab_id}"}
        matches = [pattern.fullmatch(c.name) for c in self._client.containers.list(all=True, filters=lab_filter)]
        return sorted({int(m.group(1)) for m in matches if m})

    def remove_variant(self, slot: int) -> None:
        """Remove an extra app replica (surge, canary) and take its HAProxy slot out of rotation."""
        for container in self._variant_containers(slot):
            remove_container(container)
        server = {SURGE_SLOT: "surge", CANARY_SLOT: "canary"}.get(slot)
        if server:
            haproxy_admin.set_state(self.inventory, server, "maint")

    def _variant_containers(self, slot: int) -> list[Container]:
        lab_filter = {"label": f"{LABEL_LAB}={self.inventory.lab_id}"}
        return [c for c in self._client.containers.list(all=True, filters=lab_filter)
                if c.name.startswith(f"{self.inventory.lab_id}-variant{slot}-")]

    def start_variant(self, slot: int, env: dict[str, str], zone: str = "a") -> str:
        _, url = start_variant(self.inventory, slot, env, zone)
        return url

    def break_variant(self, slot: int, how: str) -> None:
        breaks = {"pause": lambda c: c.pause(), "stop": lambda c: c.stop(timeout=0), "kill": lambda c: c.kill()}
        if how not in breaks:
            raise UsageError(f"cannot {how} a variant; one of {', '.join(breaks)}")
        containers = self._variant_containers(slot)
        if not containers:
            raise LabError(f"no extra app replica in slot {slot}")
        for container in containers:
            breaks[how](container)

    def _sidecar(self, name: str) -> InventoryInstance:
        return self.inventory.get(name)

    def redis_master(self) -> str:
        return current_master(self.inventory)

    def unready(self, serving_only: bool = False) -> list[str]:
        checks = run_checks(self.inventory, SERVING_CHECKS) if serving_only else run_checks(self.inventory)
        return [f"{c.name}: {c.detail}" for c in checks if not c.ok]

    def repair_stale(self) -> list[str]:
        return []

    def balancer_states(self) -> dict[str, str]:
        return haproxy_servers(self.inventory)

    def set_balancer_state(self, server: str, state: str) -> None:
        haproxy_admin.set_state(self.inventory, server, state)

    def balancer_sessions(self) -> dict[str, int]:
        return haproxy_admin.sessions(self.inventory)

    def balancer_checks(self) -> dict[str, bool]:
        return haproxy_admin.checks(self.inventory)

    def set_balancer_checks(self, server: str, enabled: bool) -> None:
        haproxy_admin.set_checks(self.inventory, server, enabled)

    def destroy(self, name: str) -> None:
        remove_container(self.container(name), volumes=True)

    def recreate(self, names: list[str]) -> None:
        docker_lab.recreate(self.inventory, names, Progress(quiet=True))

    def copy_out(self, name: str, path: str, dest: Path) -> list[Path]:
        return archive.copy_out(self.container(name), path, dest)

    def copy_in(self, name: str, source: Path, path: str) -> None:
        archive.copy_in(self.container(name), source, path)

    def _restore(self, args: dict[str, str | int | float | bool]) -> None:
        restore(self, self.inventory, open_store(str(args["store"])), str(args["backup"]), str(args["what"]))

    def apply(self, undo: Undo) -> None:
        """Carry out one undo from the fault ledger; every operation is idempotent."""
        args = undo.args
        operations = {
            "start": lambda: self.start(str(args["name"])),
            "resume": lambda: self.resume(str(args["name"])),
            "rejoin": lambda: self.rejoin(str(args["zone"])),
            "remove_toxic": lambda: self.remove_toxic(str(args["sidecar"]), str(args["proxy"]), str(args["toxic"])),
            "enable_proxy": lambda: self.set_proxy_enabled(str(args["sidecar"]), str(args["proxy"]), True),
            "remove_variant": lambda: self.remove_variant(int(args["slot"])),
            "enable_checks": lambda: self.set_balancer_checks(str(args["server"]), True),
            "restore": lambda: self._restore(args),
        }
        if undo.op not in operations:
            raise LabError(f"unknown undo operation {undo.op!r}")
        operations[undo.op]()
