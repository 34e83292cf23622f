"""`chaos360 report RUN_DIR` and `chaos360 report history`: the report commands, added to chaos360's parser."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kernel.errors import ExitCode, UsageError
from reports import history
from reports.model import RUN_FILES, is_run_dir
from reports.run_report import render_run

HISTORY = "history"


def add_report_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Add `report` to chaos360's subcommands (the subparsers object of its top-level parser)."""
    report = commands.add_parser(
        "report", help="re-render a run's report.html, or `report history` for the trends page",
        description="report RUN_DIR writes RUN_DIR/report.html; report history writes the trends page of "
                    "reports/history.jsonl (a run directory named 'history' can be given as ./history)")
    report.add_argument("target", metavar="RUN_DIR|history")
    report.add_argument("--file", type=Path, help=f"history file (default: ${history.HISTORY_ENV} or "
                                                  f"{history.DEFAULT_FILE})")
    report.add_argument("--out", type=Path, help="history page (default: the history file with .html)")
    report.set_defaults(handler=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    if args.target == HISTORY:
        return _history(args.file, args.out)
    if args.file is not None or args.out is not None:
        raise UsageError("report: --file and --out apply to `report history` only")
    return _run(Path(args.target))


def _run(run_dir: Path) -> int:
    if not run_dir.is_dir():
        raise UsageError(f"report: {run_dir}: no such directory")
    if not is_run_dir(run_dir):
        raise UsageError(f"report: {run_dir} is not a run directory (none of {', '.join(RUN_FILES)} in it)")
    print(render_run(run_dir))
    return ExitCode.PASS


def _history(file: Path | None, out: Path | None) -> int:
    history_file = file if file is not None else history.default_history_file()
    if history_file.is_dir():
        raise UsageError(f"report history: {history_file} is a directory, not a history file")
    page = history.render_history(history_file, out if out is not None else history_file.with_suffix(".html"))
    print(page)
    for line in history.summaries(history_file):
        print(f"  {line}")
    return ExitCode.PASS
