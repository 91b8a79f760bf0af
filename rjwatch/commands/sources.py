"""`rjwatch source`: the blogs and feeds to collect from (add, set, list, show, approve, remove, discover,
import, export).

Why one module of this size: one module per command group, and the source group has a dozen
commands, each short."""

from __future__ import annotations

import json
from importlib import resources

import click

from judge.identity import mask_url, mask_urls
from rjwatch.commands.common import CommandError, Ctx, Output, group, handled, output_options
from rjwatch.output import safe


@group()
def source() -> None:
    """Blogs and feeds to collect from: add, list, approve candidates, discover more."""


def _detect_kind(obj: Ctx, url: str) -> tuple[str, str]:
    """(kind, url) for `source add --kind auto`: a Blogger blog by its markers, else a feed."""
    from crawler import feeds
    from crawler.guard import allowed_sites
    from crawler.http import FetchError, fetch

    try:
        resp = fetch(
            url,
            timeout=float(obj.cfg["fetch_timeout"]),
            max_bytes=int(obj.cfg["max_bytes"]),
            max_redirects=int(obj.cfg["max_redirects"]),
            user_agent=obj.cfg["user_agent"],
            allowed=allowed_sites(url, trusted_hosts=obj.cfg["trusted_hosts"]),
        )
    except FetchError as exc:
        raise CommandError(f"cannot detect the kind of {url}: {exc}") from None
    kind = feeds.sniff_kind(resp.body, resp.content_type)
    if kind == "feed":
        return "feed", resp.url
    if kind == "html":
        from crawler import extract

        try:
            page = extract.extract_page(resp.body, resp.url)
        except extract.ExtractError as exc:
            raise CommandError(f"{url}: {exc}") from None
        if page.get("is_blogger"):
            return "blogger", resp.url
        found = feeds.feed_links_from_html(resp.body.decode("utf-8", "replace"), resp.url)
        if found:
            return "feed", found[0]
        raise CommandError(f"{url}: neither a Blogger blog nor a page with a feed link; use --kind")
    raise CommandError(f"{url}: not HTML or a feed ({kind})")


