"""The Redis roles check: the lab is steady only when every instance agrees with the Sentinels."""

from lab.readiness import judge_redis_roles

MASTER = "10.0.0.1"


def _roles(**overrides: tuple[str, str]) -> dict[str, tuple[str, str, str]]:
    roles = {"redis-a": (MASTER, "master", ""), "redis-b": ("10.0.0.2", "slave", f"{MASTER} connected"),
             "redis-c": ("10.0.0.3", "slave", f"{MASTER} connected")}
    for name, (role, detail) in overrides.items():
        roles[name] = (roles[name][0], role, detail)
    return roles


def test_one_master_and_connected_replicas_agree():
    check = judge_redis_roles(MASTER, _roles())
    assert check.ok, check.detail
    assert "3 instances agree" in check.detail


def test_a_returned_old_master_still_saying_master_is_not_ready():
    check = judge_redis_roles(MASTER, _roles(**{"redis-b": ("master", "")}))
    assert not check.ok
    assert check.detail == "redis-b is master"


def test_a_replica_of_another_master_or_still_syncing_is_not_ready():
    check = judge_redis_roles(MASTER, _roles(**{"redis-b": ("slave", "10.0.0.3 connected"),
                                                  "redis-c": ("slave", f"{MASTER} sync")}))
    assert not check.ok
    assert check.detail == "redis-b is slave 10.0.0.3 connected; redis-c is slave 10.0.0.1 sync"


def test_the_sentinels_master_demoted_is_not_ready():
    check = judge_redis_roles(MASTER, _roles(**{"redis-a": ("slave", "10.0.0.2 connected")}))
    assert not check.ok
    assert "redis-a is slave" in check.detail
