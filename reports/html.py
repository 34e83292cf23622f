"""Self-contained HTML pages: one inline stylesheet, escaped text, plain tables. No JavaScript, no network."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kernel.verdict import format_value

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330; margin: 24px auto;
       max-width: 1020px; padding: 0 16px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #dde;
     padding-bottom: 4px; }
.meta, .note, .howto { color: #566; } .howto { background: #f5f7fa; padding: 8px 12px; border-radius: 4px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff; font-weight: 700;
           letter-spacing: .04em; }
.verdict-pass { background: #1e7d32; } .verdict-fail { background: #c62828; }
.verdict-unknown { background: #6d6d6d; } .verdict-aborted { background: #b45f06; }
.missing { background: #fff4e5; border-left: 4px solid #b45f06; padding: 6px 12px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e6e8ee; vertical-align: top; }
th { background: #f5f7fa; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.legend span { margin-right: 16px; white-space: nowrap; }
.swatch { display: inline-block; width: 14px; height: 10px; margin-right: 5px; vertical-align: baseline; }
svg { max-width: 100%; height: auto; } svg text { font: 11px system-ui, sans-serif; fill: #445; }
"""
FLAGGED_STYLE = "background:#fde2e1;color:#b3261e;font-weight:700"


class Html(str):
    """Markup that is already safe: inserted as it is, never escaped again."""


def esc(value: object) -> str:
    return value if isinstance(value, Html) else html.escape(str(value), quote=True)


def page(title: str, body: Iterable[str]) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f'<style>{STYLE}</style></head>\n<body>\n' + "\n".join(body) + "\n</body></html>\n")


@dataclass(frozen=True)
class Flagged:
    """A table cell that shows a problem: class "flagged", drawn red inline so the stylesheet of every page stays."""

    value: object


def _cell(value: object, numeric: bool) -> str:
    if isinstance(value, Flagged):
        return f'<td class="{"num " if numeric else ""}flagged" style="{FLAGGED_STYLE}">{esc(value.value)}</td>'
    return f'<td{" class=num" if numeric else ""}>{esc(value)}</td>'


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: frozenset[int] = frozenset(),
          css: str = "") -> str:
    """A table of escaped cells (Html cells go in as they are); columns in `numeric` are right-aligned."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(_cell(c, i in numeric) for i, c in enumerate(row))
        + "</tr>\n" for row in rows)
    return f'<table class="{esc(css)}"><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>'


def verdict_badge(label: str) -> Html:
    return Html(f'<span class="verdict verdict-{esc(label.lower())}">{esc(label.upper())}</span>')


def seconds(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else format_value(value, "s")


def percent(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else format_value(value, "ratio")
