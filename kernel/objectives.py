"""The HA guide's objectives as validated data, loaded from experiments/objectives.yaml.

Nothing in chaos360 hard-codes a threshold: probes and verdicts take them from an `Objectives`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from kernel.errors import UsageError

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "experiments" / "objectives.yaml"
OBJECTIVES_ENV = "CHAOS360_OBJECTIVES"

# A one-line justification: the guide's wording or the measured numbers behind a value.
Why = Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=300, pattern=r"^[^\n]+$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
FaultName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class ErrorRateObjective(_Frozen):
    """Failed requests / all requests may not exceed `max`."""

    max: float = Field(gt=0.0, le=1.0)
    source: Name
    why: Why


class RestartObjective(_Frozen):
    max_per_hour: int = Field(ge=0, le=1000)
    source: Name
    why: Why


class ReplicasObjective(_Frozen):
    min: int = Field(ge=1, le=1000)
    why: Why


class RollingUpdateObjective(_Frozen):
    max_surge: int = Field(ge=0, le=1000)
    max_unavailable: int = Field(ge=0, le=1000)
    why: Why

    @model_validator(mode="after")
    def _not_both_zero(self) -> RollingUpdateObjective:
        if self.max_surge == 0 and self.max_unavailable == 0:
            raise ValueError("max_surge and max_unavailable cannot both be 0 (a rollout could never progress)")
        return self


class TopologySpreadObjective(_Frozen):
    max_skew: int = Field(ge=1, le=1000)
    why: Why


class CassandraObjective(_Frozen):
    replication_factor_per_dc: int = Field(ge=1, le=100)
    strategy: Name
    why: Why


class SentinelObjective(_Frozen):
    quorum: int = Field(ge=1, le=100)
    sentinels: int = Field(ge=1, le=100)
    why: Why

    @model_validator(mode="after")
    def _quorum_reachable(self) -> SentinelObjective:
        if self.quorum > self.sentinels:
            raise ValueError(f"quorum {self.quorum} exceeds the {self.sentinels} sentinels")
        return self


class Window(_Frozen):
    seconds: float = Field(gt=0.0, le=3600.0)
    why: Why


class StopConditions(_Frozen):
    """When a run is aborted early: error rate above `max_error_rate` over the last `window_s`, or a lost write."""

    max_error_rate: float = Field(gt=0.0, le=1.0)
    window_s: float = Field(gt=0.0, le=3600.0)
    min_requests: int = Field(ge=1, le=1_000_000)
    abort_on_lost_write: bool
    why: Why


class RecoveryService(_Frozen):
    """Recovered also means the service is back: per 1 s bucket, this share of the pre-fault request rate and a p95
    under the larger of factor x the pre-fault p95 and the pre-fault p95 + slack."""

    min_throughput_share: float = Field(gt=0.0, le=1.0)
    max_p95_factor: float = Field(ge=1.0, le=100.0)
    p95_slack_ms: float = Field(ge=0.0, le=60_000.0)
    why: Why


class RecoveryObjective(_Frozen):
    """Seconds from the fault's injection (or its heal) until the service is recovered."""

    seconds: float = Field(gt=0.0, le=3600.0)
    measured_from: Literal["inject", "heal"]
    why: Why


class AlertDrillObjective(_Frozen):
    """The alert drill: `alert` must fire within `fire_within_s` of the first fault and resolve within
    `resolve_within_s` of the heal."""

    alert: Name
    fire_within_s: float = Field(gt=0.0, le=3600.0)
    resolve_within_s: float = Field(gt=0.0, le=3600.0)
    why: Why


class DrDrillObjective(_Frozen):
    """A disaster-recovery drill: service ready with its data verified within `rto_s` of the disaster, and the
    backup restored at most `rpo_s` older than the disaster."""

    rto_s: float = Field(gt=0.0, le=86400.0)
    rpo_s: float = Field(gt=0.0, le=86400.0)
    why: Why


class Objectives(_Frozen):
    error_rate: ErrorRateObjective
    restarts: RestartObjective
    replicas: ReplicasObjective
    rolling_update: RollingUpdateObjective
    topology_spread: TopologySpreadObjective
    cassandra: CassandraObjective
    sentinel: SentinelObjective
    recovery_hold: Window
    recovery_service: RecoveryService
    worst_window: Window
    stop_conditions: StopConditions
    recovery: dict[FaultName, RecoveryObjective] = Field(min_length=1)
    alert_drill: AlertDrillObjective | None = None
    dr_drill: DrDrillObjective | None = None
    queue_delivery: Window | None = None

    @property
    def recovery_hold_s(self) -> float:
        return self.recovery_hold.seconds

    @property
    def worst_window_s(self) -> float:
        return self.worst_window.seconds

    def recovery_for(self, fault: str) -> RecoveryObjective:
        try:
            return self.recovery[fault]
        except KeyError:
            known = ", ".join(sorted(self.recovery))
            raise UsageError(f"no recovery objective for fault {fault!r} (objectives know: {known})") from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice in one mapping (YAML would silently keep the last)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"invalid YAML{where}: {' '.join(str(problem).split())}"


def _validation_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"]
    if first["type"] != "missing":
        shown = repr(first.get("input"))
        message += f", got {shown[:60] + '...' if len(shown) > 60 else shown}"
    more = f" (and {error.error_count() - 1} more problems)" if error.error_count() > 1 else ""
    return f"{location}: {message}{more}"


def parse_objectives(text: str, origin: str = "<string>") -> Objectives:
    """Validate objectives from YAML text; UsageError names `origin` and the first bad field in one line."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        raise UsageError(f"objectives file {origin}: {_yaml_problem(error)}") from None
    if not isinstance(data, dict):
        raise UsageError(f"objectives file {origin}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        return Objectives.model_validate(data)
    except ValidationError as error:
        raise UsageError(f"objectives file {origin}: {_validation_problem(error)}") from None


def load_objectives(path: Path | str | None = None) -> Objectives:
    """The objectives in `path`, else in the file CHAOS360_OBJECTIVES names, else experiments/objectives.yaml."""
    file = Path(path) if path is not None else Path(os.environ.get(OBJECTIVES_ENV) or DEFAULT_PATH)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise UsageError(f"objectives file {file}: cannot read it: {reason}") from None
    return parse_objectives(text, str(file))
