"""The commands that collect posts: classify (a dry run), ingest, crawl, poll, and the runs they leave."""

from __future__ import annotations

import json
import signal
import sys

import click

from judge.identity import mask_url, mask_urls
from rjwatch.colours import styled
from rjwatch.commands.common import (
    EXIT_FAILED,
    CommandError,
    Ctx,
    Output,
    blogger_sources,
    command,
    handled,
    limit_option,
    output_options,
    record_format_option,
    source_option,
)
from rjwatch.output import RELEVANCE_DECIMALS_TERMINAL, rounded, safe

#: Levels of Scrapy's log that `rjwatch crawl --log-level` takes.
LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
#: `-v` shows Scrapy's usual log, `-vv` everything (each request and item).
VERBOSE_LEVELS = {1: "INFO", 2: "DEBUG"}


# --- classify ----------------------------------------------------------------------------------
def _classification(ingestor, item: dict) -> dict:
    from rjwatch.inputs import NO_URL

    a = ingestor.analyze(item)
    verdict, _ = ingestor.verdict(a, exclude=ingestor.find_existing(a))
    return {
        "title": a.title,
        "author": a.author,
        "published": _iso(a.published),
        "lang": a.lang,
        "text": a.text,
        "url": None if a.url == NO_URL else a.url,
        "canonical_url": None if a.url == NO_URL else a.canonical_url,
        "blogger": {"blog_id": a.blog_id, "post_id": a.post_id},
        "status": verdict.status,
        "relevance": rounded(a.relevance.score, "json"),
        "matched_terms": a.relevance.matched_terms,
        "seed_similarity": a.seed_similarity,
        "duplicate_of": verdict.duplicate_of,
        "extraction": item.get("extraction") or "generic",
        "reasons": verdict.reasons + a.relevance.reasons + ([item["extraction"]] if item.get("extraction") else []),
    }


def _iso(value):
    from judge import dates

    return dates.normalize(value)


@command()
@click.argument("ref", metavar="FILE|URL|-")
@click.option("--url", help="The URL the input was fetched from (for identity and links).")
@record_format_option()
@click.pass_obj
@handled
def classify(obj: Ctx, ref: str, url: str | None, fmt: str) -> None:
    """Dry run: extract and classify FILE|URL|- (a page, feed or text; - reads stdin) without storing it.

    A feed gives one result per entry (a JSON array when there are several). The comparison runs
    against the seeds and posts in the database when it exists, else against the packaged seed.

    Example:

    \b
        rjwatch classify saved-post.html --format json
    """
    from rjwatch.inputs import check_url, posts_from, read_input

    check_url(url)
    loaded = read_input(ref, obj.cfg, url=url)
    kind, items = posts_from(loaded, need_url=False, rules=obj.cfg["extract_rules"])
    ingestor = _dry_ingestor(obj)
    results = [_classification(ingestor, it) for it in items]
    if fmt == "json":
        click.echo(json.dumps(safe(results[0] if len(results) == 1 else results), ensure_ascii=False, indent=2))
        return
    for r in results:
        _print_verdict(r)


def _dry_ingestor(obj: Ctx):
    """An Ingestor over the database if there is one, else over an in-memory one with the seed."""
    from storage.ingest import Ingestor

    if obj.path.exists():
        return Ingestor(obj.db())
    import sqlite3

    import sqlite_utils

    from rjwatch.bootstrap import initialise

    mem = sqlite_utils.Database(sqlite3.connect(":memory:", isolation_level=None))
    initialise(mem, obj.cfg["topic"] or None)
    return Ingestor(mem)


def _print_verdict(r: dict) -> None:
    from judge import dates

    r = safe(r)
    click.echo(f"{styled(r['status'], r['status'].upper())}  {r['title'] or '(no title)'}")
    click.echo(f"  url:        {r['canonical_url'] or '(none given: pass --url)'}")
    click.echo(f"  published:  {r['published'] or dates.UNDATED}   lang: {r['lang'] or '-'}")
    if r["blogger"]["post_id"]:
        click.echo(f"  blogger:    blog {r['blogger']['blog_id']} post {r['blogger']['post_id']}")
    click.echo(f"  relevance:  {r['relevance']:.{RELEVANCE_DECIMALS_TERMINAL}f}")
    if r.get("extraction") and r["extraction"] != "generic":
        click.echo(f"  extraction: {r['extraction']}")
    for sid, s in r["seed_similarity"].items():
        if s.get("kind") == "translation":
            click.echo(
                f"  seed #{sid}:    translation, {s['paragraphs']} of {s['seed_paragraphs']} paragraphs in order"
            )
            continue
        click.echo(
            f"  seed #{sid}:    containment {s['containment']:.2f}  jaccard {s['jaccard']:.2f}  shared {s['shared']}"
        )
    if r["duplicate_of"]:
        click.echo(f"  duplicate of post #{r['duplicate_of']}")
    click.echo("  why:")
    for reason in r["reasons"]:
        click.echo(f"    {reason}")


