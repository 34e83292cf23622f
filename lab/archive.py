"""Files in and out of a container as tar streams, through a temporary file so memory stays flat."""

from __future__ import annotations

import tarfile
import tempfile
from pathlib import Path

import docker.errors
from docker.models.containers import Container

from kernel.errors import LabError


def copy_out(container: Container, path: str, dest: Path) -> list[Path]:
    """The regular files of directory `path` (not its subdirectories) copied into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        stream, _ = container.get_archive(path.rstrip("/") + "/.")
    except docker.errors.NotFound:
        raise LabError(f"{container.name}: {path} does not exist") from None
    with tempfile.TemporaryFile() as spool:
        for chunk in stream:
            spool.write(chunk)
        spool.seek(0)
        with tarfile.open(fileobj=spool) as tar:
            members = [m for m in tar.getmembers() if m.isfile() and "/" not in m.name.removeprefix("./")]
            for member in members:
                member.name = Path(member.name).name
            tar.extractall(dest, members=members, filter="data")
    return sorted(dest / Path(m.name).name for m in members)


def copy_in(container: Container, source: Path, path: str) -> None:
    """The regular files of local directory `source` written into `path` of the container (created when it runs;
    a stopped container's `path` must exist)."""
    container.reload()
    code, output = container.exec_run(["mkdir", "-p", path]) if container.status == "running" else (0, b"")
    if code != 0:
        raise LabError(f"{container.name}: cannot create {path}: {output.decode(errors='replace').strip()}")
    with tempfile.TemporaryFile() as spool:
        with tarfile.open(fileobj=spool, mode="w") as tar:
            for file in sorted(p for p in source.iterdir() if p.is_file()):
                tar.add(file, arcname=file.name)
        spool.seek(0)
        if not container.put_archive(path, spool):
            raise LabError(f"{container.name}: files not written into {path}")
