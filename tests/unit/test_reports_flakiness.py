from reports.flakiness import SuiteRun, flaky_tests, parse_junit

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4">
<testcase classname="tests.integration.test_a" name="test_ok" time="1.0"/>
<testcase classname="tests.integration.test_a" name="test_fails" time="1.0">
  <failure message="assert 503 == 200&#10;second line">trace</failure></testcase>
<testcase classname="tests.integration.test_b" name="test_errors" time="1.0">
  <error message="">fixture 'lab' failed
more</error></testcase>
<testcase classname="tests.integration.test_b" name="test_skipped" time="0.0"><skipped message="no"/></testcase>
</testsuite></testsuites>"""


def test_failures_and_errors_count_as_failed_with_their_first_line():
    run = parse_junit(JUNIT, wall_s=12.0)
    assert (run.passed, run.skipped, run.wall_s) == (1, 1, 12.0)
    assert run.failures == {
        "tests.integration.test_a::test_fails": "assert 503 == 200",
        "tests.integration.test_b::test_errors": "fixture 'lab' failed",
    }


def test_a_test_failing_in_any_run_is_listed_with_its_runs_most_often_first():
    runs = [
        SuiteRun(1.0, 5, 0, {"t::once": "boom"}),
        SuiteRun(1.0, 5, 0, {"t::thrice": "first"}),
        SuiteRun(1.0, 4, 0, {"t::thrice": "second", "t::once": "later"}),
        SuiteRun(1.0, 4, 0, {"t::thrice": "third"}),
    ]
    found = flaky_tests(runs)
    assert [(t.test_id, t.failed_runs, t.first_message) for t in found] == [
        ("t::thrice", (2, 3, 4), "first"),
        ("t::once", (1, 3), "boom"),
    ]


def test_runs_without_failures_list_nothing():
    assert flaky_tests([SuiteRun(1.0, 3, 0, {}), SuiteRun(1.0, 3, 0, {})]) == []