# --- ingest -------------------------------------------------------------------------------------
@command()
@click.argument("refs", nargs=-1, required=True, metavar="FILE|URL...")
@click.option("--url", help="The URL a single input was fetched from.")
@record_format_option()
@click.pass_obj
@handled
def ingest(obj: Ctx, refs: tuple[str, ...], url: str | None, fmt: str) -> None:
    """Store saved HTML pages, feeds (Atom/RSS) and Blogger export files (FILE|URL...), as if fetched
    from URL.

    Inputs that cannot be read are reported and skipped; the rest are stored. Entries an input
    holds but that could not be read are reported with the input's counts. The exit code is 1 when
    any input, entry or post failed.

    Example:

    \b
        rjwatch ingest saved/*.html --format json
        rjwatch ingest page.html --url https://example.blogspot.com/2017/03/post.html
    """
    from rjwatch.inputs import InputError, Note, check_url, posts_from, read_input
    from storage.ingest import Ingestor, default_workers

    check_url(url)
    if url and len(refs) > 1:
        raise CommandError("--url names one input; give one FILE with it")
    ingestor = Ingestor(obj.db())
    totals = {"inputs": 0, "posts": 0, "inserted": 0, "seen": 0, "updated": 0, "errors": 0}
    by_status: dict[str, int] = {}
    problems: list[str] = []
    warnings: list[str] = []
    items: list[dict] = []
    for ref in refs:
        totals["inputs"] += 1
        notes: list[Note] = []
        try:
            loaded = read_input(ref, obj.cfg, url=url)
            _, found = posts_from(loaded, need_url=True, notes=notes, rules=obj.cfg["extract_rules"])
        except InputError as exc:
            totals["errors"] += 1
            problems.append(str(exc))
            continue
        for note in notes:
            totals["errors"] += note.lost
            (problems if note.lost else warnings).append(note.line)
        items.extend(found)
    workers = default_workers(len(items)) if int(obj.cfg["ingest_workers"]) < 0 else int(obj.cfg["ingest_workers"])
    for result in ingestor.ingest_stream(items, batch_size=int(obj.cfg["batch_size"]), workers=workers):
        for o in result.outcomes:
            totals["posts"] += 1
            if o.action == "error":
                totals["errors"] += 1
                problems.append(f"{o.url or '(no url)'}: {o.error}")
            else:
                totals[o.action] += 1
        for k, v in result.by_status().items():
            by_status[k] = by_status.get(k, 0) + v
    if fmt == "json":
        click.echo(
            json.dumps(
                safe({**totals, "new_by_status": by_status, "problems": problems, "warnings": warnings}),
                ensure_ascii=False,
            )
        )
    else:
        for p in problems:
            click.echo(f"rjwatch: skipped: {safe(p)}", err=True)
        for w in warnings:
            click.echo(f"rjwatch: warning: {safe(w)}", err=True)
        status_text = ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) or "none"
        click.echo(
            f"{totals['inputs']} input(s), {totals['posts']} post(s): {totals['inserted']} stored "
            f"({status_text}), {totals['seen']} seen before, {totals['updated']} updated, "
            f"{totals['errors']} failed"
        )
    if totals["errors"]:
        sys.exit(EXIT_FAILED)