@source.command("add")
@click.argument("url", required=False)
@click.option(
    "--kind",
    type=click.Choice(["auto", "blogger", "feed"]),
    default="auto",
    show_default=True,
    help="auto: a Blogger blog by its markers, else the page's feed.",
)
@click.option("--name", help="A label for listings.")
@click.option("--every", metavar="DURATION", help="Fixed polling interval for a feed (e.g. 15m), instead of adaptive.")
@click.option(
    "--full-text/--no-full-text",
    default=None,
    help="Fetch the page of every summary-only feed entry / of none. Default: auto, the pages of "
    "entries that read as a summary (short and cut, or the same for every entry) and name "
    "something of the topic, so that they are judged on their full text.",
)
@click.option(
    "--query",
    "query",
    metavar="WORDS",
    help="Instead of a URL: watch a search engine's news search for these words (the engine's own "
    "syntax: OR, quotes), one feed source per --lang.",
)
@click.option(
    "--engine",
    metavar="NAME",
    help="With --query: google-news (default) or bing-news (an undocumented RSS output of Bing that may change).",
)
@click.option(
    "--lang",
    metavar="LANG,LANG",
    help="With --query: the languages to search in, comma-separated (default en): en, ru, ja, es, de, fr, it, "
    "pt, uk, ko, zh.",
)
@click.pass_obj
@handled
def source_add(
    obj: Ctx,
    url: str | None,
    kind: str,
    name: str | None,
    every: str | None,
    full_text: bool | None,
    query: str | None,
    engine: str | None,
    lang: str | None,
) -> None:
    """Register the blog to crawl or the feed to poll at URL, or (--query) a news search's feeds.

    With --kind auto, a Blogger blog (found by its markers) is registered twice: the blog as a crawl
    source and its posts feed as a feed source. Another HTML page is resolved to its feed. A Google
    Alerts feed URL (https://www.google.com/alerts/feeds/USER/ALERT) is registered as a query source
    without being fetched.

    With --query, the engine's RSS URL of the search is built for each --lang and registered as a
    feed source named after the query (a query source): every entry's page is fetched (full text
    always), and it is polled no more often than the engine tolerates (Google News every 30 minutes,
    Bing News and Google Alerts every hour; a longer --every is taken). The engines' addresses are
    the `query_engines` setting.

    Example:

    \b
        rjwatch source add https://example.blogspot.com
        rjwatch source add https://news.example.org/rss.xml --kind feed --every 30m
        rjwatch source add --query 'Kuril OR "Northern Territories"' --engine google-news --lang en,ru,ja,es
        rjwatch source add https://www.google.com/alerts/feeds/01234567890123456789/9876543210987654321
    """
    from urllib.parse import urljoin, urlsplit

    from crawler import query_feeds
    from rjwatch.inputs import check_url
    from storage.source_settings import check_settings

    if query is not None or engine is not None or lang is not None:
        _add_query_sources(obj, url, kind, name, every, full_text, query, engine, lang)
        return
    if url is None:
        raise CommandError("give the URL of a blog or feed, or --query WORDS")
    check_url(url, what="URL")
    # checked before anything is fetched or stored: a bad --every is one line, whatever the kind
    every_s = check_settings("feed", {"every": every}, as_options=True).get("every")
    alert = query_feeds.google_alerts_ids(url, obj.cfg["query_engines"][query_feeds.GOOGLE_ALERTS])
    if alert and kind in ("auto", "feed"):
        # recognised by its address, never fetched here: Google answers no unknown client for it
        every_s = query_feeds.check_every(query_feeds.GOOGLE_ALERTS, every_s)
        settings = query_feeds.query_settings(query_feeds.GOOGLE_ALERTS, None, None, every_s)
        if full_text is False:
            settings["full_text"] = "never"
        _register(obj, [("feed", url, name, settings)], every, full_text, name_asked=name is not None)
        return
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
    for k, u in list(added):
        wanted = {"every": every} if k == "feed" else {}
        if k == "feed":
            wanted["full_text"] = {True: "always", False: "never", None: "auto"}[full_text]
        settings = {f: v for f, v in check_settings(k, wanted).items() if v is not None}
        added[added.index((k, u))] = (k, u, name, settings)
    _register(obj, added, every, full_text, name_asked=name is not None)


def _add_query_sources(
    obj: Ctx,
    url: str | None,
    kind: str,
    name: str | None,
    every: str | None,
    full_text: bool | None,
    query: str | None,
    engine: str | None,
    lang: str | None,
) -> None:
    """`source add --query`: one feed source per language, everything checked before anything is written."""
    from crawler import query_feeds
    from storage.source_settings import check_settings

    if query is None:
        raise CommandError("--engine and --lang go with --query WORDS")
    if url is not None:
        raise CommandError(f"give a URL or --query, not both (got {safe(url[:100])!r} and --query)")
    if kind not in ("auto", "feed"):
        raise CommandError("--query registers feed sources; --kind blogger does not go with it")
    engine = query_feeds.check_engine(engine or query_feeds.GOOGLE_NEWS)
    words = query_feeds.check_query(query)
    langs = query_feeds.parse_langs(engine, lang)
    every_s = query_feeds.check_every(engine, check_settings("feed", {"every": every}, as_options=True).get("every"))
    base = obj.cfg["query_engines"][engine]
    added = []
    for code in langs:
        settings = query_feeds.query_settings(engine, words, code, every_s)
        if full_text is False:
            settings["full_text"] = "never"
        label = (
            (f"{name} ({code})" if len(langs) > 1 else name) if name else query_feeds.query_name(engine, words, code)
        )
        added.append(("feed", query_feeds.query_feed_url(engine, words, code, base), label, settings))
    _register(obj, added, every, full_text, name_asked=name is not None)


