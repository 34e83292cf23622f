from agent360.readiness import SharedOutageGrace


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_failing_time_counts_from_the_first_failure_and_resets_on_success():
    clock = Clock()
    grace = SharedOutageGrace(5.0, now=clock)
    assert grace.observe(False) == 0.0
    clock.t += 3.0
    assert grace.observe(False) == 3.0
    assert not grace.counts(3.0)
    clock.t += 2.0
    assert grace.observe(False) == 5.0
    assert grace.counts(5.0)
    assert grace.observe(True) == 0.0
    clock.t += 10.0
    assert grace.observe(False) == 0.0


def test_zero_grace_counts_every_failure():
    grace = SharedOutageGrace(0.0, now=Clock())
    assert grace.counts(grace.observe(False))
