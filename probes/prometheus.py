"""Prometheus as the service's own witness: its 5xx ratio, restarts and alert states over a run's window.

The client-side error rate (Locust) counts timeouts and resets too; this is what the guide's alerts see.
"""

from __future__ import annotations

import json
import math
import urllib.parse
import urllib.request
from dataclasses import dataclass

from kernel.errors import LabError

TIMEOUT_S = 3.0
# "or vector(0)": a service that never answered 5xx has no such series at all, which is a ratio of 0, not unknown.
FIVE_XX_RATIO = ('(sum(increase(http_requests_total{{status=~"5.."}}[{window}s])) or vector(0)) '
                 "/ sum(increase(http_requests_total[{window}s]))")
RESTARTS = 'max(changes(process_start_time_seconds{{job="agent360"}}[{window}s]))'


@dataclass(frozen=True)
class ServerView:
    five_xx_ratio: float | None
    max_restarts: float | None
    alerts: dict[str, str]

    @property
    def firing(self) -> list[str]:
        return sorted(name for name, state in self.alerts.items() if state == "firing")


def _get(base_url: str, path: str, **params: str) -> object:
    url = f"{base_url}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            body = json.loads(response.read())
    except (OSError, ValueError) as error:
        raise LabError(f"prometheus {path}: {error}") from None
    if not isinstance(body, dict) or body.get("status") != "success":
        raise LabError(f"prometheus {path}: {str(body)[:200]}")
    return body.get("data")


def scalar(base_url: str, expr: str) -> float | None:
    """The value of an instant query that yields one series; None when it yields none or NaN."""
    data = _get(base_url, "/api/v1/query", query=expr)
    result = data.get("result") if isinstance(data, dict) else None
    if not result:
        return None
    value = float(result[0]["value"][1])
    return None if math.isnan(value) else value


def alert_states(base_url: str) -> dict[str, str]:
    """Every alerting rule loaded, with its state: inactive, pending or firing."""
    data = _get(base_url, "/api/v1/rules", type="alert")
    groups = data.get("groups", []) if isinstance(data, dict) else []
    return {rule["name"]: rule.get("state", "inactive") for group in groups for rule in group.get("rules", [])}


def server_view(base_url: str, window_s: float) -> ServerView:
    window = max(1, math.ceil(window_s))
    return ServerView(scalar(base_url, FIVE_XX_RATIO.format(window=window)),
                      scalar(base_url, RESTARTS.format(window=window)), alert_states(base_url))
