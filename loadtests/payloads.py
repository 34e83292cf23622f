"""The payload of each task the load creates, derived from its ids: a checker knows what the stored row must hold."""

from __future__ import annotations

import json

SOURCE = "chaos360-load"


def task_payload(agent_id: str, task_id: str) -> dict[str, str]:
    return {"source": SOURCE, "agent_id": agent_id, "task_id": task_id}


def payload_matches(agent_id: str, task_id: str, stored: str) -> bool:
    """True when the stored payload text is the JSON the load sent for this task."""
    try:
        return bool(json.loads(stored) == task_payload(agent_id, task_id))
    except (TypeError, ValueError):
        return False
