"""Reads behind the Atom feeds of the results (rjwatch.atom): the posts a feed carries, newest first,
with what an entry shows, and the installation's own timestamp that the feed ids are built from.

Newest first means the order posts were collected (rowid), as everywhere else in rjwatch (see
storage.search): the newest entries of a feed are the ones rjwatch found last.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import sqlite_utils

from storage.queries import EXPORT_CACHE_KIB
from storage.schema import migrations
from storage.search import Filters, from_where

#: The columns of one feed row (rjwatch.atom builds an entry from them).
FEED_COLUMNS = (
    "id",
    "canonical_url",
    "url",
    "title",
    "author",
    "published",
    "updated",
    "first_seen",
    "lang",
    "status",
    "analyst_status",
    "relevance",
    "evidence",
    "source",
    "seed_title",
    "marked_at",
    "mark_note",
    "text",
)


def feed_rows(
    db: sqlite_utils.Database,
    query: str | None = None,
    filters: Filters | None = None,
    *,
    limit: int | None = None,
    text_chars: int = 1000,
) -> Iterator[dict]:
    """The posts matching a query and filters, newest first, one at a time, at most `limit` (None:
    all). `text` holds only the first `text_chars` characters of the post's text (for a snippet)."""
    frm, where, params, order = from_where(db, query, filters)
    # The ids first, then the columns of just those posts: sorting the matches by id (when an index
    # cannot give that order) then handles ids only, and the snippet and the subqueries are computed
    # for the posts the feed shows, not for every match.
    sql = f"""
    SELECT p.id, p.canonical_url, p.url, p.title, p.author, p.published, p.updated, p.first_seen, p.lang,
           p.status, p.analyst_status, p.relevance, p.evidence, coalesce(s.name, s.url) AS source,
           CASE WHEN p.status IN ('copy', 'excerpt') THEN
               (SELECT d.title FROM seeds d WHERE d.id = json_extract(p.evidence, '$.seed')) END,
           (SELECT max(m.at) FROM marks m WHERE m.post_id = p.id),
           CASE WHEN p.analyst_status IS NOT NULL THEN
               (SELECT m.note FROM marks m WHERE m.post_id = p.id ORDER BY m.at DESC, m.id DESC LIMIT 1) END,
           substr(p.text, 1, ?)
    FROM posts p LEFT JOIN sources s ON s.id = p.source_id
    WHERE p.id IN (SELECT p.id FROM {frm} WHERE {where} ORDER BY {order} DESC LIMIT ?)
    ORDER BY p.id DESC"""
    cache = db.execute("PRAGMA cache_size").fetchone()[0]
    if limit is None:  # a whole export: read once, in order (see EXPORT_CACHE_KIB)
        db.execute(f"PRAGMA cache_size = -{EXPORT_CACHE_KIB}")
    try:
        for row in db.execute(sql, [text_chars, *params, -1 if limit is None else limit]):
            rec = dict(zip(FEED_COLUMNS, row))
            try:
                rec["evidence"] = json.loads(rec["evidence"]) if rec["evidence"] else {}
            except ValueError:
                rec["evidence"] = {}
            yield rec
    finally:
        db.execute(f"PRAGMA cache_size = {cache}")


def installation_stamp(db: sqlite_utils.Database) -> str:
    """When this database was created (the time its first migration was applied): what tells one
    installation's feeds from another's, and the `updated` time of a feed with no entries yet."""
    row = db.execute(
        "SELECT min(applied_at) FROM _sqlite_migrations WHERE migration_set = ?", [migrations.name]
    ).fetchone()
    return row[0] if row and row[0] else "1970-01-01T00:00:00+00:00"
