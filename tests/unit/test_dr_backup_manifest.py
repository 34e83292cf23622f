"""kernel.backup_manifest: what a backup holds, and every way its files can disagree with the manifest."""

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from kernel import backup_manifest
from kernel.backup_manifest import (
    MANIFEST,
    BackupFile,
    CassandraNode,
    Manifest,
    file_problems,
    parse_manifest,
    sha256_of,
)

RDB_BYTES = b"REDIS0009\xff" + bytes(8)
SCHEMA_BYTES = b"CREATE KEYSPACE agent360 WITH replication = {};\n"


def entry(path: str, content: bytes) -> BackupFile:
    return BackupFile(path=path, size=len(content), sha256=hashlib.sha256(content).hexdigest())


CONTENTS = {
    "cassandra/cassandra-1/tasks/nb-1-big-Data.db": b"node one data",
    "cassandra/cassandra-1/tasks/manifest.json": b"{}",
    "cassandra/cassandra-10/tasks/nb-1-big-Data.db": b"node ten data",
    "cassandra/cassandra-1/tasks_archive/nb-1-big-Data.db": b"other table",
    "cassandra/schema.cql": SCHEMA_BYTES,
    "redis/dump.rdb": RDB_BYTES,
}


def manifest(files: tuple[BackupFile, ...] | None = None) -> Manifest:
    return Manifest(
        backup_id="20240101T000000Z-000",
        lab_id="chaos360",
        moment=1_700_000_000.5,
        completed_at=1_700_000_030.0,
        keyspace="agent360",
        tables=("tasks",),
        nodes=(CassandraNode(name="cassandra-1", host_id="h1", tokens=("-9", "3"), rack="rack1",
                             datacenter="dc1"),),
        redis_master="redis-1",
        files=files if files is not None else tuple(entry(p, c) for p, c in CONTENTS.items()),
    )


def digest_of(contents: dict[str, bytes]) -> Callable[[str], str]:
    return lambda path: hashlib.sha256(contents[path]).hexdigest()


def sizes_of(contents: dict[str, bytes]) -> dict[str, int]:
    return {path: len(content) for path, content in contents.items()}


def test_no_manifest_text_means_an_incomplete_backup() -> None:
    problem = parse_manifest(None)
    assert isinstance(problem, str)
    assert MANIFEST in problem
    assert "incomplete" in problem


def test_text_that_is_not_json_is_named_as_an_invalid_manifest() -> None:
    problem = parse_manifest("{not json")
    assert isinstance(problem, str)
    assert problem.startswith(f"{MANIFEST} is not a valid manifest: ")


def test_json_missing_a_field_is_an_invalid_manifest() -> None:
    document = json.loads(manifest().model_dump_json())
    del document["files"]
    problem = parse_manifest(json.dumps(document))
    assert isinstance(problem, str)
    assert problem.startswith(f"{MANIFEST} is not a valid manifest: ")


def test_a_file_entry_with_a_malformed_sha256_is_an_invalid_manifest() -> None:
    document = json.loads(manifest().model_dump_json())
    document["files"][0]["sha256"] = "ABC"
    assert isinstance(parse_manifest(json.dumps(document)), str)


def test_a_negative_size_is_an_invalid_manifest() -> None:
    document = json.loads(manifest().model_dump_json())
    document["files"][0]["size"] = -1
    assert isinstance(parse_manifest(json.dumps(document)), str)


def test_an_unknown_field_is_an_invalid_manifest() -> None:
    document = json.loads(manifest().model_dump_json())
    document["extra"] = 1
    assert isinstance(parse_manifest(json.dumps(document)), str)


def test_a_manifest_written_as_the_backup_writes_it_parses_back_to_the_same_manifest() -> None:
    original = manifest()
    parsed = parse_manifest(json.dumps(original.model_dump(), indent=1))
    assert parsed == original


def test_node_files_are_those_under_the_node_and_table_directory_only() -> None:
    found = manifest().node_files("cassandra-1", "tasks")
    assert [f.path for f in found] == ["cassandra/cassandra-1/tasks/nb-1-big-Data.db",
                                       "cassandra/cassandra-1/tasks/manifest.json"]


def test_node_files_of_an_unknown_node_are_none() -> None:
    assert manifest().node_files("cassandra-2", "tasks") == []


def test_a_listing_that_matches_the_manifest_has_no_problem() -> None:
    assert file_problems(manifest(), sizes_of(CONTENTS), digest_of(CONTENTS)) == []


def test_a_file_absent_from_the_listing_is_missing() -> None:
    present = dict(CONTENTS)
    del present["redis/dump.rdb"]
    assert file_problems(manifest(), sizes_of(present), digest_of(present)) == ["redis/dump.rdb: missing"]


def test_a_file_of_another_size_names_both_sizes() -> None:
    present = {**CONTENTS, "cassandra/schema.cql": SCHEMA_BYTES + b"x"}
    expected = len(SCHEMA_BYTES)
    assert file_problems(manifest(), sizes_of(present), digest_of(present)) == [
        f"cassandra/schema.cql: size {expected + 1}, manifest says {expected}"]


def test_a_file_of_the_same_size_with_other_bytes_differs_in_sha256() -> None:
    present = {**CONTENTS, "redis/dump.rdb": RDB_BYTES[:-1] + b"\x01"}
    assert file_problems(manifest(), sizes_of(present), digest_of(present)) == [
        "redis/dump.rdb: sha256 differs from the manifest"]


def test_a_file_the_manifest_does_not_name_is_reported() -> None:
    present = {**CONTENTS, "config/stray.txt": b"stray"}
    assert file_problems(manifest(), sizes_of(present), digest_of(present)) == [
        "config/stray.txt: not in the manifest"]


def test_the_digest_is_not_computed_for_a_file_whose_size_already_differs() -> None:
    asked: list[str] = []

    def digest(path: str) -> str:
        asked.append(path)
        return hashlib.sha256(CONTENTS[path]).hexdigest()

    present = {**CONTENTS, "redis/dump.rdb": b""}
    file_problems(manifest(), sizes_of(present), digest)
    assert "redis/dump.rdb" not in asked
    assert "cassandra/schema.cql" in asked


def test_every_problem_is_reported_together() -> None:
    present = dict(CONTENTS)
    del present["cassandra/schema.cql"]
    present["redis/dump.rdb"] = b"short"
    present["zz/extra"] = b"1"
    present["aa/extra"] = b"2"
    problems = file_problems(manifest(), sizes_of(present), digest_of(present))
    assert problems == [
        "cassandra/schema.cql: missing",
        f"redis/dump.rdb: size 5, manifest says {len(RDB_BYTES)}",
        "aa/extra: not in the manifest",
        "zz/extra: not in the manifest",
    ]


def test_sha256_of_a_file_is_its_hex_digest(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"hello")
    assert sha256_of(path) == hashlib.sha256(b"hello").hexdigest()


def test_sha256_of_a_file_larger_than_a_chunk_covers_every_chunk(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backup_manifest, "CHUNK", 4)
    content = b"0123456789abcdef-tail"
    path = tmp_path / "f"
    path.write_bytes(content)
    assert sha256_of(path) == hashlib.sha256(content).hexdigest()


def test_sha256_of_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert sha256_of(path) == hashlib.sha256(b"").hexdigest()
