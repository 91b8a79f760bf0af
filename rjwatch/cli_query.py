"""The commands analysts use to read the corpus: search, copies, stats, export, saved, serve.

They only read (apart from `saved add/remove`), and they print through `rjwatch.output`, so text
from the web never reaches the terminal with escape codes in it.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import wraps
from pathlib import Path

import click

from judge import dates
from rjwatch.cli import Ctx, Finite, count, fail, handled, main, row_id
from rjwatch.inputs import InputError
from rjwatch.output import FORMATS, default_format, emit, safe
from storage import saved as saved_mod
from storage.search import HIT_END, HIT_START, RANK_WINDOW, Filters, QueryError

STATUSES = ("copy", "excerpt", "new", "duplicate", "off_topic")
#: `--since 7d`: a number and a unit (minutes, hours, days, weeks).
_RELATIVE_RE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
#: Rows fetched per batch when writing Parquet: bounded memory whatever the corpus size.
PARQUET_BATCH_ROWS = 5_000
#: Marks around matches in snippets printed as plain text (TSV, JSON, CSV).
PLAIN_MARKS = ("**", "**")


def when(value: str | None, option: str) -> str | None:
    """An ISO 8601 instant from "2024-05-01", a full timestamp, or "7d" / "12h" / "2w" ago."""
    if value is None:
        return None
    m = _RELATIVE_RE.match(value.strip())
    if m:
        try:
            return (datetime.now(timezone.utc) - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
                    ).isoformat(timespec="seconds")
        except OverflowError:
            raise click.BadParameter(f"{value!r} reaches back before the year 1", param_hint=option) from None
    try:
        parsed = dates.parse(value)
        if parsed is not None:
            return parsed.astimezone(timezone.utc).isoformat(timespec="seconds")
    except OverflowError:  # 9999-12-31T23:59-14:00 is past the year 9999 in UTC
        raise click.BadParameter(f"{value!r} is out of the range of dates (years 1 to 9999 in UTC)",
                                 param_hint=option) from None
    raise click.BadParameter(f"{value!r} is not a date (use 2024-05-01, an ISO timestamp, or 7d / 12h / 2w)",
                             param_hint=option)


def filter_options(fn):
    """The filters shared by search, export and saved searches."""
    for decorator in reversed([
        click.option("--status", multiple=True, type=click.Choice(STATUSES), help="Only this status (repeatable)."),
        click.option("--lang", multiple=True, metavar="CODE", help="Only this language, e.g. ja (repeatable)."),
        click.option("--source", "source_ref", metavar="URL|ID", help="Only posts from this source."),
        click.option("--since", metavar="WHEN", help="Published (else first seen) at or after: 2024-05-01 or 7d."),
        click.option("--until", metavar="WHEN", help="Published (else first seen) before this."),
        click.option("--seed", "seed_id", type=row_id(), metavar="ID", help="Only copies and excerpts of this seed."),
        click.option("--min-relevance", type=Finite(0, 1), help="Only posts scoring at least this."),
    ]):
        fn = decorator(fn)

    @wraps(fn)
    def wrapper(obj: Ctx, *args, status, lang, source_ref, since, until, seed_id, min_relevance, **kw):
        source_id = None
        if source_ref:
            from storage.sources import get_source

            source_id = get_source(obj.db(), source_ref)["id"]
        filters = Filters(status=tuple(status), lang=tuple(lang), source_id=source_id,
                          since=when(since, "--since"), until=when(until, "--until"), seed=seed_id,
                          min_relevance=min_relevance)
        return fn(obj, *args, filters=filters, **kw)

    return wrapper


def page_options(fn):
    """Order, paging and format: shared by search and saved run."""
    for decorator in reversed([
        click.option("--rank", is_flag=True,
                     help=f"Order by relevance to the query (bm25, title weighted above text) among the newest "
                          f"{RANK_WINDOW:,} matches, instead of newest first."),
        click.option("--limit", type=count(1), default=20, show_default=True),
        click.option("--offset", type=count(), default=0),
        click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: table on a terminal, else TSV."),
    ]):
        fn = decorator(fn)
    return fn


def query_errors(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (QueryError, saved_mod.SavedSearchError) as exc:
            fail(str(exc))

    return wrapper


# --- search -------------------------------------------------------------------------------------
SEARCH_COLUMNS = ("id", "published", "first_seen", "status", "lang", "relevance", "source", "title", "url",
                  "snippet")


@main.command()
@click.argument("query")
@page_options
@click.pass_obj
@handled
@query_errors
@filter_options
def search(obj: Ctx, query: str, filters: Filters, rank: bool, limit: int, offset: int, fmt: str | None) -> None:
    """Full-text search over titles and texts, newest first.

    QUERY uses FTS5 syntax: words (all must match), "exact phrases", OR, NOT, prefixes (Kuril*),
    NEAR(Abe Putin, 10), and title:Kuril. Japanese, Chinese and Korean terms are found anywhere
    in a sentence; Russian inflections are found with a prefix (Курил*).

    Example:

        rjwatch search 'Kuril* AND (Abe OR Putin)' --since 30d --status new
    """
    from storage.search import search as run_search

    rows = run_search(obj.db(), query, filters, rank=rank, limit=limit, offset=offset)
    _print_hits(rows, fmt, rank=rank)


def _print_hits(rows: list[dict], fmt: str | None, *, rank: bool = False) -> None:
    fmt = fmt or default_format()
    columns = SEARCH_COLUMNS + (("score",) if rank else ())
    if fmt != "table":
        for r in rows:
            r["snippet"] = _marks(r.get("snippet"), *PLAIN_MARKS)
            r["relevance"] = round(r["relevance"], 4)
            if "score" in r:
                r["score"] = round(-r["score"], 4)  # bm25 is negative: bigger is better once flipped
        emit(rows, columns, fmt)
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=True, header_style="bold")
    for c in ("id", "published", "status", "lang", "title / snippet"):
        table.add_column(c, overflow="fold")
    for r in rows:
        cell = Text(safe(r.get("title") or "(no title)"), style="bold")
        cell.append("\n")
        cell.append(_highlighted(r.get("snippet")))
        cell.append("\n" + safe(r["url"]), style="dim")
        table.add_row(str(r["id"]), (r.get("published") or r.get("first_seen") or "")[:10], r["status"],
                      r.get("lang") or "", cell)
    console = Console(markup=False, highlight=False)
    console.print(table)
    if not rows:
        console.print("no matches")


def _marks(snippet: str | None, start: str, end: str) -> str:
    return safe(snippet or "").replace(HIT_START, start).replace(HIT_END, end)


def _highlighted(snippet: str | None):
    from rich.text import Text

    text = Text()
    for i, part in enumerate(re.split(f"[{HIT_START}{HIT_END}]", safe(" ".join((snippet or "").split())))):
        text.append(part, style="bold yellow" if i % 2 else None)
    return text


# --- copies -------------------------------------------------------------------------------------
COPIES_COLUMNS = ("id", "first_seen", "published", "status", "containment", "blog", "url", "changes", "seed",
                  "title", "sightings")


@main.command()
@click.option("--seed", "seed_id", type=row_id(), metavar="ID", help="Only this seed (default: every seed).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: table on a terminal, else TSV.")
@click.pass_obj
@handled
def copies(obj: Ctx, seed_id: int | None, fmt: str | None) -> None:
    """The seed's spread: every copy and excerpt in the order they were first seen, with what
    changed against the seed.

    Example:

        rjwatch copies --seed 1 --format csv > spread.csv
    """
    from storage.queries import seed_spread

    db = obj.db()
    if seed_id is not None and not db.execute("SELECT 1 FROM seeds WHERE id = ?", [seed_id]).fetchone():
        fail(f"no seed #{seed_id} (see `rjwatch seed list`)")
    rows = seed_spread(db, seed_id)
    n = emit(rows, COPIES_COLUMNS, fmt, title="copies and excerpts of the seed",
             table_columns=["id", "first_seen", "published", "status", "containment", "blog", "url", "changes"])
    if (fmt or default_format()) == "table":
        click.echo(f"{n} copies and excerpts" if n else "no copies or excerpts yet", err=True)


# --- stats --------------------------------------------------------------------------------------
@main.command()
@click.option("--since", metavar="WHEN", help="Only posts published (else first seen) since: 2024-05-01 or 30d.")
@click.option("--plot", "plot_path", metavar="FILE.png", type=click.Path(dir_okay=False),
              help="Also draw posts per day, stacked by status, with seed copies marked (needs matplotlib).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
@handled
def stats(obj: Ctx, since: str | None, plot_path: str | None, fmt: str) -> None:
    """Counts by status, source, language, day and week; top sources of new coverage; crawl and
    poll health.

    Example:

        rjwatch stats --since 90d --plot coverage.png
    """
    from storage.queries import daily_by_status, stats as get_stats

    if plot_path:
        from rjwatch import plot

        plot.require()  # before any work: a missing extra is said at once
        plot.check_target(plot_path)  # and so is a missing folder or an unknown image type
    db = obj.db()
    data = get_stats(db, since=when(since, "--since"))
    if fmt == "json":
        click.echo(json.dumps(safe(data), ensure_ascii=False, indent=2))
    else:
        click.echo(f"posts: {data['total']}")
        if data["outside_profile"]:
            click.echo(f"in languages the topic profile does not cover: {data['outside_profile']} "
                       f"(it covers {', '.join(data['profile_languages'])}; extend it to judge the others)")
        sections = [("by status", "by_status"), ("by language", "by_lang"), ("by source", "by_source"),
                    ("top sources of new coverage", "top_new_sources"), ("by day (latest)", "by_day"),
                    ("by week (latest)", "by_week"), ("runs", "runs"), ("sources", "sources"),
                    ("failing sources", "failing")]
        for title, key in sections:
            rows = data[key]
            if not rows:
                continue
            click.echo(f"\n{title}:")
            tty = sys.stdout.isatty()
            if not tty:
                click.echo("\t".join(rows[0].keys()))
            emit(rows, list(rows[0].keys()), "table" if tty else "tsv")
    if plot_path:
        counts, copies_ = daily_by_status(db)
        plot.coverage(counts, copies_, plot_path)
        click.echo(f"plot written to {plot_path}", err=True)


# --- export -------------------------------------------------------------------------------------
@main.command()
@click.option("--query", "-q", metavar="QUERY", help="Only posts matching this full-text query.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet"]), default="jsonl", show_default=True)
@click.option("--output", "-o", metavar="FILE", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="Write here instead of stdout (Parquet needs a file, or a redirected stdout).")
@click.option("--no-text", is_flag=True, help="Leave out the post text.")
@click.pass_obj
@handled
@query_errors
@filter_options
def export(obj: Ctx, query: str | None, filters: Filters, fmt: str, output: str, no_text: bool) -> None:
    """Export posts with their provenance (source, sightings, status, evidence), streaming.

    Memory stays flat however many posts there are. Parquet needs the `parquet` extra (pyarrow).
    A progress bar shows on stderr when it is a terminal.

    Example:

        rjwatch export --status copy --status excerpt --format csv > copies.csv
    """
    from storage.queries import EXPORT_COLUMNS, count_matching, export_rows

    db = obj.db()
    columns = [c for c in EXPORT_COLUMNS if not (no_text and c == "text")]
    if fmt == "parquet":
        from rjwatch import parquet

        parquet.require()
        if output == "-" and sys.stdout.isatty():
            fail("Parquet is binary: give --output FILE or redirect stdout to a file")
    rows = export_rows(db, query, filters)
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
                writer.writerow([json.dumps(r[c], ensure_ascii=False) if isinstance(r[c], (dict, list))
                                 else ("" if r[c] is None else r[c]) for c in columns])
                n += 1
    if sys.stderr.isatty() or output != "-":
        click.echo(f"exported {n} posts" + (f" to {output}" if output != "-" else ""), err=True)


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
        raise InputError(f"--output {output}: folder {Path(output).parent} does not exist")
    if target.exists() and not target.is_file():
        try:
            stream = open(target, mode, encoding=encoding)
        except OSError as exc:
            raise InputError(f"--output {output}: cannot write it ({exc.strerror})") from None
        with _write_errors(output), stream:
            yield stream
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise InputError(f"--output {output}: cannot write there ({exc.strerror})") from None
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
        raise InputError(f"--output {output}: cannot write it ({exc.strerror or exc})") from None


def _with_progress(rows, total: int | None):
    if total is None:
        yield from rows
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=_stderr_console(), transient=True) as progress:
        task = progress.add_task("export", total=total)
        for i, r in enumerate(rows, 1):
            yield r
            if i % 500 == 0:
                progress.update(task, completed=i)
        progress.update(task, completed=total)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


# --- saved searches -----------------------------------------------------------------------------
@main.group()
def saved() -> None:
    """Saved searches: a name for a query and its filters. Alert rules can use the name."""


@saved.command("add")
@click.argument("name")
@click.argument("query")
@click.option("--replace", is_flag=True, help="Overwrite a saved search with the same name.")
@click.pass_obj
@handled
@query_errors
@filter_options
def saved_add(obj: Ctx, name: str, query: str, filters: Filters, replace: bool) -> None:
    """Save a search under a name (the query is checked first).

    Example:

        rjwatch saved add kurils 'Kuril* OR 北方領土 OR Курил*' --min-relevance 0.5
    """
    saved_mod.add(obj.db(), name, query, filters, replace=replace)
    click.echo(f"saved search {name!r}: {query}")


@saved.command("list")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: table on a terminal, else TSV.")
@click.pass_obj
@handled
def saved_list(obj: Ctx, fmt: str | None) -> None:
    """List saved searches.

    Example:

        rjwatch saved list
    """
    emit(saved_mod.list_all(obj.db()), ["name", "query", "filters", "created_at"], fmt)


@saved.command("run")
@click.argument("name")
@page_options
@click.pass_obj
@handled
@query_errors
def saved_run(obj: Ctx, name: str, rank: bool, limit: int, offset: int, fmt: str | None) -> None:
    """Run a saved search.

    Example:

        rjwatch saved run kurils --limit 50
    """
    from storage.search import search as run_search

    db = obj.db()
    query, filters = saved_mod.get(db, name)
    _print_hits(run_search(db, query, filters, rank=rank, limit=limit, offset=offset), fmt, rank=rank)


@saved.command("remove")
@click.argument("name")
@click.pass_obj
@handled
@query_errors
def saved_remove(obj: Ctx, name: str) -> None:
    """Delete a saved search.

    Example:

        rjwatch saved remove kurils
    """
    saved_mod.remove(obj.db(), name)
    click.echo(f"removed saved search {name!r}")


# --- serve --------------------------------------------------------------------------------------
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True)
@click.option("--open", "open_browser", is_flag=True, help="Open a browser at the start page.")
@click.pass_obj
@handled
def serve(obj: Ctx, host: str, port: int, open_browser: bool) -> None:
    """Browse the corpus in Datasette, read-only, with canned queries and full-text search.

    Needs the `serve` extra (datasette): pip install 'rjwatch[serve]'.

    Example:

        rjwatch serve --port 8001
    """
    from rjwatch import browse

    browse.require()
    obj.db()  # exists, is an rjwatch database, and is up to date
    sys.exit(browse.serve(obj.path, host=host, port=port, open_browser=open_browser))
