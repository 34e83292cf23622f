"""What a heal sweeps up without a ledger entry: extra replicas and servers left unchecked by the load balancer."""

from __future__ import annotations

from typing import cast

from chaos360.healing import _strays, _unchecked
from kernel.errors import LabError
from kernel.target import Target


class FakeTarget:
    def __init__(self, checks: dict[str, bool] | None, slots: list[int]) -> None:
        self.checks, self.slots = checks, slots

    def variant_slots(self) -> list[int]:
        return self.slots

    def balancer_checks(self) -> dict[str, bool]:
        if self.checks is None:
            raise LabError("HAProxy runtime API unreachable: [Errno 111] Connection refused")
        return self.checks


def test_servers_with_checks_off_and_extra_replicas_are_strays() -> None:
    target = cast(Target, FakeTarget({"app-a": False, "app-b": True}, [5]))
    assert _strays(target) == ["slot 5", "app-a"]


def test_an_unreachable_balancer_leaves_nothing_to_sweep_instead_of_failing_the_heal() -> None:
    target = cast(Target, FakeTarget(None, []))
    assert _unchecked(target) == [] and _strays(target) == []
