"""`rjwatch saved`: saved searches, a name for a query and its filters (alert rules can use the name)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from rjwatch.commands.common import Ctx, Output, filter_options, group, handled, output_options, page_options
from rjwatch.commands.query import SEARCH_COLUMNS, SEARCH_MORE_COLUMNS, print_hits

#: The columns `saved list` prints, in every format.
SAVED_COLUMNS = ("name", "query", "filters", "created_at")

if TYPE_CHECKING:
    from storage.search import Filters


@group()
def saved() -> None:
    """Saved searches: a name for a query and its filters. Alert rules can use the name."""


@saved.command("add")
@click.argument("name")
@click.argument("query")
@click.option("--replace", is_flag=True, help="Overwrite a saved search with the same name.")
@click.pass_obj
@handled
@filter_options
def saved_add(obj: Ctx, name: str, query: str, filters: Filters, replace: bool) -> None:
    """Save the search QUERY under NAME (the query is checked first).

    Example:

    \b
        rjwatch saved add kurils 'Kuril* OR 北方領土 OR Курил*' --min-relevance 0.5
    """
    from storage import saved as saved_mod

    saved_mod.add(obj.db(), name, query, filters, replace=replace)
    click.echo(f"saved search {name!r}: {query}")


@saved.command("list")
@output_options(SAVED_COLUMNS)
@click.pass_obj
@handled
def saved_list(obj: Ctx, out: Output) -> None:
    """List saved searches.

    Example:

    \b
        rjwatch saved list
    """
    from storage import saved as saved_mod

    out.emit(saved_mod.list_all(obj.db()))


@saved.command("run")
@click.argument("name")
@page_options(SEARCH_COLUMNS, SEARCH_COLUMNS + SEARCH_MORE_COLUMNS)
@click.pass_obj
@handled
def saved_run(obj: Ctx, name: str, rank: bool, limit: int, offset: int, out: Output) -> None:
    """Run the saved search NAME.

    Example:

    \b
        rjwatch saved run kurils --limit 50
    """
    from storage import saved as saved_mod
    from storage.search import search as run_search

    db = obj.db()
    query, filters = saved_mod.get(db, name)
    print_hits(run_search(db, query, filters, rank=rank, limit=limit, offset=offset), out, rank=rank)


@saved.command("feed")
@click.argument("name")
@click.option(
    "--base-url",
    metavar="URL",
    default=None,
    help="The address the desk is served at, for the feed's links (default: where `rjwatch serve` listens).",
)
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=None,
    help="Most entries (the newest) in the feed (default: as many as the served feed).",
)
@click.pass_obj
@handled
def saved_feed(obj: Ctx, name: str, base_url: str | None, limit: int | None) -> None:
    """Print the Atom feed of the saved search NAME, newest first.

    The same feed as `rjwatch serve` gives at /feeds/saved/NAME.atom.

    Example:

    \b
        rjwatch saved feed kurils > kurils.atom
    """
    from rjwatch import atom

    data = atom.feed(
        obj.db(),
        "saved",
        name=name,
        base_url=base_url or atom.DEFAULT_BASE_URL,
        limit=limit or atom.FEED_ENTRIES,
    )
    with click.open_file("-", "wb") as out:
        out.write(data)


@saved.command("remove")
@click.argument("name")
@click.pass_obj
@handled
def saved_remove(obj: Ctx, name: str) -> None:
    """Delete the saved search NAME.

    Example:

    \b
        rjwatch saved remove kurils
    """
    from storage import saved as saved_mod

    saved_mod.remove(obj.db(), name)
    click.echo(f"removed saved search {name!r}")


COMMANDS = [saved]
