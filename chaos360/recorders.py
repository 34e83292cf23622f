"""Background recorders that turn system events into history: Sentinel messages, readiness, container events."""

from __future__ import annotations

import contextlib
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import docker
import redis

from kernel.errors import Chaos360Error
from kernel.inventory import Inventory
from kernel.ledger import Ledger
from kernel.record import EventLog
from kernel.recorder import Recorder

READY_INTERVAL_S = 0.5
READY_TIMEOUT_S = 1.5  # above the app's own check deadline (AGENT360_READY_TIMEOUT), like the LB's `timeout check`
CONTAINER_ACTIONS = {"die", "start", "restart", "pause", "unpause", "stop", "kill", "oom"}


def _sentinel_loop(log: EventLog, name: str, host: str, port: int) -> Callable[[threading.Event], None]:
    def loop(stop: threading.Event) -> None:
        while not stop.is_set():
            client = redis.Redis(host, port, socket_timeout=2, socket_connect_timeout=1, decode_responses=True)
            try:
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe("*")
                while not stop.is_set():
                    message = pubsub.get_message(timeout=0.2)
                    if message and message.get("type") == "pmessage":
                        log.append("sentinel", sentinel=name, event=message["channel"], detail=message["data"])
            except (redis.RedisError, OSError):
                stop.wait(0.5)
            finally:
                client.close()

    return loop


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=READY_TIMEOUT_S) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _readiness_loop(log: EventLog, urls: dict[str, str],
                    faulted: Callable[[], set[str]]) -> Callable[[threading.Event], None]:
    """all_ready: every replica not under an injected fault answers /ready (a cut zone's replica may not)."""
    def loop(stop: threading.Event) -> None:
        with ThreadPoolExecutor(max_workers=max(1, len(urls))) as pool:
            while not stop.is_set():
                started = time.monotonic()
                states = dict(zip(urls, pool.map(_ready, urls.values()), strict=True))
                excluded = faulted()
                healthy = all(ok for name, ok in states.items() if name not in excluded)
                log.append("ready", all_ready=healthy, instances=states, excluded=sorted(excluded))
                stop.wait(max(0.0, READY_INTERVAL_S - (time.monotonic() - started)))

    return loop


def _container_recorder(log: EventLog, lab_id: str) -> Recorder:
    streams: list[Any] = []

    def loop(stop: threading.Event) -> None:
        stream = docker.from_env().events(decode=True, filters={"type": "container", "label": f"chaos360.lab={lab_id}"})
        streams.append(stream)
        if stop.is_set():
            stream.close()
            return
        try:
            for item in stream:
                _log_container_event(log, item)
        except Exception as error:  # the stream closed under it, or the engine went away
            if not stop.is_set():
                log.append("recorder.error", recorder="containers", error=f"{error.__class__.__name__}: {error}")

    def cancel() -> None:
        for stream in streams:
            with contextlib.suppress(Exception):
                stream.close()

    return Recorder("containers", loop, cancel)


def _log_container_event(log: EventLog, item: dict[str, Any]) -> None:
    action = str(item.get("Action", "")).split(":")[0]
    if action in CONTAINER_ACTIONS:
        attributes = item.get("Actor", {}).get("Attributes", {})
        log.append("container", action=action, instance=attributes.get("chaos360.instance"),
                   exit_code=attributes.get("exitCode"))


def faulted_apps(inventory: Inventory, ledger: Ledger) -> Callable[[], set[str]]:
    """App replicas an unhealed fault in the ledger rightly takes out of service (each action names them)."""
    apps = {a.name for a in inventory.by_role("app")}
    known: set[str] = set()

    def names() -> set[str]:
        """The last set read when the ledger cannot be read (a cluster's API slow for a moment)."""
        try:
            current = apps & {name for entry in ledger.entries() for name in entry.affects}
        except Chaos360Error:
            return set(known)
        known.clear()
        known.update(current)
        return current

    return names


def start_recorders(inventory: Inventory, log: EventLog, ledger: Ledger) -> list[Recorder]:
    recorders = [
        Recorder(f"sentinel-{s.name}", _sentinel_loop(log, s.name, s.host, s.host_ports["sentinel"]))
        for s in inventory.by_role("sentinel")
    ]
    ready_urls = {a.name: f"{inventory.host_url(a.name)}/ready" for a in inventory.by_role("app")}
    recorders.append(Recorder("readiness", _readiness_loop(log, ready_urls, faulted_apps(inventory, ledger))))
    if inventory.profile != "k8s":
        recorders.append(_container_recorder(log, inventory.lab_id))
    return [r.start() for r in recorders]
