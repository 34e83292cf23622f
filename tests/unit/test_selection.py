import pytest

from actions.selection import blast_radius, select
from kernel.errors import UsageError
from lab.docker_lab import to_inventory
from lab.topology import LabSettings, plan

INVENTORY = to_inventory(plan(LabSettings()), {})


def test_blast_radius_keeps_a_quorum():
    assert [blast_radius(n) for n in (1, 2, 3, 5)] == [1, 1, 1, 2]


def test_the_instances_of_a_zone_by_role():
    assert {i.role for i in INVENTORY.in_zone("b")} >= {"app", "redis", "sentinel", "cassandra", "toxiproxy"}
    assert {i.zone for i in INVENTORY.in_zone("b")} == {"b"}
    assert [i.name for i in INVENTORY.in_zone("b", "app")] == ["app-b"]
    assert INVENTORY.in_zone("d") == ()


def test_select_by_role_and_zone():
    assert [i.name for i in select(INVENTORY, "cassandra", zone="c")] == ["cassandra-c"]
    assert [i.name for i in select(INVENTORY, "app")] == ["app-a"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": "database"}, "role 'database' is not one of"),
        ({"role": "app", "zone": "z"}, "zone 'z' is not one of"),
        ({"role": "app", "count": 2}, "exceeds the blast radius"),
        ({"role": "app", "count": 0}, "at least 1"),
        ({"role": "app", "count": True}, "whole number"),
        ({"role": "lb", "zone": "a"}, "no lb instance in zone a"),
    ],
)
def test_bad_selectors_are_refused(kwargs, message):
    with pytest.raises(UsageError, match=message):
        select(INVENTORY, **kwargs)


def test_majority_needs_an_explicit_override():
    assert len(select(INVENTORY, "app", count=3, allow_majority=True)) == 3
