"""The inventory: every instance of a target with role, zone and addresses, persisted for actions and probes."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from kernel.errors import UsageError


class InventoryInstance(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    role: str
    zone: str | None
    container: str
    ip: str
    ports: dict[str, int]
    host_ports: dict[str, int]
    host: str = "127.0.0.1"  # where the harness reaches host_ports: loopback for Docker, an in-cluster address on k8s


class Inventory(BaseModel):
    model_config = ConfigDict(frozen=True)

    lab_id: str
    profile: str
    network: str
    subnet: str
    settings: dict[str, str | int]
    images: dict[str, str]
    instances: tuple[InventoryInstance, ...]

    def by_role(self, role: str) -> tuple[InventoryInstance, ...]:
        return tuple(i for i in self.instances if i.role == role)

    def in_zone(self, zone: str, role: str | None = None) -> tuple[InventoryInstance, ...]:
        return tuple(i for i in self.instances if i.zone == zone and (role is None or i.role == role))

    def get(self, name: str) -> InventoryInstance:
        for instance in self.instances:
            if instance.name == name:
                return instance
        raise UsageError(f"no instance named {name!r} in lab {self.lab_id}")

    def host_url(self, name: str, port: str = "http") -> str:
        instance = self.get(name)
        return f"http://{instance.host}:{instance.host_ports[port]}"

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(sorted({i.zone for i in self.instances if i.zone}))


def state_dir() -> Path:
    path = Path(os.environ.get("CHAOS360_STATE_DIR", Path.home() / ".chaos360"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def inventory_path(lab_id: str) -> Path:
    return state_dir() / f"inventory-{lab_id}.json"


def save(inventory: Inventory) -> Path:
    path = inventory_path(inventory.lab_id)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(inventory.model_dump_json(indent=1))
    tmp.replace(path)
    return path


def load(lab_id: str) -> Inventory:
    path = inventory_path(lab_id)
    if not path.exists():
        raise UsageError(f"no inventory for lab {lab_id!r} at {path}: run `chaos360 lab up` first")
    try:
        return Inventory.model_validate(json.loads(path.read_text()))
    except (ValueError, ValidationError) as error:
        reason = error.__class__.__name__
        raise UsageError(f"inventory {path} is unreadable ({reason}); run `chaos360 lab up`") from None


def find(lab_id: str) -> Inventory | None:
    """The lab's inventory, or None when no lab of that id is up."""
    if not inventory_path(lab_id).exists():
        return None
    return load(lab_id)
