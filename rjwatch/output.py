"""Printing rows: a rich table on a terminal, TSV when piped, or JSON / JSONL / CSV on request.

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
from typing import Any

import click

from judge.text import terminal_text

FORMATS = ("table", "json", "jsonl", "csv", "tsv")
#: Widest cell in a table or TSV line; longer values are cut with an ellipsis (JSON/CSV get it all).
CELL_MAX_CHARS = 80
#: Fields printed as several lines (a post's body); every other string is printed on one line.
MULTILINE_KEYS = frozenset({"text", "body"})

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


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = " ".join(str(value).split())
    return text if len(text) <= CELL_MAX_CHARS else text[: CELL_MAX_CHARS - 1] + "…"


def emit(
    rows: Iterable[dict],
    columns: Sequence[str],
    fmt: str | None,
    *,
    table_columns: Sequence[str] | None = None,
    title: str | None = None,
) -> int:
    """Print rows in a format; returns the number of rows printed."""
    fmt = fmt or default_format()
    out = sys.stdout
    n = 0
    if fmt == "json":
        data = [safe({c: r.get(c) for c in columns}) for r in rows]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return len(data)
    if fmt == "jsonl":
        for r in rows:
            click.echo(json.dumps(safe({c: r.get(c) for c in columns}), ensure_ascii=False))
            n += 1
        return n
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        for r in rows:
            writer.writerow(
                [
                    json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else ("" if v is None else v)
                    for v in (safe(r.get(c)) for c in columns)
                ]
            )
            n += 1
        return n
    cols = list(table_columns or columns)
    if fmt == "tsv":
        for r in rows:
            click.echo("\t".join(_cell(safe(r.get(c))) for c in cols))
            n += 1
        return n
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from rjwatch.colours import terminal_style

    table = Table(title=title, show_lines=False, header_style="bold")
    for c in cols:
        table.add_column(c, overflow="fold")
    for r in rows:
        cells = [_cell(safe(r.get(c))) for c in cols]
        table.add_row(*(Text(v, style=terminal_style(v)) if c == "status" else v for c, v in zip(cols, cells)))
        n += 1
    Console(markup=False, highlight=False).print(table)
    return n
