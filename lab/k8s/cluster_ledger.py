"""The fault ledger kept in the cluster: a ConfigMap in the target namespace, so `chaos360 heal` from any machine (or
the next scheduled run) finds what a crashed run left. Writes are compare-and-swap on the ConfigMap's
resourceVersion; the ConfigMap is deleted once no entry is left."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError
from urllib3.exceptions import HTTPError

from kernel.errors import LabError, UsageError
from kernel.ledger import Entry, dump_entries, parse_entries

T = TypeVar("T")
LEDGER_NAME = "chaos360-ledger"
DATA_KEY = "entries.json"
LEDGER_LABELS = {"app.kubernetes.io/managed-by": "chaos360", "chaos360.io/ledger": "faults"}
CONFLICT, NOT_FOUND = 409, 404
ATTEMPTS = 20


class ConfigMapLedgerStore:
    def __init__(self, core: Any, namespace: str, name: str = LEDGER_NAME) -> None:
        self._core, self.namespace, self.name = core, namespace, name
        self.where = f"ConfigMap {namespace}/{name}"

    def update(self, change: Callable[[list[Entry]], T]) -> T:
        for _ in range(ATTEMPTS):
            current = self._read()
            entries = self._entries(current)
            before = list(entries)
            result = change(entries)
            if entries == before or self._write(current, entries):
                return result
        raise LabError(f"{self.where}: still changed by another writer after {ATTEMPTS} attempts")

    def _read(self) -> Any | None:
        try:
            return self._core.read_namespaced_config_map(self.name, self.namespace)
        except ApiException as error:
            if error.status == NOT_FOUND:
                return None
            raise LabError(f"{self.where} not readable: {error.status} {error.reason}") from None
        except (HTTPError, OSError) as error:
            raise LabError(f"{self.where} not readable: {error}") from None

    def _entries(self, config_map: Any | None) -> list[Entry]:
        if config_map is None:
            return []
        try:
            return parse_entries((config_map.data or {}).get(DATA_KEY) or "[]")
        except (ValueError, ValidationError):
            raise UsageError(f"fault ledger {self.where} is corrupt; inspect it, then delete it by hand") from None

    def _write(self, current: Any | None, entries: list[Entry]) -> bool:
        """False when another writer changed the ledger since it was read."""
        try:
            if current is None:
                self._core.create_namespaced_config_map(self.namespace, self._body(entries))
            elif not entries:
                self._core.delete_namespaced_config_map(self.name, self.namespace, body={
                    "preconditions": {"resourceVersion": current.metadata.resource_version}})
            else:
                body = self._body(entries)
                body["metadata"]["resourceVersion"] = current.metadata.resource_version
                self._core.replace_namespaced_config_map(self.name, self.namespace, body)
        except ApiException as error:
            if error.status in (CONFLICT, NOT_FOUND):
                return False
            raise LabError(f"{self.where} not writable: {error.status} {error.reason}") from None
        except (HTTPError, OSError) as error:
            raise LabError(f"{self.where} not writable: {error}") from None
        return True

    def _body(self, entries: list[Entry]) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": self.name, "namespace": self.namespace, "labels": dict(LEDGER_LABELS)},
                "data": {DATA_KEY: dump_entries(entries)}}
