import itertools
import sys
from pathlib import Path

import pytest

from loadtests.controller import LoadSpec

URL = "http://127.0.0.1:18080"


def test_defaults() -> None:
    spec = LoadSpec(base_url=URL)
    assert (spec.users, spec.spawn_rate, spec.duration_s) == (20, 20, 120)


def test_spec_is_frozen() -> None:
    spec = LoadSpec(base_url=URL)
    with pytest.raises(AttributeError):
        spec.users = 3  # type: ignore[misc]


@pytest.mark.parametrize("users", [0, -1, 501, 2.5, True, "5"])
def test_bad_users(users: object) -> None:
    with pytest.raises(ValueError, match=r"users must be an integer 1\.\.500"):
        LoadSpec(base_url=URL, users=users)  # type: ignore[arg-type]


@pytest.mark.parametrize("duration", [0, 0.5, 3601, -5, float("nan"), float("inf"), "60", None])
def test_bad_duration(duration: object) -> None:
    with pytest.raises(ValueError, match=r"duration_s must be a number of seconds 1\.\.3600"):
        LoadSpec(base_url=URL, duration_s=duration)  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", [0, -1, float("nan"), "10"])
def test_bad_spawn_rate(rate: object) -> None:
    with pytest.raises(ValueError, match="spawn_rate must be a number > 0"):
        LoadSpec(base_url=URL, spawn_rate=rate)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["", "127.0.0.1:18080", "ftp://127.0.0.1", "http://", None])
def test_bad_base_url(url: object) -> None:
    with pytest.raises(ValueError, match="base_url must be an http"):
        LoadSpec(base_url=url)  # type: ignore[arg-type]


@pytest.mark.parametrize(("users", "duration"), [(1, 1), (500, 3600), (5, 8.5)])
def test_bounds_are_accepted(users: int, duration: float) -> None:
    assert LoadSpec(base_url=URL, users=users, duration_s=duration).users == users


def test_locust_args_run_headless_for_a_bounded_whole_number_of_seconds() -> None:
    spec = LoadSpec(base_url=URL + "/", users=5, spawn_rate=2.5, duration_s=8.2)
    args = spec.locust_args(Path("/x/locustfile.py"))
    assert args[:3] == [sys.executable, "-m", "locust"]
    pairs = dict(itertools.pairwise(args))
    assert pairs["-f"] == "/x/locustfile.py" and pairs["-u"] == "5" and pairs["-r"] == "2.5"
    assert pairs["-t"] == "9s" and pairs["--host"] == URL and pairs["--stop-timeout"] == "5"
    assert "--headless" in args