def _register(
    obj: Ctx,
    added: list[tuple[str, str, str | None, dict]],
    every: str | None,
    full_text: bool | None,
    *,
    name_asked: bool,
) -> None:
    """Add each (kind, url, name, settings); print one line per source, saying when it was there already
    and how its settings (and the name, when `name_asked`) differ from the ones asked for."""
    from storage.sources import add_source, get_source

    for k, u, name, settings in added:
        sid, created = add_source(obj.db(), u, k, name=name, settings=settings)
        line = f"source #{sid}: {k} {safe(mask_url(u))}"
        if created:
            found = _count_posts(obj, sid)
            click.echo(line + (f" ({found} post(s) it had before its removal linked again)" if found else ""))
            continue
        asked = dict(settings) if (every is not None or full_text is not None) else {}
        if full_text is None:
            asked.pop("full_text", None)
        differs = _differences(get_source(obj.db(), sid), name if name_asked else None, asked)
        if not differs:
            click.echo(line + " [already registered]")
            continue
        now = ", ".join(f"{f} {shown_setting(f, old)}" for f, old, _ in differs)
        fix = " ".join(_set_option(f, new) for f, _, new in differs)
        click.echo(f"{line} [already registered, with {now}; to change: rjwatch source set {sid} {fix}]")


def _count_posts(obj: Ctx, source_id: int) -> int:
    from storage.sources import count_posts

    return count_posts(obj.db(), source_id)


def _differences(src: dict, name: str | None, settings: dict) -> list[tuple[str, object, object]]:
    """(field, current, asked) for each option given to `source add` that the existing source has otherwise."""
    out = []
    if name is not None and name != src["name"]:
        out.append(("name", src["name"], name))
    for field, value in settings.items():
        if src["settings"].get(field) != value:
            out.append((field, src["settings"].get(field), value))
    return out


def _duration_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def shown_setting(field: str, value) -> str:
    """A setting's value as `source set` takes it back."""
    if value is None or value == "":
        return "default" if field == "every" else "-"
    if field == "every":
        return _duration_text(float(value))
    if field == "full_text" and isinstance(value, bool):  # stored so by older versions
        return "always" if value else "never"
    return safe(str(value))


def _set_option(field: str, value) -> str:
    import shlex

    text = "auto" if field == "every" and value is None else ("" if value is None else shown_setting(field, value))
    return f"--{field.replace('_', '-')} {shlex.quote(text)}"


@source.command("set")
@click.argument("ref", metavar="ID|URL")
@click.option("--name", help="A label for listings (an empty one removes it).")
@click.option(
    "--every",
    metavar="DURATION|auto",
    help="A feed's fixed polling interval, or a blog's crawl interval (e.g. 30m, 6h); auto: back to "
    "adaptive polling / the crawl_interval setting.",
)
@click.option(
    "--full-text",
    type=click.Choice(["auto", "always", "never"]),
    help="A feed's entry pages: fetched for entries that read as a summary (auto), for every entry, or never.",
)
@click.option("--query", help="A blog's crawls ask its search for this term only (an empty one: the whole blog).")
@click.pass_obj
@handled
def source_set(
    obj: Ctx, ref: str, name: str | None, every: str | None, full_text: str | None, query: str | None
) -> None:
    """Change the name or settings of the source ID|URL, printing each change (old -> new).

    A running daemon applies the change within a minute. Settings in a config's [[sources]] entry
    apply again only when the entry is edited. A query source keeps to its engine's shortest
    interval (--every auto: that interval).

    Example:

    \b
        rjwatch source set 3 --every 30m --full-text always
        rjwatch source set https://example.blogspot.com/ --query Kuril --name "Example blog"
    """
    from crawler import query_feeds
    from storage.source_settings import check_settings, update_source
    from storage.sources import get_source

    if name is None and every is None and full_text is None and query is None:
        raise CommandError("nothing to change: give --name, --every, --full-text or --query")
    db = obj.db()
    src = get_source(db, ref)
    settings = check_settings(src["kind"], {"every": every, "full_text": full_text}, as_options=True)
    asked = query_feeds.query_of(src["settings"])
    if asked and "every" in settings:  # a query source keeps to its engine's interval; auto is that interval
        engine = asked["engine"]
        settings["every"] = query_feeds.check_every(engine, settings["every"]) or query_feeds.MIN_EVERY_S[engine]
    if query is not None:
        settings.update(check_settings(src["kind"], {"query": query or " "}, as_options=True))
    changes = update_source(db, src["id"], name=name, settings=settings)
    head = f"source #{src['id']} {src['kind']} {safe(mask_url(src['url']))}"
    if not changes:
        click.echo(f"{head}: nothing changed")
        return
    click.echo(head + ":")
    for field, old, new in changes:
        click.echo(f"  {field}: {shown_setting(field, old)} -> {shown_setting(field, new)}")


