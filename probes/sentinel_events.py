"""Redis Sentinel pub/sub messages, parsed, and the failover they describe.

Sentinel publishes on a channel named after the event; the message is the instance details
`<type> <name> <ip> <port> [@ <master-name> <master-ip> <master-port>]` (no `@` part when the instance is a master),
sometimes followed by more words (`+odown ... #quorum 2/2`). `+switch-master` is
`<master-name> <old-ip> <old-port> <new-ip> <new-port>`. Events of kind "sentinel" in events.jsonl carry the
channel in "event" and the message in "detail" (a detail that still starts with the event name is accepted too).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kernel.record import Event

Address = tuple[str, int]
INSTANCE_TYPES = ("master", "slave", "replica", "sentinel")


@dataclass(frozen=True)
class SentinelMessage:
    event: str
    instance_type: str | None = None
    instance_name: str | None = None
    address: Address | None = None
    master_name: str | None = None
    master_address: Address | None = None
    new_address: Address | None = None  # +switch-master only: the new master
    extra: tuple[str, ...] = ()
    raw: str = ""

    @property
    def about_master(self) -> bool:
        return self.instance_type == "master"


def _port(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 < int(text) < 65536 else None


def _address(ip: str, port: str) -> Address | None:
    number = _port(port)
    return (ip, number) if number is not None else None


def parse_message(event: str, detail: str) -> SentinelMessage:
    """One message of channel `event`; unrecognised layouts keep their words in `extra`."""
    event = event.strip()
    words = detail.split()
    if words and words[0] == event:
        words = words[1:]
    raw = " ".join(words)
    if event == "+switch-master" and len(words) >= 5:
        old, new = _address(words[1], words[2]), _address(words[3], words[4])
        if old is not None and new is not None:
            return SentinelMessage(event, "master", words[0], old, words[0], old, new, tuple(words[5:]), raw)
    if len(words) >= 4 and words[0] in INSTANCE_TYPES and (address := _address(words[2], words[3])) is not None:
        kind, name = words[0], words[1]
        if len(words) >= 8 and words[4] == "@" and (master := _address(words[6], words[7])) is not None:
            return SentinelMessage(event, kind, name, address, words[5], master, None, tuple(words[8:]), raw)
        if kind == "master":
            return SentinelMessage(event, kind, name, address, name, address, None, tuple(words[4:]), raw)
        return SentinelMessage(event, kind, name, address, None, None, None, tuple(words[4:]), raw)
    return SentinelMessage(event, extra=tuple(words), raw=raw)


def parse_line(text: str) -> SentinelMessage:
    """A message written as one line with its event first, e.g. "+sdown master mymaster 172.28.36.41 6379"."""
    event, _, detail = text.strip().partition(" ")
    return parse_message(event, detail)


def message_of(event: Event) -> SentinelMessage | None:
    """The Sentinel message an event of kind "sentinel" carries; None for other kinds or an empty one."""
    if event.kind != "sentinel":
        return None
    name, detail = event.get("event"), event.get("detail")
    detail = detail if isinstance(detail, str) else ""
    if not isinstance(name, str) or not name:
        if not detail.strip():
            return None
        return parse_line(detail)
    return parse_message(name, detail)


@dataclass(frozen=True)
class Failover:
    """One master failover as the Sentinels reported it (times are event time stamps, epoch seconds)."""

    master_name: str | None
    sdown_t: float | None
    odown_t: float | None
    switch_t: float | None
    end_t: float | None
    old_master: Address | None
    new_master: Address | None

    @property
    def duration_s(self) -> float | None:
        """+switch-master - +sdown of the master: how long clients had no writable master to be told about."""
        if self.sdown_t is None or self.switch_t is None:
            return None
        return self.switch_t - self.sdown_t


def _messages(events: Iterable[Event]) -> list[tuple[float, SentinelMessage]]:
    parsed = [(e.t, message) for e in events if (message := message_of(e)) is not None]
    return sorted(parsed, key=lambda item: item[0])


def failover(events: Iterable[Event], master_name: str | None = None) -> Failover | None:
    """The first failover in the events: the first +sdown of a master, then the first +odown, +switch-master and
    +failover-end of that master at or after it. Without any +sdown of a master, the first +switch-master alone.
    None when there is neither."""
    messages = _messages(events)

    def first(event: str, since: float | None, name: str | None) -> tuple[float, SentinelMessage] | None:
        for t, message in messages:
            if message.event != event or not message.about_master or (since is not None and t < since):
                continue
            if name is None or message.master_name == name:
                return t, message
        return None

    sdown = first("+sdown", None, master_name)
    name = sdown[1].master_name if sdown else master_name
    since = sdown[0] if sdown else None
    switch = first("+switch-master", since, name)
    if sdown is None and switch is None:
        return None
    odown, end = first("+odown", since, name), first("+failover-end", since, name)
    switch_message = switch[1] if switch else None
    return Failover(
        master_name=name if name is not None else (switch_message.master_name if switch_message else None),
        sdown_t=sdown[0] if sdown else None,
        odown_t=odown[0] if odown else None,
        switch_t=switch[0] if switch else None,
        end_t=end[0] if end else None,
        old_master=switch_message.address if switch_message else (sdown[1].address if sdown else None),
        new_master=switch_message.new_address if switch_message else None,
    )


def failover_time(events: Iterable[Event], master_name: str | None = None) -> float | None:
    """First +switch-master t - first +sdown (of the master) t; None unless both were seen."""
    found = failover(events, master_name)
    return found.duration_s if found is not None else None


def master_switch(events: Iterable[Event], master_name: str | None = None) -> tuple[Address, Address] | None:
    """(old master, new master) of the first failover; None without a +switch-master."""
    found = failover(events, master_name)
    if found is None or found.old_master is None or found.new_master is None:
        return None
    return found.old_master, found.new_master
