"""What every command shares: the context object, the one error handler, and the option decorators.

`--db` and `--config` are on every group and command (`rjwatch --db x search Kuril` and `rjwatch
search Kuril --db x` both work; the value nearest the command wins). `--format` takes one set of
values everywhere (`FORMATS`; a command showing one record takes `table` or `json`), and the
filters and paging options are spelled and explained once here. Every command printing a list
takes `output_options` (`--format`, `--columns`, `--no-headers`) and prints through `Output`.

This module imports nothing heavy at import time (no scipy, numpy, datasketch, trafilatura or
Scrapy): `rjwatch --help` loads only click and the command modules.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import wraps
from pathlib import Path

import click

from judge.errors import RjwatchError
from rjwatch import settings as settings_mod
from rjwatch.output import FORMATS, default_format, emit, safe

EXIT_USAGE = 2
EXIT_FAILED = 1
#: Exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: Largest id SQLite stores (a signed 64-bit INTEGER); a bigger one overflows before the query runs.
MAX_ID = settings_mod.SQLITE_INT_MAX
#: Largest --limit / --offset: half of MAX_ID, so that offset + limit still fits in an SQLite INTEGER.
MAX_COUNT = MAX_ID // 2
#: The formats of a command that shows one record: `table` is the readable layout (`text` is its old name).
RECORD_FORMATS = ("table", "json")
#: The values of `--status` for posts, in the order the classifier reasons about them.
POST_STATUSES = ("copy", "excerpt", "new", "duplicate", "off_topic")
#: `--since 7d`: a number and a unit (minutes, hours, days, weeks).
_RELATIVE_RE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
#: Width of `--help` text, and of the generated reference (docs/cli.md).
HELP_WIDTH = 100
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": HELP_WIDTH}


class CommandError(ValueError, RjwatchError):
    """A command line that cannot be carried out (options that do not fit together, an unknown id)."""


class Bounded(click.IntRange):
    """A whole number within bounds SQLite can hold; the error names the bounds, the help only the
    lower one (the upper one is far beyond any real id or count)."""

    def _describe_range(self) -> str:
        return f"x>={self.min}"

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            self.fail(f"{value!r} is not a whole number from {self.min:,} to {self.max:,}", param, ctx)


class Finite(click.FloatRange):
    """A number within bounds; NaN passes every comparison, so it is refused by name."""

    name = "number"

    def convert(self, value, param, ctx):
        import math

        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return rv


class Format(click.Choice):
    """One of FORMATS (a subset per command); `text`, the old name of `table`, is still taken."""

    def convert(self, value, param, ctx):
        if value == "text" and "table" in self.choices:
            value = "table"
        return super().convert(value, param, ctx)


class LazyHelpOption(click.Option):
    """An option whose help text is made when help is shown (it names a constant of a heavy module)."""

    def __init__(self, *args, help_text, **kwargs):
        super().__init__(*args, **kwargs)
        self._help_text = help_text

    def get_help_record(self, ctx):
        if self.help is None:
            self.help = self._help_text()
        return super().get_help_record(ctx)


def row_id() -> click.ParamType:
    return Bounded(1, MAX_ID)


def count(low: int = 0) -> click.ParamType:
    return Bounded(low, MAX_COUNT)


class Ctx:
    """The database and the config a command works on, opened on first use."""

    def __init__(self, db_path: str | None = None, config_path: str | None = None):
        self.db_path = db_path
        self.config_path = config_path
        self._cfg = None
        self._db = None

    def use(self, *, db_path: str | None = None, config_path: str | None = None) -> None:
        """Take a `--db` / `--config` given nearer the command (it wins over the group's)."""
        if db_path is not None:
            self.db_path = db_path
        if config_path is not None:
            self.config_path = config_path
        self._cfg = self._db = None

    @property
    def cfg(self):
        if self._cfg is None:
            self._cfg = settings_mod.load(self.config_path, {"db": self.db_path})
        return self._cfg

    @property
    def path(self) -> Path:
        if self.db_path:
            return Path(self.db_path)
        import os

        from storage.db import default_db_path

        if os.environ.get("RJWATCH_DB"):
            return default_db_path()
        return Path(self.cfg["db"])

    def discard_new_database(self) -> None:
        """Remove a database file this command has just created (and its WAL and index files)."""
        import sqlite3

        if self._db is not None:
            try:
                self._db.conn.close()
            except sqlite3.Error:
                pass
            self._db = None
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            except OSError:
                pass

    def db(self, *, create: bool = False):
        if self._db is None:
            from storage.db import connect
            from storage.schema import is_initialised, migrate

            self._db = connect(self.path, create=create)
            if not create and not is_initialised(self._db):
                migrate(self._db)  # bring an older database up to date
        return self._db


def fail(message: str, code: int = EXIT_FAILED) -> None:
    click.echo(f"rjwatch: error: {safe(message)}", err=True)
    sys.exit(code)


def handled(fn):
    """Turn the errors users can cause (every `RjwatchError`) into one-line messages."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RjwatchError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("interrupted", EXIT_INTERRUPTED)
        except BrokenPipeError:
            sys.exit(0)

    return wrapper


# --- --db and --config on every group and command -----------------------------------------------
DB_HELP = "Database file (default: $RJWATCH_DB, else the `db` setting, else ./data/rjwatch.db)."
CONFIG_HELP = "Config file (default: $RJWATCH_CONFIG, else ./rjwatch.toml if present)."


def _take_db(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(Ctx).use(db_path=value)


def _take_config(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(Ctx).use(config_path=value)


def _shared_params(*, root: bool) -> list[click.Parameter]:
    # Only the root reads $RJWATCH_CONFIG: a subcommand's --config is taken only when given, so it
    # cannot undo the root's --config with the variable's value.
    return [
        click.Option(["--db"], metavar="PATH", expose_value=False, callback=_take_db, help=DB_HELP),
        click.Option(
            ["--config"],
            metavar="PATH",
            expose_value=False,
            callback=_take_config,
            help=CONFIG_HELP,
            envvar=settings_mod.CONFIG_ENV if root else None,
        ),
    ]


class Command(click.Command):
    """A command that also takes `--db` and `--config`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.params.extend(_shared_params(root=False))


class Group(click.Group):
    """A group whose commands and subgroups (and itself) take `--db` and `--config`."""

    command_class = Command
    group_class = type  # subgroups are of this class too

    def __init__(self, *args, root: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.params.extend(_shared_params(root=root))


def command(*args, **kwargs):
    """`click.command` making a `Command` (for commands defined apart from their group)."""
    return click.command(*args, cls=Command, **kwargs)


def group(*args, **kwargs):
    """`click.group` making a `Group`."""
    return click.group(*args, cls=Group, **kwargs)


# --- --format, filters and paging ---------------------------------------------------------------
def format_option(choices: tuple[str, ...] = FORMATS, default: str | None = None):
    """`--format` with some of the one set of values: table, tsv, csv, json, jsonl (parquet and atom for export)."""
    if default is None:
        help_text = "Output format (default: table on a terminal, else tsv)."
    else:
        help_text = "Output format."
    return click.option(
        "--format", "fmt", type=Format(choices), default=default, show_default=default is not None, help=help_text
    )


class Output:
    """How a list command prints its rows: the format, the columns (the command's own, or those of
    `--columns`) and whether a header line comes first."""

    def __init__(self, fmt: str | None, columns: Sequence[str], headers: bool):
        self.fmt = fmt or default_format()
        self.columns = tuple(columns)
        self.headers = headers
        self.chosen = False  # True when `--columns` named the columns

    def emit(self, rows: Iterable[dict], *, title: str | None = None) -> int:
        return emit(rows, self.columns, self.fmt, headers=self.headers, title=title)


def pick_columns(value: str | None, columns: Sequence[str], available: Sequence[str]) -> tuple[str, ...]:
    """The columns of `--columns a,b,c` (each one of `available`), or the command's `columns`."""
    if value is None:
        return tuple(columns)
    picked = tuple(c.strip() for c in value.split(",") if c.strip())
    unknown = [c for c in picked if c not in available]
    if unknown or not picked:
        what = f"unknown column {', '.join(map(repr, unknown))}" if unknown else "no column named"
        fail(f"--columns: {what}; the columns are {', '.join(available)}", EXIT_USAGE)
    return picked


def output_options(columns: Sequence[str], available: Sequence[str] | None = None, formats: tuple[str, ...] = FORMATS):
    """`--format`, `--columns` and `--no-headers` of a command printing a list: the command gets `out`
    (an `Output`). Every format prints `columns` (a tuple constant of the command, so that a new column
    is one line) unless `--columns` names others among `available` (default: `columns`)."""
    available = tuple(available or columns)

    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, fmt, columns_, no_headers, **kw):
            out = Output(fmt, pick_columns(columns_, columns, available), not no_headers)
            out.chosen = columns_ is not None
            return fn(*args, out=out, **kw)

        for option in reversed(
            [
                format_option(formats),
                click.option(
                    "--columns",
                    "columns_",
                    metavar="A,B,C",
                    help=f"Print these columns, in this order, any of: {', '.join(available)} "
                    f"(default: {', '.join(columns)}).",
                ),
                click.option(
                    "--no-headers", is_flag=True, help="No header line (the column names) in table, TSV or CSV."
                ),
            ]
        ):
            wrapper = option(wrapper)
        return wrapper

    return decorator


def record_format_option():
    """`--format` of a command showing one record or a summary: a readable layout or JSON."""
    return format_option(RECORD_FORMATS, default="table")


def status_option(choices: tuple[str, ...] = POST_STATUSES, *, multiple: bool = False, what: str = "posts"):
    """`--status`: only the rows with this status (repeatable where `multiple`)."""
    return click.option(
        "--status",
        multiple=multiple,
        type=click.Choice(choices),
        help=f"Only {what} with this status" + (" (repeatable)." if multiple else "."),
    )


def source_option(help_text: str = "Only posts from this source."):
    """`--source URL|ID`: one source, by its id or URL."""
    return click.option("--source", "source_ref", metavar="URL|ID", help=help_text)


def since_option(help_text: str = "Published (else first seen) at or after: 2024-05-01, a timestamp, or 7d."):
    return click.option("--since", metavar="WHEN", help=help_text)


def limit_option(default: int | None = 20, low: int = 1, help_text: str = "At most this many rows."):
    return click.option("--limit", type=count(low), default=default, show_default=default is not None, help=help_text)


def offset_option():
    return click.option("--offset", type=count(), default=0, help="Skip this many rows first (for paging).")


def when(value: str | None, option: str) -> str | None:
    """An ISO 8601 instant from "2024-05-01", a full timestamp, or "7d" / "12h" / "2w" ago."""
    if value is None:
        return None
    m = _RELATIVE_RE.match(value.strip())
    if m:
        try:
            return (datetime.now(UTC) - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})).isoformat(
                timespec="seconds"
            )
        except OverflowError:
            raise click.BadParameter(f"{value!r} reaches back before the year 1", param_hint=option) from None
    from judge import dates

    try:
        parsed = dates.parse(value)
        if parsed is not None:
            return parsed.astimezone(UTC).isoformat(timespec="seconds")
    except OverflowError:  # 9999-12-31T23:59-14:00 is past the year 9999 in UTC
        raise click.BadParameter(
            f"{value!r} is out of the range of dates (years 1 to 9999 in UTC)", param_hint=option
        ) from None
    raise click.BadParameter(
        f"{value!r} is not a date (use 2024-05-01, an ISO timestamp, or 7d / 12h / 2w)", param_hint=option
    )