#: The columns `source list` prints, in every format.
SOURCE_COLUMNS = (
    "id",
    "name",
    "kind",
    "state",
    "posts",
    "last_success",
    "last_error",
    "next_run",
    "url",
    "settings",
)
#: What else `source list --columns` can name.
SOURCE_MORE_COLUMNS = ("last_run", "last_poll", "failures")


@source.command("list")
@click.option(
    "--kind",
    type=click.Choice(["blogger", "feed", "query"]),
    help="Only sources of this kind (query: the feeds of a news search or an alert, a kind of feed).",
)
@output_options(SOURCE_COLUMNS, SOURCE_COLUMNS + SOURCE_MORE_COLUMNS)
@click.pass_obj
@handled
def source_list(obj: Ctx, kind: str | None, out: Output) -> None:
    """List sources (candidates included): name, kind, posts collected, last success, last error and
    next run (a feed's next poll, a blog's next crawl by the daemon). A query source (the feed of a
    news search or a Google Alert) shows its kind as `query (ENGINE, LANG)`.

    Example:

    \b
        rjwatch source list
        rjwatch source list --kind query
    """
    from crawler.query_feeds import query_label
    from storage.health import by_source
    from storage.sources import list_sources, posts_collected

    db = obj.db()
    rows = list_sources(db, kind="feed" if kind == "query" else kind)
    if kind == "query":
        rows = [r for r in rows if query_label(r["settings"])]
    health = by_source(db)
    collected = posts_collected(db)
    crawls = _next_crawls(obj)
    for r in rows:
        h = health.get(r["id"], {})
        r["url"] = mask_url(r["url"])  # credentials in a source URL are never printed
        r["posts"] = collected.get(r["id"], 0)
        r["last_poll"] = h.get("last_poll")
        r["last_success"] = h.get("last_success")
        r["failures"] = h.get("consecutive_failures", 0)
        r["last_error"] = mask_urls(h.get("last_error") or h.get("disabled_reason"))
        r["next_run"] = crawls.get(r["id"]) if r["kind"] == "blogger" else h.get("next_due")
        r["kind"] = query_label(r["settings"]) or r["kind"]
    out.emit(rows)


def _next_crawls(obj: Ctx) -> dict[int, str]:
    """When the daemon crawls each enabled blog next (as its crawl jobs are scheduled), by source id."""
    from datetime import UTC, datetime

    from crawler.schedule import next_crawl_at
    from judge import dates
    from judge.durations import ConfigError, parse_duration
    from storage.sources import blog_crawl_schedule

    interval = parse_duration(obj.cfg["crawl_interval"])
    now = datetime.now(UTC)
    out = {}
    for sid, settings, last, reason, complete in blog_crawl_schedule(obj.db()):
        every = json.loads(settings or "{}").get("every") or interval
        try:
            every = parse_duration(every)
        except ConfigError:
            every = interval
        at = next_crawl_at(
            dates.parse(last), completed=reason == "finished" and bool(complete), every_s=float(every), now=now
        )
        out[sid] = at.isoformat(timespec="seconds")
    return out


