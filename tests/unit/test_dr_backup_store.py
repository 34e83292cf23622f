"""kernel.backup_store: the directory store behind the BackupStore interface, and how a store is chosen."""

from pathlib import Path

import pytest

from kernel.backup_manifest import MANIFEST
from kernel.backup_store import STORE_ENV, DirectoryStore, default_store, open_store
from kernel.errors import UsageError

BACKUP = "20240101T000000Z-000"


def staged(tmp_path: Path, name: str, content: bytes) -> Path:
    source = tmp_path / "staging" / name
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(content)
    return source


def store_with_files(tmp_path: Path) -> DirectoryStore:
    store = DirectoryStore(tmp_path / "store")
    store.put(BACKUP, "redis/dump.rdb", staged(tmp_path, "dump.rdb", b"rdb-bytes"))
    store.put(BACKUP, "cassandra/cassandra-1/tasks/nb-1-big-Data.db", staged(tmp_path, "data", b"sstable"))
    return store


def test_put_moves_the_file_under_the_backup_directory(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "store")
    source = staged(tmp_path, "dump.rdb", b"rdb-bytes")
    store.put(BACKUP, "redis/dump.rdb", source)
    assert not source.exists()
    assert (tmp_path / "store" / BACKUP / "redis" / "dump.rdb").read_bytes() == b"rdb-bytes"


def test_the_manifest_is_absent_until_it_is_put(tmp_path: Path) -> None:
    store = store_with_files(tmp_path)
    assert store.manifest_text(BACKUP) is None
    store.put_manifest(BACKUP, '{"backup_id": "x"}')
    assert store.manifest_text(BACKUP) == '{"backup_id": "x"}'


def test_put_manifest_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = store_with_files(tmp_path)
    store.put_manifest(BACKUP, "{}")
    assert sorted(p.name for p in (tmp_path / "store" / BACKUP).iterdir()) == ["cassandra", MANIFEST, "redis"]


def test_put_manifest_replaces_an_earlier_manifest(tmp_path: Path) -> None:
    store = store_with_files(tmp_path)
    store.put_manifest(BACKUP, "first")
    store.put_manifest(BACKUP, "second")
    assert store.manifest_text(BACKUP) == "second"


def test_sizes_list_every_file_but_the_manifest_by_posix_path(tmp_path: Path) -> None:
    store = store_with_files(tmp_path)
    store.put_manifest(BACKUP, "{}")
    assert store.sizes(BACKUP) == {"redis/dump.rdb": 9, "cassandra/cassandra-1/tasks/nb-1-big-Data.db": 7}


def test_a_nested_file_named_manifest_json_is_a_file_of_the_backup(tmp_path: Path) -> None:
    store = store_with_files(tmp_path)
    store.put(BACKUP, "cassandra/cassandra-1/tasks/manifest.json", staged(tmp_path, "snap.json", b"{}"))
    store.put_manifest(BACKUP, "{}")
    assert store.sizes(BACKUP)["cassandra/cassandra-1/tasks/manifest.json"] == 2
    assert MANIFEST not in store.sizes(BACKUP)


def test_sizes_of_an_unknown_backup_are_empty(tmp_path: Path) -> None:
    assert DirectoryStore(tmp_path / "store").sizes("nope") == {}


def test_open_reads_the_stored_bytes(tmp_path: Path) -> None:
    store = store_with_files(tmp_path)
    with store.open(BACKUP, "redis/dump.rdb") as handle:
        assert handle.read() == b"rdb-bytes"


def test_fetch_copies_to_a_new_directory_and_keeps_the_stored_file(tmp_path: Path) -> None:
    store = store_with_files(tmp_path)
    dest = tmp_path / "out" / "deeper" / "dump.rdb"
    store.fetch(BACKUP, "redis/dump.rdb", dest)
    assert dest.read_bytes() == b"rdb-bytes"
    assert store.sizes(BACKUP)["redis/dump.rdb"] == 9


