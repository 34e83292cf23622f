"""The pytest gate: every experiments/*.yaml is a test item, run through chaoslib with rollbacks always.

An experiment tagged `drill` (long, for scheduled drills) is marked `drill` and left out unless `-m` selects it; on a
Kubernetes target, an experiment whose steps it does not have is left out with why."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaos360.gate_keys import INTERRUPTED_RUN, OUTCOMES
from chaos360.runner import run_file
from kernel.interrupts import Interrupted
from kernel.outcome import Outcome
from kernel.verdict import Verdict

NOT_EXPERIMENTS = {"objectives.yaml"}
DRILL = "drill"
K8S = "k8s"
K8S_LONG = "k8s_long"
LEFT_OUT = {DRILL: "drills", K8S_LONG: "long Kubernetes-lab trials"}


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.File | None:
    if file_path.suffix in (".yaml", ".yml") and file_path.parent.name == "experiments" \
            and file_path.name not in NOT_EXPERIMENTS:
        return ExperimentFile.from_parent(parent, path=file_path)
    return None


class ExperimentFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        item = ExperimentItem.from_parent(self, name=self.path.stem)
        if DRILL in experiment_tags(self.path):
            item.add_marker(DRILL)
        yield item


def experiment_tags(path: Path) -> list[str]:
    """The experiment's `tags`; none for a file that does not parse (running it reports why)."""
    document = _document(path)
    tags = document.get("tags") if isinstance(document, dict) else None
    return [str(tag) for tag in tags] if isinstance(tags, list) else []


def _document(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drills and the long Kubernetes-lab trials run only when asked for (`-m drill`, `-m k8s_long`): the default
    gate and CI stay within their time. Tests on the Kubernetes lab run last: it replaces the Docker lab (one lab at
    a time on a small machine)."""
    items.sort(key=lambda item: item.get_closest_marker(K8S) is not None)
    _leave_out_what_kubernetes_cannot_run(config, items)
    if config.option.markexpr:
        return
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    for marker, what in LEFT_OUT.items():
        left = [item for item in items if item.get_closest_marker(marker)]
        if not left:
            continue
        config.hook.pytest_deselected(items=left)
        items[:] = [item for item in items if not item.get_closest_marker(marker)]
        if terminal is not None:
            terminal.write_line(f"chaos360: {len(left)} {what} left out; `pytest -m {marker}` runs them")


def _leave_out_what_kubernetes_cannot_run(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a Kubernetes target, the experiments whose steps it does not have are left out, each named with why."""
    experiments = [item for item in items if isinstance(item, ExperimentItem)]
    if not experiments or not _on_kubernetes():
        return
    from lab.k8s.not_on_kubernetes import experiment_refusal

    reasons = {item: experiment_refusal(_document(item.path)) for item in experiments}
    left = [item for item, reason in reasons.items() if reason]
    if not left:
        return
    config.hook.pytest_deselected(items=left)
    items[:] = [item for item in items if item not in left]
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        for item in left:
            terminal.write_line(f"chaos360: {item.name} left out on Kubernetes: {reasons[item]}")


def _on_kubernetes() -> bool:
    from chaos360.binding import lab_binding
    from kernel.errors import Chaos360Error

    try:
        return lab_binding(os.environ.get("CHAOS360_LAB_ID", "chaos360")).name.startswith(K8S)
    except Chaos360Error:
        return False


class ExperimentFailed(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.summary)
        self.outcome = outcome


class ExperimentItem(pytest.Item):
    def runtest(self) -> None:
        _ensure_lab(self.config)
        try:
            outcome = run_file(self.path, os.environ.get("CHAOS360_LAB_ID", "chaos360"))
        except Interrupted as interrupted:
            self.config.stash[INTERRUPTED_RUN] = interrupted.run_dir
            raise
        self.user_properties += [("verdict", outcome.verdict.value), ("run_dir", str(outcome.run_dir))]
        self.user_properties += [(j["name"], j["message"]) for j in outcome.judgements]
        self.config.stash.setdefault(OUTCOMES, []).append(outcome)
        if outcome.verdict is not Verdict.PASS:
            raise ExperimentFailed(outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ExperimentFailed):
            outcome = excinfo.value.outcome
            lines = [f"{outcome.experiment}: {outcome.verdict.value.upper()} (run {outcome.run_dir})"]
            return "\n".join(lines + [f"  {reason}" for reason in outcome.reasons])
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"experiment {self.name}"


_LAB_READY = pytest.StashKey[bool]()


def _ensure_lab(config: pytest.Config) -> None:
    """Start the ha lab once per session when it is not serving; a serving lab is gated as it runs (a build started
    with `lab up --app-env` included), and a Kubernetes target is never swapped for the Docker lab."""
    if config.stash.get(_LAB_READY, False):
        return
    from kernel.progress import Progress
    from lab import docker_lab
    from lab.topology import LabSettings

    lab_id = os.environ.get("CHAOS360_LAB_ID", "chaos360")
    if not _on_kubernetes() and not _serving(lab_id):
        docker_lab.up(LabSettings(lab_id=lab_id), Progress())
    config.stash[_LAB_READY] = True


def _serving(lab_id: str) -> bool:
    from kernel.errors import Chaos360Error
    from kernel.inventory import load
    from lab.readiness import SERVING_CHECKS, run_checks

    try:
        return all(check.ok for check in run_checks(load(lab_id), SERVING_CHECKS))
    except (Chaos360Error, OSError):
        return False


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """However the session ended (Ctrl-C included), no fault of its experiments outlives it."""
    if not session.config.stash.get(_LAB_READY, False):
        return
    from chaos360.healing import heal_lab

    result = heal_lab(os.environ.get("CHAOS360_LAB_ID", "chaos360"))
    if result.report.healed or result.report.failed:
        print(f"\nchaos360: healed after the session: {result.summary()}")


class FailuresAsTheyHappen:
    """Each failure's report is printed as soon as the test fails, not only in the summary: a CI job cut off by its
    time limit still shows why its tests failed."""

    def __init__(self, terminal: Any) -> None:
        self.terminal = terminal

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.failed:
            return
        self.terminal.ensure_newline()
        self.terminal.write_line(f"---- {report.nodeid} ({report.when}) failed:")
        self.terminal.write_line(report.longreprtext[-6000:])
        for title, content in report.sections:
            if not title.startswith("Captured"):
                self.terminal.write_line(f"---- {title}\n{content[-4000:]}")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        config.pluginmanager.register(FailuresAsTheyHappen(terminal), "chaos360-failures-as-they-happen")
