import json

from loadtests.payloads import payload_matches, task_payload


def test_the_stored_text_of_the_sent_payload_matches_in_any_key_order():
    stored = json.dumps(dict(reversed(task_payload("load-1", "t1").items())), separators=(",", ":"))
    assert payload_matches("load-1", "t1", stored)


def test_another_task_or_a_damaged_payload_does_not_match():
    sent = json.dumps(task_payload("load-1", "t1"))
    assert not payload_matches("load-1", "t2", sent)
    assert not payload_matches("load-2", "t1", sent)
    assert not payload_matches("load-1", "t1", sent[:-1])
    assert not payload_matches("load-1", "t1", json.dumps({"n": "t1"}))
