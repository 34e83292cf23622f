import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kernel.inventory import Inventory
from kernel.progress import Progress
from lab import docker_lab
from lab.readiness import run_checks, wait_until
from lab.target import DockerLabTarget
from lab.topology import LabSettings

READY_AFTER_HEAL_S = 180
ROOT = Path(__file__).resolve().parents[2]
FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture(autouse=True)
def restored_after_a_failure(request: pytest.FixtureRequest):
    """A test that fails on the lab may leave a fault or a variant behind: heal it so the next test starts clean."""
    yield
    if request.node.stash.get(FAILED, False) and "lab" in request.fixturenames:
        subprocess.run([sys.executable, "-m", "chaos360", "heal"], cwd=ROOT, timeout=600, check=False)
        docker_lab.up(LabSettings(), Progress())


@pytest.fixture(scope="session")
def lab() -> Inventory:
    """The ha lab, started when it is not running; left running for the next session."""
    return docker_lab.up(LabSettings(), Progress())


@pytest.fixture(scope="session")
def target(lab: Inventory) -> DockerLabTarget:
    return DockerLabTarget(lab)


@pytest.fixture
def heal_lab(lab: Inventory, target: DockerLabTarget):
    """Start every stopped lab container after the test and wait until the lab is ready again."""
    yield
    for instance in lab.instances:
        target.start(instance.name)
    wait_until(lambda: run_checks(lab), READY_AFTER_HEAL_S, Progress())


@pytest.fixture
def base_url(lab: Inventory) -> str:
    return lab.host_url("lb")


def held_partition(tmp_path: Path) -> Path:
    """zone-partition that holds its fault 120 s, so a kill lands under the fault however slow the machine is."""
    experiment = yaml.safe_load((ROOT / "experiments" / "zone-partition.yaml").read_text())
    isolate = next(step for step in experiment["method"] if step["name"] == "isolate-zone-a")
    isolate["pauses"] = {"after": 120}
    path = tmp_path / "zone-partition-held.yaml"
    path.write_text(yaml.safe_dump(experiment))
    return path
