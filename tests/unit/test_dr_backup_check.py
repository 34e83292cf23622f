"""probes.backup_check: whether a backup in a directory store can be trusted, on hand-made backups."""

import json
import shutil
from pathlib import Path

import pytest

from kernel.backup_manifest import BackupFile, CassandraNode, Manifest, sha256_of
from kernel.backup_store import DirectoryStore
from kernel.errors import UsageError
from kernel.record import Event
from probes.backup_check import RDB, RDB_CHECK, backup_problems, latest_backup, refuse_unverified

BACKUP = "20240101T000000Z-000"
HAS_RDB_CHECK = shutil.which(RDB_CHECK) is not None
needs_rdb_check = pytest.mark.skipif(not HAS_RDB_CHECK, reason=f"{RDB_CHECK} not on PATH")


def crc64(data: bytes) -> int:
    """Redis's CRC-64 (Jones polynomial, reflected, no final xor), as the RDB trailer holds it."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x95AC9329AC4BC9B5 if crc & 1 else 0)
    return crc


def empty_rdb() -> bytes:
    body = b"REDIS0009\xff"
    return body + crc64(body).to_bytes(8, "little")


def test_crc64_matches_the_redis_check_value() -> None:
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA


def backup_files(rdb: bytes) -> dict[str, bytes]:
    return {
        "cassandra/cassandra-1/tasks/nb-1-big-Data.db": b"sstable data of node one",
        "cassandra/cassandra-1/tasks/manifest.json": b'{"files": ["nb-1-big-Data.db"]}',
        "cassandra/schema.cql": b"CREATE KEYSPACE agent360 WITH replication = {};\n",
        "config/sentinel-1/sentinel.conf": b"port 26379\nsentinel monitor mymaster 10.0.0.1 6379 2\n",
        RDB: rdb,
    }


def make_backup(tmp_path: Path, files: dict[str, bytes], backup_id: str = BACKUP,
                with_manifest: bool = True) -> DirectoryStore:
    store = DirectoryStore(tmp_path / "store")
    staging = tmp_path / "staging" / backup_id
    entries = []
    for path, content in files.items():
        source = staging / path
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes(content)
        entries.append(BackupFile(path=path, size=len(content), sha256=sha256_of(source)))
        store.put(backup_id, path, source)
    manifest = Manifest(backup_id=backup_id, lab_id="chaos360", moment=1_700_000_000.0, completed_at=1_700_000_020.0,
                        keyspace="agent360", tables=("tasks",),
                        nodes=(CassandraNode(name="cassandra-1", host_id="h1", tokens=("0",), rack="rack1",
                                             datacenter="dc1"),),
                        redis_master="redis-1", files=tuple(entries))
    if with_manifest:
        store.put_manifest(backup_id, json.dumps(manifest.model_dump(), indent=1))
    return store


def stored(tmp_path: Path, path: str) -> Path:
    return tmp_path / "store" / BACKUP / path


def flip_one_byte(file: Path) -> None:
    content = bytearray(file.read_bytes())
    content[len(content) // 2] ^= 0x01
    file.write_bytes(bytes(content))


@needs_rdb_check
def test_a_whole_backup_with_a_sound_rdb_verifies(tmp_path: Path) -> None:
    store = make_backup(tmp_path, backup_files(empty_rdb()))
    manifest, problems = backup_problems(store, BACKUP)
    assert problems == []
    assert manifest is not None
    assert manifest.backup_id == BACKUP
    assert {f.path for f in manifest.files} == set(backup_files(empty_rdb()))


@needs_rdb_check
def test_refuse_unverified_returns_the_manifest_of_a_backup_that_verifies(tmp_path: Path) -> None:
    store = make_backup(tmp_path, backup_files(empty_rdb()))
    assert refuse_unverified(store, BACKUP).redis_master == "redis-1"


@needs_rdb_check
def test_an_rdb_that_is_not_an_rdb_fails_redis_check_rdb(tmp_path: Path) -> None:
    store = make_backup(tmp_path, backup_files(b"garbage bytes, not an RDB at all"))
    _, problems = backup_problems(store, BACKUP)
    assert len(problems) == 1
    assert problems[0].startswith(f"{RDB}: {RDB_CHECK} failed")


@needs_rdb_check
def test_an_rdb_failure_names_what_redis_check_rdb_found_wrong(tmp_path: Path) -> None:
    store = make_backup(tmp_path, backup_files(b"garbage bytes, not an RDB at all"))
    _, problems = backup_problems(store, BACKUP)
    assert "Wrong signature" in problems[0], problems[0]


@needs_rdb_check
def test_an_rdb_with_a_wrong_checksum_fails_redis_check_rdb(tmp_path: Path) -> None:
    rdb = empty_rdb()
    store = make_backup(tmp_path, backup_files(rdb[:-8] + bytes([rdb[-8] ^ 0xFF]) + rdb[-7:]))
    _, problems = backup_problems(store, BACKUP)
    assert [p for p in problems if p.startswith(f"{RDB}: {RDB_CHECK} failed")]


def test_without_redis_check_rdb_on_path_the_backup_does_not_verify(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_backup(tmp_path, backup_files(empty_rdb()))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    _, problems = backup_problems(store, BACKUP)
    assert problems == [f"{RDB}: {RDB_CHECK} not found on PATH (Debian package redis-tools)"]


def test_one_flipped_byte_is_a_sha256_problem_naming_the_file(tmp_path: Path) -> None:
    store = make_backup(tmp_path, backup_files(empty_rdb()))
    flip_one_byte(stored(tmp_path, "cassandra/cassandra-1/tasks/nb-1-big-Data.db"))
    _, problems = backup_problems(store, BACKUP)
    assert any(p.startswith("cassandra/cassandra-1/tasks/nb-1-big-Data.db:") and "sha256" in p for p in problems)


def test_a_flipped_byte_in_the_rdb_is_reported_without_running_redis_check_rdb(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_backup(tmp_path, backup_files(empty_rdb()))
    flip_one_byte(stored(tmp_path, RDB))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    _, problems = backup_problems(store, BACKUP)
    assert problems == [f"{RDB}: sha256 differs from the manifest"]


def test_a_removed_file_is_missing(tmp_path: Path) -> None:
    store = make_backup(tmp_path, backup_files(empty_rdb()))
    stored(tmp_path, "cassandra/schema.cql").unlink()
    _, problems = backup_problems(store, BACKUP)
    assert "cassandra/schema.cql: missing" in problems


def test_a_removed_rdb_is_missing_and_not_checked(tmp_path: Path) -> None:
    store = make_backup(tmp_path, backup_files(empty_rdb()))
    stored(tmp_path, RDB).unlink()
    manifest, problems = backup_problems(store, BACKUP)
    assert manifest is not None
    assert problems == [f"{RDB}: missing"]


def test_an_extra_file_is_not_in_the_manifest(tmp_path: Path) -> None:
    store = make_backup(tmp_path, backup_files(empty_rdb()))
    stored(tmp_path, "config/extra.txt").write_text("left behind")
    _, problems = backup_problems(store, BACKUP)
    assert "config/extra.txt: not in the manifest" in problems


def test_a_manifest_that_does_not_name_the_rdb_is_a_problem(tmp_path: Path) -> None:
    files = backup_files(empty_rdb())
    del files[RDB]
    store = make_backup(tmp_path, files)
    _, problems = backup_problems(store, BACKUP)
    assert problems == [f"{RDB}: not in the manifest"]


def test_a_backup_without_a_manifest_is_incomplete(tmp_path: Path) -> None:
    store = make_backup(tmp_path, backup_files(empty_rdb()), with_manifest=False)
    manifest, problems = backup_problems(store, BACKUP)
    assert manifest is None
    assert len(problems) == 1
    assert "incomplete" in problems[0]


def test_a_manifest_that_does_not_parse_is_a_problem(tmp_path: Path) -> None:
    store = make_backup(tmp_path, backup_files(empty_rdb()))
    store.put_manifest(BACKUP, "{truncated")
    manifest, problems = backup_problems(store, BACKUP)
    assert manifest is None
    assert problems[0].startswith("manifest.json is not a valid manifest")


def test_an_unknown_backup_id_is_a_problem_naming_it(tmp_path: Path) -> None:
    store = make_backup(tmp_path, backup_files(empty_rdb()))
    manifest, problems = backup_problems(store, "20990101T000000Z-000")
    assert manifest is None
    assert len(problems) == 1
    assert "'20990101T000000Z-000'" in problems[0]
    assert problems[0].startswith("no backup")


def test_an_empty_store_has_no_backup(tmp_path: Path) -> None:
    manifest, problems = backup_problems(DirectoryStore(tmp_path / "nothing"), BACKUP)
    assert manifest is None
    assert problems and problems[0].startswith("no backup")


def test_refuse_unverified_names_the_first_problem_and_counts_the_rest(tmp_path: Path) -> None:
    store = make_backup(tmp_path, backup_files(empty_rdb()))
    stored(tmp_path, "cassandra/schema.cql").unlink()
    stored(tmp_path, "config/extra.txt").write_text("x")
    with pytest.raises(UsageError) as raised:
        refuse_unverified(store, BACKUP)
    message = str(raised.value)
    assert message.startswith(f"backup {BACKUP} does not verify: cassandra/schema.cql: missing")
    assert message.endswith("(and 1 more)")


def test_refuse_unverified_of_a_single_problem_adds_no_count(tmp_path: Path) -> None:
    store = make_backup(tmp_path, backup_files(empty_rdb()), with_manifest=False)
    with pytest.raises(UsageError) as raised:
        refuse_unverified(store, BACKUP)
    message = str(raised.value)
    assert message.startswith(f"backup {BACKUP} does not verify: no manifest.json")
    assert "more)" not in message


def test_refuse_unverified_of_an_unknown_backup(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^backup nope does not verify: no backup 'nope'"):
        refuse_unverified(DirectoryStore(tmp_path / "store"), "nope")


def test_latest_backup_is_the_last_backup_event() -> None:
    events = [
        Event(1.0, "dr.backup", {"backup_id": "first"}),
        Event(2.0, "fault.inject", {"fault": "lose-data"}),
        Event(3.0, "dr.backup", {"backup_id": "second"}),
        Event(4.0, "dr.phase", {"phase": "verify", "backup_id": "not-a-backup"}),
    ]
    assert latest_backup(events) == "second"


def test_latest_backup_without_a_backup_event_is_none() -> None:
    assert latest_backup([Event(1.0, "dr.phase", {"backup_id": "x"})]) is None
    assert latest_backup([]) is None
