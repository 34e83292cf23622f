"""What the system of record holds: the tasks table read from Cassandra at consistency ALL, never through the
service or its Redis cache, so a task acknowledged but only cached counts as lost."""

from __future__ import annotations

from collections.abc import Iterable

from cassandra import DriverException
from cassandra.cluster import NoHostAvailable
from cassandra.concurrent import execute_concurrent_with_args

from kernel.cassandra_access import host_cluster
from kernel.errors import LabError
from kernel.inventory import Inventory
from kernel.waiting import poll_until

SELECT_AGENT = "SELECT task_id, payload FROM agent360.tasks WHERE agent_id = ?"
READ_TIMEOUT_S = 10.0
RETRY_FOR_S = 30.0
CONCURRENCY = 16

StoredTasks = dict[tuple[str, str], str]


def stored_tasks(inventory: Inventory, agents: Iterable[str], retry_for_s: float = RETRY_FOR_S) -> StoredTasks:
    """(agent_id, task_id) -> stored payload text for every task of `agents`; a node that is not back yet is
    retried until `retry_for_s`, then LabError names the last error."""
    wanted = sorted(set(agents))
    if not wanted:
        return {}
    read = poll_until(lambda: _attempt(inventory, wanted), lambda r: not isinstance(r, Exception), retry_for_s,
                      poll_s=1.0)
    if isinstance(read, Exception):
        raise LabError(f"Cassandra tasks table not readable at consistency ALL within {retry_for_s:g}s: "
                       f"{type(read).__name__}: {read}") from read
    return read


def _attempt(inventory: Inventory, agents: list[str]) -> StoredTasks | Exception:
    try:
        return _read(inventory, agents)
    except (DriverException, NoHostAvailable, OSError) as error:
        return error


def _read(inventory: Inventory, agents: list[str]) -> StoredTasks:
    with host_cluster(inventory, consistency="ALL", request_timeout=READ_TIMEOUT_S) as session:
        statement = session.prepare(SELECT_AGENT)
        results = execute_concurrent_with_args(session, statement, [(agent,) for agent in agents],
                                               concurrency=CONCURRENCY, raise_on_first_error=True)
        return {(agent, row["task_id"]): row["payload"]
                for agent, (_, rows) in zip(agents, results, strict=True) for row in rows}