def filter_options(fn):
    """The filters shared by search, export and saved searches: the command gets `filters`."""
    for decorator in reversed(
        [
            status_option(POST_STATUSES, multiple=True),
            click.option("--lang", multiple=True, metavar="CODE", help="Only this language, e.g. ja (repeatable)."),
            source_option(),
            since_option(),
            click.option("--until", metavar="WHEN", help="Published (else first seen) before this."),
            click.option(
                "--seed", "seed_id", type=row_id(), metavar="ID", help="Only copies and excerpts of this seed."
            ),
            click.option("--min-relevance", type=Finite(0, 1), help="Only posts scoring at least this."),
        ]
    ):
        fn = decorator(fn)

    @wraps(fn)
    def wrapper(obj: Ctx, *args, status, lang, source_ref, since, until, seed_id, min_relevance, **kw):
        from storage.search import Filters

        source_id = None
        if source_ref:
            from storage.sources import get_source

            source_id = get_source(obj.db(), source_ref)["id"]
        filters = Filters(
            status=tuple(status),
            lang=tuple(lang),
            source_id=source_id,
            since=when(since, "--since"),
            until=when(until, "--until"),
            seed=seed_id,
            min_relevance=min_relevance,
        )
        return fn(obj, *args, filters=filters, **kw)

    return wrapper


