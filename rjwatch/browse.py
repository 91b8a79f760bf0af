"""`rjwatch serve`: the corpus in Datasette, read-only, with descriptions, canned queries and search.

Datasette opens a database it may not write to with `?mode=ro`, and offers no write API without
plugins, so browsing can never change the corpus while the daemon keeps writing to it (WAL lets
the two run side by side).

What an analyst sees first: the `posts_list` view (title, status, relevance, published, language,
source, URL; newest published first, faceted by status and language), the tables described below,
and none of the internal ones (INTERNAL_TABLES, hidden). Long cells are cut in the HTML pages. A
search in Japanese, Chinese or Korean on `posts` or `posts_list` uses the trigram index
(`posts_cjk`), since the default one (`posts_fts`, unicode61) cannot find 北方領土 inside a sentence.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from urllib.parse import parse_qsl

from judge.text import has_cjk
from rjwatch.extras import require as _require
from storage.canned import CANNED_QUERIES

#: Rows per page in the web view: enough to scan a day of coverage at a glance.
PAGE_SIZE = 50
#: Longest a canned or ad-hoc query may run, in ms, so one heavy query cannot stall the server.
SQL_TIME_LIMIT_MS = 5_000
#: Characters of a cell shown in the HTML pages (Datasette's `truncate_cells_html`): a post's text or
#: its JSON evidence would otherwise make one row fill the screen. The JSON and CSV keep every cell whole.
TRUNCATE_CELLS_HTML = 160
#: The full-text index for searches with Japanese, Chinese or Korean characters, and the browsable
#: relations it serves (both keyed by the post id).
CJK_FTS_TABLE = "posts_cjk"
CJK_SEARCHABLE = ("posts", "posts_list")

#: Tables kept for rjwatch's own work, hidden from the web view (still reachable by URL and SQL).
INTERNAL_TABLES = {
    "_sqlite_migrations": "the schema migrations applied",
    "meta": "rjwatch's own settings and markers",
    "topics": "the stored topic profile (read it in the config's topic file)",
    "minhash": "near-duplicate signatures",
    "lsh": "near-duplicate index",
    "lsh_recent": "near-duplicate index, newest keys",
    "alert_channels": "each alert channel's place in the outbox",
    "crawl_state": "per-blog crawl progress for incremental re-crawls",
    "posts_fts": "full-text index (searched through posts)",
    "posts_cjk": "trigram index for Japanese, Chinese and Korean (searched through posts)",
    "posts_cjk_vocab": "the trigram index's term list",
    "learned_models": "models learned from the analysts' marks",
    "removed_source_posts": "the posts of removed sources, linked back when a source is added again",
}

POSTS_LIST = {
    "description": "The posts, one line each, newest published first: open a row's id in posts (or "
    "`rjwatch show ID`) for its text and evidence. The search box finds words in any language; Japanese, "
    "Chinese and Korean terms of three characters or more are found anywhere in a sentence.",
    "columns": {
        "status": "copy / excerpt (of a seed), new (relevant coverage), duplicate, off_topic",
        "analyst": "An analyst's mark (rjwatch mark), in force over rjwatch's own verdict; empty when none",
        "relevance": "Topic relevance 0–1",
        "published": "Publication time, ISO 8601 (UTC)",
        "language": "Detected from the text (ISO 639-1)",
        "source": "The blog or feed it was collected from",
        "url": "The URL it was fetched from",
        "id": "The post's row in posts",
    },
    "sort_desc": "published",
    "facets": ["status", "language"],
    "fts_table": "posts_fts",
    "fts_pk": "id",
}

TABLES = {
    "posts_list": POSTS_LIST,
    "posts": {
        "description": "One row per post, however many places it was seen. status says what rjwatch made of it. "
        "For a list that reads one line a post, open the posts_list view.",
        "columns": {
            "canonical_url": "The post's one identity: scheme, host (Blogger ccTLDs folded to .com), path; "
            "no ?m=1, no tracking parameters",
            "url": "The URL as first found",
            "blog_id": "Blogger blog id, when known",
            "post_id": "Blogger post id, when known",
            "published": "Publication time, ISO 8601 (UTC)",
            "lang": "Language detected from the text (ISO 639-1)",
            "text": "Main text, Blogger chrome removed",
            "status": "copy / excerpt (of a seed), new (relevant coverage), duplicate (of duplicate_of), off_topic; "
            "an analyst's mark when there is one",
            "machine_status": "rjwatch's own verdict, whatever an analyst said",
            "analyst_status": "The analyst's verdict (rjwatch mark), empty when none",
            "relevance": "Topic relevance 0–1 from the topic profile; see matched_terms and evidence",
            "matched_terms": "JSON {concept: {term: count}} behind the relevance score",
            "seed_similarity": (
                "JSON {seed id: {containment, jaccard, shared}}; for a translation {containment, kind: "
                "translation, share, paragraphs, seed_paragraphs, anchors, run, sequence}"
            ),
            "duplicate_of": "The earlier post this one repeats",
            "evidence": "JSON: the reasons for the status",
            "first_seen": "When rjwatch first collected it",
            "last_seen": "When it was last seen anywhere",
            "revision": "1, or more when the post was edited (earlier texts in revisions)",
        },
        "fts_table": "posts_fts",
        "fts_pk": "id",
        "sort_desc": "published",
    },
    "sightings": {
        "description": "Every place a post was seen: its page, its mobile twin, a feed, a file.",
        "columns": {"via": "page, feed, export, file or cli", "times": "How often it was seen there"},
    },
    "sources": {
        "description": "Blogs (crawled) and feeds (polled); candidates await approval.",
        "columns": {
            "kind": "blogger, feed or manual",
            "state": "enabled, disabled or candidate",
            "settings": "JSON per-source overrides",
        },
    },
    "seeds": {"description": "Reference articles that copies and excerpts are measured against."},
    "alerts": {
        "description": "The alert outbox: written with the post that causes it, sent at least once per channel with a stable idempotency key.",
        "columns": {"key": "Idempotency key, also sent as the X-Rjwatch-Key header"},
    },
    "deliveries": {"description": "Delivery attempts of each alert on each channel."},
    "runs": {"description": "Crawl and poll runs, with pages, items, errors and stats."},
    "source_health": {"description": "Per-source polling state: validators, failures, back-off, adaptive interval."},
    "links": {"description": "Outbound links of each post: who links to a seed or to a source."},
    "revisions": {"description": "Earlier versions of edited posts."},
    "saved_searches": {"description": "Named full-text queries with filters (rjwatch saved)."},
    "marks": {
        "description": "Analyst corrections (rjwatch mark), as a history: a post's latest mark is in force, "
        "beside rjwatch's own verdict."
    },
    "candidate_evidence": {"description": "Which relevant posts link to a candidate source."},
    "evidence": {
        "description": "WARC records of the raw responses kept posts came from (rjwatch evidence ID): the day's "
        "file under evidence/, offset, record id and SHA-256."
    },
    "page_checks": {
        "description": "Every re-check of a copy's page (rjwatch recheck): HTTP status, outcome (unchanged, "
        "edited, revised, removed, back, failed) and when the next check is due."
    },
    "archive_submissions": {
        "description": "Copies submitted to a web archive (the archive_submit_url setting), with its answer."
    },
}

QUERIES = CANNED_QUERIES


def require() -> None:
    _require("datasette", "serve", "serve")


def metadata(db_name: str) -> dict:
    hidden = {name: {"hidden": True, "description": f"Internal: {why}."} for name, why in INTERNAL_TABLES.items()}
    return {
        "title": "rjwatch corpus",
        "description": "Coverage of Russia–Japan relations collected by rjwatch: posts (start with posts_list), "
        "where they were seen, why they got their status, sources, alerts.",
        "databases": {db_name: {"tables": {**TABLES, **hidden}, "queries": QUERIES}},
    }


def cjk_search(app, db_name: str):
    """The ASGI app, with searches in Japanese, Chinese or Korean on `posts` and `posts_list` sent
    to the trigram index (Datasette's `_fts_table` argument), unless the request names an index."""
    page = re.compile(rf"^/{re.escape(db_name)}/(?:{'|'.join(CJK_SEARCHABLE)})(?:\.\w+)?$")

    async def wrapped(scope, receive, send):
        if scope["type"] == "http" and page.match(scope.get("path", "")):
            args = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            keys = {k for k, _ in args}
            if "_fts_table" not in keys and any(k == "_search" and has_cjk(v) for k, v in args):
                query = scope["query_string"] + f"&_fts_table={CJK_FTS_TABLE}".encode()
                scope = {**scope, "query_string": query}
        await app(scope, receive, send)

    return wrapped


def make(path: Path):
    """A Datasette instance over one database file, read-only."""
    from datasette.app import Datasette

    return Datasette(
        [str(path)],
        metadata=metadata(path.stem),
        settings={
            "default_page_size": PAGE_SIZE,
            "sql_time_limit_ms": SQL_TIME_LIMIT_MS,
            "allow_download": False,
            "truncate_cells_html": TRUNCATE_CELLS_HTML,
        },
    )


def serve(path: Path, *, host: str, port: int, open_browser: bool = False) -> int:
    import uvicorn

    ds = make(path)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(ds.invoke_startup())
    finally:
        loop.close()
    url = f"http://{host}:{port}/{path.stem}"
    print(f"serving {path} read-only at {url} (Ctrl-C stops)", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    uvicorn.run(cjk_search(ds.app(), path.stem), host=host, port=port, log_level="warning", lifespan="on", workers=1)
    return 0
