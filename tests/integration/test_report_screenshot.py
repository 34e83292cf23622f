"""A rendered report.html, opened in headless Chromium: the charts must actually paint (Debian package `chromium`)."""

import functools
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

from reports.run_report import render_run
from tests.unit.reports_page import FIXTURE_RUN

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "reports" / "screenshots"
RUNS = REPO / "reports" / "runs"
Rgb = tuple[int, int, int]
SERIES_COLOURS: dict[str, Rgb] = {"requests / s": (0x1F, 0x6F, 0xB4), "error rate": (0xD6, 0x27, 0x28),
                                  "p95": (0xE8, 0x87, 0x0E)}
WINDOW = (1280, 2000)

Pixels = list[bytes]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("chromium is not installed: `apt-get install -y chromium` (the CI image installs it)")
    return found


def _screenshot(html: Path, png: Path) -> None:
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--user-data-dir={png.parent / 'chromium-profile'}", f"--screenshot={png}",
               f"--window-size={WINDOW[0]},{WINDOW[1]}", html.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert png.is_file(), f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-800:]}"


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> bytearray:
    if kind == 2:
        return bytearray((x + y) & 255 for x, y in zip(line, prev, strict=True))
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 255
        elif kind == 3:
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            line[i] = (line[i] + _paeth(left, prev[i], prev[i - bpp] if i >= bpp else 0)) & 255
    return line


def decode_png(data: bytes) -> tuple[int, int, Pixels]:
    """(width, height, RGB rows) of an 8-bit, non-interlaced RGB or RGBA PNG, with the stdlib only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        if kind == b"IHDR":
            header = data[pos + 8:pos + 21]
        elif kind == b"IDAT":
            chunks.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and not interlace, f"unexpected PNG format {depth=} {colour=}"
    bpp, raw = 3 if colour == 2 else 4, zlib.decompress(b"".join(chunks))
    stride, rows, prev = width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        start = y * (stride + 1)
        prev = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), prev, bpp)
        rows.append(bytes(prev) if bpp == 3 else bytes(b for i, b in enumerate(prev) if i % 4 != 3))
    return width, height, rows


@functools.cache
def _near(pixel: bytes, colour: Rgb, tolerance: int = 40) -> bool:
    return sum(abs(a - b) for a, b in zip(pixel, colour, strict=True)) <= tolerance


def _histogram(row: bytes, left: int = 0, right: int | None = None) -> Counter[bytes]:
    end = len(row) // 3 if right is None else right + 1
    return Counter(row[i:i + 3] for i in range(3 * left, 3 * end, 3))


class Screenshot:
    """The colours of a screenshot, row by row."""

    def __init__(self, rows: Pixels) -> None:
        self.rows = rows
        self.histograms = [_histogram(row) for row in rows]

    def where(self, colour: Rgb) -> list[tuple[int, int]]:
        """(x, y) of every pixel near the colour."""
        found = []
        for y, histogram in enumerate(self.histograms):
            if any(_near(pixel, colour) for pixel in histogram):
                row = self.rows[y]
                found += [(x, y) for x in range(len(row) // 3) if _near(row[3 * x:3 * x + 3], colour)]
        return found

    def drawn_share(self, left: int, top: int, right: int, bottom: int) -> float:
        """The share of pixels in the box that are not (near) white."""
        counts = [_histogram(self.rows[y], left, right) for y in range(top, bottom + 1)]
        white = sum(n for h in counts for pixel, n in h.items() if _near(pixel, (255, 255, 255), 12))
        total = (right - left + 1) * (bottom - top + 1)
        return (total - white) / total


def _recent_run() -> list[Path]:
    finished = sorted(d for d in RUNS.glob("*") if (d / "journal.json").is_file() and (d / "requests.jsonl").is_file())
    return finished[-1:]


@pytest.mark.integration
@pytest.mark.parametrize("source", [FIXTURE_RUN, *_recent_run()], ids=lambda p: p.name)
def test_the_report_charts_paint_in_chromium(source: Path, tmp_path: Path):
    run_dir = Path(shutil.copytree(source, tmp_path / source.name))
    png = tmp_path / "report.png"
    _screenshot(render_run(run_dir), png)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(png, SCREENSHOTS / ("report.png" if source == FIXTURE_RUN else "report-recent-run.png"))
    width, height, rows = decode_png(png.read_bytes())
    assert (width, height) == WINDOW
    shot = Screenshot(rows)
    drawn = {name: shot.where(colour) for name, colour in SERIES_COLOURS.items()}
    for name, points in drawn.items():
        xs = [x for x, _ in points]
        assert len(points) >= 300 and max(xs) - min(xs) >= 500, f"the {name} line is not drawn across its chart"
    everything = [point for points in drawn.values() for point in points]
    box = (min(x for x, _ in everything), min(y for _, y in everything), max(x for x, _ in everything),
           max(y for _, y in everything))
    assert box[2] - box[0] >= 600 and box[3] - box[1] >= 250, f"chart area too small: {box}"
    assert shot.drawn_share(*box) >= 0.05, f"the chart area {box} is nearly blank"
