"""What an action declares beside itself: its typed arguments, where it may stand, and its dry-run plan.

validation, the dry run and the registry of callable functions read these declarations; nothing restates them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from kernel.inventory import Inventory
from kernel.problems import field_path, shown

MAX_SECONDS = 3600
Kind = Literal["fault", "restore", "load", "probe"]


class Arguments(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class NoArguments(Arguments):
    pass


def one_of(allowed: Iterable[str], what: str) -> AfterValidator:
    choices = tuple(allowed)

    def check(value: str) -> str:
        if value not in choices:
            raise ValueError(f"{what} {shown(value)} is not one of {', '.join(choices)}")
        return value

    return AfterValidator(check)


Seconds = Annotated[float, Field(gt=0, le=MAX_SECONDS, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=1, le=1000)]
Zone = Annotated[str, StringConstraints(min_length=1, max_length=64)]


@dataclass(frozen=True)
class Call:
    """One activity of an experiment: where it stands, what it calls ("module.func"), its parsed arguments."""

    where: tuple[int | str, ...]
    name: str
    provider: str
    arguments: Arguments

    def field(self, argument: str = "") -> str:
        return field_path([*self.where, "provider", "arguments", argument] if argument else self.where)

    def get(self, argument: str) -> Any:
        return getattr(self.arguments, argument)


@dataclass(frozen=True)
class Lab:
    """The lab a plan is drawn for: its inventory, the blast-radius override, and how to ask for the Redis master."""

    inventory: Inventory
    allow_majority: bool = False
    master: Callable[[Inventory], str | None] = lambda _: None


@dataclass(frozen=True)
class Footprint:
    """What a call would touch, as the dry run shows it: `hit` the (role, instance) pairs it takes down for a while,
    `down`, `isolated` and `cut` what stays so until healed; `blame` names the argument that chose them."""

    text: str
    hit: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    down: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    isolated: frozenset[str] = field(default_factory=frozenset)
    rejoined: frozenset[str] = field(default_factory=frozenset)
    cut: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    heals: bool = False
    blame: str = ""


Plan = Callable[[Call, Lab], Footprint]


@dataclass(frozen=True)
class Declared:
    """A function experiments may call: `kind` says where it may stand (a fault never in rollbacks); `plan` is its
    dry-run line and what it would hit (a probe without one is shown with its arguments)."""

    func: Callable[..., Any]
    kind: Kind
    arguments: type[Arguments] = NoArguments
    plan: Plan | None = None
