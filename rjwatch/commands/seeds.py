"""`rjwatch seed`: the reference articles that copies and excerpts are measured against."""

from __future__ import annotations

from pathlib import Path

import click

from rjwatch.commands.common import Ctx, Output, group, handled, output_options, row_id
from rjwatch.output import safe

#: The columns `seed list` prints, in every format.
SEED_COLUMNS = ("id", "title", "published", "lang", "chars", "origin")


def add_seed_from(obj: Ctx, ref: str) -> tuple[int, str, bool]:
    """Store the one article of a file or URL as a seed: (seed id, title, stored now)."""
    from rjwatch.inputs import NO_URL, InputError, posts_from, read_input
    from storage.seeds import add_seed

    loaded = read_input(ref, obj.cfg)
    kind, items = posts_from(loaded, need_url=False)
    if len(items) != 1:
        raise InputError(f"{ref}: a seed must be one article, got a {kind} with {len(items)} posts")
    it = items[0]
    body = it.get("text")
    if it.get("html"):
        from judge.htmltext import html_to_text

        body = html_to_text(it["html"])
    url = it.get("url") if it.get("url") != NO_URL else None
    sid, created = add_seed(
        obj.db(),
        title=it.get("title") or Path(ref).stem,
        body=body or "",
        published=it.get("published"),
        url=url,
        origin=ref,
    )
    return sid, it.get("title") or ref, created


@group()
def seed() -> None:
    """Reference articles that copies and excerpts are measured against."""


@seed.command("add")
@click.argument("ref", metavar="FILE|URL")
@click.pass_obj
@handled
def seed_add(obj: Ctx, ref: str) -> None:
    """Add a reference article: FILE|URL is a saved page, a text file or a URL.

    Example:

    \b
        rjwatch seed add saved-article.html
    """
    sid, title, created = add_seed_from(obj, ref)
    click.echo(f"seed #{sid}: {safe(title)}" + ("" if created else " [already loaded]"))
    if created:
        rejudge_hint(obj)


def rejudge_hint(obj: Ctx) -> None:
    """Say how many stored posts were judged under other seeds, and how to re-judge them."""
    from storage.rejudge import stale_count

    n = stale_count(obj.db())
    if n:
        click.echo(
            f"{n} stored post(s) were judged under other seeds: run `rjwatch rejudge` to judge them "
            "again (`rjwatch rejudge --dry-run` shows what would change)"
        )


@seed.command("remove")
@click.argument("seed_id", type=row_id(), metavar="ID")
@click.pass_obj
@handled
def seed_remove(obj: Ctx, seed_id: int) -> None:
    """Remove the seed ID (see `seed list`); stored posts keep their verdicts until `rjwatch rejudge`.

    Example:

    \b
        rjwatch seed remove 2
    """
    from storage.seeds import remove_seed

    title = remove_seed(obj.db(), seed_id)
    click.echo(f"removed seed #{seed_id}: {safe(title)}")
    rejudge_hint(obj)


@seed.command("list")
@output_options(SEED_COLUMNS)
@click.pass_obj
@handled
def seed_list(obj: Ctx, out: Output) -> None:
    """List the seeds.

    Example:

    \b
        rjwatch seed list
    """
    from storage.seeds import list_seeds

    out.emit(list_seeds(obj.db()))


COMMANDS = [seed]
