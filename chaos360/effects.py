"""What each call of an experiment would hit in a lab, by the plan its function declares."""

from __future__ import annotations

from chaos360.schemas import REGISTRY
from kernel.errors import UsageError
from kernel.fault import Call, Footprint, Lab
from kernel.problems import Invalid


def effect_of(call: Call, lab: Lab) -> Footprint:
    provider = REGISTRY[call.provider]
    try:
        return provider.plan(call, lab) if provider.plan is not None else _probe(call, provider.func)
    except UsageError as error:
        raise Invalid(call.field(), str(error)) from None


def _probe(call: Call, func: str) -> Footprint:
    arguments = ", ".join(f"{k}={v}" for k, v in call.arguments.model_dump(exclude_defaults=True).items())
    return Footprint(f"probe {func}({arguments})")
