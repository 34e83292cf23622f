"""Service configuration, parsed once from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from agent360.retry import RetryPolicy

Address = tuple[str, int]

REDIS_MODES = ("sentinel", "direct")
READY_CHECKS = ("deps", "cassandra", "none")
WRITE_ACKS = ("durable", "cached")
EVENT_DELIVERIES = ("required", "best-effort")
EVENT_RECONCILES = ("after-failover", "off")
CONSISTENCY_LEVELS = ("LOCAL_QUORUM", "ONE", "ALL", "QUORUM", "LOCAL_ONE")
MAX_RETRIES = 20
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,47}")


def parse_address(text: str, what: str = "address") -> Address:
    """Parse `host:port`; the port is mandatory."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not host:
        raise ValueError(f"{what} {text!r}: expected host:port")
    return host, _port(port_text, f"{what} {text!r}")


def parse_address_list(text: str, what: str) -> tuple[Address, ...]:
    return tuple(parse_address(item, what) for item in _items(text))


def parse_redis_address_map(text: str) -> Mapping[Address, Address]:
    """Parse `ip:port=host:port,...`: where Redis reports a node -> where to connect for it."""
    pairs = (_split_mapping(item, "AGENT360_REDIS_ADDRESS_MAP") for item in _items(text))
    return MappingProxyType(
        {parse_address(k, "AGENT360_REDIS_ADDRESS_MAP key"): parse_address(v, "AGENT360_REDIS_ADDRESS_MAP value")
         for k, v in pairs}
    )


