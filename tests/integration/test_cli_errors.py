"""Bad input to the CLI: one clear line on stderr, a non-zero exit code, never a traceback."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).parent / "chaos360")
USAGE = 4


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, check=False)


def _assert_one_clear_line(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["lab", "up", "--profile", "huge"], "invalid choice: 'huge'"),
        (["lab", "up", "--port-base", "80"], "port base 80"),
        (["lab", "up", "--subnet", "10.0.0.0/30"], "smaller than a /24"),
        (["lab", "up", "--app-env", "PATH=/tmp"], "expected AGENT360_NAME=value"),
        (["lab"], "required: lab_command"),
        (["--lab-id", "nolab", "lab", "status"], "no inventory for lab 'nolab'"),
        (["--lab-id", "nolab", "lab", "smoke"], "no inventory for lab 'nolab'"),
        (["lab", "smoke", "--tasks", "0"], "--tasks 0"),
    ],
)
def test_bad_arguments(args: list[str], needle: str):
    _assert_one_clear_line(_run(*args), USAGE, needle)


def test_docker_daemon_not_reachable():
    result = _run("lab", "up", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    _assert_one_clear_line(result, USAGE, "Docker daemon not reachable")


@pytest.mark.integration
def test_published_port_already_taken(lab):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 21080))
        holder.listen()
        result = _run("--lab-id", "portclash", "lab", "up", "--port-base", "21000", "--subnet", "172.28.99.0/24")
    _assert_one_clear_line(result, USAGE, "127.0.0.1:21080", "already taken")


@pytest.mark.integration
def test_missing_image(lab):
    result = _run("--lab-id", "noimage", "lab", "up", "--port-base", "22000", "--subnet", "172.28.98.0/24",
                  env={"CHAOS360_IMAGE_APP": "chaos360/app:does-not-exist"})
    _assert_one_clear_line(result, USAGE, "chaos360/app:does-not-exist is missing", "chaos360 lab build")
