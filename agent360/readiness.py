"""Readiness: which failing dependency takes this replica out of the load balancer, and when."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class SharedOutageGrace:
    """Tolerates a failing shared dependency for `grace_s` before it counts against readiness.

    Every replica shares the Redis master, so during a Sentinel failover every replica fails its Redis check
    at once; were that to make them unready, the load balancer would have no replica left and would refuse
    the reads and lists that Cassandra alone can serve. A failure that outlasts a failover still counts.
    """

    grace_s: float
    now: Callable[[], float] = time.monotonic
    failing_since: float | None = None
    own: bool = False  # this failure was found to be this replica's own (a Sentinel saw the master answering)

    def observe(self, ok: bool) -> float:
        """Record one check; the seconds the dependency has been failing (0 when it answered)."""
        if ok:
            self.failing_since = None
            self.own = False
            return 0.0
        if self.failing_since is None:
            self.failing_since = self.now()
        return self.now() - self.failing_since

    def counts(self, failing_for_s: float) -> bool:
        return failing_for_s >= self.grace_s
