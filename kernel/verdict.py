"""Verdicts: pass, fail, unknown (no data is unknown, never pass), and aborted (a stop condition ended the run)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from kernel.errors import ExitCode


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    ABORTED = "aborted"


@dataclass(frozen=True)
class Judgement:
    """One measured value held against one objective.

    `bound` says which side the limit is on: "max" (measured must be <= limit) or "min" (measured >= limit).
    `unit` "ratio" is shown as a percentage, "s" as seconds, "count" as a bare number, anything else after it.
    """

    name: str
    objective: str
    measured: float | None
    limit: float | None
    unit: str
    verdict: Verdict
    detail: str
    bound: Literal["max", "min"] = "max"

    @property
    def message(self) -> str:
        """One line, e.g. "error rate 14.2% > limit 10% (HighErrorRate)"."""
        if self.measured is None or self.limit is None or self.verdict is Verdict.UNKNOWN \
                or self.verdict is not compare(self.measured, self.limit, self.bound):
            state = "unknown" if self.verdict is Verdict.UNKNOWN else self.verdict.value
            return f"{self.name} {state}: {self.detail} ({self.objective})"
        signs = {"max": ("≤", ">"), "min": ("≥", "<")}[self.bound]
        sign = signs[0] if self.verdict is Verdict.PASS else signs[1]
        measured, limit = format_value(self.measured, self.unit), format_value(self.limit, self.unit)
        return f"{self.name} {measured} {sign} limit {limit} ({self.objective})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "objective": self.objective, "measured": self.measured, "limit": self.limit,
            "unit": self.unit, "bound": self.bound, "verdict": self.verdict.value, "detail": self.detail,
            "message": self.message,
        }


def format_value(value: float, unit: str) -> str:
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if unit == "ratio":
        return f"{value * 100:.3g}%"
    if unit == "s":
        return f"{value:.3g} s"
    if unit == "count":
        return str(int(value)) if float(value).is_integer() else f"{value:g}"
    number = f"{value:.4g}"
    return f"{number} {unit}" if unit else number


def compare(measured: float | None, limit: float, bound: Literal["max", "min"] = "max") -> Verdict:
    """PASS when measured is on the right side of limit (inclusive), FAIL otherwise, UNKNOWN without a measurement."""
    if measured is None or math.isnan(measured):
        return Verdict.UNKNOWN
    within = measured <= limit if bound == "max" else measured >= limit
    return Verdict.PASS if within else Verdict.FAIL


def combine(judgements: Iterable[Judgement | Verdict]) -> Verdict:
    """Any FAIL -> FAIL; else any UNKNOWN -> UNKNOWN; nothing judged -> UNKNOWN; else PASS."""
    verdicts = [j.verdict if isinstance(j, Judgement) else j for j in judgements]
    if Verdict.FAIL in verdicts:
        return Verdict.FAIL
    if not verdicts or Verdict.UNKNOWN in verdicts:
        return Verdict.UNKNOWN
    return Verdict.PASS


_EXIT_CODES = {Verdict.PASS: ExitCode.PASS, Verdict.FAIL: ExitCode.FAILED, Verdict.UNKNOWN: ExitCode.UNKNOWN,
               Verdict.ABORTED: ExitCode.FAILED}


def exit_code(verdict: Verdict) -> ExitCode:
    return _EXIT_CODES[Verdict(verdict)]
