"""The coverage picture of `rjwatch stats --plot`: posts per day, ISO week, month or year (the bin
chosen from the range shown), stacked by status above and by language below, seed copies marked.

Bars sit at whole-number positions, one per bin of the range (empty bins included, so gaps show),
labelled with the bin's own name: 2020-03-02, 2020-W10 (ISO 8601 weeks), 2020-03 or 2020. Counts
are whole posts, so the y axes tick at integers only. Status colours come from `rjwatch.colours`,
as on the terminal.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from rjwatch.colours import STATUS_COLOURS
from rjwatch.extras import require as _require
from rjwatch.inputs import InputError

#: Ranges up to this many days are drawn per day: at most ~2 months, 62 bars, each wide enough to
#: see and to label every few days.
DAY_BINS_MAX_DAYS = 62
#: Ranges up to this many days (~2 years) are drawn per ISO week: at most 105 bars.
WEEK_BINS_MAX_DAYS = 2 * 366
#: Ranges up to this many days (~15 years) are drawn per month: at most 181 bars, still a few pixels
#: each at FIGSIZE; a backfilled blog archive (2005 onwards) is drawn per year beyond that.
MONTH_BINS_MAX_DAYS = 15 * 366
#: Most labels on the x axis: more would overlap at FIGSIZE (a label is up to 10 characters).
MAX_TICK_LABELS = 12
#: Label steps tried per bin, smallest first (in bins): steps that land on familiar boundaries (a
#: week of days, a quarter or a year of weeks and months, round numbers of years).
TICK_STEPS = {
    "day": (1, 2, 7, 14, 28),
    "week": (1, 2, 4, 13, 26, 52, 104),
    "month": (1, 2, 3, 6, 12, 24, 36, 60),
    "year": (1, 2, 5, 10, 20, 50, 100),
}
#: Languages drawn under their own name in the lower panel; the rest are summed as "other", since a
#: legend of more than this is no longer read.
MAX_LANGUAGES = 6
#: Language colours: matplotlib's tab10 palette without its red, orange, green and grey, which the
#: statuses above use, so a language is never read as a status; unknown and "other" in greys.
LANG_COLOURS = ("#1f77b4", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#bcbd22")
UNKNOWN_LANG_COLOURS = {"?": "#bdbdbd", "other": "#7f7f7f"}
#: Figure size in inches and resolution: readable on a laptop screen and in a report.
FIGSIZE, DPI = (12, 7), 110
#: Headroom above the tallest bar (a share of it), leaving room for the copy markers.
HEADROOM = 0.12
#: Bar width as a share of a bin: a thin gap keeps neighbouring bins apart.
BAR_WIDTH = 0.85

UNIT_NAMES = {"day": "day", "week": "ISO week", "month": "month", "year": "year"}


class Bin(NamedTuple):
    start: date
    label: str


def require() -> None:
    _require("matplotlib", "plot", "stats --plot")


def check_target(path: str) -> None:
    """Refuse, before any work, a plot file whose folder is missing or whose extension no image
    format matches (matplotlib picks the format by the extension)."""
    from pathlib import Path

    from matplotlib.backend_bases import FigureCanvasBase

    target = Path(path)
    if not target.parent.is_dir():
        raise InputError(f"--plot {path}: folder {target.parent} does not exist")
    formats = sorted(FigureCanvasBase.get_supported_filetypes())
    ext = target.suffix.lower().lstrip(".")
    if ext not in formats:
        raise InputError(
            f"--plot {path}: unknown image type {('.' + ext) if ext else '(no extension)'}; "
            f"use one of: {', '.join('.' + f for f in formats)}"
        )


# --- bins ---------------------------------------------------------------------------------------
def unit_for(first: date, last: date) -> str:
    """The bin of a range: day, week (ISO), month or year, so that a range never becomes hairlines."""
    days = (last - first).days + 1
    if days <= DAY_BINS_MAX_DAYS:
        return "day"
    if days <= WEEK_BINS_MAX_DAYS:
        return "week"
    if days <= MONTH_BINS_MAX_DAYS:
        return "month"
    return "year"


def bin_start(d: date, unit: str) -> date:
    if unit == "day":
        return d
    if unit == "week":
        return d - timedelta(days=d.weekday())  # the Monday of its ISO week
    if unit == "month":
        return d.replace(day=1)
    return d.replace(month=1, day=1)


def label(start: date, unit: str) -> str:
    if unit == "day":
        return start.isoformat()
    if unit == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if unit == "month":
        return f"{start.year}-{start.month:02d}"
    return str(start.year)


def _next(start: date, unit: str) -> date:
    if unit == "day":
        return start + timedelta(days=1)
    if unit == "week":
        return start + timedelta(days=7)
    if unit == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return date(start.year + 1, 1, 1)


def bins(first: date, last: date, unit: str | None = None) -> tuple[str, list[Bin]]:
    """Every bin from the one holding `first` to the one holding `last`, with its label."""
    unit = unit or unit_for(first, last)
    out, cur, end = [], bin_start(first, unit), bin_start(last, unit)
    while cur <= end:
        out.append(Bin(cur, label(cur, unit)))
        cur = _next(cur, unit)
    return unit, out


def tick_positions(bins_: list[Bin], unit: str) -> list[int]:
    """The bins that get a label: every `step`-th, on a familiar boundary, at most MAX_TICK_LABELS."""
    n = len(bins_)
    steps = TICK_STEPS[unit]
    step = next((s for s in steps if math.ceil(n / s) <= MAX_TICK_LABELS), None)
    if step is None:  # beyond the largest step: even spacing
        step = math.ceil(n / MAX_TICK_LABELS)
    if step == 1:
        return list(range(n))

    def on_boundary(b: Bin) -> bool:
        if unit == "day":
            return b.start.toordinal() % step == 0 if step < 7 else b.start.weekday() == 0
        if unit == "week":
            return (b.start.isocalendar()[1] - 1) % step == 0
        if unit == "month":
            months = b.start.year * 12 + b.start.month - 1
            return months % step == 0
        return b.start.year % step == 0

    picked = [i for i, b in enumerate(bins_) if on_boundary(b)]
    # A boundary can come too often (Mondays with a 14-day step) or not at all in a short range.
    thinned = picked[:: max(1, math.ceil(len(picked) / MAX_TICK_LABELS))]
    return thinned or list(range(0, n, step))


# --- the figure -----------------------------------------------------------------------------------
def day_range(rows: list[dict], since: str | None, until: str | None) -> tuple[date, date]:
    """The days shown: from `since` (else the first post) to the day before `until` (else the last
    post, or today when only `since` is given, so "the last 90 days" ends today)."""
    days = sorted(d for d in (_day(r["day"]) for r in rows) if d)
    today = datetime.now(UTC).date()
    first = _instant_day(since) if since else (days[0] if days else today)
    if until:
        last = _instant_day(until, exclusive=True)
    elif since:
        last = max([today] + days[-1:])
    else:
        last = days[-1] if days else today
    return first, max(first, last)


def figure(rows: list[dict], first: date, last: date):
    """The figure for posts per day, status and language ({day, status, lang, n}) between two
    days: (figure, facts) where facts says the bin, the labels and the totals drawn."""
    matplotlib = _require("matplotlib", "plot", "stats --plot")
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    unit, bins_ = bins(first, last)
    index = {b.start: i for i, b in enumerate(bins_)}
    by_status: dict[str, list[int]] = defaultdict(lambda: [0] * len(bins_))
    by_lang: dict[str, list[int]] = defaultdict(lambda: [0] * len(bins_))
    total = 0
    for r in rows:
        d = _day(r["day"])
        i = index.get(bin_start(d, unit)) if d else None
        if i is None:
            continue
        by_status[r["status"]][i] += r["n"]
        by_lang[r["lang"] or "?"][i] += r["n"]
        total += r["n"]

    fig, (top, bottom) = plt.subplots(
        2, 1, sharex=True, figsize=FIGSIZE, dpi=DPI, height_ratios=(3, 2), layout="constrained"
    )
    x = list(range(len(bins_)))
    heights = _stack(top, x, [(s, by_status[s], c.hex) for s, c in STATUS_COLOURS.items() if any(by_status[s])])
    marked = [i for i in x if by_status["copy"][i] or by_status["excerpt"][i]]
    if marked:
        lift = max(heights) * HEADROOM / 3
        top.scatter(
            marked,
            [heights[i] + lift for i in marked],
            marker="v",
            s=28,
            color="black",
            zorder=3,
            label="seed copy or excerpt",
        )
    langs = _languages(by_lang)
    _stack(bottom, x, langs)

    ticks = tick_positions(bins_, unit)
    bottom.set_xticks(ticks, [bins_[i].label for i in ticks], rotation=45 if unit in ("day", "week") else 0)
    bottom.set_xlim(-0.6, len(bins_) - 0.4)
    per = UNIT_NAMES[unit]
    for ax, what in ((top, "status"), (bottom, "language")):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"posts per {per}")
        ax.set_title(f"by {what}", loc="left", fontsize="medium")
        ax.grid(axis="y", color="#e6e6e6", linewidth=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if total:
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    span = first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
    fig.suptitle(f"rjwatch: {total:,} posts per {per}, {span}")
    if not total:
        top.text(0.5, 0.5, "no posts in this range", ha="center", va="center", transform=top.transAxes)
    facts = {
        "unit": unit,
        "bins": [b.label for b in bins_],
        "ticks": [bins_[i].label for i in ticks],
        "total": total,
        "statuses": {s: sum(v) for s, v in by_status.items() if any(v)},
        "languages": [name for name, _, _ in langs],
    }
    return fig, facts


def coverage(rows: list[dict], path: str, *, since: str | None = None, until: str | None = None) -> dict:
    """Draw the coverage picture into `path`; returns the facts of `figure`."""
    import matplotlib.pyplot as plt

    first, last = day_range(rows, since, until)
    fig, facts = figure(rows, first, last)
    meta = None
    if path.lower().endswith(".png"):  # PNG takes any text keys; a test (or a reader) finds the bins here
        meta = {
            "Title": fig.get_suptitle(),
            "rjwatch:unit": facts["unit"],
            "rjwatch:ticks": " ".join(facts["ticks"]),
            "rjwatch:total": str(facts["total"]),
        }
    try:
        fig.savefig(path, metadata=meta)
    except OSError as exc:
        raise InputError(f"--plot {path}: cannot write it ({exc.strerror or exc})") from None
    except (RuntimeError, ValueError) as exc:  # a format whose tool is missing (pgf needs LaTeX)
        raise InputError(f"--plot {path}: cannot draw this format ({str(exc).splitlines()[0]})") from None
    finally:
        plt.close(fig)
    return facts


def _stack(ax, x: list[int], series: list[tuple[str, list[int], str]]) -> list[int]:
    """Stacked bars, first series at the bottom; returns the stack heights."""
    heights = [0] * len(x)
    for name, values, colour in series:
        ax.bar(x, values, bottom=heights, color=colour, label=name.replace("_", " "), width=BAR_WIDTH, linewidth=0)
        heights = [h + v for h, v in zip(heights, values)]
    ax.set_ylim(0, max(1, max(heights, default=0)) * (1 + HEADROOM))
    return heights


def _languages(by_lang: dict[str, list[int]]) -> list[tuple[str, list[int], str]]:
    """The MAX_LANGUAGES most frequent languages by name, most frequent at the bottom; the rest as
    "other", and unknown ("?") last."""
    named = sorted((lang for lang in by_lang if lang != "?"), key=lambda k: (-sum(by_lang[k]), k))
    keep, rest = named[:MAX_LANGUAGES], named[MAX_LANGUAGES:]
    out = [(lang, by_lang[lang], LANG_COLOURS[i % len(LANG_COLOURS)]) for i, lang in enumerate(keep)]
    if rest:
        out.append(("other", [sum(v) for v in zip(*(by_lang[k] for k in rest))], UNKNOWN_LANG_COLOURS["other"]))
    if "?" in by_lang:
        out.append(("unknown", by_lang["?"], UNKNOWN_LANG_COLOURS["?"]))
    return out


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "")[:10])
    except ValueError:
        return None


def _instant_day(value: str, *, exclusive: bool = False) -> date:
    """The UTC day of an ISO instant; with `exclusive`, the last day before it."""
    instant = datetime.fromisoformat(value)
    if exclusive:
        instant -= timedelta(microseconds=1)
    return instant.date()
