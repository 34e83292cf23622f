"""Which tests failed in which of several runs of the same suite, read from each run's JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SuiteRun:
    """One run of the suite: counts and the first line of each failing test's message, by test id."""

    wall_s: float
    passed: int
    skipped: int
    failures: dict[str, str]


@dataclass(frozen=True)
class FlakyTest:
    test_id: str
    failed_runs: tuple[int, ...]
    first_message: str


def parse_junit(xml_text: str, wall_s: float) -> SuiteRun:
    """A run from pytest's JUnit XML; a test with a failure or an error counts as failed."""
    root = ET.fromstring(xml_text)
    passed = skipped = 0
    failures: dict[str, str] = {}
    for case in root.iter("testcase"):
        test_id = f"{case.get('classname', '')}::{case.get('name', '')}"
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            failures[test_id] = _first_line(problem.get("message") or problem.text or problem.tag)
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return SuiteRun(wall_s, passed, skipped, failures)


def flaky_tests(runs: Sequence[SuiteRun]) -> list[FlakyTest]:
    """Every test that failed in at least one run, most often failing first."""
    test_ids = sorted({test_id for run in runs for test_id in run.failures})
    found = []
    for test_id in test_ids:
        failed_in = tuple(n for n, run in enumerate(runs, 1) if test_id in run.failures)
        found.append(FlakyTest(test_id, failed_in, runs[failed_in[0] - 1].failures[test_id]))
    return sorted(found, key=lambda t: (-len(t.failed_runs), t.test_id))


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:200] if lines else ""
