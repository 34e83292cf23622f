"""The chaos360 command line: one clear line and an exit code for every failure."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chaos360 import live
from chaos360.binding import TARGET_ENV, chosen_target, exclusive
from chaos360.cli_lab import add_lab_commands
from chaos360.healing import heal_lab, healed_in_run, refuse_unhealed
from kernel import interrupts, redact
from kernel.errors import Chaos360Error, ExitCode, UsageError
from kernel.progress import Progress
from kernel.verdict import exit_code
from reports.cli import add_report_commands


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _worst_exit(outcomes: list[Any]) -> int:
    codes = [ExitCode.USAGE_ERROR if o.refused else ExitCode.HARNESS_ERROR if o.harness_error else exit_code(o.verdict)
             for o in outcomes]
    return int(max(codes, default=ExitCode.UNKNOWN))


def _progress_mode(args: argparse.Namespace) -> live.Mode:
    if getattr(args, "quiet", False):
        return live.Mode.QUIET
    return live.Mode.JSON if getattr(args, "json", False) else live.Mode.AUTO


def _print_outcome(outcome: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"experiment": outcome.experiment, "verdict": outcome.verdict.value,
                          "reasons": list(outcome.reasons), "wall_s": round(outcome.wall_s, 1),
                          "run_dir": str(outcome.run_dir), "report": str(outcome.run_dir / "report.html")}))
        return
    print(f"{outcome.experiment}: {outcome.verdict.value.upper()} in {outcome.wall_s:.0f}s  "
          f"({outcome.run_dir / 'report.html'})")
    for reason in outcome.reasons:
        print(f"  {reason}")


def _cmd_run(args: argparse.Namespace) -> int:
    from chaos360 import runner

    paths = [Path(p) for p in args.experiments]
    for path in paths:
        runner.load(path, lab_id=args.lab_id)
    if args.dry_run:
        from chaos360.dry_run import dry_run

        for path in paths:
            print("\n".join(dry_run(path, args.lab_id)))
        return ExitCode.PASS
    live.configure(_progress_mode(args))
    outcomes = []
    with exclusive(args.lab_id):
        refuse_unhealed(args.lab_id)
        for path in paths:
            outcome = runner.run_file(path, args.lab_id)
            outcomes.append(outcome)
            _print_outcome(outcome, args.json)
    return _worst_exit(outcomes)


def _cmd_gate(args: argparse.Namespace) -> int:
    import pytest

    from kernel import run as runs

    live.configure(_progress_mode(args))
    baseline = _history_baseline() if args.compare_history else None
    with exclusive(args.lab_id):
        refuse_unhealed(args.lab_id)
        gate_dir = runs.new_run_dir("gate")
        collector = _OutcomeCollector()
        code = pytest.main([str(Path(args.experiments_dir)), "-p", "no:locust", "-p", "no:cacheprovider", "-q",
                            f"--junitxml={gate_dir / 'junit.xml'}"], plugins=[collector])
    if code == pytest.ExitCode.INTERRUPTED:
        raise interrupts.Interrupted(interrupts.received() or "interrupt", run_dir=collector.interrupted_run)
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise UsageError(f"gate: pytest could not run the experiments in {args.experiments_dir} (exit {int(code)})")
    _gate_reports(gate_dir, collector.outcomes)
    code = _worst_exit(collector.outcomes)
    if baseline is not None and _regressed(gate_dir, collector.outcomes, baseline):
        code = max(code, int(ExitCode.FAILED))
    return code


def _history_baseline() -> list[Any]:
    """The drill history as it stands before this gate appends to it."""
    from reports.history import default_history_file, read_history

    return read_history(default_history_file())[0]


def _regressed(gate_dir: Path, outcomes: list[Any], baseline: list[Any]) -> bool:
    """Judge each experiment against its last passing runs; print and keep the comparison; True on a regression."""
    from reports.gate_report import row_from_outcome
    from reports.history import entry_from_dict, line_of
    from reports.regression import compare_with_history

    lines, regressed = [], False
    for outcome in outcomes:
        for comparison in compare_with_history(entry_from_dict(line_of(row_from_outcome(outcome))), baseline):
            mark = "REGRESSED" if comparison.regressed else "ok"
            lines.append(f"{comparison.experiment}: {mark}: {comparison.detail}")
            if comparison.regressed:
                lines.append(f"  compared with runs started {', '.join(comparison.compared_with)}")
            regressed = regressed or comparison.regressed
    text = "\n".join(lines) + "\n"
    (gate_dir / "compare-history.txt").write_text(text)
    print(f"compare with history ({'a regression' if regressed else 'no regression'}; "
          f"{gate_dir / 'compare-history.txt'}):\n{text}", end="")
    return regressed


def _gate_reports(gate_dir: Path, outcomes: list[Any]) -> None:
    from reports.gate_report import headline, render_gate, row_from_outcome

    rows = [row_from_outcome(outcome) for outcome in outcomes]
    render_gate(gate_dir, rows)
    print(f"{headline(rows)}\n  index   {gate_dir / 'index.html'}\n  summary {gate_dir / 'summary.md'}\n"
          f"  JUnit   {gate_dir / 'junit.xml'}")


class _OutcomeCollector:
    def __init__(self) -> None:
        self.outcomes: list[Any] = []
        self.interrupted_run: Path | None = None

    def pytest_sessionfinish(self, session: Any) -> None:
        from chaos360.gate_keys import INTERRUPTED_RUN, OUTCOMES

        self.outcomes = list(session.config.stash.get(OUTCOMES, []))
        self.interrupted_run = session.config.stash.get(INTERRUPTED_RUN, None)


def _cmd_heal(args: argparse.Namespace) -> int:
    from lab.k8s.cluster_lock import DURATION_S

    with exclusive(args.lab_id, wait_s=DURATION_S + 15):
        result = heal_lab(args.lab_id, progress=Progress(quiet=args.quiet))
    print(f"heal: {result.summary()}")
    return ExitCode.HARNESS_ERROR if result.failed else ExitCode.PASS


def _heal_after_interrupt(lab_id: str, command: str | None, error: KeyboardInterrupt) -> int:
    """Whatever a signal cut short, every fault is undone and the load stopped before the process exits."""
    interrupts.note(getattr(error, "signame", "SIGINT"))
    interrupts.forget_orphaned_modules()
    name = interrupts.received()
    with interrupts.shielded():
        print(f"chaos360: interrupted by {name}; healing (another Ctrl-C will not stop the heal)", file=sys.stderr,
              flush=True)
        try:
            result = heal_lab(lab_id, wait_ready_s=60, check_ready=command in ("run", "gate"))
        except Chaos360Error as failure:
            print(f"chaos360: interrupted by {name}; heal failed: {failure}", file=sys.stderr)
            return int(ExitCode.HARNESS_ERROR)
    healed = healed_in_run(getattr(error, "run_dir", None)) + [e.fault for e in result.report.healed]
    print(f"chaos360: interrupted by {name}: healed {', '.join(healed) or 'nothing (no fault was left)'}; "
          f"{result.load_stopped} load processes stopped; lab {result.ready}", file=sys.stderr)
    return int(ExitCode.HARNESS_ERROR if result.failed else ExitCode.UNKNOWN)


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="no live progress view")
    parser.add_argument("--json", action="store_true",
                        help="progress as JSON lines on stderr, each outcome as a JSON line on stdout")


def _choose_target(args: argparse.Namespace) -> None:
    """Through the environment, so every part of the run (the gate's pytest, each experiment) sees the same."""
    os.environ[TARGET_ENV] = args.target
    if args.kube_context:
        os.environ["CHAOS360_K8S_CONTEXT"] = args.kube_context
    chosen_target()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chaos360", description="Chaos experiments against the Agent360 HA stack")
    parser.add_argument("--lab-id", default=os.environ.get("CHAOS360_LAB_ID", "chaos360"))
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--target", default=os.environ.get(TARGET_ENV) or "lab", metavar="{lab,k8s}",
                        help="lab (default): the lab that is up; k8s: the cluster CHAOS360_KUBECONFIG or KUBECONFIG "
                             "names, or the one this pod runs in, else the Kubernetes lab")
    parser.add_argument("--kube-context", default=None, help="the kubeconfig's context for --target k8s "
                                                             "(CHAOS360_K8S_CONTEXT; the allowlist still applies)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("run", help="run experiment files against the lab")
    run.add_argument("experiments", nargs="+", metavar="EXPERIMENT")
    run.add_argument("--dry-run", action="store_true",
                     help="check every file against the lab and print what each action would hit; inject nothing")
    _add_output_options(run)
    run.set_defaults(handler=_cmd_run)
    gate = commands.add_parser("gate", help="run every experiment as the pre-release gate (JUnit)")
    gate.add_argument("--experiments-dir", default="experiments")
    gate.add_argument("--compare-history", action="store_true",
                      help="also fail an experiment whose recovery or worst 10 s error rate is clearly above its last "
                           "passing runs in the drill history (reports/history.jsonl)")
    _add_output_options(gate)
    gate.set_defaults(handler=_cmd_gate)
    heal = commands.add_parser("heal", help="undo every fault recorded in the ledger and stop leftover load")
    heal.set_defaults(handler=_cmd_heal)
    add_report_commands(commands)
    add_lab_commands(commands, _Parser)
    return parser


def main(argv: Sequence[str] | None = None, held_signal: int | None = None) -> int:
    """`held_signal`: a SIGINT/SIGTERM that arrived while the CLI was loading (chaos360.__main__ held it)."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    interrupts.install()
    args = argparse.Namespace(lab_id=os.environ.get("CHAOS360_LAB_ID", "chaos360"), command=None)
    try:
        args = build_parser().parse_args(argv)
        _choose_target(args)
        if held_signal is not None:
            raise interrupts.Interrupted(signal.Signals(held_signal).name)
        return int(args.handler(args))
    except Chaos360Error as error:
        print(redact.text(f"chaos360: {error}"), file=sys.stderr)
        return int(error.exit_code)
    except KeyboardInterrupt as error:
        return _heal_after_interrupt(args.lab_id, args.command, error)
    except Exception as error:
        if os.environ.get("CHAOS360_DEBUG"):
            traceback.print_exc()
        print(redact.text(f"chaos360: harness error: {error.__class__.__name__}: {error}"), file=sys.stderr)
        return int(ExitCode.HARNESS_ERROR)


if __name__ == "__main__":
    sys.exit(main())
