"""Every python function an experiment may call, gathered from the declarations beside the functions themselves.

A module of actions/ or probes/ that holds `DECLARED` is part of the registry; nothing here restates an argument,
a limit or a plan. tests/unit/test_validation.py checks each model against its function's signature.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

from pydantic import ValidationError

import actions
import probes
from kernel.fault import Arguments, Declared, Kind, Plan
from kernel.problems import Invalid, field_path, from_validation

PACKAGES = (actions, probes)


@dataclass(frozen=True)
class Provider:
    """A declared function by where it lives: what experiments write as `module` and `func`."""

    module: str
    func: str
    kind: Kind
    arguments: type[Arguments]
    plan: Plan | None = None

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


def _provider(module: str, declared: Declared) -> Provider:
    return Provider(module, declared.func.__name__, declared.kind, declared.arguments, declared.plan)


def declared_providers() -> tuple[Provider, ...]:
    """Every DECLARED entry of every module in actions/ and probes/, in module order."""
    found = []
    for package in PACKAGES:
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            found += [_provider(module.__name__, d) for d in getattr(module, "DECLARED", ())]
    return tuple(found)


PROVIDERS = declared_providers()
REGISTRY = {p.name: p for p in PROVIDERS}
MODULES = tuple(dict.fromkeys(p.module for p in PROVIDERS))
