"""A rendered report page, parsed with the stdlib: its elements with their attributes, its tables, its text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

FIXTURE_RUN = Path(__file__).resolve().parent.parent / "fixtures" / "runs" / "redis-master-failover"


class Page(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.source = text
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.titles: list[str] = []
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._in_title = False
        self._texts: list[str] = []
        self.feed(text)

    @classmethod
    def of(cls, path: Path) -> Page:
        return cls(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.elements.append((tag, values))
        if tag == "table":
            self._rows = self.tables.setdefault(values.get("class", ""), [])
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag == "td" and self._rows is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._rows:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            if self._rows is not None:
                self._rows[:] = [row for row in self._rows if row]
            self._rows = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        self._texts.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._in_title:
            self.titles.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self._texts).split())

    def find(self, tag: str, css: str | None = None, **attrs: str) -> list[dict[str, str]]:
        """Elements of `tag` whose class list holds `css` and whose attributes (data_x means data-x) match."""
        wanted = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [a for t, a in self.elements if t == tag
                and (css is None or css in a.get("class", "").split())
                and all(a.get(k) == v for k, v in wanted.items())]


def path_points(svg_path: str) -> int:
    """How many points an SVG path's M/L commands draw."""
    return len(re.findall(r"[ML]\s*-?[\d.]+,-?[\d.]+", svg_path))


def series_points(page: Page, key: str) -> tuple[int, int]:
    """(points the series declares, points its path draws) of <g class="series" id="series-KEY">."""
    found = re.search(rf'<g class="series" id="series-{re.escape(key)}" data-points="(\d+)">(.*?)</g>', page.source)
    assert found, f"no series {key}"
    drawn = re.search(r'<path d="([^"]*)"', found.group(2))
    return int(found.group(1)), path_points(drawn.group(1)) if drawn else 0
