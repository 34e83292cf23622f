"""report.html of one run: the verdict, a timeline of traffic with the faults over it, the judgements, the evidence."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kernel import redact
from kernel.verdict import format_value
from reports import svg
from reports.dr import IntegrityRow, Phase
from reports.html import Flagged, Html, esc, page, percent, seconds, table, verdict_badge
from reports.model import WORST_WINDOW_S, RunReport, load_run
from reports.timeline import BUCKET_S, Marker, Timeline

BLUE, RED, ORANGE, GREEN = "#1f6fb4", "#d62728", "#e8870e", "#1e9e3a"
PURPLE, BROWN, GREY, TEAL, NAVY = "#7b3fb0", "#8c564b", "#7f7f7f", "#17a3a3", "#23395d"
FAULT_COLORS = ("#f2b134", "#6baed6", "#fd8d3c", "#9e9ac8", "#74c476", "#e377c2")
PHASE_COLORS = ("#4c78a8", "#72b7b2")
LANES = (("sentinel", "Sentinel", PURPLE), ("container", "containers", BROWN), ("cassandra", "Cassandra", TEAL),
         ("dr", "DR drill", NAVY), ("harness", "harness", GREY))
CAPTION_CHAR_PX = 6.2

HOW_TO_READ = (
    "How to read this: time runs left to right in seconds since the run started, in 1-second buckets. "
    "Shaded bands are faults in force, from injection to heal. The green dashed line is the moment the service "
    "counted as recovered (error rate within the objective and every part ready for the hold time). Ticks under "
    "the charts are events seen by the harness; hover over any of them for details. The verdict comes from the "
    "objectives table below.")


def at(offset: float) -> str:
    return f"t+{offset:.1f} s"


def clock(epoch: float | None) -> str:
    return "unknown" if epoch is None else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def _header(report: RunReport) -> list[str]:
    numbers = [f"recovery {seconds(report.recovery_s)}",
               f"worst {WORST_WINDOW_S:g} s error rate {percent(report.worst_error_rate)}",
               f"{report.requests} requests, {report.failed} failed"]
    if report.failover_s is not None:
        numbers.insert(1, f"Sentinel failover {seconds(report.failover_s)}")
    parts = [f'<h1 id="verdict" data-verdict="{esc(report.label)}">{verdict_badge(report.label)} '
             f"{esc(report.experiment)}</h1>",
             f'<p class="meta">started {esc(clock(report.started_at))} · wall time {esc(seconds(report.wall_s))} · '
             f"run {esc(report.run_dir.name)}</p>",
             f'<p class="numbers">{esc(" · ".join(numbers))}</p>']
    if report.aborted:
        parts.append(f'<p class="aborted">Aborted at {esc(at(report.aborted.at_s))} by the stop condition '
                     f"{esc(report.aborted.text)}.</p>")
    if report.reasons and report.label != "PASS":
        parts.append('<ul class="reasons">' + "".join(f"<li>{esc(r)}</li>" for r in report.reasons) + "</ul>")
    if report.missing:
        parts.append('<div class="missing"><strong>Partial record</strong>, shown as far as it goes:<ul>'
                     + "".join(f"<li>{esc(m)}</li>" for m in report.missing) + "</ul></div>")
    return parts


def _bucket_points(span: Timeline, value: str) -> tuple[svg.Point, ...]:
    return tuple((b.start_s + BUCKET_S / 2, getattr(b, value)) for b in span.buckets)


def _rate_series(span: Timeline) -> tuple[svg.Series, ...]:
    achieved = svg.Series("rps", "requests per second", BLUE, _bucket_points(span, "rps"))
    if not any(b.intended_rps is not None for b in span.buckets):
        return (achieved,)
    return achieved, svg.Series("intended", "intended per second", GREY, _bucket_points(span, "intended_rps"))


def _error_limit(report: RunReport) -> tuple[float, str] | None:
    limits = [j.get("limit") for j in report.judgements if j.get("name") == "error rate" and j.get("unit") == "ratio"]
    numbers = [float(v) for v in limits if isinstance(v, int | float)]
    return (numbers[0], f"objective ≤ {format_value(numbers[0], 'ratio')}") if numbers else None


def _panels(report: RunReport) -> list[svg.Panel]:
    span = report.timeline
    return [
        svg.Panel("rps", "Requests per second (by start time): achieved, and intended by the load's schedule",
                  _rate_series(span), lambda v: f"{v:g}"),
        svg.Panel("errors", "Error rate (failed / all requests in the second)",
                  (svg.Series("errors", "error rate", RED, _bucket_points(span, "error_rate")),),
                  lambda v: f"{v * 100:g}%", floor=0.05, threshold=_error_limit(report)),
        svg.Panel("p95", "p95 latency of successful requests (ms)",
                  (svg.Series("p95", "p95 latency", ORANGE, _bucket_points(span, "p95_ms")),), lambda v: f"{v:g}"),
    ]


def _fault_bands(span: Timeline) -> list[svg.Band]:
    faults = dict.fromkeys(w.fault for w in span.windows)
    colors = {f: FAULT_COLORS[i % len(FAULT_COLORS)] for i, f in enumerate(faults)}
    return [svg.Band(x0=w.start_s, x1=w.end_s, css="fault-window", color=colors[w.fault],
                     label=f"{w.fault}: injected {at(w.start_s)}, "
                     + (f"healed {at(w.end_s)}" if w.healed else "not healed"),
                     attrs=(("data-fault", w.fault), ("data-healed", str(w.healed).lower())), caption=w.fault)
            for w in span.windows]


def _marks(report: RunReport) -> list[svg.Mark]:
    marks = [svg.Mark(x=m.at_s, css="recovery-mark", color=GREEN, attrs=(("data-fault", m.fault),),
                      label=f"{m.fault}: recovered {m.measured_s:g} s after the {m.measured_from} ({at(m.at_s)})",
                      caption=f"recovered +{m.measured_s:g} s")
             for m in report.timeline.recoveries if m.at_s is not None and m.measured_s is not None]
    marks += [svg.Mark(x=b.at_s, css="backup-mark", color=NAVY, caption="backup", attrs=(("data-backup", b.backup_id),),
                       label=f"backup {b.backup_id}: every write acknowledged before {at(b.at_s)} is in it")
              for b in report.timeline.backups]
    if report.aborted:
        marks.append(svg.Mark(x=report.aborted.at_s, css="abort-mark", color=BROWN, caption="aborted",
                              label=f"aborted: {report.aborted.text}"))
    return marks


def _tick(marker: Marker, color: str) -> svg.Mark:
    return svg.Mark(x=marker.at_s, css=f"marker marker-{marker.source}", color=color,
                    label=f"{at(marker.at_s)} {marker.label}", attrs=(("data-kind", marker.source),))


def _failover_band(span: Timeline) -> tuple[svg.Band, ...]:
    if span.failover is None:
        return ()
    sdown, switch = span.failover
    label = f"Sentinel failover: +sdown {at(sdown)} to +switch-master {at(switch)}"
    return (svg.Band(x0=sdown, x1=switch, css="failover-window", color=PURPLE, label=label),)


def _caption(phase: Phase, span: Timeline) -> str:
    """The longest of name and time, name, last part of the name that fits in the phase's band; else nothing."""
    room = phase.seconds / span.end_s * svg.PLOT_W - 4
    texts = (f"{phase.name} {seconds(phase.seconds)}", phase.name, phase.name.rsplit(".", 1)[-1])
    return next((text for text in texts if len(text) * CAPTION_CHAR_PX <= room), "")


