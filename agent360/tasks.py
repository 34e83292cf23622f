"""The task record and the validation of what clients send."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
DEFAULT_LIST_LIMIT = 50
MAX_LIST_LIMIT = 500


class BadRequest(ValueError):
    """The client sent an invalid id, body or parameter (answered with 400)."""


@dataclass(frozen=True)
class Task:
    agent_id: str
    task_id: str
    payload: str
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "task_id": self.task_id,
            "payload": json.loads(self.payload),
            "created_at": format_timestamp(self.created_at),
        }


def validate_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise BadRequest(f"{what} must be 1-64 characters of [A-Za-z0-9_-]")
    return value


def now_ms() -> datetime:
    """The current UTC time truncated to milliseconds, the precision of a CQL timestamp."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def as_utc(value: datetime) -> datetime:
    """The driver returns naive UTC datetimes."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_timestamp(value: datetime) -> str:
    return as_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_task(agent_id: str, body: object) -> Task:
    """Build a task from a POST body `{"payload": ..., "task_id"?: ...}`."""
    if not isinstance(body, dict) or "payload" not in body:
        raise BadRequest('body must be a JSON object with a "payload" field')
    task_id = validate_id(body["task_id"], "task_id") if "task_id" in body else uuid.uuid4().hex
    payload = json.dumps(body["payload"], separators=(",", ":"), ensure_ascii=False)
    return Task(validate_id(agent_id, "agent_id"), task_id, payload, now_ms())


def parse_limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIST_LIMIT
    try:
        limit = int(text)
    except ValueError:
        raise BadRequest(f"limit must be an integer 1..{MAX_LIST_LIMIT}") from None
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise BadRequest(f"limit must be an integer 1..{MAX_LIST_LIMIT}")
    return limit


def cache_key(agent_id: str, task_id: str) -> str:
    return f"task:{agent_id}:{task_id}"
