"""Source health and conditional-GET state: the poller's memory between polls, and crawl outcomes.

Per source: ETag and Last-Modified (saved in the same transaction as the entries they cover, so a
crash can never skip entries), the last poll and success, the failure streak with its last error,
the adaptive interval and the next time the source is due, and the smoothed new-item rate. A blog
crawl records its outcome here too (`record_crawl`): the last attempt and success, the failure streak
and its cause, and one `source_failing` alert when the streak reaches the alert threshold.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlite_utils

from judge import dates
from judge.identity import mask_url, mask_urls
from storage import outbox
from storage.db import write_tx


def get(db: sqlite_utils.Database, source_id: int) -> dict:
    rows = list(db.query("SELECT * FROM source_health WHERE source_id = ?", [source_id]))
    return (
        rows[0]
        if rows
        else {
            "source_id": source_id,
            "etag": None,
            "last_modified": None,
            "consecutive_failures": 0,
            "interval_s": None,
            "new_item_rate": 0.0,
            "polls": 0,
            "next_due": None,
            "last_success": None,
        }
    )


def by_source(db: sqlite_utils.Database) -> dict[int, dict]:
    """The health row of every source that has one, by source id."""
    return {r["source_id"]: r for r in db.query("SELECT * FROM source_health")}


def save(db: sqlite_utils.Database, source_id: int, **values) -> None:
    """Upsert health fields (call inside the transaction that stored the poll's entries)."""
    cols = list(values)
    marks = ", ".join("?" * len(cols))
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols)
    db.execute(
        f"INSERT INTO source_health (source_id, {', '.join(cols)}) VALUES (?, {marks}) "
        f"ON CONFLICT (source_id) DO UPDATE SET {updates}",
        (source_id, *values.values()),
    )


def record_crawl(
    db: sqlite_utils.Database,
    source_id: int,
    *,
    url: str,
    failed: bool,
    error: str | None,
    status: int | None,
    alert_after: int,
) -> int:
    """A blog crawl's outcome: `failed` (every request failed) extends the streak, anything read ends it.

    `error` is kept as the last error (a partial failure may come with a read blog). When the streak
    reaches `alert_after`, one `source_failing` alert is queued, as for feeds. Returns the streak.
    """
    now = dates.now_iso()
    with write_tx(db):
        state = get(db, source_id)
        if failed:
            failures = int(state.get("consecutive_failures") or 0) + 1
            save(db, source_id, last_poll=now, last_status=status, consecutive_failures=failures, last_error=error)
            if failures == alert_after:
                payload = {"source_id": source_id, "url": url, "failures": failures, "error": error}
                outbox.enqueue(
                    db,
                    f"source-failing-{source_id}-{now}",
                    "source_failing",
                    payload,
                    source_id=source_id,
                    created_at=now,
                )
        else:
            failures = 0
            save(
                db,
                source_id,
                last_poll=now,
                last_success=now,
                last_status=status,
                consecutive_failures=0,
                last_error=error,
            )
    return failures


def due_sources(db: sqlite_utils.Database, *, now: datetime | None = None) -> list[dict]:
    """Enabled feed sources whose next poll is due (never-polled sources first)."""
    now_s = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    rows = db.query(
        "SELECT s.*, h.next_due FROM sources s LEFT JOIN source_health h ON h.source_id = s.id "
        "WHERE s.kind = 'feed' AND s.state = 'enabled' AND (h.next_due IS NULL OR h.next_due <= ?) "
        "ORDER BY h.next_due IS NOT NULL, h.next_due, s.id",
        [now_s],
    )
    out = []
    for r in rows:
        r["settings"] = json.loads(r.get("settings") or "{}")
        out.append(r)
    return out


def failing(db: sqlite_utils.Database) -> list[dict]:
    """Failing or disabled sources, for display: URLs and errors with their credentials masked."""
    rows = list(
        db.query(
            "SELECT s.id, s.kind, s.url, s.state, h.consecutive_failures, h.last_error, h.last_success, h.next_due, "
            "h.disabled_reason FROM sources s JOIN source_health h ON h.source_id = s.id "
            "WHERE h.consecutive_failures > 0 OR h.disabled_reason IS NOT NULL ORDER BY h.consecutive_failures DESC"
        )
    )
    for r in rows:
        r["url"], r["last_error"] = mask_url(r["url"]), mask_urls(r["last_error"])
        r["disabled_reason"] = mask_urls(r["disabled_reason"])
    return rows


def next_poll_due(db: sqlite_utils.Database) -> str | None:
    """The earliest time an enabled source is due for its next poll (None: none has a time yet)."""
    return db.execute(
        "SELECT min(next_due) FROM source_health h JOIN sources s ON s.id = h.source_id WHERE s.state = 'enabled'"
    ).fetchone()[0]


def in_seconds(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="seconds")


def now() -> str:
    return dates.now_iso()
