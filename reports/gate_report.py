"""The gate's pages: index.html with one row per experiment, and summary.md for a pull-request comment."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kernel import redact
from kernel.outcome import Outcome
from kernel.verdict import Verdict
from reports import dr
from reports.html import Html, esc, page, percent, seconds, table, verdict_badge
from reports.model import WORST_WINDOW_S, is_run_dir, load_run
from reports.run_report import render_run


@dataclass(frozen=True)
class GateRow:
    """One experiment's run as the gate and the history show it."""

    experiment: str
    verdict: Verdict
    run_dir: Path
    wall_s: float
    recovery_s: float | None
    worst_error_rate: float | None
    reasons: tuple[str, ...]
    started_at: float | None = None
    failover_s: float | None = None
    aborted: str | None = None
    rto_s: float | None = None
    rpo_s: float | None = None
    rpo_writes: float | None = None

    @property
    def label(self) -> str:
        return "ABORTED" if self.aborted else self.verdict.value.upper()

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS and self.aborted is None


def row_from_run_dir(run_dir: Path, verdict: Verdict, reasons: Sequence[str], wall_s: float,
                     experiment: str | None = None) -> GateRow:
    """A row with the given verdict (the runner's) and the numbers read from the run directory, where it has any."""
    run_dir = Path(run_dir)
    name = experiment or run_dir.name
    if not is_run_dir(run_dir):
        return GateRow(name, Verdict(verdict), run_dir, wall_s, None, None, tuple(reasons))
    run = load_run(run_dir)
    return GateRow(experiment or run.experiment, Verdict(verdict), run_dir, wall_s, run.recovery_s,
                   run.worst_error_rate, tuple(reasons), run.started_at, run.failover_s,
                   run.aborted.text if run.aborted else None, **dr.figures(run.judgements))


def row_from_outcome(outcome: Outcome) -> GateRow:
    return row_from_run_dir(outcome.run_dir, outcome.verdict, outcome.reasons, outcome.wall_s, outcome.experiment)


def headline(rows: Sequence[GateRow]) -> str:
    return f"chaos360 gate: {sum(r.passed for r in rows)}/{len(rows)} passed"


def _report_link(gate_dir: Path, row: GateRow) -> Html:
    report = row.run_dir / "report.html"
    if not report.is_file():
        return Html("—")
    return Html(f'<a href="{esc(Path(os.path.relpath(report.resolve(), gate_dir.resolve())).as_posix())}">report</a>')


def _ensure_reports(rows: Sequence[GateRow]) -> None:
    for row in rows:
        if is_run_dir(row.run_dir) and not (row.run_dir / "report.html").is_file():
            render_run(row.run_dir)


def index_html(gate_dir: Path, rows: Sequence[GateRow]) -> str:
    headers = ("experiment", "verdict", "time to recovery", f"worst {WORST_WINDOW_S:g} s error rate", "wall time",
               "run", "why not passed")
    cells = [(r.experiment, verdict_badge(r.label), seconds(r.recovery_s), percent(r.worst_error_rate),
              seconds(r.wall_s), _report_link(gate_dir, r), "" if r.passed else "; ".join(r.reasons))
             for r in rows]
    body = [f"<h1>{esc(headline(rows))}</h1>",
            '<p class="howto">One row per experiment. Time to recovery: seconds until the error rate stayed within '
            f"the objective and every part was ready; worst {WORST_WINDOW_S:g} s error rate: the worst sliding "
            f"window from the first fault on. Follow \u201creport\u201d for the run's timeline and evidence.</p>",
            table(headers, cells, numeric=frozenset({2, 3, 4}), css="gate")]
    return page(headline(rows), body)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_md(rows: Sequence[GateRow]) -> str:
    """A headline, a table, and for each row that did not pass the objective, measured value and limit it missed."""
    lines = [f"**{headline(rows)}**", "",
             f"| experiment | verdict | recovery | worst {WORST_WINDOW_S:g} s error rate | wall time |",
             "|---|---|---:|---:|---:|"]
    lines += [f"| {_md_cell(r.experiment)} | {r.label} | {seconds(r.recovery_s)} | {percent(r.worst_error_rate)} "
              f"| {seconds(r.wall_s)} |" for r in rows]
    failing = [r for r in rows if not r.passed]
    if failing:
        lines += ["", "Not passed:"]
        lines += [f"- **{_md_cell(r.experiment)}** ({r.label}): " + _md_cell("; ".join(r.reasons) or "no reason given")
                  for r in failing]
    return "\n".join(lines) + "\n"


def render_gate(gate_dir: Path, rows: Sequence[GateRow]) -> None:
    """Write gate_dir/index.html and gate_dir/summary.md (rendering any run's missing report.html first)."""
    gate_dir = Path(gate_dir)
    gate_dir.mkdir(parents=True, exist_ok=True)
    _ensure_reports(rows)
    (gate_dir / "index.html").write_text(redact.text(index_html(gate_dir, rows)), encoding="utf-8")
    (gate_dir / "summary.md").write_text(redact.text(summary_md(rows)), encoding="utf-8")
