"""Signals: the first interrupts, and none interrupts a heal in progress."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from kernel import interrupts


@pytest.fixture(autouse=True)
def _handlers() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in interrupts.HANDLED}
    interrupts.reset()
    interrupts.install()
    yield
    interrupts.reset()
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_raises_interrupted_with_its_name(signum: int) -> None:
    with pytest.raises(interrupts.Interrupted) as caught:
        os.kill(os.getpid(), signum)
    assert caught.value.signame == signal.Signals(signum).name
    assert interrupts.received() == signal.Signals(signum).name


def test_a_signal_during_a_shielded_block_waits_until_the_block_is_done() -> None:
    done = []
    with pytest.raises(interrupts.Interrupted), interrupts.shielded():
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        done.append("healed")
    assert done == ["healed"]
    assert interrupts.received() == "SIGINT"


def test_a_second_signal_while_healing_after_an_interrupt_is_dropped() -> None:
    with pytest.raises(interrupts.Interrupted):
        os.kill(os.getpid(), signal.SIGINT)
    with interrupts.shielded():
        os.kill(os.getpid(), signal.SIGINT)
    assert interrupts.received() == "SIGINT"


def test_the_shield_restores_the_previous_handlers() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with interrupts.shielded():
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN


def test_an_abort_request_raises_aborted_not_interrupted() -> None:
    with pytest.raises(interrupts.Aborted):
        interrupts.request_abort()
    assert interrupts.received() is None


def test_signals_after_the_first_are_ignored_while_the_run_unwinds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(interrupts.Interrupted):
        os.kill(os.getpid(), signal.SIGTERM)
    os.kill(os.getpid(), signal.SIGINT)
    assert interrupts.received() == "SIGTERM"
    assert "SIGINT ignored: still healing after SIGTERM" in capsys.readouterr().err