def page_options(columns: Sequence[str], available: Sequence[str]):
    """Order, paging and output (`output_options`): shared by search and saved run."""

    def rank_help() -> str:
        from storage.search import RANK_WINDOW

        return (
            f"Order by relevance to the query (bm25, title weighted above text) among the newest "
            f"{RANK_WINDOW:,} matches, instead of most recently collected first; adds the column score."
        )

    def decorator(fn):
        for option in reversed(
            [
                click.option("--rank", is_flag=True, cls=LazyHelpOption, help_text=rank_help),
                limit_option(20),
                offset_option(),
                output_options(columns, available),
            ]
        ):
            fn = option(fn)
        return fn

    return decorator


def blogger_sources(db, source_ref: str | None, *, register: bool = False) -> list[dict]:
    """The blogs a crawl takes: one named source (a URL not known yet is registered as a blogger source
    only when `register`: a mistyped URL must not become a new blog), or every enabled blogger source."""
    from rjwatch.inputs import check_url
    from storage.sources import SourceError, add_source, get_source, list_sources

    if not source_ref:
        return list_sources(db, kind="blogger", state="enabled")
    try:
        source = get_source(db, source_ref)
    except SourceError:
        if not source_ref.startswith(("http://", "https://")):
            raise
        if not register:
            raise CommandError(
                f"no source {source_ref}; to crawl a new blog, add --add (or register it first: rjwatch source add URL)"
            ) from None
        check_url(source_ref, what="--source")
        source = get_source(db, add_source(db, source_ref, "blogger")[0])
    if source["kind"] != "blogger":
        raise CommandError(f"source #{source['id']} is a {source['kind']} source; crawls take blogs")
    return [source]
