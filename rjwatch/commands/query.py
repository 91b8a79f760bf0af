"""The commands that read the corpus: posts, show, search, copies, stats.

They only read, and they print through `rjwatch.output`, so text from the web never reaches the
terminal with escape codes in it. `print_hits` also prints the results of `saved run`.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING

import click

from rjwatch.colours import styled, terminal_style
from rjwatch.commands.common import (
    POST_STATUSES,
    Ctx,
    Output,
    command,
    fail,
    filter_options,
    handled,
    limit_option,
    offset_option,
    output_options,
    page_options,
    record_format_option,
    row_id,
    since_option,
    status_option,
    when,
)
from rjwatch.output import RELEVANCE_DECIMALS_TERMINAL, emit, rounded, safe, short_date, short_time

if TYPE_CHECKING:
    from storage.search import Filters

#: Marks around matches in snippets printed as plain text (TSV, JSON, CSV).
PLAIN_MARKS = ("**", "**")


#: The columns `posts` prints, in every format. `url` is where the post was fetched from (the link
#: that opens); `canonical_url` is its identity (scheme and host normalised), which may not answer.
POSTS_COLUMNS = (
    "id",
    "published",
    "status",
    "analyst_status",
    "relevance",
    "lang",
    "source",
    "title",
    "url",
    "canonical_url",
)
#: What else `posts --columns` can name (storage.queries.list_posts returns them all).
POSTS_MORE_COLUMNS = (
    "machine_status",
    "first_seen",
    "author",
    "duplicate_of",
    "sightings",
    "summary_only",
    "media_only",
    "flags",
    "full_text",
    "matched_terms",
    "seed_similarity",
)
#: The orders of `posts --sort` (storage.queries.POST_ORDERS).
POST_SORTS = ("published", "collected", "relevance")


@command()
@status_option(POST_STATUSES)
@click.option(
    "--sort",
    type=click.Choice(POST_SORTS),
    default="published",
    show_default=True,
    help="published: newest publication date first (posts without one by when they were collected); "
    "collected: most recently stored first; relevance: highest score first.",
)
@limit_option(None, low=0, help_text="At most this many posts.")
@offset_option()
@output_options(POSTS_COLUMNS, POSTS_COLUMNS + POSTS_MORE_COLUMNS)
@click.pass_obj
@handled
def posts(obj: Ctx, status: str | None, sort: str, limit: int | None, offset: int, out: Output) -> None:
    """List stored posts, newest published first (see --sort), with the URL each was fetched from.

    Example:

    \b
        rjwatch posts --status copy --sort relevance --format json
        rjwatch posts --columns id,published,url --no-headers | cut -f3
    """
    from storage.queries import list_posts

    out.emit(list_posts(obj.db(), status=status, sort=sort, limit=limit, offset=offset))


@command()
@click.argument("post_id", type=row_id())
@record_format_option()
@click.pass_obj
@handled
def show(obj: Ctx, post_id: int, fmt: str) -> None:
    """Show the post POST_ID with its evidence: why it got its status, sightings, duplicates, revisions,
    and the WARC records of its raw responses (file, offset, record id, SHA-256; `rjwatch evidence ID`).

    Example:

    \b
        rjwatch show 42
    """
    from judge import dates
    from judge.diff import revision_diff
    from storage.queries import get_post, revision_texts

    post = get_post(obj.db(), post_id)
    if post is None:
        fail(f"no post #{post_id}")
    versions = revision_texts(obj.db(), post_id)
    post["revision_diffs"] = [
        line
        for (la, a), (lb, b) in zip(versions, versions[1:])
        for line in revision_diff(a, b, old_label=la, new_label=lb)
    ]
    post = safe(post)
    post["relevance"] = rounded(post["relevance"], fmt)
    if fmt == "json":
        click.echo(json.dumps(post, ensure_ascii=False, indent=2))
        return
    ev = post.get("evidence") or {}
    click.echo(f"#{post['id']}  {styled(post['status'], post['status'].upper())}  {post['title'] or '(no title)'}")
    click.echo(f"  url:         {post['url']}")
    click.echo(f"  canonical:   {post['canonical_url']}")
    for s in post["sightings"]:
        if s["via"] == "query":  # the link a search or alert feed gave, behind the publisher's URL
            unresolved = " (not resolved to the publisher)" if s["url"] == post["url"] else ""
            click.echo(f"  feed link:   {s['url']}{unresolved}")
    click.echo(
        f"  published:   {short_time(post['published']) or dates.UNDATED}   "
        f"first seen: {short_time(post['first_seen'])}   lang: {post['lang'] or '-'}"
    )
    if post.get("post_id"):
        click.echo(f"  blogger:     blog {post['blog_id']} post {post['post_id']}")
    click.echo(f"  source:      {post.get('source') or '-'}")
    for i, r in enumerate(post["evidence_records"]):
        click.echo(("  evidence:    " if i == 0 else " " * 15) + evidence_line(r))
    if post.get("analyst_status"):
        last = post["marks"][-1] if post["marks"] else {}
        note = f": {last['note']}" if last.get("note") else ""
        of = f" of #{post['duplicate_of']}" if post["analyst_status"] == "duplicate" else ""
        click.echo(
            f"  analyst:     {post['analyst_status']}{of} (by {last.get('by', '?')}, {last.get('at', '?')}{note}); "
            f"rjwatch says {post.get('machine_status') or '-'}"
        )
    if len(post["marks"]) > 1 or (post["marks"] and not post.get("analyst_status")):
        click.echo(f"  marks ({len(post['marks'])}):")
        for m in post["marks"]:
            click.echo(
                f"    {m['at']}  {m['by']}: {m['status']} (rjwatch said {m['machine_status']}) {m['note'] or ''}"
            )
    if ev.get("flags"):
        from judge.analyze import FLAG_TEXT

        click.echo("  flags:       " + "; ".join(FLAG_TEXT.get(f, f) for f in ev["flags"]))
    if ev.get("full_text"):
        click.echo(f"  full text:   missing, judged on the feed's teaser: {ev['full_text']}")
    if ev.get("extraction"):
        click.echo(f"  extraction:  {ev['extraction']}")
    click.echo("  verdict:")
    for reason in ev.get("reasons", []):
        click.echo(f"    {reason}")
    click.echo(f"  relevance {post['relevance']:.{RELEVANCE_DECIMALS_TERMINAL}f}:")
    for reason in ev.get("relevance", []):
        click.echo(f"    {reason}")
    for concept, terms in (post.get("matched_terms") or {}).items():
        click.echo(f"    {concept}: " + ", ".join(f"{t}×{n}" for t, n in sorted(terms.items(), key=lambda kv: -kv[1])))
    for sid, s in (post.get("seed_similarity") or {}).items():
        if s.get("kind") == "translation":
            click.echo(
                f"  seed #{sid} ({post['seeds'].get(sid, '?')}): translation, {s['paragraphs']} of "
                f"{s['seed_paragraphs']} paragraphs in order, {s['containment']:.0%} of its names and numbers"
            )
            continue
        click.echo(
            f"  seed #{sid} ({post['seeds'].get(sid, '?')}): containment {s['containment']:.2f}, "
            f"jaccard {s['jaccard']:.2f}, {s['shared']} shingles shared"
        )
    if post.get("duplicate_of"):
        click.echo(f"  duplicate of: #{post['duplicate_of']}")
    if post["duplicates"]:
        click.echo("  duplicates pointing here: " + ", ".join(f"#{d['id']}" for d in post["duplicates"]))
    click.echo(f"  sightings ({len(post['sightings'])}):")
    for s in post["sightings"]:
        click.echo(f"    {s['via']:<6} {s['url']}  (first {short_time(s['first_seen'])}, seen {s['times']}×)")
    if post.get("page_state") or post["page_checks"]:
        from storage.queries import page_label

        click.echo(f"  page:        {page_label(post.get('page_state'), post.get('page_state_at'))}")
        click.echo(f"  checks ({len(post['page_checks'])}):")
        for c in post["page_checks"]:
            status = f"HTTP {c['http_status']}" if c["http_status"] else "no answer"
            click.echo(
                f"    {short_time(c['checked_at'])}  {c['outcome']:<13} {status}  {c['detail'] or ''}"
                + (f"  (next {short_time(c['next_check'])})" if c["next_check"] else "")
            )
    if post.get("archive"):
        a = post["archive"]
        where = a["location"] or f"HTTP {a['http_status']}"
        state = f"archived {short_time(a['archived_at'])}: {where}" if a["archived_at"] else "not yet archived"
        click.echo(f"  web archive: {state} ({a['attempts']} attempt(s))")
    if post["revisions"]:
        click.echo(f"  revisions ({len(post['revisions'])} earlier):")
        for r in post["revisions"]:
            click.echo(
                f"    r{r['revision']} replaced {short_time(r['replaced_at'])} ({r['chars']} chars, was {r['status']})"
            )
        for line in post["revision_diffs"]:
            colour = "green" if line.startswith("+") else "red" if line.startswith("-") else None
            click.echo("    " + click.style(line, fg=colour if not line.startswith(("+++", "---")) else None))
    click.echo("")
    click.echo(post["text"])


# --- search -------------------------------------------------------------------------------------
#: The columns `search` and `saved run` print (the terminal shows each match as a card with its
#: snippet highlighted, unless --columns names columns); --rank adds `score`.
SEARCH_COLUMNS = ("id", "published", "first_seen", "status", "lang", "relevance", "source", "title", "url", "snippet")
#: What `search --columns` can name besides SEARCH_COLUMNS.
SEARCH_MORE_COLUMNS = ("canonical_url", "score")


@command()
@click.argument("query")
@page_options(SEARCH_COLUMNS, SEARCH_COLUMNS + SEARCH_MORE_COLUMNS)
@click.pass_obj
@handled
@filter_options
def search(obj: Ctx, query: str, filters: Filters, rank: bool, limit: int, offset: int, out: Output) -> None:
    """Full-text search over titles and texts, most recently collected first (--rank: by relevance to
    the query).

    QUERY uses FTS5 syntax: words (all must match), "exact phrases", OR, NOT, prefixes (Kuril*),
    NEAR(Abe Putin, 10), and title:Kuril. Japanese, Chinese and Korean terms are found anywhere
    in a sentence; Russian inflections are found with a prefix (Курил*).

    Example:

    \b
        rjwatch search 'Kuril* AND (Abe OR Putin)' --since 30d --status new
    """
    from storage.search import search as run_search

    rows = run_search(obj.db(), query, filters, rank=rank, limit=limit, offset=offset)
    print_hits(rows, out, rank=rank)


def print_hits(rows: list[dict], out: Output, *, rank: bool = False) -> None:
    if rank and not out.chosen:
        out.columns += ("score",)
    for r in rows:
        if "score" in r:
            r["score"] = round(-r["score"], 4)  # bm25 is negative: bigger is better once flipped
    if out.fmt != "table" or out.chosen:
        for r in rows:
            r["snippet"] = _marks(r.get("snippet"), *PLAIN_MARKS)
        out.emit(rows)
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=True, header_style="bold", show_header=out.headers)
    for c in ("id", "published", "status", "lang", "relevance", "title / snippet"):
        table.add_column(c, overflow="fold")
    for r in rows:
        cell = Text(safe(r.get("title") or "(no title)"), style="bold")
        cell.append("\n")
        cell.append(_highlighted(r.get("snippet")))
        cell.append("\n" + safe(r["url"]), style="dim")
        if r.get("source"):
            cell.append("  " + safe(r["source"]), style="dim")
        table.add_row(
            str(r["id"]),
            short_date(r.get("published") or r.get("first_seen")) or "",
            Text(r["status"], style=terminal_style(r["status"])),
            r.get("lang") or "",
            f"{rounded(r['relevance'], 'table'):.{RELEVANCE_DECIMALS_TERMINAL}f}",
            cell,
        )
    console = Console(markup=False, highlight=False)
    console.print(table)
    if not rows:
        console.print("no matches")


def _marks(snippet: str | None, start: str, end: str) -> str:
    from storage.search import HIT_END, HIT_START

    return safe(snippet or "").replace(HIT_START, start).replace(HIT_END, end)


def _highlighted(snippet: str | None):
    from rich.text import Text

    from storage.search import HIT_END, HIT_START

    text = Text()
    for i, part in enumerate(re.split(f"[{HIT_START}{HIT_END}]", safe(" ".join((snippet or "").split())))):
        text.append(part, style="bold yellow" if i % 2 else None)
    return text


# --- copies -------------------------------------------------------------------------------------
#: The columns `copies` prints, in every format.
COPIES_COLUMNS = (
    "id",
    "first_seen",
    "published",
    "status",
    "kind",
    "lang",
    "containment",
    "blog",
    "url",
    "changes",
    "seed",
    "title",
    "sightings",
    "page",
)


@command()
@click.option("--seed", "seed_id", type=row_id(), metavar="ID", help="Only this seed (default: every seed).")
@click.option("--removed", is_flag=True, help="Only copies whose page is gone (it answered 404/410 when re-checked).")
@output_options(COPIES_COLUMNS)
@click.pass_obj
@handled
def copies(obj: Ctx, seed_id: int | None, removed: bool, out: Output) -> None:
    """The seed's spread: every copy and excerpt in the order they were first seen, with what
    changed against the seed. Translations into another language are listed too (kind
    `translation`, with their language). `page` says whether the copy's page is still there
    (`live`) or was found `removed` or `revised` on that date (`rjwatch recheck`).

    Example:

    \b
        rjwatch copies --seed 1 --format csv > spread.csv
        rjwatch copies --removed
    """
    from storage.queries import seed_spread
    from storage.seeds import seed_exists

    db = obj.db()
    if seed_id is not None and not seed_exists(db, seed_id):
        fail(f"no seed #{seed_id} (see `rjwatch seed list`)")
    n = out.emit(seed_spread(db, seed_id, removed=removed), title="copies and excerpts of the seed")
    if out.fmt == "table":
        click.echo(f"{n} copies and excerpts" if n else "no copies or excerpts yet", err=True)


# --- stats --------------------------------------------------------------------------------------
@command()
@since_option("Only posts published (else first seen) since: 2024-05-01, a timestamp, or 30d.")
@click.option(
    "--until", metavar="WHEN", help="Only posts published (else first seen) before this (same forms as --since)."
)
@click.option(
    "--plot",
    "plot_path",
    metavar="FILE.png",
    type=click.Path(dir_okay=False),
    help="Also draw posts per day, ISO week, month or year (chosen from the range), stacked by status "
    "and by language, with seed copies marked; --since/--until zoom in (needs matplotlib).",
)
@record_format_option()
@click.pass_obj
@handled
def stats(obj: Ctx, since: str | None, until: str | None, plot_path: str | None, fmt: str) -> None:
    """Counts by status, source, language, day and ISO week; top sources of new coverage; crawl and
    poll health.

    Example:

    \b
        rjwatch stats --since 90d --plot coverage.png
        rjwatch stats --since 2022-01-01 --until 2023-01-01 --plot 2022.png
    """
    from storage.queries import daily_counts
    from storage.queries import stats as get_stats

    since, until = when(since, "--since"), when(until, "--until")
    if since and until and since >= until:
        fail(f"--since {since} is not before --until {until}")
    if plot_path:
        from rjwatch import plot

        plot.require()  # before any work: a missing extra is said at once
        plot.check_target(plot_path)  # and so is a missing folder or an unknown image type
    db = obj.db()
    data = get_stats(db, since=since, until=until)
    if fmt == "json":
        click.echo(json.dumps(safe(data), ensure_ascii=False, indent=2))
    else:
        click.echo(f"posts: {data['total']}")
        if data["outside_profile"]:
            click.echo(
                f"in languages the topic profile does not cover: {data['outside_profile']} "
                f"(it covers {', '.join(data['profile_languages'])}; extend it to judge the others)"
            )
        sections = [
            ("by status", "by_status"),
            ("by language", "by_lang"),
            ("by source", "by_source"),
            ("top sources of new coverage", "top_new_sources"),
            ("by day (latest)", "by_day"),
            ("by week (latest)", "by_week"),
            ("runs", "runs"),
            ("sources", "sources"),
            ("failing sources", "failing"),
        ]
        for title, key in sections:
            rows = data[key]
            if not rows:
                continue
            click.echo(f"\n{title}:")
            emit(rows, list(rows[0].keys()), "table" if sys.stdout.isatty() else "tsv")
    if plot_path:
        facts = plot.coverage(daily_counts(db, since=since, until=until), plot_path, since=since, until=until)
        click.echo(
            f"plot written to {plot_path} ({facts['total']} posts per {plot.UNIT_NAMES[facts['unit']]})", err=True
        )


def evidence_line(r: dict) -> str:
    """One WARC record as `show` names it: file, offset, record id, digest, fetch time, HTTP status."""
    reason = f", {r['reason']}" if r["reason"] != "first" else ""
    return (
        f"{r['warc_file']} offset {r['offset']} (record {r['record_id']}, sha256 {r['sha256'][:12]}…, "
        f"{r['fetched_at']}, HTTP {r['http_status']}{reason})"
    )


COMMANDS = [posts, show, search, copies, stats]
