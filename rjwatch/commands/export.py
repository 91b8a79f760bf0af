"""Getting the corpus out: export (JSONL, CSV, Parquet, Atom; streaming) and serve (the analyst's desk, or
Datasette read-only)."""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from rjwatch.commands.common import CommandError, Ctx, command, fail, filter_options, format_option, handled

if TYPE_CHECKING:
    from storage.search import Filters

#: Rows fetched per batch when writing Parquet: bounded memory whatever the corpus size.
PARQUET_BATCH_ROWS = 5_000
#: The formats of `export`: streams of records (JSON Lines, CSV), a Parquet file, or an Atom feed.
EXPORT_FORMATS = ("jsonl", "csv", "parquet", "atom")


@command()
@click.option("--query", "-q", metavar="QUERY", help="Only posts matching this full-text query.")
@format_option(EXPORT_FORMATS, default="jsonl")
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="Write here instead of stdout (Parquet needs a file, or a redirected stdout).",
)
@click.option("--no-text", is_flag=True, help="Leave out the post text.")
@click.option(
    "--base-url",
    metavar="URL",
    default=None,
    help="Atom only: the address the desk is served at, for the feed's links (default: where `rjwatch serve` listens).",
)
@click.pass_obj
@handled
@filter_options
def export(
    obj: Ctx, query: str | None, filters: Filters, fmt: str, output: str, no_text: bool, base_url: str | None
) -> None:
    """Export posts with their provenance (source, sightings, status, evidence), streaming.

    Memory stays flat however many posts there are. Parquet needs the `parquet` extra (pyarrow).
    `--format atom` writes the selected posts as one Atom feed, newest first, with the same entry
    ids as the served feeds. A progress bar shows on stderr when it is a terminal.

    Examples:

    \b
        rjwatch export --status copy --status excerpt --format csv > copies.csv
        rjwatch export --status new --since 2024-05-01 --format atom -o new.atom
    """
    from storage.queries import EXPORT_COLUMNS, count_matching, export_rows

    db = obj.db()
    if base_url is not None and fmt != "atom":
        fail("--base-url is for --format atom")
    if fmt == "atom":
        _export_atom(db, query, filters, output, base_url)
        return
    columns = [c for c in EXPORT_COLUMNS if not (no_text and c == "text")]
    if fmt == "parquet":
        from rjwatch import parquet

        parquet.require()
        if output == "-" and sys.stdout.isatty():
            fail("Parquet is binary: give --output FILE or redirect stdout to a file")
    rows = _machine_rounded(export_rows(db, query, filters))
    total = count_matching(db, query, filters) if sys.stderr.isatty() else None
    rows = _with_progress(rows, total)
    n = 0
    with _output_file(output, binary=fmt == "parquet") as stream:
        if fmt == "parquet":
            n = parquet.write(rows, columns, stream, batch_rows=PARQUET_BATCH_ROWS)
        elif fmt == "jsonl":
            for r in rows:
                stream.write(json.dumps({c: r[c] for c in columns}, ensure_ascii=False) + "\n")
                n += 1
        else:
            writer = csv.writer(stream)
            writer.writerow(columns)
            for r in rows:
                writer.writerow(
                    [
                        json.dumps(r[c], ensure_ascii=False)
                        if isinstance(r[c], (dict, list))
                        else ("" if r[c] is None else r[c])
                        for c in columns
                    ]
                )
                n += 1
    if sys.stderr.isatty() or output != "-":
        click.echo(f"exported {n} posts" + (f" to {output}" if output != "-" else ""), err=True)


