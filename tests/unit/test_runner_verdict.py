from kernel.outcome import verdict_of
from kernel.verdict import Verdict


def _journal(status="completed", deviated=False, after_verdict="pass", judgement_verdict="pass"):
    judgement = {"name": "error rate", "verdict": judgement_verdict, "message": f"error rate {judgement_verdict}"}
    probe = {"activity": {"name": "objectives-met"}, "output": {"verdict": after_verdict, "judgements": [judgement]},
             "tolerance_met": after_verdict == "pass"}
    return {"status": status, "deviated": deviated, "steady_states": {"before": {"probes": []},
                                                                      "after": {"probes": [probe]}}, "run": []}


def test_pass_only_when_every_judgement_passes():
    verdict, reasons, _ = verdict_of(_journal())
    assert verdict is Verdict.PASS and reasons == ["error rate pass"]


def test_a_failed_judgement_fails_and_names_it():
    verdict, reasons, _ = verdict_of(_journal(deviated=True, after_verdict="fail", judgement_verdict="fail"))
    assert verdict is Verdict.FAIL and reasons[0] == "error rate fail"


def test_no_data_is_unknown_never_pass():
    verdict, reasons, _ = verdict_of(_journal(deviated=True, after_verdict="unknown", judgement_verdict="unknown"))
    assert verdict is Verdict.UNKNOWN and reasons == ["error rate unknown"]


def test_a_broken_steady_state_fails_even_when_judgements_pass():
    journal = _journal()
    journal["deviated"] = True
    journal["steady_states"]["before"]["probes"] = [
        {"activity": {"name": "lab-ready"}, "output": {"ready": False}, "tolerance_met": False}]
    verdict, reasons, _ = verdict_of(journal)
    assert verdict is Verdict.FAIL and "lab-ready not met" in reasons[0]


def test_a_run_that_did_not_complete_is_unknown_with_the_activity_error():
    journal = _journal(status="failed")
    journal["steady_states"]["after"] = None
    exception = ["Traceback\n", "LabError: boom\n"]
    journal["run"] = [{"activity": {"name": "stop-node"}, "status": "failed", "exception": exception}]
    verdict, reasons, _ = verdict_of(journal)
    assert verdict is Verdict.UNKNOWN
    assert reasons == ["run failed", "stop-node: LabError: boom"]
