"""`rjwatch serve`: the corpus in Datasette, read-only, with descriptions, canned queries and search.

Datasette opens a database it may not write to with `?mode=ro`, and offers no write API without
plugins, so browsing can never change the corpus while the daemon keeps writing to it (WAL lets
the two run side by side).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from rjwatch.extras import require as _require
from storage.canned import CANNED_QUERIES

#: Rows per page in the web view: enough to scan a day of coverage at a glance.
PAGE_SIZE = 50
#: Longest a canned or ad-hoc query may run, in ms, so one heavy query cannot stall the server.
SQL_TIME_LIMIT_MS = 5_000

TABLES = {
    "posts": {
        "description": "One row per post, however many places it was seen. status says what rjwatch made of it.",
        "columns": {
            "canonical_url": "The post's one identity: scheme, host (Blogger ccTLDs folded to .com), path; "
            "no ?m=1, no tracking parameters",
            "url": "The URL as first found",
            "blog_id": "Blogger blog id, when known",
            "post_id": "Blogger post id, when known",
            "published": "Publication time, ISO 8601 (UTC)",
            "lang": "Language detected from the text (ISO 639-1)",
            "text": "Main text, Blogger chrome removed",
            "status": "copy / excerpt (of a seed), new (relevant coverage), duplicate (of duplicate_of), off_topic",
            "relevance": "Topic relevance 0–1 from the topic profile; see matched_terms and evidence",
            "matched_terms": "JSON {concept: {term: count}} behind the relevance score",
            "seed_similarity": (
                "JSON {seed id: {containment, jaccard, shared}}; for a translation {containment, kind: "
                "translation, share, paragraphs, seed_paragraphs, anchors, run}"
            ),
            "duplicate_of": "The earlier post this one repeats",
            "evidence": "JSON: the reasons for the status",
            "first_seen": "When rjwatch first collected it",
            "last_seen": "When it was last seen anywhere",
            "revision": "1, or more when the post was edited (earlier texts in revisions)",
        },
        "fts_table": "posts_fts",
        "fts_pk": "id",
        "sort_desc": "id",
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
    "crawl_state": {"description": "Per-blog crawl progress for incremental re-crawls."},
    "candidate_evidence": {"description": "Which relevant posts link to a candidate source."},
}

QUERIES = CANNED_QUERIES


def require() -> None:
    _require("datasette", "serve", "serve")


def metadata(db_name: str) -> dict:
    return {
        "title": "rjwatch corpus",
        "description": "Coverage of Russia–Japan relations collected by rjwatch: posts, where they were seen, "
        "why they got their status, sources, alerts.",
        "databases": {db_name: {"tables": TABLES, "queries": QUERIES}},
    }


def make(path: Path):
    """A Datasette instance over one database file, read-only."""
    from datasette.app import Datasette

    return Datasette(
        [str(path)],
        metadata=metadata(path.stem),
        settings={"default_page_size": PAGE_SIZE, "sql_time_limit_ms": SQL_TIME_LIMIT_MS, "allow_download": False},
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
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on", workers=1)
    return 0