def _phase_bands(span: Timeline) -> tuple[svg.Band, ...]:
    return tuple(svg.Band(x0=p.start_s, x1=p.end_s, css="dr-phase", color=PHASE_COLORS[i % len(PHASE_COLORS)],
                          label=f"{p.name}: {seconds(p.seconds)}, {at(p.start_s)} to {at(p.end_s)}",
                          attrs=(("data-phase", p.name),), caption=_caption(p, span))
                 for i, p in enumerate(span.phases))


def _lane_bands(source: str, span: Timeline) -> tuple[svg.Band, ...]:
    return _failover_band(span) if source == "sentinel" else _phase_bands(span) if source == "dr" else ()


def _lanes(span: Timeline) -> list[svg.Lane]:
    lanes = []
    for source, title, color in LANES:
        ticks = tuple(_tick(m, color) for m in span.markers if m.source == source)
        bands = _lane_bands(source, span)
        if ticks or bands:
            lanes.append(svg.Lane(source, title, ticks, bands))
    if span.ready_sampled:
        lanes.append(svg.Lane("ready", "all ready", bands=tuple(
            svg.Band(x0=a, x1=b, css="not-ready", color=RED, label=f"not every part ready from {at(a)} to {at(b)}")
            for a, b in span.not_ready)))
    return lanes


def _legend(span: Timeline) -> str:
    items = [(BLUE, "requests / s"), (RED, "error rate"), (ORANGE, "p95 latency"), (FAULT_COLORS[0], "fault in force"),
             (GREEN, "recovered")]
    if any(b.intended_rps is not None for b in span.buckets):
        items.insert(1, (GREY, "intended requests / s (the load's schedule)"))
    items += [(color, f"{title} event") for source, title, color in LANES
              if any(m.source == source for m in span.markers)]
    if span.failover:
        items.append((PURPLE, "Sentinel failover (+sdown to +switch-master)"))
    if span.ready_sampled:
        items.append((RED, "not all ready (lane)"))
    if span.phases:
        items.append((PHASE_COLORS[0], "DR drill phase (lane)"))
    if span.backups:
        items.append((NAVY, "backup moment"))
    return '<p class="legend">' + "".join(f'<span><i class="swatch" style="background:{c}"></i>{esc(label)}</span>'
                                          for c, label in items) + "</p>"


