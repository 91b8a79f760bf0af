"""Read-only looks at a database that another process is writing: the demo's progress lines and its
closing summary (rjwatch.demo.runner), while the demo's daemon fills the database.

Each function opens its own short read-only connection (`mode=ro`: it can never write, and never
holds the database between two looks), so the writer is never kept waiting.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

#: How long a look waits for the writer's lock before it fails: a checkpoint can hold it a moment.
READ_TIMEOUT_S = 10


def _query(path: Path, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=READ_TIMEOUT_S)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _marks(ids: list) -> str:
    return ",".join("?" * len(ids))


def meta_value(path: Path, key: str) -> str | None:
    """The `meta` value under `key` of an existing database file; None when there is none, or the
    file is no rjwatch database (or no SQLite database at all)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def collected(path: Path) -> tuple[int, int, int, int]:
    """(feeds polled at least once, blogs whose backfill is complete, sources, posts)."""
    (row,) = _query(
        path,
        "SELECT (SELECT count(*) FROM sources s JOIN source_health h ON h.source_id = s.id WHERE s.kind = 'feed' "
        "AND (h.polls > 0 OR h.consecutive_failures > 0)), "
        "(SELECT count(*) FROM sources s JOIN crawl_state c ON c.source_id = s.id WHERE s.kind = 'blogger' "
        "AND c.backfill_complete = 1), (SELECT count(*) FROM sources), (SELECT count(*) FROM posts)",
    )
    return row


def stored_and_alerted(path: Path, blogger_post_ids: list[str]) -> tuple[int, int]:
    """(posts stored among these Blogger post ids, their alerts sent)."""
    marks = _marks(blogger_post_ids)
    (row,) = _query(
        path,
        f"SELECT count(*), (SELECT count(*) FROM alerts a JOIN posts q ON q.id = a.post_id WHERE q.post_id IN "
        f"({marks}) AND a.status = 'sent') FROM posts WHERE post_id IN ({marks})",
        blogger_post_ids + blogger_post_ids,
    )
    return row


def activity(path: Path) -> tuple[int, int, int]:
    """(poll passes, finished crawls, feeds that answered 304 over all passes)."""
    (row,) = _query(
        path,
        "SELECT (SELECT count(*) FROM runs WHERE kind = 'poll'), (SELECT count(*) FROM runs WHERE kind = 'crawl' "
        "AND finished_at IS NOT NULL), (SELECT coalesce(sum(json_extract(stats, '$.not_modified')), 0) FROM runs "
        "WHERE kind = 'poll')",
    )
    return row


def posts_by_status(path: Path) -> dict[str, int]:
    return dict(_query(path, "SELECT status, count(*) FROM posts GROUP BY status"))


def seed_spread(path: Path) -> list[tuple[int, str, str | None, float, str | None, str]]:
    """(id, status, title, best containment of a seed, source, url) of every copy and excerpt."""
    rows = _query(
        path,
        "SELECT p.id, p.status, p.title, p.seed_similarity, coalesce(s.name, s.url), p.url FROM posts p "
        "LEFT JOIN sources s ON s.id = p.source_id WHERE p.status IN ('copy', 'excerpt') ORDER BY "
        "p.status, p.published",
    )
    return [
        (
            pid,
            status,
            title,
            max((v.get("containment", 0) for v in json.loads(sim or "{}").values()), default=0),
            source,
            url,
        )
        for pid, status, title, sim, source, url in rows
    ]


def duplicates(path: Path) -> list[tuple[int, str | None, int | None]]:
    """(id, title, duplicate_of) of every duplicate."""
    return _query(path, "SELECT p.id, p.title, p.duplicate_of FROM posts p WHERE p.status = 'duplicate'")


def alerts_sent_by_kind(path: Path) -> dict[str, int]:
    return dict(_query(path, "SELECT kind, count(*) FROM alerts WHERE status = 'sent' GROUP BY kind"))


def alerts_suppressed(path: Path) -> int:
    return _query(path, "SELECT count(*) FROM alerts WHERE status = 'suppressed'")[0][0]


def deliveries_sent_by_channel(path: Path) -> dict[str, int]:
    return dict(_query(path, "SELECT channel, count(*) FROM deliveries WHERE status = 'sent' GROUP BY channel"))


def sent_alerts_of(path: Path, blogger_post_ids: list[str]) -> list[tuple[str, str | None]]:
    """(kind, post title) of the sent alerts of the posts with these Blogger post ids, oldest first."""
    return _query(
        path,
        f"SELECT a.kind, p.title FROM alerts a JOIN posts p ON p.id = a.post_id WHERE p.post_id IN "
        f"({_marks(blogger_post_ids)}) AND a.status = 'sent' ORDER BY a.id",
        blogger_post_ids,
    )


def post_row_id(path: Path, blogger_post_id: str) -> int | None:
    """The row id of the post with this Blogger post id, or None."""
    rows = _query(path, "SELECT id FROM posts WHERE post_id = ?", (blogger_post_id,))
    return rows[0][0] if rows else None