def parse_cassandra_address_map(text: str) -> Mapping[str, Address]:
    """Parse `ip=host:port,...`: a node's broadcast rpc address -> where to connect for it."""
    result: dict[str, Address] = {}
    for item in _items(text):
        key, value = _split_mapping(item, "AGENT360_CASSANDRA_ADDRESS_MAP")
        if ":" in key:
            raise ValueError(f"AGENT360_CASSANDRA_ADDRESS_MAP entry {item!r}: the key is a bare ip, without port")
        result[key] = parse_address(value, "AGENT360_CASSANDRA_ADDRESS_MAP value")
    return MappingProxyType(result)


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _split_mapping(item: str, what: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise ValueError(f"{what} entry {item!r}: expected from=to")
    return key.strip(), value.strip()


def _port(text: str, what: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise ValueError(f"{what}: port {text!r} is not an integer") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"{what}: port {port} is out of 1..65535")
    return port


def retry_policy(config: Config) -> RetryPolicy:
    """Backoff of `retry_backoff` x attempt, capped at 5 steps (0.2 s steps: the 1 s cap)."""
    return RetryPolicy(config.retries, config.request_timeout, config.retry_backoff, 5 * config.retry_backoff)


@dataclass(frozen=True)
class Config:
    port: int = 8080
    zone: str = "a"
    version: str = "v1"
    redis_mode: str = "sentinel"
    sentinels: tuple[Address, ...] = (("127.0.0.1", 26379),)
    redis_master_name: str = "mymaster"
    redis_direct: Address = ("127.0.0.1", 6379)
    redis_address_map: Mapping[Address, Address] = field(default_factory=lambda: MappingProxyType({}))
    cassandra_contact_points: tuple[Address, ...] = (("127.0.0.1", 9042),)
    cassandra_address_map: Mapping[str, Address] = field(default_factory=lambda: MappingProxyType({}))
    cassandra_dc: str = "dc1"
    cassandra_keyspace: str = "agent360"
    cassandra_cl: str = "LOCAL_QUORUM"
    retries: int = 3
    retry_backoff: float = 0.2
    ready_checks: str = "deps"
    ready_timeout: float = 1.0
    ready_redis_grace: float = 5.0
    ready_redis_local_after: float = 1.5
    request_timeout: float = 2.0
    write_ack: str = "durable"
    events: str = "required"
    event_reconcile: str = "after-failover"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = _Env(os.environ if environ is None else environ)
        return cls(
            port=_port(env.get("AGENT360_PORT", "8080"), "AGENT360_PORT"),
            zone=env.get("AGENT360_ZONE", "a"),
            version=env.get("AGENT360_VERSION", "v1"),
            redis_mode=env.choice("AGENT360_REDIS_MODE", REDIS_MODES, "sentinel"),
            sentinels=env.addresses("AGENT360_SENTINELS", "127.0.0.1:26379"),
            redis_master_name=env.get("AGENT360_REDIS_MASTER_NAME", "mymaster"),
            redis_direct=parse_address(env.get("AGENT360_REDIS_DIRECT", "127.0.0.1:6379"), "AGENT360_REDIS_DIRECT"),
            redis_address_map=parse_redis_address_map(env.get("AGENT360_REDIS_ADDRESS_MAP", "", allow_empty=True)),
            cassandra_contact_points=env.addresses("AGENT360_CASSANDRA_CONTACT_POINTS", "127.0.0.1:9042"),
            cassandra_address_map=parse_cassandra_address_map(
                env.get("AGENT360_CASSANDRA_ADDRESS_MAP", "", allow_empty=True)
            ),
            cassandra_dc=env.get("AGENT360_CASSANDRA_DC", "dc1"),
            cassandra_keyspace=env.identifier("AGENT360_CASSANDRA_KEYSPACE", "agent360"),
            cassandra_cl=env.choice("AGENT360_CASSANDRA_CL", CONSISTENCY_LEVELS, "LOCAL_QUORUM", upper=True),
            retries=env.integer("AGENT360_RETRIES", 3, 0, MAX_RETRIES),
            retry_backoff=env.seconds("AGENT360_RETRY_BACKOFF", 0.2),
            ready_checks=env.choice("AGENT360_READY_CHECKS", READY_CHECKS, "deps"),
            ready_timeout=env.seconds("AGENT360_READY_TIMEOUT", 1.0),
            ready_redis_grace=env.seconds("AGENT360_READY_REDIS_GRACE", 5.0, allow_zero=True),
            ready_redis_local_after=env.seconds("AGENT360_READY_REDIS_LOCAL_AFTER", 1.5, allow_zero=True),
            request_timeout=env.seconds("AGENT360_REQUEST_TIMEOUT", 2.0),
            write_ack=env.choice("AGENT360_WRITE_ACK", WRITE_ACKS, "durable"),
            events=env.choice("AGENT360_EVENTS", EVENT_DELIVERIES, "required"),
            event_reconcile=env.choice("AGENT360_EVENT_RECONCILE", EVENT_RECONCILES, "after-failover"),
        )

    def describe(self) -> dict[str, Any]:
        """The effective configuration as plain JSON-able data, for the startup log line."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["redis_address_map"] = {_fmt(k): _fmt(v) for k, v in self.redis_address_map.items()}
        data["cassandra_address_map"] = {k: _fmt(v) for k, v in self.cassandra_address_map.items()}
        data["sentinels"] = [_fmt(a) for a in self.sentinels]
        data["cassandra_contact_points"] = [_fmt(a) for a in self.cassandra_contact_points]
        data["redis_direct"] = _fmt(self.redis_direct)
        return data


def _fmt(address: Address) -> str:
    return f"{address[0]}:{address[1]}"


class _Env:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str, default: str, allow_empty: bool = False) -> str:
        value = self._environ.get(name, default).strip()
        if not value and not allow_empty:
            raise ValueError(f"{name} must not be empty")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str, upper: bool = False) -> str:
        value = self.get(name, default)
        value = value.upper() if upper else value.lower()
        if value not in choices:
            raise ValueError(f"{name}={value!r}: expected one of {', '.join(choices)}")
        return value

    def addresses(self, name: str, default: str) -> tuple[Address, ...]:
        result = parse_address_list(self.get(name, default), name)
        if not result:
            raise ValueError(f"{name} must list at least one host:port")
        return result

    def identifier(self, name: str, default: str) -> str:
        value = self.get(name, default)
        if not _IDENTIFIER.fullmatch(value):
            raise ValueError(f"{name}={value!r}: expected a CQL identifier ([A-Za-z_][A-Za-z0-9_]*, <= 48 chars)")
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        text = self.get(name, str(default))
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{name}={text!r}: expected an integer") from None
        if not low <= value <= high:
            raise ValueError(f"{name}={value}: expected {low}..{high}")
        return value

    def seconds(self, name: str, default: float, allow_zero: bool = False) -> float:
        text = self.get(name, str(default))
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{name}={text!r}: expected seconds as a number") from None
        above_low = value >= 0 if allow_zero else value > 0
        if not above_low or value > 300:
            bounds = "[0, 300]" if allow_zero else "(0, 300]"
            raise ValueError(f"{name}={value}: expected seconds in {bounds}")
        return value


def load_config() -> Config:
    return Config.from_env()