@source.command("show")
@click.argument("ref", metavar="ID|URL")
@click.pass_obj
@handled
def source_show(obj: Ctx, ref: str) -> None:
    """One source (ID|URL) with its health, crawl progress and recent runs.

    Example:

    \b
        rjwatch source show 2
    """
    from storage import health as health_mod
    from storage.sources import count_posts, crawl_state, get_source, list_runs

    db = obj.db()
    s = get_source(db, ref)
    h = health_mod.get(db, s["id"])
    click.echo(
        f"#{s['id']} {s['kind']} [{s['state']}] {safe(mask_url(s['url']))}"
        + (f"  ({safe(s['name'])})" if s["name"] else "")
    )
    click.echo(f"  added {s['added_at']}; settings {json.dumps(s['settings'])}")
    click.echo(f"  posts: {count_posts(db, s['id'])}")
    if s["kind"] == "feed":
        click.echo(
            f"  last poll {h.get('last_poll') or '-'}, last success {h.get('last_success') or '-'}, "
            f"next due {h.get('next_due') or 'now'}, interval {h.get('interval_s') or '-'} s"
        )
        click.echo(
            f"  failures in a row: {h.get('consecutive_failures', 0)}; last error: "
            f"{safe(mask_urls(h.get('last_error')) or '-')}"
        )
        click.echo(
            f"  new posts per poll (smoothed): {float(h.get('new_item_rate') or 0):.2f}; "
            f"validators: etag {'yes' if h.get('etag') else 'no'}, last-modified {'yes' if h.get('last_modified') else 'no'}"
        )
        if h.get("moved_from"):
            click.echo(f"  moved from {safe(mask_url(h['moved_from']))}")
        if h.get("disabled_reason"):
            click.echo(f"  disabled: {safe(mask_urls(h['disabled_reason']))}")
    else:
        st = crawl_state(db, s["id"])
        click.echo(
            f"  backfill complete: {'yes' if st.get('backfill_complete') else 'no'}; newest updated "
            f"{st.get('newest_updated') or '-'}; blog id {st.get('blog_id') or '-'}"
        )
        if h.get("last_poll"):
            click.echo(
                f"  last crawl {h.get('last_poll')}, last success {h.get('last_success') or '-'}; failed crawls "
                f"in a row: {h.get('consecutive_failures', 0)}; last error: {safe(h.get('last_error') or '-')}"
            )
    for r in list_runs(db, source_id=s["id"], limit=5):
        click.echo(
            f"  run #{r['id']} {r['kind']} {r['started_at']} {r['finish_reason'] or 'running'}: "
            f"{r['pages']} pages, {r['items']} items, new {json.dumps(r['stats'].get('new', {}))}"
        )


#: The columns `source candidates` prints, in every format.
CANDIDATE_COLUMNS = ("id", "url", "name", "linking_posts", "post_ids", "sampled_relevance")


@source.command("candidates")
@output_options(CANDIDATE_COLUMNS)
@click.pass_obj
@handled
def source_candidates(obj: Ctx, out: Output) -> None:
    """Blogs found by discovery, waiting for approval, with the posts that link to them.

    Example:

    \b
        rjwatch source candidates
    """
    from storage.sources import list_candidates

    out.emit(list_candidates(obj.db()))


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
    """Approve the candidate ID|URL: it will be crawled from now on.

    Example:

    \b
        rjwatch source approve 7
    """
    _set_state(obj, ref, "enabled", "approved")


@source.command("disable")
@click.argument("ref", metavar="ID|URL")
@click.pass_obj
@handled
def source_disable(obj: Ctx, ref: str) -> None:
    """Stop collecting from the source ID|URL (its posts stay).

    Example:

    \b
        rjwatch source disable 3
    """
    _set_state(obj, ref, "disabled", "disabled")


@source.command("enable")
@click.argument("ref", metavar="ID|URL")
@click.pass_obj
@handled
def source_enable(obj: Ctx, ref: str) -> None:
    """Collect from the disabled source ID|URL again.

    Example:

    \b
        rjwatch source enable 3
    """
    _set_state(obj, ref, "enabled", "enabled")


