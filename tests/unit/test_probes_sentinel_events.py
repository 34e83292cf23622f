"""probes.sentinel_events on literal Sentinel messages."""

import pytest

from kernel.record import Event
from probes.sentinel_events import failover, failover_time, master_switch, message_of, parse_line, parse_message

OLD, NEW = ("172.28.36.41", 6379), ("172.28.36.42", 6379)


def sentinel(t: float, event: str, detail: str, **more: object) -> Event:
    return Event(t, "sentinel", {"event": event, "detail": detail, **more})


LAB_FAILOVER = [
    Event(99.0, "fault.inject", {"fault": "redis-master-failover", "target": "redis-a"}),
    sentinel(100.05, "+sdown", "master mymaster 172.28.36.41 6379", sentinel="sentinel-b"),
    sentinel(100.06, "+sdown", "master mymaster 172.28.36.41 6379", sentinel="sentinel-c"),
    sentinel(101.1, "+odown", "master mymaster 172.28.36.41 6379 #quorum 2/2"),
    sentinel(101.12, "+new-epoch", "1"),
    sentinel(101.2, "+selected-slave", "slave 172.28.36.42:6379 172.28.36.42 6379 @ mymaster 172.28.36.41 6379"),
    sentinel(101.4, "+switch-master", "mymaster 172.28.36.41 6379 172.28.36.42 6379"),
    sentinel(101.41, "+switch-master", "mymaster 172.28.36.41 6379 172.28.36.42 6379", sentinel="sentinel-c"),
    sentinel(101.3, "+failover-end", "master mymaster 172.28.36.41 6379"),
    Event(102.0, "ready", {"all_ready": True}),
]


def test_parse_master_sdown() -> None:
    message = parse_line("+sdown master mymaster 172.28.36.41 6379")
    assert message.event == "+sdown" and message.about_master
    assert (message.instance_name, message.address, message.master_name, message.master_address) == (
        "mymaster", OLD, "mymaster", OLD)


def test_parse_switch_master() -> None:
    message = parse_line("+switch-master mymaster 172.28.36.41 6379 172.28.36.42 6379")
    assert message.master_name == "mymaster" and message.address == OLD and message.new_address == NEW


def test_parse_odown_keeps_the_quorum_words() -> None:
    message = parse_message("+odown", "master mymaster 172.28.36.41 6379 #quorum 2/2")
    assert message.about_master and message.extra == ("#quorum", "2/2")


def test_parse_replica_event_with_its_master() -> None:
    message = parse_message("+sdown", "slave 172.28.36.43:6379 172.28.36.43 6379 @ mymaster 172.28.36.41 6379")
    assert message.instance_type == "slave" and not message.about_master
    assert message.address == ("172.28.36.43", 6379) and message.master_address == OLD


def test_parse_failover_end_and_detail_with_event_prefix() -> None:
    message = parse_message("+failover-end", "+failover-end master mymaster 172.28.36.42 6379")
    assert message.about_master and message.address == NEW and message.raw == "master mymaster 172.28.36.42 6379"


@pytest.mark.parametrize("text", ["+new-epoch 5", "+tilt", "+sdown master mymaster 172.28.36.41 notaport"])
def test_unrecognised_layouts_keep_their_words(text: str) -> None:
    message = parse_line(text)
    assert message.instance_type is None and message.address is None and message.raw == text.partition(" ")[2]


def test_message_of_ignores_other_kinds_and_reads_a_full_line_detail() -> None:
    assert message_of(Event(1.0, "ready", {"all_ready": True})) is None
    assert message_of(Event(1.0, "sentinel", {})) is None
    message = message_of(Event(1.0, "sentinel", {"detail": "+sdown master mymaster 172.28.36.41 6379"}))
    assert message is not None and message.event == "+sdown" and message.about_master


def test_failover_time_of_the_lab_failover() -> None:
    assert failover_time(LAB_FAILOVER) == pytest.approx(101.4 - 100.05)
    found = failover(LAB_FAILOVER)
    assert found is not None
    assert (found.sdown_t, found.odown_t, found.switch_t, found.end_t) == (100.05, 101.1, 101.4, 101.3)
    assert (found.old_master, found.new_master, found.master_name) == (OLD, NEW, "mymaster")
    assert master_switch(LAB_FAILOVER) == (OLD, NEW)


def test_event_order_in_the_file_does_not_matter() -> None:
    assert failover_time(list(reversed(LAB_FAILOVER))) == pytest.approx(1.35)


def test_replica_sdown_is_not_the_master_going_down() -> None:
    events = [
        sentinel(50.0, "+sdown", "slave 172.28.36.43:6379 172.28.36.43 6379 @ mymaster 172.28.36.41 6379"),
        *LAB_FAILOVER,
    ]
    assert failover_time(events) == pytest.approx(1.35)


def test_a_switch_before_the_sdown_belongs_to_an_earlier_failover() -> None:
    events = [sentinel(10.0, "+switch-master", "mymaster 172.28.36.40 6379 172.28.36.41 6379"), *LAB_FAILOVER]
    assert failover_time(events) == pytest.approx(1.35)
    assert master_switch(events) == (OLD, NEW)


def test_no_switch_means_no_failover_time() -> None:
    events = [e for e in LAB_FAILOVER if e.get("event") != "+switch-master"]
    assert failover_time(events) is None
    assert master_switch(events) is None
    found = failover(events)
    assert found is not None and found.old_master == OLD and found.new_master is None


def test_switch_without_sdown_still_gives_the_addresses() -> None:
    events = [e for e in LAB_FAILOVER if e.get("event") != "+sdown"]
    assert failover_time(events) is None
    assert master_switch(events) == (OLD, NEW)


def test_nothing_from_sentinel_is_none() -> None:
    assert failover([]) is None and failover_time([]) is None
    assert failover([Event(1.0, "fault.inject", {})]) is None


def test_master_name_filter() -> None:
    events = [
        sentinel(1.0, "+sdown", "master other 10.0.0.1 6379"),
        sentinel(2.0, "+switch-master", "other 10.0.0.1 6379 10.0.0.2 6379"),
        *LAB_FAILOVER,
    ]
    assert failover_time(events) == pytest.approx(1.0)
    assert failover_time(events, master_name="mymaster") == pytest.approx(1.35)
    assert master_switch(events, master_name="mymaster") == (OLD, NEW)
