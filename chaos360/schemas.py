"""Every python provider an experiment may call, with a typed model of its arguments: types, ranges, enums.

Defaults are the functions' own; tests/unit/test_validation.py checks each model against its function's signature.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from actions.links import LINKS
from actions.redis import MODES
from actions.selection import ROLES
from kernel.objectives import load_objectives
from kernel.problems import Invalid, field_path, from_validation, shown
from kernel.target import TOXIC_ATTRIBUTES, ToxicSpec
from loadtests.controller import MAX_DURATION_S, MAX_USERS
from probes.checks import CHECK_NAMES

MAX_SECONDS = 3600
CANARY_FAULTS = ("pause", "kill", "stop")
CHECKS = CHECK_NAMES
Kind = Literal["fault", "restore", "load", "probe"]


def _one_of(allowed: Iterable[str], what: str) -> AfterValidator:
    choices = tuple(allowed)

    def check(value: str) -> str:
        if value not in choices:
            raise ValueError(f"{what} {shown(value)} is not one of {', '.join(choices)}")
        return value

    return AfterValidator(check)


def _known_fault(value: str) -> str:
    known = load_objectives().recovery
    if value not in known:
        raise ValueError(f"fault {shown(value)} has no recovery objective; expected one of {', '.join(known)}")
    return value


Seconds = Annotated[float, Field(gt=0, le=MAX_SECONDS, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=1, le=1000)]
Zone = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Role = Annotated[str, _one_of(ROLES, "role")]
Link = Annotated[str, _one_of(LINKS, "link")]
Fault = Annotated[str, StringConstraints(max_length=64), AfterValidator(_known_fault)]


class Arguments(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class NoArguments(Arguments):
    pass


class Selector(Arguments):
    role: Role
    zone: Zone | None = None
    count: Count = 1


class KillInstances(Selector):
    wait_restart_s: Seconds = 60.0


class StopNodes(Arguments):
    zone: Zone | None = None
    count: Count = 1


class ZoneArgument(Arguments):
    zone: Zone


class DropMaster(Arguments):
    mode: Annotated[str, _one_of(MODES, "mode")] = "stop"
    wait_failover_s: Seconds = 20.0


class CutLink(Arguments):
    link: Link
    zone: Zone | None = None


class DegradeLink(Arguments):
    link: Link
    toxic: Annotated[str, _one_of(TOXIC_ATTRIBUTES, "toxic")] = "latency"
    attributes: dict[str, int] | None = None
    stream: Literal["upstream", "downstream"] = "downstream"
    toxicity: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 1.0
    zone: Zone | None = None

    @field_validator("attributes")
    @classmethod
    def _attributes_of_the_toxic(cls, value: dict[str, int] | None, info: ValidationInfo) -> dict[str, int] | None:
        kind = info.data.get("toxic")
        if value is not None and kind is not None:
            ToxicSpec(kind, attributes=tuple(sorted(value.items())))
        return value


class FlapLink(Arguments):
    link: Link
    down_s: Annotated[float, Field(gt=0, le=30, allow_inf_nan=False)] = 1.0
    up_s: Annotated[float, Field(gt=0, le=60, allow_inf_nan=False)] = 2.0
    cycles: Annotated[int, Field(ge=1, le=50)] = 5
    zone: Zone | None = None


class CanaryFault(Arguments):
    fault: Annotated[str, _one_of(CANARY_FAULTS, "canary fault")] = "pause"
    canary_s: Annotated[float, Field(gt=0, le=600, allow_inf_nan=False)] = 10.0


class StartLoad(Arguments):
    users: Annotated[int, Field(ge=1, le=MAX_USERS)] = 20
    spawn_rate: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] = 20
    duration_s: Annotated[float, Field(ge=1, le=MAX_DURATION_S, allow_inf_nan=False)] = 120


class HealAll(Arguments):
    wait_ready_s: Seconds = 120.0


class Burst(Arguments):
    requests: Annotated[int, Field(ge=1, le=1000)] = 30


class Recovery(Arguments):
    fault: Fault


class ObjectivesMet(Arguments):
    fault: Fault
    checks: Annotated[list[Annotated[str, _one_of(CHECKS, "check")]], Field(min_length=1, max_length=20)] | None = None


@dataclass(frozen=True)
class Provider:
    """A function experiments may call; `kind` says where it may stand (a fault never in rollbacks)."""

    module: str
    func: str
    kind: Kind
    arguments: type[Arguments]

    @property
    def name(self) -> str:
        return f"{self.module}.{self.func}"

    def parse(self, arguments: dict[str, object], where: tuple[int | str, ...]) -> Arguments:
        known = list(self.arguments.model_fields)
        for key in arguments:
            if key not in known:
                expected = f"expected one of {', '.join(known)}" if known else "it takes no arguments"
                raise Invalid(field_path([*where, key]), f"unknown argument of {self.name}; {expected}")
        try:
            return self.arguments.model_validate(arguments)
        except ValidationError as error:
            raise from_validation(error, where) from None


PROVIDERS = (
    Provider("actions.instances", "kill_instances", "fault", KillInstances),
    Provider("actions.instances", "stop_instances", "fault", Selector),
    Provider("actions.instances", "pause_instances", "fault", Selector),
    Provider("actions.cassandra", "stop_nodes", "fault", StopNodes),
    Provider("actions.network", "isolate_zone", "fault", ZoneArgument),
    Provider("actions.network", "rejoin_zone", "restore", ZoneArgument),
    Provider("actions.redis", "drop_master", "fault", DropMaster),
    Provider("actions.links", "degrade_link", "fault", DegradeLink),
    Provider("actions.links", "cut_link", "fault", CutLink),
    Provider("actions.links", "flap_link", "fault", FlapLink),
    Provider("actions.deploy", "rolling_restart", "fault", NoArguments),
    Provider("actions.deploy", "canary_fault", "fault", CanaryFault),
    Provider("actions.load", "start_load", "load", StartLoad),
    Provider("actions.load", "stop_load", "restore", NoArguments),
    Provider("actions.heal", "heal_all", "restore", HealAll),
    Provider("probes.checks", "lab_ready", "probe", NoArguments),
    Provider("probes.checks", "burst_within_objective", "probe", Burst),
    Provider("probes.checks", "wait_for_recovery", "probe", Recovery),
    Provider("probes.checks", "objectives_met", "probe", ObjectivesMet),
)
REGISTRY = {(p.module, p.func): p for p in PROVIDERS}
MODULES = tuple(dict.fromkeys(p.module for p in PROVIDERS))