@command()
@source_option("One blog (default: every enabled blogger source).")
@click.option("--add", "add", is_flag=True, help="Register the --source URL as a new blog if it is not a source yet.")
@click.option("--full", is_flag=True, help="Walk the whole blog again instead of asking only for what is new.")
@click.option("--query", help="Only posts the blog's own search or label feed returns for this term.")
@click.option(
    "--set",
    "-s",
    "scrapy_set",
    multiple=True,
    metavar="KEY=VALUE",
    help="A Scrapy setting for this run (like `scrapy crawl -s`), e.g. -s DOWNLOAD_DELAY=2.",
)
@click.option(
    "--cluster",
    "cluster_redis",
    metavar="REDIS_URL",
    is_flag=False,
    flag_value="config",
    help="Push the blogs to the cluster's frontier instead of crawling here (docs/cluster.md); "
    "without a value, the cluster.redis_url setting.",
)
@click.option(
    "--verbose",
    "-v",
    count=True,
    help="Show Scrapy's log (INFO; -vv: DEBUG) instead of the progress line.",
)
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    help="Show Scrapy's log from this level on instead of the progress line (wins over -v).",
)
@click.pass_obj
@handled
def crawl(
    obj: Ctx,
    source_ref: str | None,
    add: bool,
    full: bool,
    query: str | None,
    scrapy_set: tuple[str, ...],
    cluster_redis: str | None,
    verbose: int,
    log_level: str | None,
) -> None:
    """Crawl Blogger blogs with Scrapy (feed first, then HTML), politely and incrementally.

    A URL that is not a source yet is refused, unless --add registers it as a blogger source first.
    It shows a progress line, errors (one line each) and a summary per blog; Scrapy's own log with
    -v or --log-level (or a LOG_LEVEL given with --set). The exit code is non-zero when a crawl was interrupted or every request of a crawl failed (the
    cause is printed and kept in the source's health: rjwatch source show ID).

    Example:

    \b
        rjwatch crawl --source https://example.blogspot.com --add
    """
    from rjwatch.crawling import crawl_locks, run_blog_crawls

    if add and not source_ref:
        raise CommandError("--add needs --source URL (the blog to register and crawl)")
    db = obj.db()
    chosen = blogger_sources(db, source_ref, register=add)
    if not chosen:
        click.echo("no blogger sources to crawl (add one: rjwatch source add URL --kind blogger)")
        return
    if cluster_redis:
        from rjwatch.commands.cluster import cluster_url, seed_sources

        if query:
            raise CommandError("--query crawls run locally, not in the cluster")
        seed_sources(obj, cluster_url(obj, None if cluster_redis == "config" else cluster_redis), chosen, full=full)
        return
    # A stop asked for before Scrapy takes over the signals (it does when the crawl starts) ends the
    # command cleanly: locks released, no run left open.
    signal.signal(signal.SIGTERM, _interrupt)
    # Only this process's own runs: the daemon or another `rjwatch crawl` may be crawling meanwhile.
    with crawl_locks(obj.path, chosen) as (chosen, busy):
        for s, pid in busy:
            click.echo(
                f"source #{s['id']} {safe(mask_url(s['url']))}: being crawled by another process (pid {safe(pid)}); "
                "skipped",
                err=True,
            )
        if not chosen:
            return
        level = log_level.upper() if log_level else VERBOSE_LEVELS.get(min(verbose, max(VERBOSE_LEVELS)))
        run_ids = run_blog_crawls(
            obj.path,
            obj.cfg,
            chosen,
            full=full,
            query=query,
            overrides={"_pairs": list(scrapy_set)},
            log_level=level,
        )
    from storage.sources import runs_by_id

    rows = runs_by_id(db, run_ids)
    if len(rows) < len(chosen):
        raise CommandError(f"{len(chosen) - len(rows)} crawl(s) did not start (see the log above)")
    failed = False
    for r in rows:
        stats = r["stats"]
        walk = stats.get("walk") or {}
        new = ", ".join(f"{k} {v}" for k, v in sorted(stats.get("new", {}).items())) or "nothing new"
        line = (
            f"run #{r['id']} {mask_url(r['url'])}: {r['finish_reason']}, {r['pages']} pages, {r['items']} items "
            f"({new}), {r['errors']} errors"
        )
        if walk.get("all_failed"):
            line += f"  FAILED: every request failed: {walk.get('cause')}"
        elif walk.get("complete") is False and stats.get("mode") == "full":
            line += f"  walk incomplete ({walk.get('cause') or 'the blog was not read'}): the next crawl walks it again"
        elif walk.get("complete") is False and walk.get("cause"):
            line += f"  failed requests: {walk.get('cause')}"
        if stats.get("anomaly"):
            line += f"  ANOMALY: {stats['anomaly']}"
        click.echo(safe(mask_urls(line)))
        failed |= r["finish_reason"] != "finished" or bool(walk.get("all_failed"))
    if failed:
        sys.exit(EXIT_FAILED)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


