import json

import pytest

from agent360.config import (
    Config,
    parse_address,
    parse_cassandra_address_map,
    parse_redis_address_map,
    retry_policy,
)


def test_defaults_are_the_resilient_build():
    config = Config.from_env({})
    assert config.port == 8080
    assert config.redis_mode == "sentinel"
    assert config.redis_master_name == "mymaster"
    assert config.cassandra_cl == "LOCAL_QUORUM"
    assert config.retries == 3
    assert config.ready_checks == "deps"
    assert config.ready_timeout == 1.0
    assert config.request_timeout == 2.0
    assert config.sentinels == (("127.0.0.1", 26379),)


def test_full_environment_is_parsed():
    config = Config.from_env({
        "AGENT360_PORT": "9090",
        "AGENT360_ZONE": "b",
        "AGENT360_VERSION": "v2",
        "AGENT360_REDIS_MODE": "direct",
        "AGENT360_SENTINELS": "10.0.0.1:26379, 10.0.0.2:26379",
        "AGENT360_REDIS_MASTER_NAME": "other",
        "AGENT360_REDIS_DIRECT": "proxy-a:16379",
        "AGENT360_REDIS_ADDRESS_MAP": "10.0.1.1:6379=proxy-a:16379,10.0.1.2:6379=proxy-a:16380",
        "AGENT360_CASSANDRA_CONTACT_POINTS": "proxy-a:19042,proxy-a:19043",
        "AGENT360_CASSANDRA_ADDRESS_MAP": "10.0.2.1=proxy-a:19042",
        "AGENT360_CASSANDRA_DC": "dc2",
        "AGENT360_CASSANDRA_KEYSPACE": "ks_test",
        "AGENT360_CASSANDRA_CL": "one",
        "AGENT360_RETRIES": "0",
        "AGENT360_READY_CHECKS": "none",
        "AGENT360_READY_TIMEOUT": "0.5",
        "AGENT360_READY_REDIS_GRACE": "0",
        "AGENT360_REQUEST_TIMEOUT": "3",
    })
    assert config.port == 9090 and config.zone == "b" and config.version == "v2"
    assert config.redis_mode == "direct"
    assert config.sentinels == (("10.0.0.1", 26379), ("10.0.0.2", 26379))
    assert config.redis_direct == ("proxy-a", 16379)
    assert config.redis_address_map[("10.0.1.2", 6379)] == ("proxy-a", 16380)
    assert config.cassandra_contact_points == (("proxy-a", 19042), ("proxy-a", 19043))
    assert config.cassandra_address_map == {"10.0.2.1": ("proxy-a", 19042)}
    assert config.cassandra_cl == "ONE"
    assert config.retries == 0
    assert config.ready_checks == "none"
    assert config.ready_timeout == 0.5 and config.request_timeout == 3.0
    assert config.ready_redis_grace == 0.0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AGENT360_PORT", "http", "AGENT360_PORT"),
        ("AGENT360_PORT", "70000", "out of 1..65535"),
        ("AGENT360_REDIS_MODE", "cluster", "AGENT360_REDIS_MODE"),
        ("AGENT360_SENTINELS", "10.0.0.1", "expected host:port"),
        ("AGENT360_SENTINELS", " , ", "at least one host:port"),
        ("AGENT360_REDIS_DIRECT", "host:0", "out of 1..65535"),
        ("AGENT360_REDIS_ADDRESS_MAP", "10.0.0.1:6379", "expected from=to"),
        ("AGENT360_REDIS_ADDRESS_MAP", "10.0.0.1=proxy:1", "expected host:port"),
        ("AGENT360_CASSANDRA_ADDRESS_MAP", "10.0.0.1:9042=proxy:1", "bare ip"),
        ("AGENT360_CASSANDRA_ADDRESS_MAP", "10.0.0.1=proxy", "expected host:port"),
        ("AGENT360_CASSANDRA_CL", "TWO", "AGENT360_CASSANDRA_CL"),
        ("AGENT360_CASSANDRA_KEYSPACE", "bad-name", "CQL identifier"),
        ("AGENT360_RETRIES", "-1", "AGENT360_RETRIES"),
        ("AGENT360_RETRIES", "three", "expected an integer"),
        ("AGENT360_READY_CHECKS", "some", "AGENT360_READY_CHECKS"),
        ("AGENT360_READY_TIMEOUT", "0", "AGENT360_READY_TIMEOUT"),
        ("AGENT360_REQUEST_TIMEOUT", "fast", "expected seconds"),
        ("AGENT360_REQUEST_TIMEOUT", "nan", "AGENT360_REQUEST_TIMEOUT"),
        ("AGENT360_READY_REDIS_GRACE", "-1", r"in \[0, 300\]"),
        ("AGENT360_READY_REDIS_GRACE", "301", "AGENT360_READY_REDIS_GRACE"),
        ("AGENT360_ZONE", "", "must not be empty"),
    ],
)
def test_bad_values_raise_a_clear_value_error(name, value, message):
    with pytest.raises(ValueError, match=message):
        Config.from_env({name: value})


def test_parse_address_keeps_the_last_colon_as_the_port_separator():
    assert parse_address(" redis-1:6380 ") == ("redis-1", 6380)
    with pytest.raises(ValueError):
        parse_address(":6379")


def test_address_maps_ignore_blank_items_and_trim():
    assert dict(parse_redis_address_map(" 10.0.0.1:6379 = p:1 ,, ")) == {("10.0.0.1", 6379): ("p", 1)}
    assert dict(parse_cassandra_address_map("")) == {}


def test_config_is_frozen():
    config = Config.from_env({})
    with pytest.raises(AttributeError):
        config.retries = 5  # type: ignore[misc]


def test_describe_is_json_with_addresses_as_text():
    config = Config.from_env({"AGENT360_REDIS_ADDRESS_MAP": "10.0.0.1:6379=p:16379",
                              "AGENT360_CASSANDRA_ADDRESS_MAP": "10.0.0.2=p:19042"})
    data = json.loads(json.dumps(config.describe()))
    assert data["redis_address_map"] == {"10.0.0.1:6379": "p:16379"}
    assert data["cassandra_address_map"] == {"10.0.0.2": "p:19042"}
    assert data["sentinels"] == ["127.0.0.1:26379"]
    assert data["retries"] == 3


def test_the_retry_backoff_sets_the_step_and_a_cap_of_five_steps():
    default = retry_policy(Config())
    assert (default.backoff(1), default.backoff(9)) == (0.2, 1.0)
    slow = retry_policy(Config.from_env({"AGENT360_RETRY_BACKOFF": "1.0"}))
    assert (slow.backoff(2), slow.backoff(9)) == (2.0, 5.0)
