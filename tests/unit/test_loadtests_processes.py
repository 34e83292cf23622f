import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from loadtests.processes import MARKER_ENV, find_load_processes, kill_load_processes

# Ignores SIGTERM, so that kill_load_processes has to escalate; ends by itself after 30 s at the latest.
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(30)"
)


@pytest.fixture
def marked() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    marker = f"test-{uuid.uuid4().hex[:8]}"
    process = subprocess.Popen([sys.executable, "-c", STUBBORN], env={**os.environ, MARKER_ENV: marker},
                               stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline() == b"ready\n"
    yield marker, process
    process.kill()
    process.wait()


def test_find_matches_the_marker_value(marked: tuple[str, subprocess.Popen[bytes]]) -> None:
    marker, process = marked
    assert find_load_processes(marker) == [process.pid]
    assert process.pid in find_load_processes()
    assert find_load_processes("no-such-marker") == []
    assert os.getpid() not in find_load_processes()


def test_kill_escalates_to_sigkill_and_ignores_zombies(marked: tuple[str, subprocess.Popen[bytes]]) -> None:
    marker, process = marked
    assert kill_load_processes(marker, grace_s=0.3) == [process.pid]
    assert process.wait(5) == -9
    assert find_load_processes(marker) == []
