import ipaddress

import pytest

from lab.topology import CASSANDRA_TOKENS, LabSettings, Profile, Role, plan


def test_ha_profile_has_the_guides_topology():
    topology = plan(LabSettings(profile=Profile.HA))
    counts = {role: len(topology.by_role(role)) for role in Role}
    assert counts == {
        Role.APP: 3, Role.LB: 1, Role.REDIS: 3, Role.SENTINEL: 3,
        Role.CASSANDRA: 3, Role.TOXIPROXY: 3, Role.PROMETHEUS: 1,
    }
    assert {i.zone for i in topology.by_role(Role.CASSANDRA)} == {"a", "b", "c"}
    assert topology.one(Role.LB).zone is None


def test_minimal_profile_has_one_of_each():
    topology = plan(LabSettings(profile=Profile.MINIMAL))
    assert all(len(topology.by_role(role)) == 1 for role in Role)


def test_addresses_and_host_ports_are_unique_and_inside_the_subnet():
    settings = LabSettings(subnet="10.99.0.0/24", port_base=20000)
    topology = plan(settings)
    ips = [i.ip for i in topology.instances]
    ports = [p for i in topology.instances for p in i.host_ports.values()]
    assert len(set(ips)) == len(ips)
    assert len(set(ports)) == len(ports)
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("10.99.0.0/24") for ip in ips)
    assert topology.one(Role.LB).host_ports["http"] == 20080


@pytest.mark.parametrize(
    "kwargs",
    [{"subnet": "10.0.0.0/28"}, {"port_base": 80}, {"lab_id": "bad id!"}, {"subnet": "not-a-net"}],
)
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        LabSettings(**kwargs)


def test_first_redis_is_the_initial_master_and_tokens_cover_three_nodes():
    topology = plan(LabSettings())
    assert topology.initial_redis_master.name == "redis-a"
    assert len(CASSANDRA_TOKENS) == len(topology.by_role(Role.CASSANDRA))