def test_backup_ids_are_the_backup_directories_sorted(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "store")
    for backup_id in ("20240301T000000Z-000", "20240101T000000Z-000", "20240201T000000Z-500"):
        store.put(backup_id, "redis/dump.rdb", staged(tmp_path, f"{backup_id}.rdb", b"x"))
    (tmp_path / "store" / "stray-file").write_text("not a backup")
    assert store.backup_ids() == ["20240101T000000Z-000", "20240201T000000Z-500", "20240301T000000Z-000"]


def test_backup_ids_of_a_store_not_yet_created_are_none(tmp_path: Path) -> None:
    assert DirectoryStore(tmp_path / "absent").backup_ids() == []


def test_a_backup_without_a_manifest_is_still_listed(tmp_path: Path) -> None:
    assert store_with_files(tmp_path).backup_ids() == [BACKUP]


@pytest.mark.parametrize("path", ["../escape", "redis/../../escape", "/etc/passwd", ""])
def test_put_refuses_a_file_path_outside_the_backup(tmp_path: Path, path: str) -> None:
    store = DirectoryStore(tmp_path / "store")
    source = staged(tmp_path, "f", b"x")
    with pytest.raises(UsageError, match="must be relative"):
        store.put(BACKUP, path, source)
    assert source.exists()


@pytest.mark.parametrize("path", ["../x", "/abs/x"])
def test_open_and_fetch_refuse_a_path_outside_the_backup(tmp_path: Path, path: str) -> None:
    store = store_with_files(tmp_path)
    with pytest.raises(UsageError):
        store.open(BACKUP, path)
    with pytest.raises(UsageError):
        store.fetch(BACKUP, path, tmp_path / "out")


@pytest.mark.parametrize("backup_id", ["../x", "/abs", "a/../../b", "."])
def test_a_backup_id_outside_the_store_is_refused(tmp_path: Path, backup_id: str) -> None:
    store = DirectoryStore(tmp_path / "store")
    with pytest.raises(UsageError):
        store.put(backup_id, "f", staged(tmp_path, "f", b"x"))
    with pytest.raises(UsageError):
        store.manifest_text(backup_id)
    with pytest.raises(UsageError):
        store.put_manifest(backup_id, "{}")
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "b").exists()


def test_describe_and_location_name_the_directories(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "store")
    assert store.describe(BACKUP) == str(tmp_path / "store" / BACKUP)
    assert store.location() == str(tmp_path / "store")


def test_a_store_reopened_from_its_location_sees_the_same_backups(tmp_path: Path) -> None:
    store = store_with_files(tmp_path)
    reopened = open_store(store.location())
    assert reopened.backup_ids() == [BACKUP]
    assert reopened.sizes(BACKUP) == store.sizes(BACKUP)


def test_default_store_is_under_the_configured_directory_per_lab(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "backups-here"))
    assert STORE_ENV == "CHAOS360_BACKUP_DIR"
    assert default_store("lab-a").root == tmp_path / "backups-here" / "lab-a"


def test_default_store_is_under_the_state_directory_without_the_variable(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STORE_ENV, raising=False)
    monkeypatch.setenv("CHAOS360_STATE_DIR", str(tmp_path / "state"))
    assert default_store("lab-a").root == tmp_path / "state" / "backups" / "lab-a"


def test_an_empty_variable_falls_back_to_the_state_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STORE_ENV, "")
    monkeypatch.setenv("CHAOS360_STATE_DIR", str(tmp_path / "state"))
    assert default_store("lab-b").root == tmp_path / "state" / "backups" / "lab-b"


@pytest.mark.parametrize("location", ["s3://bucket/backups", "file:///tmp/backups"])
def test_open_store_refuses_a_url(location: str) -> None:
    with pytest.raises(UsageError, match="only directory stores are supported"):
        open_store(location)


def test_open_store_of_a_directory_is_a_directory_store(tmp_path: Path) -> None:
    store = open_store(str(tmp_path))
    assert isinstance(store, DirectoryStore)
    assert store.root == tmp_path
