import pytest

from kernel.errors import LabError
from kernel.waiting import poll_until, wait_for, within


def test_a_condition_that_holds_at_once_takes_no_wait() -> None:
    assert within(lambda: True, timeout_s=5) == pytest.approx(0, abs=0.05)


def test_a_condition_met_on_the_third_poll_returns_its_time() -> None:
    answers = iter([False, False, True])
    took = within(lambda: next(answers), timeout_s=5, poll_s=0.01)
    assert took is not None and 0.015 <= took < 1


def test_a_condition_never_met_is_none_or_names_what_did_not_happen() -> None:
    assert within(lambda: False, timeout_s=0.05, poll_s=0.01) is None
    with pytest.raises(LabError, match="HAProxy seeing canary DOWN not within 0 s"):
        wait_for(lambda: False, timeout_s=0.05, what="HAProxy seeing canary DOWN", poll_s=0.01)


def test_polling_returns_the_first_value_that_is_done_or_the_last_one_read() -> None:
    reads = iter(["b", "b", "a", "c"])
    assert poll_until(lambda: next(reads), lambda master: master != "b", timeout_s=5, poll_s=0.01) == "a"
    counted = iter(range(1000))
    last = poll_until(lambda: next(counted), lambda n: n < 0, timeout_s=0.05, poll_s=0.01)
    assert 1 <= last < 1000 and next(counted) == last + 1
