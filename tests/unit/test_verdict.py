import pytest

from kernel.errors import ExitCode
from kernel.verdict import Judgement, Verdict, combine, compare, exit_code, format_value


def _j(verdict: Verdict, name: str = "x") -> Judgement:
    return Judgement(name, "obj", 1.0, 2.0, "s", verdict, "")


def test_verdict_values_are_strings() -> None:
    assert [v.value for v in Verdict] == ["pass", "fail", "unknown", "aborted"]
    assert Verdict("fail") is Verdict.FAIL and f"{Verdict.UNKNOWN}" == "unknown"


def test_message_for_a_failed_error_rate() -> None:
    judgement = Judgement("error rate", "HighErrorRate", 0.142, 0.10, "ratio", Verdict.FAIL, "71 of 500 failed")
    assert judgement.message == "error rate 14.2% > limit 10% (HighErrorRate)"


def test_message_for_a_passed_recovery() -> None:
    judgement = Judgement("recovery", "redis-master-failover", 3.0, 8.0, "s", Verdict.PASS, "")
    assert judgement.message == "recovery 3 s ≤ limit 8 s (redis-master-failover)"


def test_message_for_a_minimum_bound() -> None:
    judgement = Judgement("ready replicas", "replicas", 2, 3, "replicas", Verdict.FAIL, "", bound="min")
    assert judgement.message == "ready replicas 2 replicas < limit 3 replicas (replicas)"


def test_message_without_a_measurement_shows_the_detail() -> None:
    judgement = Judgement("error rate", "HighErrorRate", None, 0.1, "ratio", Verdict.UNKNOWN, "no requests")
    assert judgement.message == "error rate unknown: no requests (HighErrorRate)"
    failed = Judgement("recovery", "zone-partition", None, 15, "s", Verdict.FAIL, "not recovered within 30 s")
    assert failed.message == "recovery fail: not recovered within 30 s (zone-partition)"


def test_a_verdict_the_numbers_do_not_explain_shows_the_detail() -> None:
    judgement = Judgement("server 5xx ratio", "HighErrorRate (Prometheus)", 0.0, 0.1, "ratio", Verdict.FAIL,
                          "alert HighErrorRate firing")
    assert judgement.message == "server 5xx ratio fail: alert HighErrorRate firing (HighErrorRate (Prometheus))"


def test_to_dict_is_plain_data() -> None:
    data = Judgement("error rate", "HighErrorRate", 0.05, 0.1, "ratio", Verdict.PASS, "d").to_dict()
    assert data["verdict"] == "pass" and data["message"] == "error rate 5% ≤ limit 10% (HighErrorRate)"


def test_judgement_is_frozen() -> None:
    with pytest.raises(AttributeError):
        _j(Verdict.PASS).verdict = Verdict.FAIL  # type: ignore[misc]


@pytest.mark.parametrize(("value", "unit", "text"), [
    (0.0, "ratio", "0%"), (1.0, "ratio", "100%"), (0.00123, "ratio", "0.123%"), (12.345, "s", "12.3 s"),
    (2.0, "writes", "2 writes"), (7.5, "", "7.5"), (1234567.0, "count", "1234567"),
])
def test_format_value(value: float, unit: str, text: str) -> None:
    assert format_value(value, unit) == text


def test_compare_is_inclusive_and_unknown_without_data() -> None:
    assert compare(0.1, 0.1) is Verdict.PASS
    assert compare(0.1000001, 0.1) is Verdict.FAIL
    assert compare(None, 0.1) is Verdict.UNKNOWN
    assert compare(float("nan"), 0.1) is Verdict.UNKNOWN
    assert compare(3, 3, "min") is Verdict.PASS and compare(2, 3, "min") is Verdict.FAIL


@pytest.mark.parametrize(("verdicts", "expected"), [
    ([], Verdict.UNKNOWN),
    ([Verdict.PASS], Verdict.PASS),
    ([Verdict.PASS, Verdict.PASS], Verdict.PASS),
    ([Verdict.PASS, Verdict.UNKNOWN], Verdict.UNKNOWN),
    ([Verdict.UNKNOWN, Verdict.FAIL, Verdict.PASS], Verdict.FAIL),
    ([Verdict.FAIL], Verdict.FAIL),
])
def test_combine(verdicts: list[Verdict], expected: Verdict) -> None:
    assert combine([_j(v) for v in verdicts]) is expected
    assert combine(verdicts) is expected


def test_combine_consumes_a_generator() -> None:
    assert combine(_j(v) for v in (Verdict.PASS, Verdict.FAIL)) is Verdict.FAIL


def test_exit_codes() -> None:
    assert exit_code(Verdict.PASS) == ExitCode.PASS == 0
    assert exit_code(Verdict.FAIL) == ExitCode.FAILED == 1
    assert exit_code(Verdict.UNKNOWN) == ExitCode.UNKNOWN == 2
    assert exit_code(Verdict.ABORTED) == ExitCode.FAILED
    assert exit_code("fail") == 1  # type: ignore[arg-type]