def _timeline(report: RunReport) -> list[str]:
    span = report.timeline
    if not span.buckets and not span.markers and not span.windows and not span.phases:
        return ["<h2>Timeline</h2>", '<p class="note">Nothing recorded over time: no requests and no events.</p>']
    axis = svg.Axis(0.0, span.end_s, "seconds since the run started", lambda t: f"{t:g}")
    chart = svg.chart("timeline", _panels(report), axis, _fault_bands(span), _marks(report), _lanes(span))
    return ["<h2>Timeline</h2>", _legend(span), chart]


def _measure(judgement: dict[str, Any], key: str) -> str:
    value = judgement.get(key)
    return format_value(float(value), str(judgement.get("unit", ""))) if isinstance(value, int | float) else "—"


def _objectives(report: RunReport) -> list[str]:
    if not report.judgements:
        return ["<h2>Objectives</h2>", '<p class="note">No judgements were recorded: the run ended before its '
                "objectives were judged.</p>"]
    rows = [(j.get("name", "?"), j.get("objective", ""), _measure(j, "measured"), _measure(j, "limit"),
             verdict_badge(str(j.get("verdict", "unknown"))), j.get("message", ""))
            for j in report.judgements]
    headers = ("check", "objective", "measured", "limit", "verdict", "message")
    return ["<h2>Objectives</h2>", table(headers, rows, numeric=frozenset({2, 3}), css="judgements")]


def _integrity_cells(row: IntegrityRow) -> tuple[object, ...]:
    counts = [Flagged(_count(n)) if row.flagged(n) else _count(n) for n in (row.lost, row.changed)]
    return (row.window, _count(row.acknowledged), _count(row.present), *counts, row.expected)


def _count(value: int | None) -> str:
    return "—" if value is None else str(value)


def _integrity(report: RunReport) -> list[str]:
    """The drill's integrity.json: lost or changed writes in a window that must be whole are flagged red."""
    if report.integrity is None:
        return []
    headers = ("window", "acknowledged", "present", "lost", "changed", "expected")
    return ['<h2 id="integrity">Integrity</h2>',
            table(headers, map(_integrity_cells, report.integrity), numeric=frozenset({1, 2, 3, 4}), css="integrity")]


def _lines(evidence: Sequence[tuple[str, str]]) -> Html:
    return Html("<br>".join(f"<b>{esc(key)}</b>: {esc(value)}" for key, value in evidence) or "—")


def _events(report: RunReport) -> list[tuple[float, str, str]]:
    span = report.timeline
    rows = [(m.at_s, m.source, m.label) for m in span.markers if m.notable]
    rows += [(w.start_s, "fault", f"{w.fault} injected" + (f" ({w.injections} times)" if w.injections > 1 else ""))
             for w in span.windows]
    rows += [(w.end_s, "fault", f"{w.fault} healed") for w in span.windows if w.healed]
    rows += [(m.at_s, "recovery", f"{m.fault} recovered, {m.measured_s:g} s after the {m.measured_from}")
             for m in span.recoveries if m.at_s is not None and m.measured_s is not None]
    rows += [(m.logged_s, "recovery", f"{m.fault} not recovered by then ({m.verdict})")
             for m in span.recoveries if m.measured_s is None]
    return sorted(rows, key=lambda row: row[0])


def _evidence(report: RunReport) -> list[str]:
    span = report.timeline
    parts = ["<h2>Evidence</h2>"]
    if span.windows:
        rows = [(w.fault, at(w.start_s), at(w.end_s) if w.healed else "not healed", w.injections, _lines(w.evidence))
                for w in span.windows]
        parts.append(table(("fault", "injected", "healed", "injections", "what was hit"), rows, css="faults"))
    else:
        parts.append('<p class="note">No fault was injected in this run.</p>')
    if span.effects:
        parts.append("<h3>Effects the harness observed</h3>")
        parts.append(table(("at", "fault", "effect"), [(at(e.at_s), e.fault, _lines(e.evidence)) for e in span.effects],
                           css="effects"))
    if span.phases:
        parts.append("<h3>DR drill phases</h3>")
        parts.append(table(("phase", "started", "ended", "took"),
                           [(p.name, at(p.start_s), at(p.end_s), seconds(p.seconds)) for p in span.phases],
                           numeric=frozenset({3}), css="dr-phases"))
    events = _events(report)
    if events:
        parts.append("<h3>Key events</h3>")
        parts.append(table(("at", "source", "what"), [(at(t), source, what) for t, source, what in events],
                           css="events"))
    return parts


def html_of(report: RunReport) -> str:
    body = [*_header(report), f'<p class="howto">{esc(HOW_TO_READ)}</p>', *_timeline(report),
            *_objectives(report), *_integrity(report), *_evidence(report)]
    return page(f"{report.label} {report.experiment} — chaos360 run report", body)


def render_run(run_dir: Path) -> Path:
    """Write run_dir/report.html from what the run directory holds; returns its path."""
    run_dir = Path(run_dir)
    out = run_dir / "report.html"
    out.write_text(redact.text(html_of(load_run(run_dir))), encoding="utf-8")
    return out
