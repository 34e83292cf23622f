import pytest
from cassandra import InvalidRequest

from agent360.schema import ensure_schema, schema_statements


def test_statements_are_idempotent_and_use_network_topology():
    keyspace, table = schema_statements("dc1", 3)
    assert keyspace.startswith("CREATE KEYSPACE IF NOT EXISTS agent360 ")
    assert "{'class': 'NetworkTopologyStrategy', 'dc1': 3}" in keyspace
    assert table.startswith("CREATE TABLE IF NOT EXISTS agent360.tasks (")
    assert "PRIMARY KEY (agent_id, task_id)" in table
    assert "created_at timestamp" in table


@pytest.mark.parametrize(("keyspace", "rf"), [("bad-name", 3), ("agent360", 0)])
def test_bad_arguments_are_refused(keyspace, rf):
    with pytest.raises(ValueError):
        schema_statements("dc1", rf, keyspace)


class FakeControlConnection:
    def __init__(self, agreed: bool) -> None:
        self.agreed = agreed

    def wait_for_schema_agreement(self, wait_time: float) -> bool:
        return self.agreed


class FakeCluster:
    def __init__(self, agreed: bool) -> None:
        self.control_connection = FakeControlConnection(agreed)


class FakeSession:
    def __init__(self, agreed: bool = True, unknown_keyspace_answers: int = 0) -> None:
        self.cluster = FakeCluster(agreed)
        self.executed: list[str] = []
        self.unknown_keyspace_answers = unknown_keyspace_answers

    def execute(self, statement: str, timeout: float) -> None:
        if statement.startswith("CREATE TABLE") and self.unknown_keyspace_answers > 0:
            self.unknown_keyspace_answers -= 1
            raise InvalidRequest("Keyspace 'agent360' doesn't exist")
        self.executed.append(statement)


def test_ensure_schema_runs_every_statement():
    session = FakeSession()
    ensure_schema(session, datacenter="dc2", replication_factor=1)  # type: ignore[arg-type]
    assert session.executed == schema_statements("dc2", 1)


def test_a_coordinator_that_has_not_received_the_keyspace_yet_is_asked_again(monkeypatch):
    monkeypatch.setattr("agent360.schema.time.sleep", lambda _: None)
    session = FakeSession(unknown_keyspace_answers=2)
    ensure_schema(session)  # type: ignore[arg-type]
    assert session.executed == schema_statements("dc1", 3)


def test_other_invalid_requests_are_not_retried():
    class Refusing(FakeSession):
        def execute(self, statement: str, timeout: float) -> None:
            raise InvalidRequest("unconfigured table")

    with pytest.raises(InvalidRequest, match="unconfigured"):
        ensure_schema(Refusing())  # type: ignore[arg-type]


def test_ensure_schema_fails_without_agreement():
    with pytest.raises(RuntimeError, match="agree"):
        ensure_schema(FakeSession(agreed=False))  # type: ignore[arg-type]
