"""Every run's key numbers, one JSON line each in reports/history.jsonl, and a page of per-experiment trends."""

from __future__ import annotations

import json
import os
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kernel import redact
from kernel.verdict import format_value
from reports import dr, svg
from reports.dr import Figure
from reports.gate_report import GateRow
from reports.html import Html, esc, page, percent, seconds, table, verdict_badge

HISTORY_ENV = "CHAOS360_HISTORY"
DEFAULT_FILE = Path("reports") / "history.jsonl"
GREEN, RED = "#1e9e3a", "#d62728"
DRILL_PANELS = {dr.RTO: ("RTO: disaster to service ready and data verified (s)", "#1f6fb4"),
                dr.RPO: ("RPO: backup moment to disaster (s)", "#e8870e"),
                dr.RPO_WRITES: ("RPO writes: acknowledged after the backup, not in the restored data", "#7b3fb0")}
SUMMARY_FORMATS = {"s": "{:.1f}s", "count": "{:g}"}


def default_history_file() -> Path:
    """reports/history.jsonl under the current directory, unless CHAOS360_HISTORY names another file."""
    return Path(os.environ.get(HISTORY_ENV) or DEFAULT_FILE)


@dataclass(frozen=True)
class HistoryEntry:
    experiment: str
    started_at: str | None
    verdict: str
    recovery_s: float | None
    worst_10s_error_rate: float | None
    failover_s: float | None
    wall_s: float | None
    run_dir: str
    rto_s: float | None = None
    rpo_s: float | None = None
    rpo_writes: float | None = None

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"


def line_of(row: GateRow) -> dict[str, Any]:
    started = datetime.fromtimestamp(row.started_at, UTC).isoformat(timespec="seconds") if row.started_at else None
    line: dict[str, Any] = {
        "experiment": row.experiment, "started_at": started, "verdict": row.label.lower(),
        "recovery_s": row.recovery_s, "worst_10s_error_rate": row.worst_error_rate, "wall_s": round(row.wall_s, 3),
        "run_dir": str(row.run_dir)}
    if row.failover_s is not None:
        line["failover_s"] = row.failover_s
    if row.aborted:
        line["aborted"] = row.aborted
    line.update({f.key: value for f in dr.FIGURES if (value := getattr(row, f.key)) is not None})
    return line


def append(history_file: Path, row: GateRow) -> dict[str, Any]:
    """Append the row as one JSON line (one write, so concurrent appenders never interleave); returns it."""
    line = line_of(row)
    history_file = Path(history_file)
    history_file.parent.mkdir(parents=True, exist_ok=True)
    with open(history_file, "ab", buffering=0) as handle:
        handle.write((redact.text(json.dumps(line, separators=(",", ":"))) + "\n").encode("utf-8"))
    return line


def _number(obj: dict[str, Any], key: str) -> float | None:
    value = obj.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def entry_from_dict(obj: object) -> HistoryEntry:
    if not isinstance(obj, dict) or not isinstance(obj.get("experiment"), str) or not obj["experiment"]:
        raise ValueError("not a history line: it needs an experiment name")
    started = obj.get("started_at")
    return HistoryEntry(obj["experiment"], started if isinstance(started, str) else None,
                        str(obj.get("verdict", "unknown")), _number(obj, "recovery_s"),
                        _number(obj, "worst_10s_error_rate"), _number(obj, "failover_s"), _number(obj, "wall_s"),
                        str(obj.get("run_dir", "")), *(_number(obj, f.key) for f in dr.FIGURES))


def read_history(history_file: Path) -> tuple[list[HistoryEntry], int]:
    """The entries in file order, and how many lines were not valid entries (skipped)."""
    try:
        lines = Path(history_file).read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return [], 0
    entries, skipped = [], 0
    for text in filter(str.strip, lines):
        try:
            entries.append(entry_from_dict(json.loads(text)))
        except ValueError:
            skipped += 1
    return entries, skipped


