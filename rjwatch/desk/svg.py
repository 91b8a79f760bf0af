"""Charts of the desk as inline SVG, drawn on the server: stacked bars of posts per bin (day, week or
month) by status or by language, with a legend. No script, no image file: the page carries them."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

#: Drawing size in SVG units (the page scales it to its width).
WIDTH, HEIGHT = 900, 260
#: Room for the axis labels (left) and the bin labels (bottom).
PAD_LEFT, PAD_BOTTOM, PAD_TOP = 44, 28, 10
#: Widest bar, so a range of a few bins still reads as bars, not as a block.
MAX_BAR = 48
#: Most bin labels written under the bars; the others are left out so labels never overlap.
MAX_LABELS = 12
#: Colours of the statuses (the same as the badges of the pages) and of the languages in turn.
STATUS_COLOURS = {
    "new": "#2f7d4f",
    "copy": "#b03a2e",
    "excerpt": "#d68910",
    "duplicate": "#7f8c8d",
    "off_topic": "#c8ccd0",
}
PALETTE = ("#2e6fad", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#16a085", "#7f8c8d", "#e67e22", "#34495e")


@dataclass
class Chart:
    svg: str
    legend: list[tuple[str, str, int]]  # (key, colour, total)


def stacked_bars(bins: list[str], rows: list[dict], *, colours: dict[str, str] | None = None, title: str) -> Chart:
    """`rows` are {bin, key, n}; one bar per bin, one coloured segment per key."""
    keys: dict[str, int] = {}
    cells: dict[tuple[str, str], int] = {}
    for r in rows:
        keys[r["key"]] = keys.get(r["key"], 0) + r["n"]
        cells[(r["bin"], r["key"])] = cells.get((r["bin"], r["key"]), 0) + r["n"]
    order = sorted(keys, key=lambda k: -keys[k])
    colour = dict(colours or {})
    for i, k in enumerate(k for k in order if k not in colour):
        colour[k] = PALETTE[i % len(PALETTE)]
    totals = [sum(cells.get((b, k), 0) for k in order) for b in bins]
    top = max(totals, default=0) or 1
    plot_w, plot_h = WIDTH - PAD_LEFT - 4, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = plot_w / max(len(bins), 1)
    bar = min(max(step * 0.8, 1.0), MAX_BAR)
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for frac in (0, 0.5, 1):
        y = PAD_TOP + plot_h * (1 - frac)
        out.append(f'<line x1="{PAD_LEFT}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6e8"/>')
        out.append(
            f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#667">{round(top * frac):,}</text>'
        )
    every = max(1, -(-len(bins) // MAX_LABELS))
    for i, b in enumerate(bins):
        x = PAD_LEFT + i * step + (step - bar) / 2
        y = PAD_TOP + plot_h
        for k in order:
            n = cells.get((b, k), 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour[k]}">'
                f"<title>{escape(b)} · {escape(k)}: {n:,}</title></rect>"
            )
        if i % every == 0:
            out.append(
                f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="11" fill="#667">{escape(b)}</text>'
            )
    out.append("</svg>")
    return Chart("".join(out), [(k, colour[k], keys[k]) for k in order])
