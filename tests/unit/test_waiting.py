import pytest

from kernel.errors import LabError
from kernel.waiting import wait_for, within


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
