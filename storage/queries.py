"""Read-only queries behind `rjwatch posts` and `rjwatch show`."""

from __future__ import annotations

import json

import sqlite_utils

POST_COLUMNS = ("id", "url", "canonical_url", "title", "author", "published", "lang", "source", "status",
                "relevance", "matched_terms", "seed_similarity", "duplicate_of", "first_seen", "sightings")

_LIST_SQL = """
SELECT p.id, p.url, p.canonical_url, p.title, p.author, p.published, p.lang,
       coalesce(s.name, s.url) AS source, p.status, p.relevance, p.matched_terms, p.seed_similarity,
       p.duplicate_of, p.first_seen,
       (SELECT count(*) FROM sightings g WHERE g.post_id = p.id) AS sightings
FROM posts p LEFT JOIN sources s ON s.id = p.source_id
"""


def _decode(row: dict) -> dict:
    for key in ("matched_terms", "seed_similarity", "evidence", "labels"):
        if key in row and isinstance(row[key], str):
            row[key] = json.loads(row[key])
    if "relevance" in row and row["relevance"] is not None:
        row["relevance"] = round(row["relevance"], 4)
    return row


def list_posts(db: sqlite_utils.Database, *, status: str | None = None, limit: int | None = None,
               offset: int = 0) -> list[dict]:
    where, params = "", []
    if status:
        where = "WHERE p.status = ?"
        params.append(status)
    sql = f"{_LIST_SQL} {where} ORDER BY p.id DESC LIMIT ? OFFSET ?"
    params += [limit if limit is not None else -1, offset]
    return [_decode(dict(r)) for r in db.query(sql, params)]


def get_post(db: sqlite_utils.Database, post_id: int) -> dict | None:
    rows = list(db.query("SELECT p.*, coalesce(s.name, s.url) AS source FROM posts p "
                         "LEFT JOIN sources s ON s.id = p.source_id WHERE p.id = ?", [post_id]))
    if not rows:
        return None
    post = _decode(dict(rows[0]))
    post["sightings"] = list(db.query(
        "SELECT url, via, first_seen, last_seen, times FROM sightings WHERE post_id = ? ORDER BY first_seen, id",
        [post_id]))
    post["duplicates"] = list(db.query(
        "SELECT id, title, url, published FROM posts WHERE duplicate_of = ? ORDER BY id", [post_id]))
    post["revisions"] = list(db.query(
        "SELECT revision, title, updated, status, replaced_at, length(text) AS chars FROM revisions "
        "WHERE post_id = ? ORDER BY revision", [post_id]))
    post["links"] = [r["url"] for r in db.query("SELECT url FROM links WHERE post_id = ? ORDER BY rowid", [post_id])]
    post["seeds"] = {str(r["id"]): r["title"] for r in db.query("SELECT id, title FROM seeds")}
    return post


def counts_by_status(db: sqlite_utils.Database) -> dict[str, int]:
    return {r["status"]: r["n"] for r in db.query("SELECT status, count(*) AS n FROM posts GROUP BY status")}
