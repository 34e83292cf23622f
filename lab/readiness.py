"""Host-side checks that the whole lab is ready, each returning plain data: ok plus a one-line detail."""

from __future__ import annotations

import csv
import io
import json
import socket
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import docker
import redis

from kernel.errors import LabError
from kernel.inventory import Inventory
from kernel.progress import Progress
from kernel.waiting import poll_until
from lab.configs import FAIL_OPEN_SUFFIX, MASTER_NAME

HTTP_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _http_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
        return str(response.read().decode())


EXTRA_SERVERS = ("surge", "canary")


def haproxy_backends(inventory: Inventory) -> dict[str, str]:
    """Status of the lab's own app servers as HAProxy's health checks see them (UP, DOWN, MAINT...)."""
    return {name: state for name, state in haproxy_servers(inventory).items()
            if name not in EXTRA_SERVERS and not name.endswith(FAIL_OPEN_SUFFIX)}


def haproxy_servers(inventory: Inventory) -> dict[str, str]:
    """Status of every server of the backend, the surge and canary slots included."""
    lb = inventory.by_role("lb")[0]
    text = _http_text(f"http://127.0.0.1:{lb.host_ports['stats']}/stats;csv")
    rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
    return {
        row["svname"]: row["status"]
        for row in rows
        if row["pxname"] == "agent360" and row["svname"] not in ("FRONTEND", "BACKEND")
    }


def check_haproxy(inventory: Inventory) -> Check:
    try:
        backends = haproxy_backends(inventory)
    except OSError as error:
        return Check("haproxy", False, f"stats unreachable: {error}")
    expected = {i.name for i in inventory.by_role("app")}
    up = {name for name, status in backends.items() if status.startswith("UP")}
    return Check("haproxy", expected <= up, f"{len(up & expected)}/{len(expected)} app backends UP")


def sentinel_view(host_port: int) -> dict[str, str | int]:
    client = redis.Redis("127.0.0.1", host_port, socket_timeout=HTTP_TIMEOUT_S, decode_responses=True)
    try:
        master = client.execute_command("SENTINEL", "MASTER", MASTER_NAME)
        info = dict(zip(master[::2], master[1::2], strict=False)) if isinstance(master, list) else master
        return {
            "master": f"{info['ip']}:{info['port']}",
            "replicas": int(info["num-slaves"]),
            "sentinels": int(info["num-other-sentinels"]) + 1,
            "flags": str(info["flags"]),
        }
    finally:
        client.close()


def current_master(inventory: Inventory) -> str:
    """The master most Sentinels name, as an inventory instance name."""
    votes: dict[str, int] = {}
    for sentinel in inventory.by_role("sentinel"):
        try:
            address = str(sentinel_view(sentinel.host_ports["sentinel"])["master"])
        except Exception:
            continue
        votes[address] = votes.get(address, 0) + 1
    if not votes:
        raise LabError("no Sentinel answers; cannot tell the Redis master")
    ip = max(votes, key=lambda a: votes[a]).split(":")[0]
    return next(i.name for i in inventory.by_role("redis") if i.ip == ip)


def check_sentinels(inventory: Inventory) -> Check:
    sentinels = inventory.by_role("sentinel")
    views = []
    for sentinel in sentinels:
        try:
            views.append(sentinel_view(sentinel.host_ports["sentinel"]))
        except (redis.RedisError, OSError) as error:
            return Check("sentinel", False, f"{sentinel.name} unreachable: {error}")
    masters = {v["master"] for v in views}
    wanted_replicas = len(inventory.by_role("redis")) - 1
    ok = (
        len(masters) == 1
        and all(v["replicas"] == wanted_replicas and v["sentinels"] == len(sentinels) for v in views)
        and all(v["flags"] == "master" for v in views)
    )
    detail = f"master {sorted(masters)}, replicas {[v['replicas'] for v in views]}, " \
             f"sentinels {[v['sentinels'] for v in views]}"
    return Check("sentinel", ok, detail)


def redis_role(host: str, port: int) -> tuple[str, str]:
    """What one Redis instance says it is: ("master", "") or ("slave", "<master ip> <link state>")."""
    client = redis.Redis(host, port, socket_timeout=HTTP_TIMEOUT_S, decode_responses=True)
    try:
        reply = client.execute_command("ROLE")
    finally:
        client.close()
    if reply[0] == "slave":
        return "slave", f"{reply[1]} {reply[3]}"
    return str(reply[0]), ""


def judge_redis_roles(master_ip: str, roles: dict[str, tuple[str, str, str]]) -> Check:
    """Every instance agrees with the Sentinels: the master alone says master, each other one replicates from it
    with its link up. A returned old master that still says master would take, then drop on conversion, writes
    (roles: name -> (ip, role, detail))."""
    wrong = []
    for name, (ip, role, detail) in sorted(roles.items()):
        expected = ("master", "") if ip == master_ip else ("slave", f"{master_ip} connected")
        if (role, detail) != expected:
            wrong.append(f"{name} is {role} {detail}".rstrip())
    detail = "; ".join(wrong) if wrong else f"{len(roles)} instances agree on master {master_ip}"
    return Check("redis roles", not wrong, detail)


