"""Validate an experiment before its first fault: the first problem is one line naming the file and the field.

In order, so that static problems win: the file itself (kernel.experiment_file), the document's shape and its
providers (chaos360.experiment_schema), each call's arguments (chaos360.schemas), the chaos360 extension, Chaos
Toolkit's own validation; then, given a lab, roles, zones and selectors against its inventory and the blast radius;
last, whether the lab answers.

Blast radius: a selector takes at most a minority of a role's instances (actions.selection) and never every one;
faults that last until healed add up along the method (heal_all resets them); at most a minority of the zones is
isolated at once, never every zone; a link is never cut in every zone. An experiment lifts these limits, except
isolating every zone, in its chaos360 extension:

    extensions:
      - name: chaos360
        allow_majority: true
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from actions.selection import OVERRIDE_HINT, blast_radius
from chaos360.binding import K8S_PROFILE
from chaos360.effects import effect_of
from chaos360.experiment_schema import Chaos360Extension, Experiment
from kernel import reachability
from kernel.errors import LabError, UsageError
from kernel.experiment_file import read_experiment
from kernel.fault import Call, Footprint, Lab
from kernel.inventory import Inventory
from kernel.problems import Invalid, field_path, from_validation, kind_of
from lab.k8s.not_on_kubernetes import refusal as k8s_refusal
from probes.stop_conditions import EXTENSION, conditions_for

Reachable = Callable[[Inventory], str | None]
ROLLBACK_KINDS = ("restore", "probe")


@dataclass(frozen=True)
class Parsed:
    """An experiment that passed every static check, with its calls parsed once."""

    raw: dict[str, Any]
    experiment: Experiment
    calls: tuple[Call, ...]
    allow_majority: bool


def check_file(path: Path, lab_id: str | None = None, reachable: Reachable | None = None) -> dict[str, Any]:
    """The experiment in `path`, validated; given a lab id, also against that lab, which must answer."""
    try:
        data = read_experiment(path)
    except Invalid as problem:
        raise problem.for_file(path) from None
    if lab_id is None:
        return validate(path, data).raw
    inventory = _inventory(path, lab_id)
    parsed = validate(path, data, inventory)
    unreachable = (reachable or reachability.lab_reachable)(inventory)
    if unreachable is not None:
        raise Invalid(None, unreachable).for_file(path)
    return parsed.raw


def validate(path: Path, experiment: object, inventory: Inventory | None = None) -> Parsed:
    """Raises UsageError with the first problem; without an inventory, only the static checks."""
    try:
        parsed = parse(experiment)
        if inventory is not None:
            check_lab(parsed, inventory)
    except Invalid as problem:
        raise problem.for_file(path) from None
    return parsed


def parse(data: object) -> Parsed:
    if not isinstance(data, dict):
        got = "nothing (an empty file)" if data is None else kind_of(data)
        raise Invalid(None, f"expected a mapping (an experiment) at the top level, got {got}")
    try:
        experiment = Experiment.model_validate(data)
    except ValidationError as error:
        raise from_validation(error) from None
    calls = tuple(_calls(experiment))
    extension = _extension(experiment, data)
    _chaos_toolkit(data)
    return Parsed(data, experiment, calls, extension.allow_majority)


def _calls(experiment: Experiment) -> Iterator[Call]:
    for where, activity in experiment.activities():
        provider = activity.provider.entry
        if where[0] == "rollbacks" and provider.kind not in ROLLBACK_KINDS:
            raise Invalid(field_path([*where, "provider", "func"]),
                          f"{provider.name} is a {provider.kind}; rollbacks only undo (heal_all, rejoin_zone, "
                          "stop_load) or probe")
        if activity.background and provider.kind != "probe":
            raise Invalid(field_path([*where, "background"]), "only probes may run in the background")
        arguments = provider.parse(activity.provider.arguments, (*where, "provider", "arguments"))
        yield Call(where, activity.name, provider.name, arguments)


def _extension(experiment: Experiment, data: dict[str, Any]) -> Chaos360Extension:
    found = [(i, e) for i, e in enumerate(experiment.extensions) if e.name == EXTENSION]
    if not found:
        return Chaos360Extension(name="chaos360")
    if len(found) > 1:
        raise Invalid(field_path(("extensions", found[1][0])), "a second chaos360 extension; merge it into the first")
    index, extension = found[0]
    try:
        parsed = Chaos360Extension.model_validate(extension.model_dump())
        conditions_for(data)
    except ValidationError as error:
        raise from_validation(error, ("extensions", index)) from None
    except UsageError as error:
        raise Invalid(None, str(error)) from None
    return parsed


def _chaos_toolkit(data: dict[str, Any]) -> None:
    from chaoslib.experiment import ensure_experiment_is_valid

    try:
        ensure_experiment_is_valid(data)
    except Exception as error:  # chaoslib raises more than its own exceptions on odd input
        lines = str(error).strip().splitlines() or [error.__class__.__name__]
        raise Invalid("experiment", f"Chaos Toolkit refuses it: {lines[0]}") from None


def _inventory(path: Path, lab_id: str) -> Inventory:
    from chaos360.binding import lab_binding

    try:
        return lab_binding(lab_id).inventory_loader(lab_id)
    except (UsageError, LabError) as error:
        raise Invalid(None, str(error)).for_file(path) from None


def check_lab(parsed: Parsed, inventory: Inventory) -> None:
    """Refuses the first call whose selector is wrong for this lab or whose faults go beyond the blast radius."""
    lab = Lab(inventory, parsed.allow_majority)
    lasting = _Lasting(lab)
    for call in parsed.calls:
        if inventory.profile == K8S_PROFILE and (problem := k8s_refusal(call.provider)):
            raise Invalid(call.field(), problem)
        lasting.add(call, effect_of(call, lab))


@dataclass
class _Lasting:
    """The faults in place at each step of the method, to check what they add up to."""

    lab: Lab
    down: set[tuple[str, str]] = field(default_factory=set)
    isolated: set[str] = field(default_factory=set)
    cut: set[tuple[str, str]] = field(default_factory=set)

    def add(self, call: Call, effect: Footprint) -> None:
        if effect.heals:
            self.down, self.isolated, self.cut = set(), set(), set()
            return
        problem = self._beyond(self.down | effect.hit)
        self.down |= effect.down
        self.isolated = (self.isolated | effect.isolated) - effect.rejoined
        self.cut |= effect.cut
        problem = problem or self._beyond(self.down)
        if problem is not None:
            raise Invalid(call.field(effect.blame), problem)

    def _beyond(self, down: set[tuple[str, str]]) -> str | None:
        zones = self.lab.inventory.zones
        if self.isolated and len(self.isolated) >= len(zones):
            return f"isolates every zone at once ({', '.join(sorted(self.isolated))}); one zone at least stays joined"
        if self.lab.allow_majority:
            return None
        return self._instances(down) or self._zones() or self._links()

    def _instances(self, down: set[tuple[str, str]]) -> str | None:
        for role in sorted({role for role, _ in down}):
            names = sorted(name for r, name in down if r == role)
            total = len(self.lab.inventory.by_role(role))
            if len(names) > blast_radius(total):
                return (f"takes {len(names)} of {total} {role} instances down at once ({', '.join(names)}), beyond "
                        f"the blast radius ({blast_radius(total)}); {OVERRIDE_HINT}")
        return None

    def _zones(self) -> str | None:
        total = len(self.lab.inventory.zones)
        if len(self.isolated) > blast_radius(total):
            return (f"isolates {len(self.isolated)} of {total} zones at once ({', '.join(sorted(self.isolated))}), "
                    f"beyond the blast radius ({blast_radius(total)}); {OVERRIDE_HINT}")
        return None

    def _links(self) -> str | None:
        for link in sorted({link for link, _ in self.cut}):
            if {zone for name, zone in self.cut if name == link} >= set(self.lab.inventory.zones):
                return f"cuts link {link} in every zone, beyond the blast radius; {OVERRIDE_HINT}"
        return None
