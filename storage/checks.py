"""Re-checks of stored copies and their submissions to a web archive: which posts are due, and each
check's outcome (the SQL of crawler.recheck).

A check is one `page_checks` row. A page answering 404/410 makes the post `removed` (posts.page_state,
with the date), a page that changed substantially makes it `revised` (the earlier version goes to
`revisions` through storage.ingest's own revision path, the post is judged again); each change of
state queues ONE alert in the same transaction, under a key that a repeated check cannot queue twice
(`copy-removed-<post>-<n>`: the n-th removal of that post; `copy-revised-<post>-<revision>`). A
check that failed (no answer, 5xx) is recorded and changes nothing. The stored text and the earlier
versions are never deleted.
"""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from judge import dates
from storage import outbox
from storage.db import write_tx
from storage.ingest import SNIPPET_CHARS, Analysis, Ingestor

#: Page states of a checked copy (posts.page_state; NULL: never checked, read as live).
PAGE_STATES = ("live", "removed", "revised")


def candidates(
    db: sqlite_utils.Database,
    statuses: tuple[str, ...],
    *,
    since: str | None,
    ids: tuple[int, ...] = (),
) -> list[dict]:
    """Posts whose page may be checked: `ids` when given (whatever their status), else the posts with
    one of `statuses`, or checked before (a revised copy can stop being one), first seen at `since` or
    later (None: any time). Each with its source's URL and its last check time."""
    cols = (
        "p.id, p.url, p.canonical_url, p.source_id, s.url AS source_url, p.first_seen, p.status, "
        "p.machine_status, p.text, p.title, p.revision, p.page_state, p.lang, "
        "(SELECT max(c.checked_at) FROM page_checks c WHERE c.post_id = p.id) AS last_checked"
    )
    base = f"SELECT {cols} FROM posts p LEFT JOIN sources s ON s.id = p.source_id"
    if ids:
        marks = ", ".join("?" for _ in ids)
        return [dict(r) for r in db.query(f"{base} WHERE p.id IN ({marks}) ORDER BY p.id", list(ids))]
    if not statuses:
        return []  # re-checks are off
    marks = ", ".join("?" for _ in statuses)
    where = f"(p.status IN ({marks}) OR p.page_state IS NOT NULL)"
    params: list = list(statuses)
    if since is not None:
        where += " AND p.first_seen >= ?"
        params.append(since)
    return [dict(r) for r in db.query(f"{base} WHERE {where} ORDER BY p.id", params)]


def missing_ids(db: sqlite_utils.Database, ids: tuple[int, ...]) -> list[int]:
    """The ids among `ids` that are no stored post."""
    found = {r[0] for r in db.execute(f"SELECT id FROM posts WHERE id IN ({', '.join('?' for _ in ids)})", ids)}
    return [i for i in ids if i not in found]


def _check_row(db, post_id: int, now: str, http_status, outcome: str, detail, next_check) -> None:
    db.execute(
        "INSERT INTO page_checks (post_id, checked_at, http_status, outcome, detail, next_check) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (post_id, now, http_status, outcome, detail, next_check),
    )