def check_redis_roles(inventory: Inventory) -> Check:
    try:
        master = inventory.get(current_master(inventory))
        roles = {i.name: (i.ip, *redis_role(i.host, i.host_ports["redis"])) for i in inventory.by_role("redis")}
    except (LabError, redis.RedisError, OSError) as error:
        return Check("redis roles", False, f"not readable: {error}")
    return judge_redis_roles(master.ip, roles)


def cassandra_node_states(inventory: Inventory) -> dict[str, str]:
    """`nodetool status` of the first running node: address -> two-letter state (UN, DN, ...)."""
    client = docker.from_env()
    for node in inventory.by_role("cassandra"):
        try:
            container = client.containers.get(node.container)
            if container.status != "running":
                continue
            result = container.exec_run(["nodetool", "status"])
        except docker.errors.DockerException:
            continue
        if result.exit_code == 0:
            return _parse_nodetool(result.output.decode())
    return {}


def _parse_nodetool(text: str) -> dict[str, str]:
    states = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 2 and parts[0][0] in "UD" and parts[0][1] in "NLJM":
            states[parts[1]] = parts[0]
    return states


CQL_OPTIONS_V4 = bytes([0x04, 0x00, 0x00, 0x01, 0x05, 0, 0, 0, 0])
CQL_SUPPORTED = 0x06


def cql_alive(port: int, timeout_s: float = 1.0) -> bool:
    """The node answers a CQL OPTIONS frame (a bare TCP connect would only reach Docker's port proxy)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as conn:
            conn.sendall(CQL_OPTIONS_V4)
            header = conn.recv(9)
    except OSError:
        return False
    return len(header) >= 5 and header[4] == CQL_SUPPORTED


def check_cassandra(inventory: Inventory) -> Check:
    states = cassandra_node_states(inventory)
    nodes = inventory.by_role("cassandra")
    up = [n.name for n in nodes if states.get(n.ip) == "UN" and cql_alive(n.host_ports["cql"])]
    return Check("cassandra", len(up) == len(nodes), f"{len(up)}/{len(nodes)} nodes UN and serving CQL")


def check_prometheus(inventory: Inventory) -> Check:
    prometheus = inventory.by_role("prometheus")[0]
    base = f"http://127.0.0.1:{prometheus.host_ports['http']}"
    try:
        targets = json.loads(_http_text(f"{base}/api/v1/targets?state=active"))["data"]["activeTargets"]
        rules = json.loads(_http_text(f"{base}/api/v1/rules"))["data"]["groups"]
    except (OSError, ValueError, KeyError) as error:
        return Check("prometheus", False, f"API unreachable: {error}")
    up = sum(1 for t in targets if t["health"] == "up")
    rule_names = sorted(r["name"] for g in rules for r in g["rules"])
    ok = up == len(inventory.by_role("app")) and {"HighErrorRate", "PodRestart"} <= set(rule_names)
    return Check("prometheus", ok, f"{up}/{len(targets)} targets up, rules {rule_names}")


def check_cassandra_serving(inventory: Inventory) -> Check:
    """Every node answers CQL: the service's view, without the JVM start of nodetool (about 0.5 s)."""
    nodes = inventory.by_role("cassandra")
    serving = [n.name for n in nodes if cql_alive(n.host_ports["cql"])]
    return Check("cassandra", len(serving) == len(nodes), f"{len(serving)}/{len(nodes)} nodes serving CQL")


ALL_CHECKS = (check_sentinels, check_redis_roles, check_cassandra, check_haproxy, check_prometheus)
# A steady-state check between experiments: lab up and every heal have already waited for ALL_CHECKS.
SERVING_CHECKS = (check_sentinels, check_redis_roles, check_cassandra_serving, check_haproxy, check_prometheus)


def run_checks(inventory: Inventory, checks: tuple[Callable[[Inventory], Check], ...] = ALL_CHECKS) -> list[Check]:
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        return list(pool.map(lambda check: check(inventory), checks))


def wait_until(predicate: Callable[[], list[Check]], timeout_s: float, progress: Progress) -> list[Check]:
    """Poll the checks until all pass; report each change of the failing set."""
    reported = ""

    def passed(checks: list[Check]) -> bool:
        nonlocal reported
        failing = _failing(checks)
        if failing and failing != reported:
            progress.step(f"waiting: {failing}")
            reported = failing
        return not failing

    checks = poll_until(predicate, passed, timeout_s, poll_s=1.0)
    if failing := _failing(checks):
        raise LabError(f"lab not ready after {timeout_s:.0f}s: {failing}")
    return checks


def _failing(checks: list[Check]) -> str:
    return "; ".join(f"{c.name}: {c.detail}" for c in checks if not c.ok)
