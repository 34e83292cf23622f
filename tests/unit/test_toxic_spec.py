import pytest

from kernel.target import ToxicSpec


def test_a_valid_latency_toxic():
    spec = ToxicSpec("latency", attributes=(("latency", 300), ("jitter", 50)))
    assert (spec.kind, spec.stream, spec.toxicity) == ("latency", "downstream", 1.0)


@pytest.mark.parametrize(
    "kwargs",
    [{"kind": "explode"}, {"kind": "latency", "stream": "sideways"}, {"kind": "latency", "toxicity": 1.5},
     {"kind": "latency", "attributes": (("rate", 1),)}, {"kind": "timeout", "attributes": (("timeout", -1),)}],
)
def test_invalid_toxics_are_refused(kwargs):
    with pytest.raises(ValueError):
        ToxicSpec(**kwargs)
