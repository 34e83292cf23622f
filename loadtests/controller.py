"""Run the Agent360 load as a bounded, headless Locust subprocess.

Locust is never imported here: it monkey-patches the process with gevent on import.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal
from urllib.parse import urlsplit

from kernel.errors import Chaos360Error
from kernel.redact import is_secret_name
from kernel.waiting import poll_until
from loadtests.journal import REQUESTS_FILE_ENV
from loadtests.processes import MARKER_ENV, find_load_processes, kill_load_processes
from loadtests.schedule import MAX_PACE_S, MIN_PACE_S, PACE_S

__all__ = ["LoadController", "LoadSpec", "LoadStartError", "find_load_processes", "kill_load_processes"]

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_USERS = 500
MAX_DURATION_S = 3600
LOCUST_STOP_TIMEOUT_S = 5
TERM_GRACE_S = 10.0
POLL_S = 0.1
StartState = Literal["requesting", "exited", "starting"]
LOG_TAIL_LINES = 20


class LoadStartError(Chaos360Error):
    """Locust did not start sending requests."""


@dataclass(frozen=True, kw_only=True)
class LoadSpec:
    base_url: str
    users: int = 20
    spawn_rate: float = 20
    duration_s: float = 120
    pace_s: float = PACE_S

    def __post_init__(self) -> None:
        if isinstance(self.users, bool) or not isinstance(self.users, int) or not 1 <= self.users <= MAX_USERS:
            raise ValueError(f"users must be an integer 1..{MAX_USERS}, got {self.users!r}")
        if not _positive_number(self.spawn_rate):
            raise ValueError(f"spawn_rate must be a number > 0, got {self.spawn_rate!r}")
        if not _positive_number(self.duration_s) or not 1 <= self.duration_s <= MAX_DURATION_S:
            raise ValueError(f"duration_s must be a number of seconds 1..{MAX_DURATION_S}, got {self.duration_s!r}")
        if not _positive_number(self.pace_s) or not MIN_PACE_S <= self.pace_s <= MAX_PACE_S:
            raise ValueError(f"pace_s must be a number of seconds {MIN_PACE_S:g}..{MAX_PACE_S:g}, got {self.pace_s!r}")
        url = urlsplit(self.base_url) if isinstance(self.base_url, str) else None
        if url is None or url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"base_url must be an http(s) URL such as http://127.0.0.1:18080, got {self.base_url!r}")

    def locust_args(self, locustfile: Path) -> list[str]:
        """Locust's command line; its -t takes whole seconds, so the duration is rounded up."""
        return [
            sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
            "-u", str(self.users), "-r", f"{self.spawn_rate:g}", "-t", f"{math.ceil(self.duration_s)}s",
            "--host", self.base_url.rstrip("/"), "--stop-timeout", str(LOCUST_STOP_TIMEOUT_S),
            "--only-summary", "--loglevel", "WARNING", "--pace-s", f"{self.pace_s:g}",
        ]


def _positive_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


