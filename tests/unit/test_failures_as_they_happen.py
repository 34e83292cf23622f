"""A failure's report reaches the terminal when the test fails, so a CI job cut off by its time limit shows why."""

from __future__ import annotations

import pytest

from conftest import FailuresAsTheyHappen


class Terminal:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def ensure_newline(self) -> None:
        self.lines.append("")

    def write_line(self, line: str) -> None:
        self.lines.append(line)


def _report(outcome: str, sections: list[tuple[str, str]]) -> pytest.TestReport:
    return pytest.TestReport("tests/x.py::test_y", ("tests/x.py", 1, "test_y"), {}, outcome,
                             "E   assert 1 == 2" if outcome == "failed" else None, "call", sections)


def test_a_failure_is_written_with_its_reason_and_extra_sections_but_not_captured_output() -> None:
    terminal = Terminal()
    FailuresAsTheyHappen(terminal).pytest_runtest_logreport(
        _report("failed", [("Kubernetes lab state", "balancer: 2/3 nodes UP"), ("Captured stdout call", "noise")]))
    text = "\n".join(terminal.lines)
    assert "tests/x.py::test_y (call) failed:" in text
    assert "assert 1 == 2" in text
    assert "balancer: 2/3 nodes UP" in text
    assert "noise" not in text


def test_a_pass_writes_nothing() -> None:
    terminal = Terminal()
    FailuresAsTheyHappen(terminal).pytest_runtest_logreport(_report("passed", [("Kubernetes lab state", "x")]))
    assert terminal.lines == []