def _iso(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when is not None else None


def record_check(
    db: sqlite_utils.Database,
    post_id: int,
    *,
    outcome: str,
    http_status: int | None = None,
    detail: str | None = None,
    next_check: datetime | None = None,
) -> str:
    """A check that changes no state: `unchanged`, `edited` (a small edit) or `failed`; a removed
    page answering with its text again is `back` (live again). Returns the outcome recorded."""
    now = dates.now_iso()
    with write_tx(db):
        state = db.execute("SELECT page_state FROM posts WHERE id = ?", (post_id,)).fetchone()[0]
        if outcome in ("unchanged", "edited") and state == "removed":
            outcome = "back"
            db.execute("UPDATE posts SET page_state = 'live', page_state_at = ? WHERE id = ?", (now, post_id))
        elif outcome in ("unchanged", "edited") and state is None:
            db.execute("UPDATE posts SET page_state = 'live', page_state_at = ? WHERE id = ?", (now, post_id))
        _check_row(db, post_id, now, http_status, outcome, detail, _iso(next_check))
    return outcome


def record_removed(
    db: sqlite_utils.Database, post: dict, *, http_status: int, next_check: datetime | None = None
) -> bool:
    """The page answered 404/410: the post becomes `removed` (once; its text and versions stay) and one
    alert is queued. Returns True when this check removed it (False: removed already)."""
    now = dates.now_iso()
    with write_tx(db):
        state = db.execute("SELECT page_state FROM posts WHERE id = ?", (post["id"],)).fetchone()[0]
        if state == "removed":
            _check_row(db, post["id"], now, http_status, "still_removed", f"HTTP {http_status}", _iso(next_check))
            return False
        _check_row(db, post["id"], now, http_status, "removed", f"HTTP {http_status}", _iso(next_check))
        db.execute("UPDATE posts SET page_state = 'removed', page_state_at = ? WHERE id = ?", (now, post["id"]))
        n = db.execute(
            "SELECT count(*) FROM page_checks WHERE post_id = ? AND outcome = 'removed'",
            (post["id"],),
        ).fetchone()[0]
        outbox.enqueue(
            db,
            f"copy-removed-{post['id']}-{n}",
            "copy_removed",
            {
                "post_id": post["id"],
                "title": post.get("title"),
                "url": post["url"],
                "status": post.get("status"),
                "lang": post.get("lang"),
                "source_id": post.get("source_id"),
                "http_status": http_status,
                "removed_at": now,
                "snippet": (post.get("text") or "")[:SNIPPET_CHARS],
            },
            post_id=post["id"],
            source_id=post.get("source_id"),
            created_at=now,
        )
    return True


def record_revised(
    db: sqlite_utils.Database,
    ingestor: Ingestor,
    post: dict,
    a: Analysis,
    *,
    http_status: int,
    similarity: float,
    why: str,
    next_check: datetime | None = None,
) -> int:
    """The page changed substantially: the stored version goes to `revisions` (storage.ingest's
    revision path, which judges the post again), the post becomes `revised`, and one alert is
    queued. Returns the new revision number."""
    now = dates.now_iso()
    with write_tx(db):
        revision, status = ingestor.revise(post["id"], a, updated=now)
        db.execute("UPDATE posts SET page_state = 'revised', page_state_at = ? WHERE id = ?", (now, post["id"]))
        _check_row(db, post["id"], now, http_status, "revised", why, _iso(next_check))
        outbox.enqueue(
            db,
            f"copy-revised-{post['id']}-{revision}",
            "copy_revised",
            {
                "post_id": post["id"],
                "title": a.title or post.get("title"),
                "url": post["url"],
                "status": status,
                "was": post.get("status"),
                "lang": a.lang,
                "source_id": post.get("source_id"),
                "revision": revision,
                "similarity": round(similarity, 3),
                "why": why,
                "revised_at": now,
                "snippet": a.text[:SNIPPET_CHARS],
            },
            post_id=post["id"],
            source_id=post.get("source_id"),
            created_at=now,
        )
    return revision


def page_checks(db: sqlite_utils.Database, post_id: int) -> list[dict]:
    """A post's checks, oldest first."""
    return [
        dict(r)
        for r in db.query(
            "SELECT checked_at, http_status, outcome, detail, next_check FROM page_checks WHERE post_id = ? ORDER BY id",
            [post_id],
        )
    ]


def page_state(db: sqlite_utils.Database, post_id: int) -> tuple[str | None, str | None]:
    """(page_state, page_state_at) of a post."""
    row = db.execute("SELECT page_state, page_state_at FROM posts WHERE id = ?", (post_id,)).fetchone()
    return (row[0], row[1]) if row else (None, None)


# --- the web archive ----------------------------------------------------------------------------------
def archive_due(db: sqlite_utils.Database, statuses: tuple[str, ...], now: str) -> list[dict]:
    """Posts with one of `statuses` not yet accepted by the web archive and not waiting for a retry."""
    if not statuses:
        return []
    marks = ", ".join("?" for _ in statuses)
    return [
        dict(r)
        for r in db.query(
            f"SELECT p.id, p.url, p.source_id, coalesce(a.attempts, 0) AS attempts FROM posts p "
            f"LEFT JOIN archive_submissions a ON a.post_id = p.id WHERE p.status IN ({marks}) "
            "AND a.archived_at IS NULL AND (a.next_attempt_at IS NULL OR a.next_attempt_at <= ?) ORDER BY p.id",
            [*statuses, now],
        )
    ]


def record_archive(
    db: sqlite_utils.Database,
    post_id: int,
    url: str,
    *,
    ok: bool,
    http_status: int | None,
    location: str | None = None,
    error: str | None = None,
    next_attempt_at: str | None = None,
) -> None:
    """One submission of a post to the web archive: accepted (archived_at set, never sent again) or
    failed (tried again at `next_attempt_at`)."""
    now = dates.now_iso()
    with write_tx(db):
        db.execute(
            "INSERT INTO archive_submissions (post_id, url, archived_at, http_status, location, attempts, "
            "next_attempt_at, last_error) VALUES (?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (post_id) DO UPDATE SET "
            "archived_at = excluded.archived_at, http_status = excluded.http_status, "
            "location = coalesce(excluded.location, location), attempts = attempts + 1, "
            "next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error",
            (post_id, url, now if ok else None, http_status, location, None if ok else next_attempt_at, error),
        )


def archive_of(db: sqlite_utils.Database, post_id: int) -> dict | None:
    """A post's web-archive submission, if any."""
    found = list(db.query("SELECT * FROM archive_submissions WHERE post_id = ?", [post_id]))
    return dict(found[0]) if found else None
