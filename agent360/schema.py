"""The agent360 keyspace and tasks table; created by the lab from outside, never by the service."""

from __future__ import annotations

import re
import time

from cassandra import InvalidRequest
from cassandra.cluster import Session

SCHEMA_AGREEMENT_WAIT_S = 30
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,47}")


def schema_statements(datacenter: str, replication_factor: int, keyspace: str = "agent360") -> list[str]:
    if not _IDENTIFIER.fullmatch(keyspace):
        raise ValueError(f"keyspace {keyspace!r} is not a CQL identifier")
    if replication_factor < 1:
        raise ValueError(f"replication_factor must be >= 1, not {replication_factor}")
    datacenter_literal = datacenter.replace("'", "''")
    return [
        f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = "
        f"{{'class': 'NetworkTopologyStrategy', '{datacenter_literal}': {replication_factor}}}",
        f"CREATE TABLE IF NOT EXISTS {keyspace}.tasks ("
        "agent_id text, task_id text, payload text, created_at timestamp, "
        "PRIMARY KEY (agent_id, task_id))",
    ]


def _execute_when_known(session: Session, statement: str, poll_s: float = 1.0) -> None:
    """A coordinator that has not yet received the keyspace answers "Keyspace ... doesn't exist": the driver's
    schema agreement after each statement counts only the nodes it sees up, which on a cluster just started may be
    fewer than all (a fresh-clone CI run failed there). Retry until it has, within the agreement wait."""
    deadline = time.monotonic() + SCHEMA_AGREEMENT_WAIT_S
    while True:
        try:
            session.execute(statement, timeout=SCHEMA_AGREEMENT_WAIT_S)
            return
        except InvalidRequest as error:
            if "doesn't exist" not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(poll_s)


def ensure_schema(session: Session, datacenter: str = "dc1", replication_factor: int = 3,
                  keyspace: str = "agent360") -> None:
    """Run the idempotent DDL and wait until every reachable node agrees on the schema."""
    for statement in schema_statements(datacenter, replication_factor, keyspace):
        _execute_when_known(session, statement)
    if not session.cluster.control_connection.wait_for_schema_agreement(wait_time=SCHEMA_AGREEMENT_WAIT_S):
        raise RuntimeError(f"Cassandra nodes did not agree on the schema within {SCHEMA_AGREEMENT_WAIT_S}s")
