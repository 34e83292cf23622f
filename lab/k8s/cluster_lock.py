"""One run at a time per namespace, wherever the runs start: a Lease in the target namespace, held while a run or a
heal works there and renewed in the background. The scheduled drill, a game-day Job and a run from a laptop
all take it, so a second one is refused before it touches anything. A holder that died (a SIGKILL, a node lost)
stops renewing; its lease is free again `DURATION_S` after its last renewal.
"""

from __future__ import annotations

import datetime
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from kernel.errors import LabError, UsageError

LEASE_NAME = "chaos360-run"
DURATION_S = 60
RENEW_S = 15.0
LABELS = {"app.kubernetes.io/managed-by": "chaos360"}
CONFLICT, NOT_FOUND = 409, 404

_held: dict[str, int] = {}


def holder_identity() -> str:
    """Who holds the lease: the pod (its hostname) or the machine, and the process."""
    return f"{socket.gethostname()}/pid-{os.getpid()}"


def lease_is_live(holder: str | None, renewed: datetime.datetime | None, duration_s: int | None,
                  now: datetime.datetime) -> bool:
    """A lease still binds while its holder renewed it within its duration."""
    if not holder or renewed is None:
        return False
    return now < renewed + datetime.timedelta(seconds=duration_s or DURATION_S)


def died_here(holder: str | None) -> bool:
    """A holder on this machine whose process is gone (a SIGKILLed run): no need to wait for its lease to expire."""
    host, _, pid = (holder or "").rpartition("/pid-")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _body(holder: str, acquired: datetime.datetime, resource_version: str | None = None) -> Any:
    return client.V1Lease(
        metadata=client.V1ObjectMeta(name=LEASE_NAME, labels=LABELS, resource_version=resource_version),
        spec=client.V1LeaseSpec(holder_identity=holder, lease_duration_seconds=DURATION_S, acquire_time=acquired,
                                renew_time=_now()))


class ClusterRunLock:
    def __init__(self, api_client: Any, namespace: str) -> None:
        self._api: Any = client.CoordinationV1Api(api_client)
        self.namespace = namespace
        self.holder = holder_identity()

    def _read(self) -> Any | None:
        try:
            return self._api.read_namespaced_lease(LEASE_NAME, self.namespace)
        except ApiException as error:
            if error.status == NOT_FOUND:
                return None
            raise LabError(f"lease {self.namespace}/{LEASE_NAME} not readable: {error.status} {error.reason}") from None

    def acquire(self) -> None:
        """Take the lease, or refuse (a usage error, nothing touched) while another live holder has it."""
        try:
            current = self._read()
            if current is None:
                self._api.create_namespaced_lease(self.namespace, _body(self.holder, _now()))
                return
            spec = current.spec
            if spec.holder_identity != self.holder and lease_is_live(spec.holder_identity, spec.renew_time,
                                                                     spec.lease_duration_seconds, _now()) \
                    and not died_here(spec.holder_identity):
                since = spec.acquire_time.strftime("%H:%M:%S UTC") if spec.acquire_time else "?"
                raise UsageError(f"namespace {self.namespace} is busy: {spec.holder_identity} holds lease "
                                 f"{LEASE_NAME} since {since}; wait for that run to end (a holder that died frees it "
                                 f"{spec.lease_duration_seconds or DURATION_S}s after its last renewal)")
            self._api.replace_namespaced_lease(LEASE_NAME, self.namespace,
                                               _body(self.holder, _now(), current.metadata.resource_version))
        except ApiException as error:
            if error.status == CONFLICT:
                raise UsageError(f"namespace {self.namespace} is busy: another run took lease {LEASE_NAME} at the "
                                 "same moment") from None
            raise LabError(f"lease {self.namespace}/{LEASE_NAME}: {error.status} {error.reason}") from None
        except (HTTPError, OSError) as error:
            raise LabError(f"lease {self.namespace}/{LEASE_NAME}: the API does not answer: {error}") from None

    def renew(self) -> None:
        current = self._read()
        if current is None or current.spec.holder_identity != self.holder:
            return
        current.spec.renew_time = _now()
        self._api.replace_namespaced_lease(LEASE_NAME, self.namespace, current)

    def release(self) -> None:
        try:
            current = self._read()
            if current is not None and current.spec.holder_identity == self.holder:
                self._api.delete_namespaced_lease(LEASE_NAME, self.namespace)
        except (ApiException, LabError, HTTPError, OSError):
            pass  # an unreleased lease frees itself DURATION_S later


def acquire_within(lock: ClusterRunLock, wait_s: float, notify: Callable[[str], None]) -> None:
    """Acquire, waiting up to `wait_s` while another holder has it (a heal waits out a crashed pod's lease)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            lock.acquire()
            return
        except UsageError as busy:
            if time.monotonic() >= deadline:
                raise
            notify(f"waiting for the namespace's run lease: {busy}")
            time.sleep(min(5.0, max(0.1, deadline - time.monotonic())))


@contextmanager
def holding(lock: ClusterRunLock, wait_s: float = 0.0,
            notify: Callable[[str], None] = lambda _line: None) -> Iterator[None]:
    """Hold the namespace's lease for the block; re-entrant within one process (a gate runs many experiments)."""
    key = lock.namespace
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    acquire_within(lock, wait_s, notify)
    _held[key] = 1
    stop = threading.Event()
    renewer = threading.Thread(target=_renew_until, args=(lock, stop), name="chaos360-lease", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join(timeout=5)
        del _held[key]
        lock.release()


def _renew_until(lock: ClusterRunLock, stop: threading.Event) -> None:
    while not stop.wait(RENEW_S):
        try:
            lock.renew()
        except (ApiException, LabError, HTTPError, OSError):
            continue  # the next renewal may get through; the lease lasts DURATION_S
