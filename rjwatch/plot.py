"""The coverage picture of `rjwatch stats --plot`: posts per day stacked by status, seed copies marked."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from rjwatch.extras import require as _require
from rjwatch.inputs import InputError

#: Stack order and colours: coverage the analyst cares about at the bottom, noise on top.
STATUS_COLOURS = {
    "copy": "#c0392b",
    "excerpt": "#e67e22",
    "new": "#2e86c1",
    "duplicate": "#95a5a6",
    "off_topic": "#d5dbdb",
}
#: Figure size in inches and resolution: readable on a laptop screen and in a report.
FIGSIZE, DPI = (11, 4.5), 110
#: Copy markers float this share of the tallest bar above their day's stack.
MARKER_LIFT = 0.04


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


def coverage(counts: list[dict], copies: list[dict], path: str) -> None:
    """Draw posts per day, stacked by status, with a marker on each day a seed copy appeared."""
    matplotlib = _require("matplotlib", "plot", "stats --plot")
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    per_day: dict[date, dict[str, int]] = defaultdict(dict)
    for r in counts:
        d = _day(r["day"])
        if d:
            per_day[d][r["status"]] = r["n"]
    days = sorted(per_day)
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    bottom = [0] * len(days)
    for status, colour in STATUS_COLOURS.items():
        values = [per_day[d].get(status, 0) for d in days]
        if any(values):
            ax.bar(days, values, bottom=bottom, color=colour, label=status, width=0.9)
            bottom = [b + v for b, v in zip(bottom, values)]
    copy_days = sorted({d for d in (_day(c["day"]) for c in copies) if d})
    if copy_days:
        top = {d: b for d, b in zip(days, bottom)}
        lift = max(bottom, default=1) * MARKER_LIFT
        ax.scatter(
            copy_days,
            [top.get(d, 0) + lift for d in copy_days],
            marker="v",
            color="black",
            zorder=3,
            label="seed copy or excerpt",
        )
    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_title("rjwatch: posts per day by status")
    ax.set_ylabel("posts")
    if days:
        ax.legend(loc="upper left", fontsize="small")
    else:
        ax.text(0.5, 0.5, "no posts yet", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as exc:
        raise InputError(f"--plot {path}: cannot write it ({exc.strerror or exc})") from None
    except (RuntimeError, ValueError) as exc:  # a format whose tool is missing (pgf needs LaTeX)
        raise InputError(f"--plot {path}: cannot draw this format ({str(exc).splitlines()[0]})") from None
    finally:
        plt.close(fig)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "")[:10])
    except ValueError:
        return None
