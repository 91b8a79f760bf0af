"""The `rjwatch` command line: one click group; each command's docstring ends with an example.

Errors that users can cause (bad input, a locked or missing database, a bad config) are printed as
one line on stderr with a non-zero exit code; they never show a traceback.
"""

from __future__ import annotations

import json
import signal
import sys
from functools import wraps
from importlib import resources
from pathlib import Path

import click

from judge.analyze import BadPost
from judge.identity import mask_url, mask_urls
from judge.relevance import ProfileError
from rjwatch import settings as settings_mod
from rjwatch.inputs import NO_URL, InputError, Note, check_url, posts_from, read_input
from rjwatch.output import FORMATS, emit, safe
from storage.db import DatabaseError, connect, default_db_path
from storage.schema import is_initialised, migrate
from storage.sources import SourceError

EXIT_USAGE = 2
EXIT_FAILED = 1
#: Largest id SQLite stores (a signed 64-bit INTEGER); a bigger one overflows before the query runs.
MAX_ID = settings_mod.SQLITE_INT_MAX
#: Largest --limit / --offset: half of MAX_ID, so that offset + limit still fits in an SQLite INTEGER.
MAX_COUNT = MAX_ID // 2


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


def row_id() -> click.ParamType:
    return Bounded(1, MAX_ID)


def count(low: int = 0) -> click.ParamType:
    return Bounded(low, MAX_COUNT)


class Ctx:
    def __init__(self, db_path: str | None, config_path: str | None):
        self.db_path = db_path
        self.config_path = config_path
        self._cfg = None
        self._db = None

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
            self._db = connect(self.path, create=create)
            if not create and not is_initialised(self._db):
                migrate(self._db)  # bring an older database up to date
        return self._db


def fail(message: str, code: int = EXIT_FAILED) -> None:
    click.echo(f"rjwatch: error: {safe(message)}", err=True)
    sys.exit(code)


