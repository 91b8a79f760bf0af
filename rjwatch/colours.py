"""The one colour of each post status, shared by the terminal (tables, `show`, the demo's alerts) and
the coverage plot (`stats --plot`), so a status looks the same wherever it is shown.

Each status has a terminal colour (a name both click and rich know, so it follows the terminal's
theme) and a hex colour of the same hue for images. The order is the plot's stacking order:
the coverage an analyst acts on at the bottom, the noise on top.
"""

from __future__ import annotations

from typing import NamedTuple

import click


class StatusColour(NamedTuple):
    terminal: str  # an ANSI colour name (click `fg=` and rich styles)
    hex: str  # the same hue for images


STATUS_COLOURS: dict[str, StatusColour] = {
    # The seed reposted whole: what the tool exists to catch, in the alarm colour.
    "copy": StatusColour("red", "#d62728"),
    # Part of the seed quoted: a weaker signal of the same kind, one step down from red.
    "excerpt": StatusColour("yellow", "#f0a202"),
    # Relevant coverage of its own; the demo has always printed these alerts in green.
    "new": StatusColour("green", "#2ca02c"),
    # Repeats of a post already counted: present but not news.
    "duplicate": StatusColour("blue", "#7f9cc0"),
    # Collected and judged beside the topic: the background, grey.
    "off_topic": StatusColour("bright_black", "#c4c4c4"),
}


def terminal_style(status: str | None, *, bold: bool = False) -> str:
    """A rich style string for a status ("" for an unknown one)."""
    colour = STATUS_COLOURS.get(status or "")
    parts = (["bold"] if bold else []) + ([colour.terminal] if colour else [])
    return " ".join(parts)


def styled(status: str, text: str | None = None, *, bold: bool = True) -> str:
    """`text` (default: the status itself) coloured as the status, for `click.echo`."""
    colour = STATUS_COLOURS.get(status)
    return click.style(text if text is not None else status, fg=colour.terminal if colour else None, bold=bold)