def _export_atom(db, query: str | None, filters: Filters, output: str, base_url: str | None) -> None:
    """`export --format atom`: the selected posts as one Atom feed, newest first, streamed."""
    from rjwatch import atom
    from storage.queries import count_matching

    head = atom.export_head(db, query, filters, base_url=base_url or atom.DEFAULT_BASE_URL)
    total = count_matching(db, query, filters) if sys.stderr.isatty() else None
    with _output_file(output, binary=True) as stream:
        n = atom.write(stream, head, _with_progress(atom.export_rows(db, query, filters), total))
    if sys.stderr.isatty() or output != "-":
        click.echo(f"exported {n} posts" + (f" to {output}" if output != "-" else ""), err=True)


def _machine_rounded(rows):
    """Relevance with the decimals every machine format prints (rjwatch.output.RELEVANCE_DECIMALS_MACHINE)."""
    from rjwatch.output import rounded

    for r in rows:
        r["relevance"] = rounded(r["relevance"], "csv")
        yield r


@contextmanager
def _output_file(output: str, *, binary: bool):
    """Where an export goes: stdout for `-`; a device or pipe as it is; a file through a temporary file
    in its folder, renamed over it at the end, so a failed export never leaves half a file (and a
    place where no file can be made, such as /proc, is refused before anything is written)."""
    mode, encoding = ("wb", None) if binary else ("w", "utf-8")
    if output == "-":
        with click.open_file("-", mode, encoding=encoding, lazy=False) as stream:
            yield stream
        return
    target = Path(os.path.realpath(output))  # a symlink's target is written, the link stays
    if not target.parent.is_dir():
        raise CommandError(f"--output {output}: folder {Path(output).parent} does not exist")
    if target.exists() and not target.is_file():
        try:
            stream = open(target, mode, encoding=encoding)
        except OSError as exc:
            raise CommandError(f"--output {output}: cannot write it ({exc.strerror})") from None
        with _write_errors(output), stream:
            yield stream
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise CommandError(f"--output {output}: cannot write there ({exc.strerror})") from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # the permissions a plain new file gets, not mkstemp's 0600
    try:
        with _write_errors(output):
            with open(fd, mode, encoding=encoding) as stream:
                yield stream
            os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def _write_errors(output: str):
    try:
        yield
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        raise CommandError(f"--output {output}: cannot write it ({exc.strerror or exc})") from None


def _with_progress(rows, total: int | None):
    if total is None:
        yield from rows
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("exporting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=_stderr_console(),
        transient=True,
    ) as progress:
        task = progress.add_task("export", total=total)
        for i, r in enumerate(rows, 1):
            yield r
            if i % 500 == 0:
                progress.update(task, completed=i)
        progress.update(task, completed=total)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


# --- serve --------------------------------------------------------------------------------------
@command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True, help="Port to listen on.")
@click.option("--open", "open_browser", is_flag=True, help="Open a browser at the start page.")
@click.option("--datasette", is_flag=True, help="Browse the raw tables in Datasette instead of the desk.")
@click.option("--analyst", metavar="NAME", help="Whose marks the desk records (default: the OS user).")
@click.pass_obj
@handled
def serve(obj: Ctx, host: str, port: int, open_browser: bool, datasette: bool, analyst: str | None) -> None:
    """Open the analyst's desk: today's coverage, the seed's spread, review, search, sources, charts.

    Listens on 127.0.0.1 by default. Another --host needs a token in $RJWATCH_DESK_TOKEN, asked on
    every request. Needs the `desk` extra: pip install 'rjwatch[desk]'. With --datasette, browse the
    corpus in Datasette, read-only, with canned queries and full-text search (the `serve` extra).

    Example:

    \b
        rjwatch serve --port 8001
        rjwatch serve --datasette
    """
    if datasette:
        from rjwatch import browse

        browse.require()
        obj.db()  # exists, is an rjwatch database, and is up to date
        sys.exit(browse.serve(obj.path, host=host, port=port, open_browser=open_browser))
    from rjwatch.desk import server

    obj.db()  # exists, is an rjwatch database, and is up to date
    sys.exit(server.serve(obj.path, host=host, port=port, open_browser=open_browser, analyst=analyst))


COMMANDS = [export, serve]
