"""Printing rows: a rich table on a terminal, TSV when piped, or JSON / JSONL / CSV on request.

Every format prints the same columns; TSV, CSV and the table start with a header line (the column
names) unless told not to. Timestamps are local and short on a terminal (`2026-12-04 14:03`) and
full ISO 8601 in the machine formats; a relevance score has one rounding rule per kind of format
(RELEVANCE_DECIMALS_TERMINAL, RELEVANCE_DECIMALS_MACHINE), `export` included.

Every string printed goes through `safe` first: text collected from the web must never reach the
terminal with escape sequences, control characters or bidirectional overrides in it. A carriage
return would move the cursor back over the line (a title could overwrite the status before it),
and a right-to-left override reverses what follows, so both are removed like ANSI escapes; only
the fields meant to be multi-line (a post's text) keep their line breaks and tabs.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import click

from judge.precision import RELEVANCE_DECIMALS_MACHINE, RELEVANCE_DECIMALS_TERMINAL
from judge.text import terminal_text

FORMATS = ("table", "json", "jsonl", "csv", "tsv")
#: Widest cell in a table or TSV line; longer values are cut with an ellipsis (JSON/CSV get it all).
CELL_MAX_CHARS = 80
#: Fields printed as several lines (a post's body); every other string is printed on one line.
MULTILINE_KEYS = frozenset({"text", "body"})
#: The columns holding relevance scores, rounded by the rule of judge.precision.
RELEVANCE_KEYS = frozenset({"relevance", "sampled_relevance"})
#: The columns holding timestamps: local and short on a terminal, full ISO 8601 in machine formats.
TIME_KEYS = frozenset(
    {
        "published",
        "updated",
        "first_seen",
        "last_seen",
        "created_at",
        "sent_at",
        "started_at",
        "finished_at",
        "last_run",
        "last_poll",
        "last_success",
        "next_due",
        "next_run",
        "added_at",
        "replaced_at",
        "latest",
        "last_started",
    }
)
#: The timestamps a terminal shows as a (local) date alone: when a post was published is read as a day.
DATE_KEYS = frozenset({"published"})
#: Widest value a table keeps on one line (a short time, `2026-12-04 14:03`, fits); longer ones wrap.
TABLE_NOWRAP_CHARS = 16
#: Decimals of any other number in a table (a containment, a rate): the precision of a relevance score
#: for a reader, so that numbers side by side read alike. Machine formats print numbers as they are.
TABLE_FLOAT_DECIMALS = RELEVANCE_DECIMALS_TERMINAL
#: A timestamp on a terminal: local time, to the minute.
TERMINAL_TIME = "%Y-%m-%d %H:%M"

#: Text as it may reach a terminal (judge.text.terminal_text: no escapes, controls or bidi controls).
clean = terminal_text


def safe(value: Any, key: str | None = None) -> Any:
    """`clean` applied to every string in a value (dict keys included); the strings under a key of
    MULTILINE_KEYS keep their line breaks."""
    if isinstance(value, str):
        return clean(value, multiline=key in MULTILINE_KEYS)
    if isinstance(value, dict):
        return {safe(k): safe(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe(v, key) for v in value]
    return value


def default_format() -> str:
    return "table" if sys.stdout.isatty() else "tsv"


def rounded(value: Any, fmt: str) -> Any:
    """A relevance score with the decimals of its format (RELEVANCE_DECIMALS_*); anything else as it is."""
    if not isinstance(value, float):
        return value
    return round(value, RELEVANCE_DECIMALS_TERMINAL if fmt == "table" else RELEVANCE_DECIMALS_MACHINE)


def short_time(value: Any) -> Any:
    """A stored ISO 8601 timestamp as a terminal shows it: local time to the minute (`2026-12-04 14:03`);
    a date alone stays a date, and a value that is not a timestamp is left as it is."""
    if not isinstance(value, str) or len(value) <= len("2026-12-04"):
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the database stores UTC
    return moment.astimezone().strftime(TERMINAL_TIME)


def short_date(value: Any) -> Any:
    """The local date of a stored timestamp or date (lists that show dates alone)."""
    shown = short_time(value)
    return shown[:10] if isinstance(shown, str) else shown


def _shown(key: str, value: Any, fmt: str) -> Any:
    """A value as this format prints it: relevance rounded by its rule, times short and local on a terminal."""
    if key in RELEVANCE_KEYS:
        return rounded(value, fmt)
    if fmt == "table" and key in DATE_KEYS:
        return short_date(value)
    if fmt == "table" and key in TIME_KEYS:
        return short_time(value)
    return value


def _cell(value: Any, fmt: str = "table") -> str:
    """One table, TSV or CSV cell: empty for nothing (an empty object or list included), objects as
    compact JSON (on a terminal a flat object reads `copy 1, new 2`), text on one line."""
    if value is None or value == {} or value == []:
        return ""
    if isinstance(value, float) and fmt == "table":
        return f"{value:.{TABLE_FLOAT_DECIMALS}f}"
    if isinstance(value, dict) and fmt == "table" and all(not isinstance(v, (dict, list)) for v in value.values()):
        value = ", ".join(f"{k} {v}" for k, v in value.items())
    elif isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if fmt == "csv":
        return str(value)
    text = " ".join(str(value).split())
    return text if len(text) <= CELL_MAX_CHARS else text[: CELL_MAX_CHARS - 1] + "…"


def emit(
    rows: Iterable[dict],
    columns: Sequence[str],
    fmt: str | None,
    *,
    headers: bool = True,
    title: str | None = None,
) -> int:
    """Print rows in a format, the same columns in every format, with a header line (the column names)
    unless `headers` is False; returns the number of rows printed."""
    fmt = fmt or default_format()
    columns = list(columns)
    n = 0

    def values(r: dict) -> list:
        return [safe(_shown(c, r.get(c), fmt), c) for c in columns]

    if fmt == "json":
        data = [dict(zip(columns, values(r))) for r in rows]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return len(data)
    if fmt == "jsonl":
        for r in rows:
            click.echo(json.dumps(dict(zip(columns, values(r))), ensure_ascii=False))
            n += 1
        return n
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        if headers:
            writer.writerow(columns)
        for r in rows:
            writer.writerow([_cell(v, "csv") for v in values(r)])
            n += 1
        return n
    if fmt == "tsv":
        if headers:
            click.echo("\t".join(columns))
        for r in rows:
            click.echo("\t".join(_cell(v, "tsv") for v in values(r)))
            n += 1
        return n
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from rjwatch.colours import terminal_style

    cells = [[_cell(v) for v in values(r)] for r in rows]
    table = Table(title=title, show_lines=False, header_style="bold", show_header=headers)
    for i, c in enumerate(columns):
        # Short values (ids, statuses, times) stay on one line; the long ones (titles, URLs) wrap.
        short = all(len(row[i]) <= TABLE_NOWRAP_CHARS for row in cells)
        table.add_column(
            c, overflow="fold", no_wrap=short, min_width=min(len(c), TABLE_NOWRAP_CHARS) if short else None
        )
    for row in cells:
        table.add_row(*(Text(v, style=terminal_style(v)) if c == "status" else v for c, v in zip(columns, row)))
    Console(markup=False, highlight=False).print(table)
    return len(cells)
