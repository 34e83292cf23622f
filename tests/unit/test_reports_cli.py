import argparse
import shutil
from pathlib import Path

import pytest

from kernel.errors import ExitCode, UsageError
from kernel.verdict import Verdict
from reports import history
from reports.cli import add_report_commands
from reports.gate_report import GateRow
from tests.unit.reports_page import FIXTURE_RUN


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="chaos360")
    commands = parser.add_subparsers(dest="command", required=True)
    add_report_commands(commands)
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_report_run_dir_renders_and_prints_the_path(tmp_path, capsys):
    run_dir = Path(shutil.copytree(FIXTURE_RUN, tmp_path / "run"))
    assert _run(["report", str(run_dir)]) == ExitCode.PASS
    assert capsys.readouterr().out.strip() == str(run_dir / "report.html")
    assert (run_dir / "report.html").stat().st_size > 10_000


def test_a_missing_directory_is_a_usage_error_naming_it(tmp_path):
    with pytest.raises(UsageError, match=f"{tmp_path / 'nope'}: no such directory"):
        _run(["report", str(tmp_path / "nope")])


def test_a_directory_that_is_not_a_run_is_a_usage_error_naming_it(tmp_path):
    with pytest.raises(UsageError, match=f"{tmp_path} is not a run directory"):
        _run(["report", str(tmp_path)])


def test_history_options_with_a_run_dir_are_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="--file and --out apply to `report history` only"):
        _run(["report", str(tmp_path), "--out", "x.html"])


def test_report_history_prints_the_page_and_one_line_per_experiment(tmp_path, capsys):
    file = tmp_path / "history.jsonl"
    for n, recovery in enumerate((6.0, 7.5)):
        history.append(file, GateRow("zone-partition", Verdict.PASS, tmp_path, 20.0, recovery, 0.02, (), 1.8e9 + n))
    out = tmp_path / "pages" / "history.html"
    assert _run(["report", "history", "--file", str(file), "--out", str(out)]) == ExitCode.PASS
    assert capsys.readouterr().out.splitlines() == [
        str(out), "  zone-partition: 2 runs, 2 passed, recovery 6.0s → 7.5s, worst 10 s error rate 2% → 2%"]
    assert out.is_file()


def test_report_history_defaults_to_the_environments_file_and_its_html(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(history.HISTORY_ENV, str(tmp_path / "h.jsonl"))
    assert _run(["report", "history"]) == ExitCode.PASS
    assert capsys.readouterr().out.strip() == str(tmp_path / "h.html")
    assert "No runs recorded yet" in (tmp_path / "h.html").read_text()