class LoadController:
    """Starts Locust in its own process group; stop() (also run at exit) ends the whole group."""

    def __init__(
        self, spec: LoadSpec, run_dir: Path, *, locustfile: Path = LOCUSTFILE, marker: str | None = None,
        start_timeout_s: float = 30.0,
    ) -> None:
        self.spec = spec
        self.run_dir = Path(run_dir)
        self.locustfile = Path(locustfile)
        self.marker = marker or f"load-{uuid.uuid4().hex[:12]}"
        self.start_timeout_s = start_timeout_s
        self.requests_file = self.run_dir / "requests.jsonl"
        self.log_file = self.run_dir / "locust.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._process.poll() if self._process is not None else None

    def start(self) -> LoadController:
        """Start Locust; return once its first request is journaled, else stop it and raise LoadStartError."""
        if self._process is not None:
            raise LoadStartError("this load controller was already started")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._process = _take_prepared(self.marker, self.spec.locust_args(self.locustfile))
        if self._process is None:
            with open(self.log_file, "ab") as log:
                self._process = subprocess.Popen(
                    self.spec.locust_args(self.locustfile), stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, cwd=self.run_dir, env=load_env(self.requests_file, self.marker),
                    start_new_session=True,
                )
        atexit.register(self.stop)
        try:
            self._wait_for_first_request()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_first_request(self) -> None:
        assert self._process is not None
        state = poll_until(self._start_state, lambda s: s != "starting", self.start_timeout_s, poll_s=POLL_S)
        if state == "exited":
            raise LoadStartError(
                f"locust exited with code {self._process.returncode} before sending a request; "
                f"last lines of {self.log_file}:\n{self.log_tail()}"
            )
        if state == "starting":
            raise LoadStartError(
                f"locust sent no request within {self.start_timeout_s:g}s; last lines of {self.log_file}:\n"
                f"{self.log_tail()}"
            )

    def _start_state(self) -> StartState:
        assert self._process is not None
        if self._journal_started():
            return "requesting"
        return "exited" if self._process.poll() is not None else "starting"

    def _journal_started(self) -> bool:
        try:
            return self.requests_file.stat().st_size > 0
        except FileNotFoundError:
            return False

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def wait(self, timeout_s: float) -> int | None:
        """Wait up to timeout_s for Locust to end by itself; its exit code, or None while it still runs."""
        if self._process is None:
            return None
        try:
            return self._process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after TERM_GRACE_S; safe to call any number of times."""
        atexit.unregister(self.stop)
        process = self._process
        if process is None or self._stopped:
            return
        self._stopped = True
        if process.poll() is None:  # not reaped yet, so its process group id is still ours
            _killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(TERM_GRACE_S)
            except subprocess.TimeoutExpired:
                _killpg(process.pid, signal.SIGKILL)
                process.wait()
        kill_load_processes(self.marker, grace_s=0)  # anything of this run that outlived Locust's main process

    def __enter__(self) -> LoadController:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def load_env(requests_file: Path, marker: str) -> dict[str, str]:
    """The harness's environment minus LOCUST_* settings and secrets, plus the journal path and the marker."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("LOCUST_") and not is_secret_name(key)}
    pythonpath = [str(PROJECT_ROOT), *filter(None, [env.get("PYTHONPATH")])]
    env.update({REQUESTS_FILE_ENV: str(requests_file), MARKER_ENV: marker,
                "PYTHONPATH": os.pathsep.join(pythonpath)})
    return env


# A Python that imports Locust (about 0.8 s, gevent included), then waits for its command line on stdin.
WARM_LOCUST = (
    "import json, sys\n"
    "import locust.main\n"
    "line = sys.stdin.readline()\n"
    "if not line:\n"
    "    sys.exit(0)\n"
    "sys.argv = json.loads(line)\n"
    "locust.main.main()\n"
)
_prepared: dict[str, subprocess.Popen[bytes]] = {}


def prepare(run_dir: Path, marker: str) -> None:
    """Import Locust for the run ahead of time (while its steady state is checked); start() hands it the spec."""
    if marker in _prepared:
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "locust.log", "ab") as log:
        _prepared[marker] = subprocess.Popen(
            [sys.executable, "-c", WARM_LOCUST], stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
            cwd=run_dir, env=load_env(run_dir / "requests.jsonl", marker), start_new_session=True,
        )


def _take_prepared(marker: str, locust_args: list[str]) -> subprocess.Popen[bytes] | None:
    process = _prepared.pop(marker, None)
    if process is None or process.stdin is None or process.poll() is not None:
        return None
    process.stdin.write((json.dumps(["locust", *locust_args[3:]]) + "\n").encode())
    process.stdin.close()
    return process


def discard_prepared(marker: str) -> None:
    """A prepared Locust the run never used ends when its stdin closes."""
    process = _prepared.pop(marker, None)
    if process is not None and process.stdin is not None:
        process.stdin.close()
        try:
            process.wait(TERM_GRACE_S)
        except subprocess.TimeoutExpired:
            _killpg(process.pid, signal.SIGKILL)
            process.wait()


def _killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
