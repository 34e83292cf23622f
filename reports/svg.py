"""Inline SVG line charts: panels stacked over one shared x axis, shaded bands, vertical marks and event lanes.

Every element a reader (or a test) may look for carries a class and, where it is unique, an id: a panel is
`<g class="panel" id="panel-KEY">`, a line `<g class="series" id="series-KEY" data-points="N">`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reports.html import esc

Point = tuple[float, float | None]
Attrs = tuple[tuple[str, str], ...]

WIDTH = 960
LEFT = 76
RIGHT = 18
PANEL_H = 120
PANEL_GAP = 30
LANE_H = 22
HEADER_H = 20
AXIS_H = 42
PLOT_W = WIDTH - LEFT - RIGHT


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    color: str
    points: tuple[Point, ...]
    dots: bool = False


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    series: tuple[Series, ...]
    fmt: Callable[[float], str]
    floor: float = 0.0
    threshold: tuple[float, str] | None = None


@dataclass(frozen=True, kw_only=True)
class Look:
    """How a band or mark is drawn: its class, colour, hover label, extra attributes and an optional caption."""

    css: str
    color: str
    label: str
    attrs: Attrs = ()
    caption: str = ""


@dataclass(frozen=True, kw_only=True)
class Band(Look):
    """A shaded x range; over every panel, or inside one lane."""

    x0: float
    x1: float


@dataclass(frozen=True, kw_only=True)
class Mark(Look):
    """A vertical line at x; over every panel, or a tick inside one lane."""

    x: float


@dataclass(frozen=True)
class Lane:
    key: str
    title: str
    marks: tuple[Mark, ...] = ()
    bands: tuple[Band, ...] = ()


@dataclass(frozen=True)
class Axis:
    start: float
    end: float
    label: str
    fmt: Callable[[float], str]
    step: float | None = None


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above value (1 for nothing positive)."""
    if not value > 0 or math.isinf(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= value * (1 - 1e-9))


def nice_step(span: float, max_ticks: int = 12) -> float:
    return nice_ceiling(span / max_ticks) if span > 0 else 1.0


def _attrs(attrs: Attrs) -> str:
    return "".join(f' {esc(k)}="{esc(v)}"' for k, v in attrs)


def _title(label: str) -> str:
    return f"<title>{esc(label)}</title>" if label else ""


class _Frame:
    """Maps data to pixels: x from the shared axis, y per panel."""

    def __init__(self, axis: Axis, top: float, bottom: float) -> None:
        self.axis, self.top, self.bottom = axis, top, bottom
        self.span = max(axis.end - axis.start, 1e-9)

    def x(self, value: float) -> float:
        clamped = min(max(value, self.axis.start), self.axis.end)
        return round(LEFT + (clamped - self.axis.start) / self.span * PLOT_W, 1)

    def ticks(self) -> list[float]:
        step = self.axis.step or nice_step(self.span)
        first = math.ceil(self.axis.start / step - 1e-9) * step
        return [first + i * step for i in range(int((self.axis.end - first) / step + 1e-9) + 1)]


def _segments(points: Sequence[Point]) -> list[list[tuple[float, float]]]:
    segments: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if y is None or math.isnan(y):
            if segments[-1]:
                segments.append([])
        else:
            segments[-1].append((x, y))
    return [s for s in segments if s]


def _series(series: Series, frame: _Frame, y_of: Callable[[float], float]) -> str:
    segments = _segments(series.points)
    path = " ".join("M" + " L".join(f"{frame.x(x)},{y_of(y)}" for x, y in seg) for seg in segments)
    lone = [seg[0] for seg in segments if len(seg) == 1] if not series.dots else [p for s in segments for p in s]
    dots = "".join(f'<circle cx="{frame.x(x)}" cy="{y_of(y)}" r="2.6" fill="{esc(series.color)}"/>' for x, y in lone)
    count = sum(len(seg) for seg in segments)
    line = f'<path d="{path}" fill="none" stroke="{esc(series.color)}" stroke-width="1.8"/>' if path else ""
    return (f'<g class="series" id="series-{esc(series.key)}" data-points="{count}">{_title(series.label)}'
            f"{line}{dots}</g>")


