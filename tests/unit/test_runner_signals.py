"""chaos360's SIGTERM handler stays in place while chaoslib runs an experiment (chaos360.runner)."""

from __future__ import annotations

import inspect
import signal
from collections.abc import Iterator
from types import FrameType
from typing import Any

import chaoslib.exit
import chaoslib.run
import pytest
from chaoslib.experiment import run_experiment

from chaos360.runner import _our_signal_handlers


def sigterm_handler() -> str:
    """The probe of the experiment below: whose SIGTERM handler is installed while it runs."""
    handler = signal.getsignal(signal.SIGTERM)
    return getattr(handler, "__qualname__", repr(handler))


def _ours(signum: int, frame: FrameType | None) -> None:
    raise AssertionError("no SIGTERM is sent in these tests")


EXPERIMENT: dict[str, Any] = {
    "title": "signals", "description": "whose SIGTERM handler an activity runs under",
    "method": [{"type": "probe", "name": "sigterm-handler",
                "provider": {"type": "python", "module": __name__, "func": "sigterm_handler"}}],
}


@pytest.fixture
def our_handler() -> Iterator[None]:
    previous = signal.signal(signal.SIGTERM, _ours)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _handler_seen_by_an_activity() -> str:
    return str(run_experiment(dict(EXPERIMENT))["run"][0]["output"])


def test_chaoslib_still_installs_its_handlers_through_the_name_we_swap() -> None:
    assert chaoslib.run.exit_signals is chaoslib.exit.exit_signals
    assert "with exit_signals():" in inspect.getsource(chaoslib.run.Runner.run)


def test_an_activity_runs_under_our_handler_and_chaoslib_is_put_back(our_handler: None) -> None:
    assert _handler_seen_by_an_activity() == "_terminate_now"
    with _our_signal_handlers():
        assert _handler_seen_by_an_activity() == "_ours"
    assert chaoslib.run.exit_signals is chaoslib.exit.exit_signals
    assert signal.getsignal(signal.SIGTERM) is _ours


def test_chaoslib_is_put_back_when_the_run_raises() -> None:
    with pytest.raises(RuntimeError), _our_signal_handlers():
        raise RuntimeError("the run failed")
    assert chaoslib.run.exit_signals is chaoslib.exit.exit_signals