@source.command("remove")
@click.argument("ref", metavar="ID|URL")
@click.pass_obj
@handled
def source_remove(obj: Ctx, ref: str) -> None:
    """Forget the source ID|URL and its health and crawl progress. Its posts stay, shown without a
    source; adding the same URL again links them back to it. To stop collecting but keep the source,
    use `rjwatch source disable`.

    Example:

    \b
        rjwatch source remove 3
    """
    from storage.sources import get_source, remove_source

    src = get_source(obj.db(), ref)
    kept = remove_source(obj.db(), src["id"])
    line = f"source #{src['id']} removed: {safe(mask_url(src['url']))}"
    if kept:
        line += f"; its {kept} post(s) stay, without a source, until the URL is added again"
    click.echo(line)


@source.command("discover")
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="Visit at most this many linked hosts (the most linked first).",
)
@click.option("--set", "-s", "scrapy_set", multiple=True, metavar="KEY=VALUE", help="A Scrapy setting for this run.")
@click.pass_obj
@handled
def source_discover(obj: Ctx, limit: int, scrapy_set: tuple[str, ...]) -> None:
    """Visit blogs that relevant posts link to; record the Blogger ones as candidates.

    Example:

    \b
        rjwatch source discover && rjwatch source candidates
    """
    from crawler.guard import allowed_sites
    from rjwatch.crawling import run_discovery
    from storage.sources import candidate_hosts, count_sources, list_sources

    hosts = candidate_hosts(obj.db(), limit=limit)
    if not hosts:
        click.echo("no linked hosts to visit (collect some relevant posts first)")
        return
    # the sites (host and effective port) of approved sources; a bare host only from `trusted_hosts`
    trusted = sorted(
        allowed_sites(
            *(s["url"] for s in list_sources(obj.db(), state="enabled")), trusted_hosts=obj.cfg["trusted_hosts"]
        )
    )
    run_discovery(obj.path, obj.cfg, hosts, trusted, overrides={"_pairs": list(scrapy_set)})
    n = count_sources(obj.db(), state="candidate")
    click.echo(f"visited {len(hosts)} host(s); {n} candidate source(s) waiting: rjwatch source candidates")


@source.command("import")
@click.argument("opml", metavar="[OPML]", type=click.Path(dir_okay=False), required=False)
@click.option("--defaults", is_flag=True, help="Import the curated default list shipped with rjwatch.")
@click.pass_obj
@handled
def source_import(obj: Ctx, opml: str | None, defaults: bool) -> None:
    """Add the feeds of the OPML file (as every feed reader exports them), or of the default list.

    Example:

    \b
        rjwatch source import subscriptions.opml
        rjwatch source import --defaults
    """
    from rjwatch.inputs import read_input
    from rjwatch.opml import OpmlError, read_opml
    from storage.sources import add_source

    if bool(opml) == defaults:
        raise CommandError("give an OPML file or --defaults (one of them)")
    if defaults:
        data = resources.files("rjwatch").joinpath("data", "default_sources.opml").read_bytes()
        name = "default sources"
    else:
        data = read_input(opml, obj.cfg).data
        name = opml
    try:
        outlines = read_opml(data)
    except OpmlError as exc:
        raise CommandError(f"{name}: {exc}") from None
    from crawler import query_feeds

    alerts_base = obj.cfg["query_engines"][query_feeds.GOOGLE_ALERTS]
    added = 0
    for o in outlines:
        settings = None
        if (o.get("kind") or "feed") == "feed" and query_feeds.google_alerts_ids(o["url"], alerts_base):
            # a Google Alerts feed in a reader's subscriptions is a query source, as with `source add`
            settings = query_feeds.query_settings(query_feeds.GOOGLE_ALERTS, None, None)
        _, created = add_source(obj.db(), o["url"], o.get("kind") or "feed", name=o.get("title"), settings=settings)
        added += created
    click.echo(f"{name}: {len(outlines)} feed(s), {added} new source(s)")


@source.command("export")
@click.pass_obj
@handled
def source_export(obj: Ctx) -> None:
    """Print every source as OPML 2.0 (feeds as rss outlines, blogs with type="blogger").

    Example:

    \b
        rjwatch source export > rjwatch-sources.opml
    """
    from rjwatch.opml import write_opml
    from storage.sources import list_sources

    click.echo(write_opml(list_sources(obj.db())), nl=False)


COMMANDS = [source]
