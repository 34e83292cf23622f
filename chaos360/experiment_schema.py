"""The shape of an experiment chaos360 runs: the Chaos Toolkit format, narrowed to what is safe to execute.

Only python providers of the registry (chaos360.schemas) may run, only chaos360.control as a control, and values
that Chaos Toolkit would evaluate at run time (dynamic configuration, vault secrets, probe tolerances) are refused.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from chaos360.schemas import MODULES, PROVIDERS, REGISTRY, Provider
from kernel.problems import shown

PACKAGES = ("actions.", "probes.", "chaos360.")
CONTROL_MODULE = "chaos360.control"
ENV_VALUE_KEYS = frozenset({"type", "key", "default", "env_var_type"})
MAX_ACTIVITIES = 200

Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=5000)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Pause = Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False)]


def _plain_or_env(value: object) -> object:
    """A configuration or secret value: a plain scalar, or {type: env, key: NAME, default: value}."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    expected = "expected a plain value or {type: env, key: NAME, default: value}"
    if not isinstance(value, dict) or value.get("type") != "env" or not isinstance(value.get("key"), str):
        raise ValueError(f"{expected}, got {shown(value)}")
    unknown = set(value) - ENV_VALUE_KEYS
    if unknown or not isinstance(value.get("default", ""), str | int | float | bool):
        raise ValueError(f"{expected}, got {shown(value)}")
    return value


def _python_only(value: object) -> str:
    if value != "python":
        raise ValueError(f"provider type {shown(value)} is refused; only python providers of chaos360 may run")
    return value


def _known_module(value: str) -> str:
    if not value.startswith(PACKAGES):
        raise ValueError(f"module {shown(value)} is refused; only modules of {', '.join(PACKAGES)} may be called")
    if value not in MODULES:
        raise ValueError(f"unknown module {shown(value)}; expected one of {', '.join(MODULES)}")
    return value


ConfigValue = Annotated[object, AfterValidator(_plain_or_env)]
ProviderType = Annotated[str, AfterValidator(_python_only)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            cls._before_fields(data)
            known = [field.alias or name for name, field in cls.model_fields.items()]
            for key in data:
                if key not in known:
                    raise ValueError(f"unknown field {shown(key)}; expected one of {', '.join(known)}")
        return data

    @classmethod
    def _before_fields(cls, data: dict[Any, Any]) -> None:
        """What to refuse before naming unknown fields."""


class _PythonProvider(_Strict):
    @classmethod
    def _before_fields(cls, data: dict[Any, Any]) -> None:
        _python_only(data.get("type"))


class Tolerance(_Strict):
    type: Literal["jsonpath", "regex", "range"]
    path: Text | None = None
    expect: object = None
    target: Text | None = None
    pattern: Text | None = None
    range: Annotated[list[float], Field(min_length=2, max_length=2)] | None = None
    count: int | None = None


class Pauses(_Strict):
    before: Pause | None = None
    after: Pause | None = None


class ActivityProvider(_PythonProvider):
    type: ProviderType
    module: Annotated[str, StringConstraints(max_length=100), AfterValidator(_known_module)]
    func: Annotated[str, StringConstraints(max_length=100)]
    arguments: dict[str, object] = Field(default_factory=dict)

    @field_validator("func")
    @classmethod
    def _known_func(cls, value: str, info: ValidationInfo) -> str:
        module = info.data.get("module")
        if module is not None and f"{module}.{value}" not in REGISTRY:
            known = ", ".join(p.func for p in PROVIDERS if p.module == module)
            raise ValueError(f"{module} has no function {shown(value)} experiments may call; expected one of {known}")
        return value

    @property
    def entry(self) -> Provider:
        return REGISTRY[f"{self.module}.{self.func}"]


class Activity(_Strict):
    type: Literal["action", "probe"]
    name: Text
    provider: ActivityProvider
    tolerance: Tolerance | None = None
    pauses: Pauses | None = None
    background: bool = False
    timeout: Pause | None = None

    @model_validator(mode="after")
    def _type_matches_provider(self) -> Activity:
        declared, kind = self.type, self.provider.entry.kind
        if (declared == "probe") != (kind == "probe"):
            raise ValueError(f"type {declared!r} does not fit {self.provider.entry.name}, which is a {kind}; "
                             f"declare it type: {'probe' if kind == 'probe' else 'action'}")
        return self


class HypothesisProbe(Activity):
    type: Literal["probe"]
    tolerance: Tolerance


class Hypothesis(_Strict):
    title: Text
    probes: Annotated[list[HypothesisProbe], Field(max_length=MAX_ACTIVITIES)] = Field(default_factory=list)


class ControlProvider(_PythonProvider):
    type: ProviderType
    module: Literal["chaos360.control"]


class Control(_Strict):
    name: Text
    provider: ControlProvider


class Extension(BaseModel):
    """Any named extension; the chaos360 one is parsed on its own (chaos360.validation)."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    name: Text


class Experiment(_Strict):
    version: Text | None = None
    title: Text
    description: LongText
    tags: Annotated[list[Text], Field(max_length=50)] = Field(default_factory=list)
    contributions: dict[Key, Text] | None = None
    configuration: dict[Key, ConfigValue] = Field(default_factory=dict)
    secrets: dict[Key, dict[Key, ConfigValue]] = Field(default_factory=dict)
    controls: list[Control]
    steady_state_hypothesis: Hypothesis | None = Field(default=None, alias="steady-state-hypothesis")
    method: Annotated[list[Activity], Field(max_length=MAX_ACTIVITIES)]
    rollbacks: Annotated[list[Activity], Field(max_length=MAX_ACTIVITIES)] = Field(default_factory=list)
    extensions: Annotated[list[Extension], Field(max_length=20)] = Field(default_factory=list)

    @field_validator("controls")
    @classmethod
    def _the_chaos360_control(cls, value: list[Control]) -> list[Control]:
        if len(value) != 1:
            raise ValueError(f"expected exactly one control, {CONTROL_MODULE} (it opens the run and heals every "
                             f"fault when it ends), got {len(value)}")
        return value

    def activities(self) -> list[tuple[tuple[int | str, ...], Activity]]:
        """Every activity with its location, in the order Chaos Toolkit runs them."""
        probes: list[Activity] = list(self.steady_state_hypothesis.probes if self.steady_state_hypothesis else [])
        sections: list[tuple[tuple[int | str, ...], list[Activity]]] = [
            (("steady-state-hypothesis", "probes"), probes), (("method",), self.method),
            (("rollbacks",), self.rollbacks),
        ]
        return [((*where, i), activity) for where, activities in sections for i, activity in enumerate(activities)]


class Chaos360Extension(_Strict):
    """`extensions: [{name: chaos360, allow_majority: true, stop_conditions: {...}}]`"""

    name: Literal["chaos360"]
    allow_majority: bool = False
    stop_conditions: dict[str, object] | None = None