def by_experiment(entries: Sequence[HistoryEntry]) -> dict[str, list[HistoryEntry]]:
    """Per experiment (sorted by name), its runs oldest first."""
    groups: dict[str, list[HistoryEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.experiment, []).append(entry)
    return {name: sorted(groups[name], key=lambda e: e.started_at or "") for name in sorted(groups)}


def _trend(values: Sequence[float | None], fmt: str) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "—"
    return fmt.format(known[0]) if len(known) == 1 else f"{fmt.format(known[0])} → {fmt.format(known[-1])}"


def _values(runs: Sequence[HistoryEntry], key: str) -> list[float | None]:
    return [getattr(e, key) for e in runs]


def _drill_figures(runs: Sequence[HistoryEntry]) -> list[Figure]:
    """The DR drill figures the runs measured (none for an experiment that is not a drill)."""
    return [f for f in dr.FIGURES if any(v is not None for v in _values(runs, f.key))]


def summary(name: str, runs: Sequence[HistoryEntry]) -> str:
    """E.g. "zone-partition: 3 runs, 2 passed, recovery 6.0s → 7.5s, worst 10 s error rate 2.1% → 3.0%", and a
    drill's RTO and RPO trends after it."""
    rates = [None if e.worst_10s_error_rate is None else e.worst_10s_error_rate * 100 for e in runs]
    drill = "".join(f", {f.name} {_trend(_values(runs, f.key), SUMMARY_FORMATS[f.unit])}" for f in _drill_figures(runs))
    return (f"{name}: {len(runs)} run{'s' if len(runs) != 1 else ''}, {sum(e.passed for e in runs)} passed, "
            f"recovery {_trend(_values(runs, 'recovery_s'), '{:.1f}s')}, "
            f"worst 10 s error rate {_trend(rates, '{:.3g}%')}{drill}")


def summaries(history_file: Path) -> list[str]:
    return [summary(name, runs) for name, runs in by_experiment(read_history(history_file)[0]).items()]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "experiment"


def _per_run(runs: Sequence[HistoryEntry], key: str) -> tuple[svg.Point, ...]:
    return tuple((float(i), value) for i, value in enumerate(_values(runs, key), start=1))


def _drill_panel(slug: str, runs: Sequence[HistoryEntry], figure: Figure) -> svg.Panel:
    title, color = DRILL_PANELS[figure]
    key = f"{slug}-{figure.slug}"
    return svg.Panel(key, title, (svg.Series(key, figure.name, color, _per_run(runs, figure.key), dots=True),),
                     lambda v: f"{v:g}")


def trend_chart(name: str, runs: Sequence[HistoryEntry]) -> str:
    """Recovery time and worst error rate per run, and a drill's RTO and RPO, oldest first; runs that did not pass
    are shaded."""
    slug = _slug(name)
    numbered = list(enumerate(runs, start=1))
    panels = [
        svg.Panel(f"{slug}-recovery", "Time to recovery (s)",
                  (svg.Series(f"{slug}-recovery", "time to recovery", GREEN, _per_run(runs, "recovery_s"), dots=True),),
                  lambda v: f"{v:g}"),
        svg.Panel(f"{slug}-worst", "Worst 10 s error rate",
                  (svg.Series(f"{slug}-worst", "worst 10 s error rate", RED, _per_run(runs, "worst_10s_error_rate"),
                              dots=True),),
                  lambda v: f"{v * 100:g}%", floor=0.05),
        *(_drill_panel(slug, runs, figure) for figure in _drill_figures(runs)),
    ]
    failed = [svg.Band(x0=i - 0.4, x1=i + 0.4, css="failed-run", color=RED, label=f"run #{i}: {e.verdict.upper()}",
                       attrs=(("data-run", str(i)),)) for i, e in numbered if not e.passed]
    axis = svg.Axis(0.5, len(runs) + 0.5, "run number, oldest first (dates in the table below)", lambda x: f"#{x:g}",
                    step=max(1.0, svg.nice_step(len(runs))))
    return svg.chart(f"history-{slug}", panels, axis, failed)


def _link(run_dir: str, out_dir: Path) -> Html:
    report = Path(run_dir) / "report.html"
    if not run_dir or not report.is_file():
        return Html(esc(Path(run_dir).name or "—"))
    href = Path(os.path.relpath(report.resolve(), out_dir.resolve())).as_posix()
    return Html(f'<a href="{esc(href)}">{esc(Path(run_dir).name)}</a>')


def _when(started_at: str | None) -> str:
    return started_at.replace("T", " ").removesuffix("+00:00") if started_at else "—"


def _runs_table(runs: Sequence[HistoryEntry], out_dir: Path) -> str:
    rows = [(i, _when(e.started_at), verdict_badge(e.verdict), seconds(e.recovery_s), percent(e.worst_10s_error_rate),
             seconds(e.failover_s), seconds(e.wall_s), _link(e.run_dir, out_dir)) for i, e in enumerate(runs, start=1)]
    headers = ("#", "started (UTC)", "verdict", "recovery", "worst 10 s error rate", "failover", "wall time", "run")
    return table(headers, rows, numeric=frozenset({0, 3, 4, 5, 6}), css="history")


def _drill_table(runs: Sequence[HistoryEntry]) -> list[str]:
    """Min, median and last of each DR drill figure over the runs that measured it."""
    rows = []
    for figure in _drill_figures(runs):
        known = [v for v in _values(runs, figure.key) if v is not None]
        rows.append((figure.name, len(known), *(format_value(v, figure.unit)
                                               for v in (min(known), statistics.median(known), known[-1]))))
    headers = ("DR drill", "runs measured", "min", "median", "last")
    return [table(headers, rows, numeric=frozenset({1, 2, 3, 4}), css="drill-trend")] if rows else []


def history_html(history_file: Path, out: Path) -> str:
    entries, skipped = read_history(history_file)
    groups = by_experiment(entries)
    body = ["<h1>chaos360 history</h1>",
            f'<p class="meta">{len(entries)} runs of {len(groups)} experiments, from {esc(history_file)}</p>']
    if skipped:
        body.append(f'<p class="missing">{skipped} lines of {esc(history_file)} are not valid entries and are '
                    "left out.</p>")
    if not groups:
        body.append(f'<p class="note" id="no-runs">No runs recorded yet: {esc(history_file)} has no entries. '
                    "Each `chaos360 run` or `chaos360 gate` appends one line per experiment.</p>")
        return page("chaos360 history", body)
    body.append('<p class="howto">One chart per experiment: each dot is a run, oldest on the left. Red-shaded runs '
                "did not pass; a missing dot means nothing was measured (not recovered, or no traffic).</p>")
    body.append('<ul class="summaries">' + "".join(f"<li>{esc(summary(n, r))}</li>" for n, r in groups.items())
                + "</ul>")
    for name, runs in groups.items():
        body += [f'<h2 id="experiment-{esc(_slug(name))}">{esc(name)}</h2>', trend_chart(name, runs),
                 *_drill_table(runs), _runs_table(runs, out.parent)]
    return page("chaos360 history", body)


def render_history(history_file: Path, out: Path) -> Path:
    """Write the trends page for history_file to out; returns out."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(redact.text(history_html(Path(history_file), out)), encoding="utf-8")
    return out