def _panel(panel: Panel, frame: _Frame, top: float) -> str:
    values = [y for s in panel.series for _, y in s.points if y is not None and not math.isnan(y)]
    limit = panel.threshold[0] if panel.threshold else 0.0
    y_max = nice_ceiling(max([panel.floor, limit, *values]))
    bottom = top + PANEL_H

    def y_of(value: float) -> float:
        return round(bottom - min(max(value, 0.0), y_max) / y_max * PANEL_H, 1)

    parts = [f'<g class="panel" id="panel-{esc(panel.key)}">',
             f'<text x="{LEFT}" y="{top - 8}" font-weight="600">{esc(panel.title)}</text>',
             f'<rect x="{LEFT}" y="{top}" width="{PLOT_W}" height="{PANEL_H}" fill="none" stroke="#c9ced8"/>']
    for fraction in (0.0, 0.5, 1.0):
        y = y_of(y_max * fraction)
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y}" y2="{y}" stroke="#eceef3"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end">{esc(panel.fmt(y_max * fraction))}</text>')
    parts += [f'<line x1="{frame.x(t)}" x2="{frame.x(t)}" y1="{top}" y2="{bottom}" stroke="#f0f1f5"/>'
              for t in frame.ticks()]
    if panel.threshold:
        y = y_of(panel.threshold[0])
        parts.append(f'<g class="threshold"><line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y}" y2="{y}" '
                     f'stroke="#8a5a00" stroke-dasharray="6 4"/><text x="{LEFT + PLOT_W - 4}" y="{y - 4}" '
                     f'text-anchor="end" fill="#8a5a00">{esc(panel.threshold[1])}</text></g>')
    parts += [_series(s, frame, y_of) for s in panel.series]
    return "".join(parts) + "</g>"


def _band(band: Band, frame: _Frame, top: float, bottom: float) -> str:
    x0, x1 = frame.x(band.x0), frame.x(band.x1)
    width = max(x1 - x0, 1.5)
    caption = (f'<text x="{x0 + 3}" y="{top + 11}" fill="#5c4a00">{esc(band.caption)}</text>'
               if band.caption else "")
    return (f'<rect class="{esc(band.css)}"{_attrs(band.attrs)} x="{x0}" y="{top}" width="{round(width, 1)}" '
            f'height="{round(bottom - top, 1)}" fill="{esc(band.color)}" fill-opacity="0.22">'
            f"{_title(band.label)}</rect>{caption}")


def _mark(mark: Mark, frame: _Frame, top: float, bottom: float, dashed: bool) -> str:
    x = frame.x(mark.x)
    dash = ' stroke-dasharray="5 3"' if dashed else ""
    caption = (f'<text x="{x + 3}" y="{top - 6}" fill="{esc(mark.color)}" font-weight="600">{esc(mark.caption)}'
               "</text>" if mark.caption else "")
    return (f'<line class="{esc(mark.css)}"{_attrs(mark.attrs)} x1="{x}" x2="{x}" y1="{top}" y2="{bottom}" '
            f'stroke="{esc(mark.color)}" stroke-width="2"{dash}>{_title(mark.label)}</line>{caption}')


def _lane(lane: Lane, frame: _Frame, top: float) -> str:
    bottom = top + LANE_H - 4
    parts = [f'<g class="lane" id="lane-{esc(lane.key)}">',
             f'<text x="{LEFT - 6}" y="{top + 13}" text-anchor="end">{esc(lane.title)}</text>',
             f'<rect x="{LEFT}" y="{top}" width="{PLOT_W}" height="{LANE_H - 4}" fill="none" stroke="#e3e6ec"/>']
    parts += [_band(b, frame, top, bottom) for b in lane.bands]
    parts += [_mark(m, frame, top + 2, bottom - 2, dashed=False) for m in lane.marks]
    return "".join(parts) + "</g>"


def _x_axis(frame: _Frame, top: float) -> str:
    parts = [f'<g class="x-axis"><line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{top}" y2="{top}" stroke="#889"/>']
    for t in frame.ticks():
        x = frame.x(t)
        parts.append(f'<line x1="{x}" x2="{x}" y1="{top}" y2="{top + 5}" stroke="#889"/>'
                     f'<text x="{x}" y="{top + 17}" text-anchor="middle">{esc(frame.axis.fmt(t))}</text>')
    parts.append(f'<text x="{LEFT + PLOT_W / 2}" y="{top + 35}" text-anchor="middle">{esc(frame.axis.label)}</text>')
    return "".join(parts) + "</g>"


def chart(key: str, panels: Sequence[Panel], axis: Axis, bands: Sequence[Band] = (), marks: Sequence[Mark] = (),
          lanes: Sequence[Lane] = ()) -> str:
    """One SVG: the panels top to bottom, then the lanes, then the x axis; bands and marks span them all."""
    first_top = HEADER_H + PANEL_GAP
    lanes_top = first_top + len(panels) * (PANEL_H + PANEL_GAP) - PANEL_GAP + 8
    axis_top = lanes_top + len(lanes) * LANE_H
    height = axis_top + AXIS_H
    frame = _Frame(axis, first_top, axis_top)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="chart-{esc(key)}" class="chart" '
             f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img">']
    parts += [_band(b, frame, first_top, axis_top) for b in bands]
    parts += [_panel(p, frame, first_top + i * (PANEL_H + PANEL_GAP)) for i, p in enumerate(panels)]
    parts += [_lane(lane, frame, lanes_top + i * LANE_H) for i, lane in enumerate(lanes)]
    parts += [_mark(m, frame, HEADER_H + 4, axis_top, dashed=True) for m in marks]
    parts.append(_x_axis(frame, axis_top))
    return "".join(parts) + "</svg>"