def handled(fn):
    """Turn the errors users can cause into one-line messages."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (InputError, BadPost, DatabaseError, ProfileError, settings_mod.ConfigError, SourceError) as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except BrokenPipeError:
            sys.exit(0)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", "db_path", metavar="PATH", help="Database file (default: $RJWATCH_DB, else ./data/rjwatch.db).")
@click.option("--config", "config_path", metavar="PATH", envvar="RJWATCH_CONFIG",
              help="Config file (default: ./rjwatch.toml if present).")
@click.version_option(package_name="rjwatch")
@click.pass_context
def main(ctx: click.Context, db_path: str | None, config_path: str | None) -> None:
    """rjwatch: find new coverage of Russia–Japan relations on blogs and feeds.

    It collects posts from Blogger blogs and RSS/Atom feeds, judges each one against the seed
    article and the topic profile (copy, excerpt, new, duplicate or off_topic), and keeps
    everything in one SQLite database.
    """
    ctx.obj = Ctx(db_path, config_path)


# --- init --------------------------------------------------------------------------------------
@main.command()
@click.pass_obj
@handled
def init(obj: Ctx) -> None:
    """Create or upgrade the database and load the seed and the topic profile. Safe to repeat.

    Example:

        rjwatch init
    """
    from rjwatch.bootstrap import initialise

    created_now = not obj.path.exists()
    try:
        db = obj.db(create=True)
        done = initialise(db, obj.cfg["topic"] or None)
    except BaseException:
        if created_now:
            obj.discard_new_database()  # a full disk must not leave a 0-byte or half-made database behind
        raise
    applied, profile, art = done["applied"], done["profile"], done["seed"]
    seed_id, created = done["seed_id"], done["seed_created"]
    extra = [_add_seed_from(obj, ref) for ref in obj.cfg["seeds"]]
    from rjwatch.bootstrap import register_config_sources

    config_sources = register_config_sources(db, obj.cfg)
    click.echo(f"database {obj.path}: " + (f"applied {', '.join(applied)}" if applied else "schema up to date"))
    click.echo(f"topic: {profile.name} ({profile.source})")
    click.echo(f"seed #{seed_id}: {art['title']} ({art['published']})" + ("" if created else " [already loaded]"))
    for sid, title, made in extra:
        click.echo(f"seed #{sid}: {safe(title)}" + ("" if made else " [already loaded]"))
    if config_sources:
        new = sum(1 for _, _, made in config_sources if made)
        click.echo(f"sources from the config: {len(config_sources)} ({new} new)")


def _add_seed_from(obj: Ctx, ref: str) -> tuple[int, str, bool]:
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
    sid, created = add_seed(obj.db(), title=it.get("title") or Path(ref).stem, body=body or "",
                            published=it.get("published"), url=url, origin=ref)
    return sid, it.get("title") or ref, created


# --- seeds -------------------------------------------------------------------------------------
@main.group()
def seed() -> None:
    """Reference articles that copies and excerpts are measured against."""


@seed.command("add")
@click.argument("ref", metavar="FILE|URL")
@click.pass_obj
@handled
def seed_add(obj: Ctx, ref: str) -> None:
    """Add a reference article (a saved page, a text file or a URL).

    Example:

        rjwatch seed add saved-article.html
    """
    sid, title, created = _add_seed_from(obj, ref)
    click.echo(f"seed #{sid}: {safe(title)}" + ("" if created else " [already loaded]"))


@seed.command("list")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Output format.")
@click.pass_obj
@handled
def seed_list(obj: Ctx, fmt: str | None) -> None:
    """List the seeds.

    Example:

        rjwatch seed list
    """
    from storage.seeds import list_seeds

    emit(list_seeds(obj.db()), ["id", "title", "published", "lang", "chars", "origin"], fmt)


# --- classify ----------------------------------------------------------------------------------
def _classification(ingestor, item: dict) -> dict:
    a = ingestor.analyze(item)
    verdict, _ = ingestor.verdict(a, exclude=ingestor.find_existing(a))
    return {
        "title": a.title, "author": a.author, "published": _iso(a.published), "lang": a.lang, "text": a.text,
        "url": None if a.url == NO_URL else a.url, "canonical_url": None if a.url == NO_URL else a.canonical_url,
        "blogger": {"blog_id": a.blog_id, "post_id": a.post_id},
        "status": verdict.status, "relevance": round(a.relevance.score, 4),
        "matched_terms": a.relevance.matched_terms, "seed_similarity": a.seed_similarity,
        "duplicate_of": verdict.duplicate_of, "reasons": verdict.reasons + a.relevance.reasons,
    }


def _iso(value):
    from judge import dates

    return dates.normalize(value)


@main.command()
@click.argument("ref", metavar="FILE|URL|-")
@click.option("--url", help="The URL the input was fetched from (for identity and links).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
@handled
def classify(obj: Ctx, ref: str, url: str | None, fmt: str) -> None:
    """Dry run: extract and classify a page, feed or text without storing it.

    A feed gives one result per entry (a JSON array when there are several). The comparison runs
    against the seeds and posts in the database when it exists, else against the packaged seed.

    Example:

        rjwatch classify saved-post.html --format json
    """
    check_url(url)
    loaded = read_input(ref, obj.cfg, url=url)
    kind, items = posts_from(loaded, need_url=False)
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
    r = safe(r)
    click.echo(f"{click.style(r['status'].upper(), bold=True)}  {r['title'] or '(no title)'}")
    click.echo(f"  url:        {r['canonical_url'] or '(none given: pass --url)'}")
    click.echo(f"  published:  {r['published'] or '-'}   lang: {r['lang'] or '-'}")
    if r["blogger"]["post_id"]:
        click.echo(f"  blogger:    blog {r['blogger']['blog_id']} post {r['blogger']['post_id']}")
    click.echo(f"  relevance:  {r['relevance']:.2f}")
    for sid, s in r["seed_similarity"].items():
        click.echo(f"  seed #{sid}:    containment {s['containment']:.2f}  jaccard {s['jaccard']:.2f}  "
                   f"shared {s['shared']}")
    if r["duplicate_of"]:
        click.echo(f"  duplicate of post #{r['duplicate_of']}")
    click.echo("  why:")
    for reason in r["reasons"]:
        click.echo(f"    {reason}")


# --- ingest -------------------------------------------------------------------------------------
@main.command()
@click.argument("refs", nargs=-1, required=True, metavar="FILE|URL...")
@click.option("--url", help="The URL a single input was fetched from.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
@handled
def ingest(obj: Ctx, refs: tuple[str, ...], url: str | None, fmt: str) -> None:
    """Store saved HTML pages, feeds (Atom/RSS) and Blogger export files, as if fetched from URL.

    Inputs that cannot be read are reported and skipped; the rest are stored. Entries an input
    holds but that could not be read are reported with the input's counts. The exit code is 1 when
    any input, entry or post failed.

    Example:

        rjwatch ingest saved/*.html --format json
        rjwatch ingest page.html --url https://example.blogspot.com/2017/03/post.html
    """
    from storage.ingest import Ingestor, default_workers

    check_url(url)
    if url and len(refs) > 1:
        raise InputError("--url names one input; give one FILE with it")
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
            _, found = posts_from(loaded, need_url=True, notes=notes)
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
        click.echo(json.dumps(safe({**totals, "new_by_status": by_status, "problems": problems,
                                    "warnings": warnings}), ensure_ascii=False))
    else:
        for p in problems:
            click.echo(f"rjwatch: skipped: {safe(p)}", err=True)
        for w in warnings:
            click.echo(f"rjwatch: warning: {safe(w)}", err=True)
        status_text = ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) or "none"
        click.echo(f"{totals['inputs']} input(s), {totals['posts']} post(s): {totals['inserted']} stored "
                   f"({status_text}), {totals['seen']} seen before, {totals['updated']} updated, "
                   f"{totals['errors']} failed")
    if totals["errors"]:
        sys.exit(EXIT_FAILED)


# --- posts / show -------------------------------------------------------------------------------
@main.command()
@click.option("--status", type=click.Choice(["copy", "excerpt", "new", "duplicate", "off_topic"]))
@click.option("--limit", type=count(), default=None, help="At most N posts (newest first).")
@click.option("--offset", type=count(), default=0)
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: table on a terminal, else TSV.")
@click.pass_obj
@handled
def posts(obj: Ctx, status: str | None, limit: int | None, offset: int, fmt: str | None) -> None:
    """List stored posts, newest first.

    Example:

        rjwatch posts --status copy --format json
    """
    from storage.queries import POST_COLUMNS, list_posts

    rows = list_posts(obj.db(), status=status, limit=limit, offset=offset)
    emit(rows, POST_COLUMNS, fmt,
         table_columns=["id", "status", "relevance", "published", "lang", "title", "canonical_url"])


@main.command()
@click.argument("post_id", type=row_id())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
@handled
def show(obj: Ctx, post_id: int, fmt: str) -> None:
    """Show one post with its evidence: why it got its status, sightings, duplicates, revisions.

    Example:

        rjwatch show 42
    """
    from storage.queries import get_post

    from judge.diff import revision_diff
    from storage.queries import revision_texts

    post = get_post(obj.db(), post_id)
    if post is None:
        fail(f"no post #{post_id}")
    versions = revision_texts(obj.db(), post_id)
    post["revision_diffs"] = [line for (la, a), (lb, b) in zip(versions, versions[1:])
                              for line in revision_diff(a, b, old_label=la, new_label=lb)]
    post = safe(post)
    if fmt == "json":
        click.echo(json.dumps(post, ensure_ascii=False, indent=2))
        return
    ev = post.get("evidence") or {}
    click.echo(f"#{post['id']}  {click.style(post['status'].upper(), bold=True)}  {post['title'] or '(no title)'}")
    click.echo(f"  url:         {post['url']}")
    click.echo(f"  canonical:   {post['canonical_url']}")
    click.echo(f"  published:   {post['published'] or '-'}   first seen: {post['first_seen']}   lang: {post['lang'] or '-'}")
    if post.get("post_id"):
        click.echo(f"  blogger:     blog {post['blog_id']} post {post['post_id']}")
    click.echo(f"  source:      {post.get('source') or '-'}")
    if ev.get("flags"):
        from judge.analyze import FLAG_TEXT

        click.echo("  flags:       " + "; ".join(FLAG_TEXT.get(f, f) for f in ev["flags"]))
    click.echo("  verdict:")
    for reason in ev.get("reasons", []):
        click.echo(f"    {reason}")
    click.echo(f"  relevance {post['relevance']:.2f}:")
    for reason in ev.get("relevance", []):
        click.echo(f"    {reason}")
    for concept, terms in (post.get("matched_terms") or {}).items():
        click.echo(f"    {concept}: " + ", ".join(f"{t}×{n}" for t, n in sorted(terms.items(), key=lambda kv: -kv[1])))
    for sid, s in (post.get("seed_similarity") or {}).items():
        click.echo(f"  seed #{sid} ({post['seeds'].get(sid, '?')}): containment {s['containment']:.2f}, "
                   f"jaccard {s['jaccard']:.2f}, {s['shared']} shingles shared")
    if post.get("duplicate_of"):
        click.echo(f"  duplicate of: #{post['duplicate_of']}")
    if post["duplicates"]:
        click.echo("  duplicates pointing here: " + ", ".join(f"#{d['id']}" for d in post["duplicates"]))
    click.echo(f"  sightings ({len(post['sightings'])}):")
    for s in post["sightings"]:
        click.echo(f"    {s['via']:<6} {s['url']}  (first {s['first_seen']}, seen {s['times']}×)")
    if post["revisions"]:
        click.echo(f"  revisions ({len(post['revisions'])} earlier):")
        for r in post["revisions"]:
            click.echo(f"    r{r['revision']} replaced {r['replaced_at']} ({r['chars']} chars, was {r['status']})")
        for line in post["revision_diffs"]:
            colour = "green" if line.startswith("+") else "red" if line.startswith("-") else None
            click.echo("    " + click.style(line, fg=colour if not line.startswith(("+++", "---")) else None))
    click.echo("")
    click.echo(post["text"])


# --- sources ------------------------------------------------------------------------------------
@main.group()
def source() -> None:
    """Blogs and feeds to collect from: add, list, approve candidates, discover more."""


def _detect_kind(obj: Ctx, url: str) -> tuple[str, str]:
    """(kind, url) for `source add --kind auto`: a Blogger blog by its markers, else a feed."""
    from crawler import feeds
    from crawler.guard import allowed_sites
    from crawler.http import FetchError, fetch

    try:
        resp = fetch(url, timeout=float(obj.cfg["fetch_timeout"]), max_bytes=int(obj.cfg["max_bytes"]),
                     max_redirects=int(obj.cfg["max_redirects"]), user_agent=obj.cfg["user_agent"],
                     allowed=allowed_sites(url, trusted_hosts=obj.cfg["trusted_hosts"]))
    except FetchError as exc:
        raise InputError(f"cannot detect the kind of {url}: {exc}") from None
    kind = feeds.sniff_kind(resp.body, resp.content_type)
    if kind == "feed":
        return "feed", resp.url
    if kind == "html":
        from crawler import extract

        try:
            page = extract.extract_page(resp.body, resp.url)
        except extract.ExtractError as exc:
            raise InputError(f"{url}: {exc}") from None
        if page.get("is_blogger"):
            return "blogger", resp.url
        found = feeds.feed_links_from_html(resp.body.decode("utf-8", "replace"), resp.url)
        if found:
            return "feed", found[0]
        raise InputError(f"{url}: neither a Blogger blog nor a page with a feed link; use --kind")
    raise InputError(f"{url}: not HTML or a feed ({kind})")


@source.command("add")
@click.argument("url")
@click.option("--kind", type=click.Choice(["auto", "blogger", "feed"]), default="auto", show_default=True,
              help="auto: a Blogger blog by its markers, else the page's feed.")
@click.option("--name", help="A label for listings.")
@click.option("--every", metavar="DURATION", help="Fixed polling interval for a feed (e.g. 15m), instead of adaptive.")
@click.option("--full-text/--no-full-text", default=None,
              help="Fetch the page of every summary-only feed entry / of none. Default: auto, the pages of "
                   "entries that read as a summary (short and cut, or the same for every entry) and name "
                   "something of the topic, so that they are judged on their full text.")
@click.pass_obj
@handled
def source_add(obj: Ctx, url: str, kind: str, name: str | None, every: str | None, full_text: bool | None) -> None:
    """Register a blog to crawl or a feed to poll.

    With --kind auto, a Blogger blog (found by its markers) is registered twice: the blog as a crawl
    source and its posts feed as a feed source. Another HTML page is resolved to its feed.

    Example:

        rjwatch source add https://example.blogspot.com
        rjwatch source add https://news.example.org/rss.xml --kind feed --every 30m
    """
    from urllib.parse import urljoin, urlsplit

    from rjwatch.settings import parse_duration
    from storage.sources import add_source

    check_url(url)
    settings: dict = {}
    if every:
        try:
            settings["every"] = parse_duration(every)
        except settings_mod.ConfigError as exc:
            raise InputError(f"--every: {exc}") from None
    settings["full_text"] = {True: "always", False: "never", None: "auto"}[full_text]
    if kind == "auto":
        kind, url = _detect_kind(obj, url)
    added = []
    if kind == "blogger":
        parts = urlsplit(url)
        url = f"{parts.scheme}://{parts.netloc}/"
        added.append(("blogger", url))
        added.append(("feed", urljoin(url, "/feeds/posts/default")))
    else:
        added.append((kind, url))
    for k, u in added:
        sid, created = add_source(obj.db(), u, k, name=name, settings=settings if k == "feed" else None)
        click.echo(f"source #{sid}: {k} {safe(mask_url(u))}" + ("" if created else " [already registered]"))


@source.command("list")
@click.option("--kind", type=click.Choice(["blogger", "feed"]))
@click.option("--format", "fmt", type=click.Choice(FORMATS))
@click.pass_obj
@handled
def source_list(obj: Ctx, kind: str | None, fmt: str | None) -> None:
    """List sources (candidates included) with their post counts and last run.

    Example:

        rjwatch source list
    """
    from storage.sources import list_sources

    rows = list_sources(obj.db(), kind=kind)
    health = {r["source_id"]: r for r in obj.db().query("SELECT * FROM source_health")}
    for r in rows:
        h = health.get(r["id"], {})
        r["url"] = mask_url(r["url"])  # credentials in a source URL are never printed
        r["last_poll"] = h.get("last_poll")
        r["failures"] = h.get("consecutive_failures", 0)
        r["last_error"] = mask_urls(h.get("last_error") or h.get("disabled_reason"))
        r["next_due"] = h.get("next_due")
    emit(rows, ["id", "kind", "state", "url", "name", "settings", "posts", "last_run", "last_poll", "failures",
                "last_error", "next_due"], fmt, table_columns=["id", "kind", "state", "url", "posts", "last_poll", "failures",
                                                 "last_error"])


@source.command("show")
@click.argument("ref", metavar="ID|URL")
@click.pass_obj
@handled
def source_show(obj: Ctx, ref: str) -> None:
    """One source with its health, crawl progress and recent runs.

    Example:

        rjwatch source show 2
    """
    from storage import health as health_mod
    from storage.sources import crawl_state, get_source, list_runs

    db = obj.db()
    s = get_source(db, ref)
    h = health_mod.get(db, s["id"])
    click.echo(f"#{s['id']} {s['kind']} [{s['state']}] {safe(mask_url(s['url']))}"
               + (f"  ({safe(s['name'])})" if s["name"] else ""))
    click.echo(f"  added {s['added_at']}; settings {json.dumps(s['settings'])}")
    n = db.execute("SELECT count(*) FROM posts WHERE source_id = ?", (s["id"],)).fetchone()[0]
    click.echo(f"  posts: {n}")
    if s["kind"] == "feed":
        click.echo(f"  last poll {h.get('last_poll') or '-'}, last success {h.get('last_success') or '-'}, "
                   f"next due {h.get('next_due') or 'now'}, interval {h.get('interval_s') or '-'} s")
        click.echo(f"  failures in a row: {h.get('consecutive_failures', 0)}; last error: "
                   f"{safe(mask_urls(h.get('last_error')) or '-')}")
        click.echo(f"  new posts per poll (smoothed): {float(h.get('new_item_rate') or 0):.2f}; "
                   f"validators: etag {'yes' if h.get('etag') else 'no'}, last-modified {'yes' if h.get('last_modified') else 'no'}")
        if h.get("moved_from"):
            click.echo(f"  moved from {safe(mask_url(h['moved_from']))}")
        if h.get("disabled_reason"):
            click.echo(f"  disabled: {safe(mask_urls(h['disabled_reason']))}")
    else:
        st = crawl_state(db, s["id"])
        click.echo(f"  backfill complete: {'yes' if st.get('backfill_complete') else 'no'}; newest updated "
                   f"{st.get('newest_updated') or '-'}; blog id {st.get('blog_id') or '-'}")
        if h.get("last_poll"):
            click.echo(f"  last crawl {h.get('last_poll')}, last success {h.get('last_success') or '-'}; failed crawls "
                       f"in a row: {h.get('consecutive_failures', 0)}; last error: {safe(h.get('last_error') or '-')}")
    for r in list_runs(db, source_id=s["id"], limit=5):
        click.echo(f"  run #{r['id']} {r['kind']} {r['started_at']} {r['finish_reason'] or 'running'}: "
                   f"{r['pages']} pages, {r['items']} items, new {json.dumps(r['stats'].get('new', {}))}")


@source.command("candidates")
@click.option("--format", "fmt", type=click.Choice(FORMATS))
@click.pass_obj
@handled
def source_candidates(obj: Ctx, fmt: str | None) -> None:
    """Blogs found by discovery, waiting for approval, with the posts that link to them.

    Example:

        rjwatch source candidates
    """
    db = obj.db()
    rows = list(db.query(
        "SELECT s.id, s.url, s.name, s.settings, count(e.post_id) AS linking_posts, "
        "group_concat(DISTINCT e.post_id) AS post_ids FROM sources s LEFT JOIN candidate_evidence e "
        "ON e.source_id = s.id WHERE s.state = 'candidate' GROUP BY s.id ORDER BY linking_posts DESC"))
    for r in rows:
        r["sampled_relevance"] = json.loads(r.pop("settings") or "{}").get("sampled_relevance")
    emit(rows, ["id", "url", "name", "linking_posts", "post_ids", "sampled_relevance"], fmt)


def _set_state(obj: Ctx, ref: str, state: str, verb: str) -> None:
    from storage.sources import get_source, set_source_state

    src = get_source(obj.db(), ref)
    set_source_state(obj.db(), src["id"], state)
    click.echo(f"source #{src['id']} {verb}: {safe(mask_url(src['url']))}")


@source.command("approve")
@click.argument("ref", metavar="ID|URL")
@click.pass_obj
@handled
def source_approve(obj: Ctx, ref: str) -> None:
    """Approve a candidate: it will be crawled from now on.

    Example:

        rjwatch source approve 7
    """
    _set_state(obj, ref, "enabled", "approved")


@source.command("disable")
@click.argument("ref", metavar="ID|URL")
@click.pass_obj
@handled
def source_disable(obj: Ctx, ref: str) -> None:
    """Stop collecting from a source (its posts stay).

    Example:

        rjwatch source disable 3
    """
    _set_state(obj, ref, "disabled", "disabled")


@source.command("enable")
@click.argument("ref", metavar="ID|URL")
@click.pass_obj
@handled
def source_enable(obj: Ctx, ref: str) -> None:
    """Collect from a disabled source again.

    Example:

        rjwatch source enable 3
    """
    _set_state(obj, ref, "enabled", "enabled")


@source.command("remove")
@click.argument("ref", metavar="ID|URL")
@click.pass_obj
@handled
def source_remove(obj: Ctx, ref: str) -> None:
    """Forget a source (its posts stay, no longer linked to it).

    Example:

        rjwatch source remove 3
    """
    from storage.sources import get_source, remove_source

    src = get_source(obj.db(), ref)
    remove_source(obj.db(), src["id"])
    click.echo(f"source #{src['id']} removed: {safe(mask_url(src['url']))}")


@source.command("discover")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--set", "-s", "scrapy_set", multiple=True, metavar="KEY=VALUE", help="A Scrapy setting for this run.")
@click.pass_obj
@handled
def source_discover(obj: Ctx, limit: int, scrapy_set: tuple[str, ...]) -> None:
    """Visit blogs that relevant posts link to; record the Blogger ones as candidates.

    Example:

        rjwatch source discover && rjwatch source candidates
    """
    from crawler.guard import allowed_sites
    from rjwatch.crawling import run_discovery
    from storage.sources import candidate_hosts, list_sources

    hosts = candidate_hosts(obj.db(), limit=limit)
    if not hosts:
        click.echo("no linked hosts to visit (collect some relevant posts first)")
        return
    # the sites (host and effective port) of approved sources; a bare host only from `trusted_hosts`
    trusted = sorted(allowed_sites(*(s["url"] for s in list_sources(obj.db(), state="enabled")),
                                   trusted_hosts=obj.cfg["trusted_hosts"]))
    run_discovery(obj.path, obj.cfg, hosts, trusted, overrides={"_pairs": list(scrapy_set)})
    n = obj.db().execute("SELECT count(*) FROM sources WHERE state = 'candidate'").fetchone()[0]
    click.echo(f"visited {len(hosts)} host(s); {n} candidate source(s) waiting: rjwatch source candidates")


# --- crawl / runs -------------------------------------------------------------------------------
def blogger_sources(db, source_ref: str | None, *, register: bool = False) -> list[dict]:
    """The blogs a crawl takes: one named source (a URL not known yet is registered as a blogger source
    only when `register`: a mistyped URL must not become a new blog), or every enabled blogger source."""
    from storage.sources import SourceError, add_source, get_source, list_sources

    if not source_ref:
        return list_sources(db, kind="blogger", state="enabled")
    try:
        source = get_source(db, source_ref)
    except SourceError:
        if not source_ref.startswith(("http://", "https://")):
            raise
        if not register:
            raise InputError(f"no source {source_ref}; to crawl a new blog, add --add "
                             "(or register it first: rjwatch source add URL)") from None
        check_url(source_ref)
        source = get_source(db, add_source(db, source_ref, "blogger")[0])
    if source["kind"] != "blogger":
        raise InputError(f"source #{source['id']} is a {source['kind']} source; crawls take blogs")
    return [source]


@main.command()
@click.option("--source", "source_ref", metavar="URL|ID", help="One blog (default: every enabled blogger source).")
@click.option("--add", "add", is_flag=True, help="Register the --source URL as a new blog if it is not a source yet.")
@click.option("--full", is_flag=True, help="Walk the whole blog again instead of asking only for what is new.")
@click.option("--query", help="Only posts the blog's own search or label feed returns for this term.")
@click.option("--set", "-s", "scrapy_set", multiple=True, metavar="KEY=VALUE",
              help="A Scrapy setting for this run (like `scrapy crawl -s`), e.g. -s DOWNLOAD_DELAY=2.")
@click.option("--cluster", "cluster_redis", metavar="REDIS_URL", is_flag=False, flag_value="config",
              help="Push the blogs to the cluster's frontier instead of crawling here (docs/cluster.md); "
                   "without a value, the cluster.redis_url setting.")
@click.pass_obj
@handled
def crawl(obj: Ctx, source_ref: str | None, add: bool, full: bool, query: str | None, scrapy_set: tuple[str, ...],
          cluster_redis: str | None) -> None:
    """Crawl Blogger blogs with Scrapy (feed first, then HTML), politely and incrementally.

    A URL that is not a source yet is refused, unless --add registers it as a blogger source first.
    The exit code is non-zero when a crawl was interrupted or every request of a crawl failed (the
    cause is printed and kept in the source's health: rjwatch source show ID).

    Example:

        rjwatch crawl --source https://example.blogspot.com --add
    """
    from rjwatch.crawling import crawl_locks, run_blog_crawls

    if add and not source_ref:
        raise InputError("--add needs --source URL (the blog to register and crawl)")
    db = obj.db()
    chosen = blogger_sources(db, source_ref, register=add)
    if not chosen:
        click.echo("no blogger sources to crawl (add one: rjwatch source add URL --kind blogger)")
        return
    if cluster_redis:
        from rjwatch.cluster_cli import cluster_url, seed_sources

        if query:
            raise InputError("--query crawls run locally, not in the cluster")
        seed_sources(obj, cluster_url(obj, None if cluster_redis == "config" else cluster_redis), chosen, full=full)
        return
    # A stop asked for before Scrapy takes over the signals (it does when the crawl starts) ends the
    # command cleanly: locks released, no run left open.
    signal.signal(signal.SIGTERM, _interrupt)
    # Only this process's own runs: the daemon or another `rjwatch crawl` may be crawling meanwhile.
    with crawl_locks(obj.path, chosen) as (chosen, busy):
        for s, pid in busy:
            click.echo(f"source #{s['id']} {safe(mask_url(s['url']))}: being crawled by another process (pid {safe(pid)}); "
                       "skipped", err=True)
        if not chosen:
            return
        run_ids = run_blog_crawls(obj.path, obj.cfg, chosen, full=full, query=query,
                                  overrides={"_pairs": list(scrapy_set)})
    marks = ",".join("?" * len(run_ids)) or "NULL"
    rows = list(db.query(f"SELECT r.*, s.url FROM runs r JOIN sources s ON s.id = r.source_id WHERE r.id IN ({marks}) "
                         "ORDER BY r.id", run_ids))
    if len(rows) < len(chosen):
        raise InputError(f"{len(chosen) - len(rows)} crawl(s) did not start (see the log above)")
    failed = False
    for r in rows:
        stats = json.loads(r["stats"] or "{}")
        walk = stats.get("walk") or {}
        new = ", ".join(f"{k} {v}" for k, v in sorted(stats.get("new", {}).items())) or "nothing new"
        line = (f"run #{r['id']} {mask_url(r['url'])}: {r['finish_reason']}, {r['pages']} pages, {r['items']} items "
                f"({new}), {r['errors']} errors")
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


@main.command()
@click.option("--source", "source_ref", metavar="URL|ID")
@click.option("--limit", type=count(1), default=20, show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS))
@click.pass_obj
@handled
def runs(obj: Ctx, source_ref: str | None, limit: int, fmt: str | None) -> None:
    """Crawl and poll runs, newest first: pages, items, new posts by status, drops, errors, finish reason.

    Example:

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
    emit(rows, ["id", "kind", "source", "mode", "started_at", "finished_at", "finish_reason", "pages", "items",
                "new", "dropped", "errors", "anomaly"], fmt,
         table_columns=["id", "kind", "source", "mode", "started_at", "finish_reason", "pages", "items", "new",
                        "errors", "anomaly"])


@main.command()
@click.option("--source", "source_ref", metavar="URL|ID", help="One feed (polled even if not due).")
@click.option("--all", "all_sources", is_flag=True, help="Every enabled feed, due or not.")
@click.option("--backfill", is_flag=True, help="Walk rel=next pages once to collect a feed's history.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
@handled
def poll(obj: Ctx, source_ref: str | None, all_sources: bool, backfill: bool, fmt: str) -> None:
    """One polling pass over the feed sources that are due (conditional GET: cheap when nothing changed).

    The exit code is non-zero when every polled source failed.

    Example:

        rjwatch poll
        rjwatch poll --source https://example.blogspot.com/feeds/posts/default --backfill
    """
    from crawler.poller import Poller
    from storage.ingest import AnalysisPool
    from storage import health as health_mod
    from storage.sources import get_source, list_sources

    db = obj.db()
    if source_ref:
        chosen = [get_source(db, source_ref)]
        if chosen[0]["kind"] != "feed":
            raise InputError(f"source #{chosen[0]['id']} is a {chosen[0]['kind']} source; poll takes feeds")
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
        click.echo(json.dumps(safe({"polled": summary.polled, "not_modified": summary.not_modified,
                                    "failed": summary.failed, "new_by_status": summary.new_by_status,
                                    "seen": summary.seen, "sources": summary.results}), ensure_ascii=False))
    else:
        for r in summary.results:
            if r["status"] not in ("ok", "not_modified"):
                click.echo(f"  {r['status']}: {safe(r['source'])}" + (f" ({safe(r['error'])})" if r["error"] else ""),
                           err=True)
            elif r.get("problem"):
                click.echo(f"  problem: {safe(r['source'])} ({safe(r['problem'])})", err=True)
        click.echo(summary.line())
    if summary.polled and summary.failed == summary.polled:
        sys.exit(EXIT_FAILED)  # every source failed: nothing was read (the causes are listed above)


@source.command("import")
@click.argument("opml", type=click.Path(dir_okay=False), required=False)
@click.option("--defaults", is_flag=True, help="Import the curated default list shipped with rjwatch.")
@click.pass_obj
@handled
def source_import(obj: Ctx, opml: str | None, defaults: bool) -> None:
    """Add the feeds of an OPML file (as every feed reader exports them).

    Example:

        rjwatch source import subscriptions.opml
        rjwatch source import --defaults
    """
    from rjwatch.opml import OpmlError, read_opml
    from storage.sources import add_source

    if bool(opml) == defaults:
        raise InputError("give an OPML file or --defaults (one of them)")
    if defaults:
        data = resources.files("rjwatch").joinpath("data", "default_sources.opml").read_bytes()
        name = "default sources"
    else:
        data = read_input(opml, obj.cfg).data
        name = opml
    try:
        outlines = read_opml(data)
    except OpmlError as exc:
        raise InputError(f"{name}: {exc}") from None
    added = 0
    for o in outlines:
        _, created = add_source(obj.db(), o["url"], o.get("kind") or "feed", name=o.get("title"))
        added += created
    click.echo(f"{name}: {len(outlines)} feed(s), {added} new source(s)")


@source.command("export")
@click.pass_obj
@handled
def source_export(obj: Ctx) -> None:
    """Print every source as OPML 2.0 (feeds as rss outlines, blogs with type="blogger").

    Example:

        rjwatch source export > rjwatch-sources.opml
    """
    from rjwatch.opml import write_opml
    from storage.sources import list_sources

    click.echo(write_opml(list_sources(obj.db())), nl=False)


# --- the daemon and alerts ----------------------------------------------------------------------
@main.command("run")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING"]), default="INFO", show_default=True)
@click.pass_obj
@handled
def run_daemon(obj: Ctx, log_level: str) -> None:
    """Run the monitoring daemon in the foreground: polls, crawls, alerts, digest, housekeeping.

    Logs go to stderr. One daemon per database; SIGTERM/SIGINT stop it cleanly (a second signal
    forces), SIGHUP reloads the config and the sources. See docs/rjwatch.service for systemd.

    Example:

        rjwatch run
    """
    import logging

    from scheduler.alerts import AlertConfigError, channels_from_config, install_log_masking
    from scheduler.daemon import AlreadyRunning, Daemon

    logging.basicConfig(level=log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()  # channel secrets never reach the log, whatever the level
    # "skipped: maximum number of running instances reached" is the no-overlap rule working, not news.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    try:
        channels_from_config(obj.cfg)
    except AlertConfigError as exc:
        raise InputError(str(exc)) from None
    obj.db(create=True)
    migrate(obj.db())
    daemon = Daemon(obj.path, obj.cfg, config_loader=lambda: settings_mod.load(obj.config_path, {"db": obj.db_path}))
    try:
        daemon.run()
    except AlreadyRunning as exc:
        fail(str(exc))


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
@handled
def status(obj: Ctx, fmt: str) -> None:
    """The daemon's health: heartbeat age, last result of each job, failing sources, alerts.

    Example:

        rjwatch status
    """
    from scheduler.daemon import status as daemon_status
    from storage.queries import counts_by_status

    st = daemon_status(obj.db())
    st["posts"] = counts_by_status(obj.db())
    for c in st["crawls"]:
        c["url"] = mask_url(c["url"])
    st = safe(st)
    if fmt == "json":
        click.echo(json.dumps(st, ensure_ascii=False, indent=2, default=str))
        return
    hb, dm = st["heartbeat"], st["daemon"]
    if dm["running"]:
        click.echo(f"daemon: running, heartbeat {hb['age_s']} s ago (pid {hb['pid']})")
    elif hb:
        click.echo(f"daemon: not running (last seen {dm['last_seen']}, {dm['why']})")
    else:
        click.echo("daemon: never ran on this database")
    click.echo("posts: " + (", ".join(f"{k} {v}" for k, v in sorted(st["posts"].items())) or "none"))
    click.echo("alerts: " + (", ".join(f"{k} {v}" for k, v in sorted(st["alerts"].items())) or "none")
               + "; deliveries: " + (", ".join(f"{k} {v}" for k, v in sorted(st["deliveries"].items())) or "none"))
    next_runs = (hb or {}).get("next_runs") or {}
    for name in sorted(set(st["jobs"]) | set(next_runs)):
        job = st["jobs"].get(name) or {}
        if job.get("outcome") == "running":
            click.echo(f"job {name}: next {next_runs.get(name) or '-'}; running (run #{job.get('run')})")
            continue
        click.echo(f"job {name}: next {next_runs.get(name) or '-'}; last {job.get('finished') or 'never'} "
                   f"{job.get('outcome') or ''}")
    click.echo(f"next feed poll due: {st['next_poll_due'] or 'now'}")
    for c in st["crawls"]:
        click.echo(f"blog #{c['id']} {c['url']}: last crawl {c['last_crawl'] or 'never'}, backfill "
                   f"{'complete' if c['backfill_complete'] else 'not complete'}")
    for f in st["failing_sources"]:
        click.echo(f"FAILING source #{f['id']} {f['url']}: {f['consecutive_failures']} in a row, "
                   f"last error {f['last_error'] or f['disabled_reason']}")


@main.group(invoke_without_command=True)
@click.option("--status", "state", type=click.Choice(["pending", "sent", "failed", "suppressed"]))
@click.option("--limit", type=count(1), default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS))
@click.pass_context
def alerts(ctx: click.Context, state: str | None, limit: int, fmt: str | None) -> None:
    """The alert outbox: what was sent, what waits, what failed (and why).

    Example:

        rjwatch alerts --status failed
    """
    if ctx.invoked_subcommand is not None:
        return
    obj: Ctx = ctx.obj

    @handled
    def body():
        where, params = ("WHERE a.status = ?", [state]) if state else ("", [])
        rows = list(obj.db().query(
            f"SELECT a.id, a.kind, a.status, a.created_at, a.sent_at, a.key, a.post_id, a.last_error, "
            f"json_extract(a.payload, '$.title') AS title, (SELECT group_concat(d.channel || ':' || d.status || "
            f"coalesce(' (' || d.last_error || ')', ''), '; ') FROM deliveries d WHERE d.alert_id = a.id) AS deliveries "
            f"FROM alerts a {where} ORDER BY a.id DESC LIMIT ?", params + [limit]))
        emit(rows, ["id", "kind", "status", "created_at", "sent_at", "title", "deliveries", "key", "post_id",
                    "last_error"], fmt, table_columns=["id", "kind", "status", "created_at", "title", "deliveries"])
    body()


@alerts.command("test")
@click.option("--channel", help="Only this channel (by name).")
@click.pass_obj
@handled
def alerts_test(obj: Ctx, channel: str | None) -> None:
    """Send a test message to every configured channel (or one).

    Example:

        rjwatch alerts test --channel team
    """
    from scheduler.alerts import AlertConfigError, channels_from_config, install_log_masking

    install_log_masking()
    try:
        chans = channels_from_config(obj.cfg)
    except AlertConfigError as exc:
        raise InputError(str(exc)) from None
    if channel:
        chans = [c for c in chans if c.name == channel]
        if not chans:
            raise InputError(f"no channel named {channel!r} (see [[alerts.channels]] in the config)")
    failed = False
    for c in chans:
        try:
            c.send("rjwatch test message", "If you can read this, alerts reach this channel.", f"test-{c.name}")
            click.echo(f"{c.name} ({c.masked}): sent")
        except Exception as exc:
            failed = True
            click.echo(f"{c.name} ({c.masked}): FAILED: {safe(str(exc))}", err=True)
    if failed:
        sys.exit(EXIT_FAILED)


@alerts.command("retry")
@click.argument("alert_id", type=row_id())
@click.pass_obj
@handled
def alerts_retry(obj: Ctx, alert_id: int) -> None:
    """Put a failed alert back in the queue (the daemon delivers it on its next pass).

    Example:

        rjwatch alerts retry 12
    """
    from storage.db import write_tx

    db = obj.db()
    with write_tx(db):
        if db.execute("SELECT 1 FROM alerts WHERE id = ?", (alert_id,)).fetchone() is None:
            raise InputError(f"no alert #{alert_id}")
        db.execute("UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = NULL "
                   "WHERE alert_id = ? AND status = 'failed'", (alert_id,))
        db.execute("UPDATE alerts SET status = 'pending' WHERE id = ? AND status = 'failed'", (alert_id,))
    click.echo(f"alert #{alert_id} queued again")


# --- the demo -----------------------------------------------------------------------------------
@main.command()
@click.option("--dir", "folder", default="demo", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the demo's database, config and logs (a previous demo there is replaced).")
@click.option("--duration", default="45s", show_default=True, metavar="DURATION",
              help="About how long the daemon runs (it ends sooner only if the demo fails).")
@click.option("--keep-running", is_flag=True, help="Leave the network and the daemon up after the summary.")
@click.option("--port", type=click.IntRange(0, 65000), default=0,
              help="First of the consecutive ports the sites and the webhook use (default: any free ports).")
@click.option("--plain", is_flag=True, help="Plain status lines, even on a terminal.")
@click.pass_obj
@handled
def demo(obj: Ctx, folder: str, duration: str, keep_running: bool, port: int, plain: bool) -> None:
    """Watch a local demo network of blogs and a news feed with the real daemon, in about a minute.

    Serves five Blogger-style blogs and a news RSS feed on 127.0.0.1, runs `rjwatch run` on them
    with accelerated intervals, publishes two posts midway so that alerts fire live (console and a
    local webhook), then prints a summary. The database stays behind to query (`--db` names it;
    default DIR/rjwatch.db).

    Example:

        rjwatch demo
    """
    from rjwatch.demo.runner import DemoError, DemoOptions, run_demo

    opts = DemoOptions(folder=Path(folder), db=Path(obj.db_path) if obj.db_path else None,
                       duration=settings_mod.parse_duration(duration), keep_running=keep_running, port=port,
                       fancy=False if plain else None)
    try:
        code = run_demo(opts)
    except DemoError as exc:
        fail(str(exc))
    sys.exit(code)


# --- settings -----------------------------------------------------------------------------------
@main.command("settings")
@click.option("--markdown", is_flag=True, help="Print the settings table as Markdown (docs/settings.md).")
@click.pass_obj
@handled
def settings_cmd(obj: Ctx, markdown: bool) -> None:
    """Show every setting with its current value and where it can be set.

    Example:

        rjwatch settings
    """
    if markdown:
        click.echo(settings_mod.markdown_table(), nl=False)
        return
    cfg = obj.cfg
    click.echo(f"config file: {cfg.path or '(none)'}")
    for s in settings_mod.SETTINGS:
        click.echo(f"{s.name} = {cfg[s.name]!r}    [{s.env}] {s.help}")


from rjwatch import cli_query  # noqa: E402,F401  (registers search, copies, stats, export, saved, serve)
from rjwatch.cluster_cli import cluster  # noqa: E402 - the group needs `main`'s helpers defined first

main.add_command(cluster)

if __name__ == "__main__":  # pragma: no cover
    main()