#: The columns `runs` prints, in every format (`new` and `dropped` count posts by status and drops
#: by reason; empty when there were none).
RUN_COLUMNS = (
    "id",
    "kind",
    "source",
    "mode",
    "started_at",
    "finished_at",
    "finish_reason",
    "pages",
    "items",
    "new",
    "dropped",
    "errors",
    "anomaly",
)


@command()
@source_option("Only the runs of this source.")
@limit_option(20, help_text="At most this many runs (newest first).")
@output_options(RUN_COLUMNS)
@click.pass_obj
@handled
def runs(obj: Ctx, source_ref: str | None, limit: int, out: Output) -> None:
    """Crawl and poll runs, newest first: pages, items, new posts by status, drops, errors, finish reason.

    Example:

    \b
        rjwatch runs --limit 5
    """
    from storage.sources import get_source, list_runs, mark_dead_runs

    sid = get_source(obj.db(), source_ref)["id"] if source_ref else None
    mark_dead_runs(obj.db())  # a run whose process is gone is not running
    rows = list_runs(obj.db(), source_id=sid, limit=limit)
    for r in rows:
        st = r["stats"]
        r["new"] = st.get("new", {})
        r["dropped"] = st.get("dropped", {})
        r["anomaly"] = st.get("anomaly")
        r["mode"] = st.get("mode")
    out.emit(rows)


@command()
@source_option("One feed (polled even if not due).")
@click.option("--all", "all_sources", is_flag=True, help="Every enabled feed, due or not.")
@click.option("--backfill", is_flag=True, help="Walk rel=next pages once to collect a feed's history.")
@record_format_option()
@click.pass_obj
@handled
def poll(obj: Ctx, source_ref: str | None, all_sources: bool, backfill: bool, fmt: str) -> None:
    """One polling pass over the feed sources that are due (conditional GET: cheap when nothing changed).

    The exit code is non-zero when every polled source failed.

    Example:

    \b
        rjwatch poll
        rjwatch poll --source https://example.blogspot.com/feeds/posts/default --backfill
    """
    from crawler.poller import Poller
    from storage import health as health_mod
    from storage.ingest import AnalysisPool
    from storage.sources import get_source, list_sources

    db = obj.db()
    if source_ref:
        chosen = [get_source(db, source_ref)]
        if chosen[0]["kind"] != "feed":
            raise CommandError(f"source #{chosen[0]['id']} is a {chosen[0]['kind']} source; poll takes feeds")
    elif all_sources:
        chosen = list_sources(db, kind="feed", state="enabled")
    else:
        chosen = health_mod.due_sources(db)
    pool = AnalysisPool.from_setting(int(obj.cfg["ingest_workers"]))
    try:
        summary = Poller(db, obj.cfg, backfill=backfill, pool=pool).poll(chosen)
    finally:
        if pool is not None:
            pool.close()
    for r in summary.results:
        r["source"], r["error"] = mask_url(r["source"]), mask_urls(r["error"])
    if fmt == "json":
        click.echo(
            json.dumps(
                safe(
                    {
                        "polled": summary.polled,
                        "not_modified": summary.not_modified,
                        "failed": summary.failed,
                        "new_by_status": summary.new_by_status,
                        "seen": summary.seen,
                        "sources": summary.results,
                    }
                ),
                ensure_ascii=False,
            )
        )
    else:
        for r in summary.results:
            if r["status"] not in ("ok", "not_modified"):
                click.echo(
                    f"  {r['status']}: {safe(r['source'])}" + (f" ({safe(r['error'])})" if r["error"] else ""), err=True
                )
            elif r.get("problem"):
                click.echo(f"  problem: {safe(r['source'])} ({safe(r['problem'])})", err=True)
        click.echo(summary.line())
    if summary.polled and summary.failed == summary.polled:
        sys.exit(EXIT_FAILED)  # every source failed: nothing was read (the causes are listed above)


COMMANDS = [classify, ingest, crawl, runs, poll]
