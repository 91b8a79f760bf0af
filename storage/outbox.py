"""The alert outbox: the one way an alert is queued (`enqueue`), its delivery bookkeeping (each
channel's place in the outbox, the `deliveries` rows, and the status of an alert summed up from
them), and the counts `status` shows.

Every alert is queued by `enqueue`, in the transaction of whatever caused it (a post's write, a
poll's health, a crawl's end): `INSERT OR IGNORE` on the alert's idempotency key, so a cause recorded
twice (a retried crawl, a replayed round) queues one alert.

A channel reads the outbox in id order from its place (`alert_channels.scanned_to`); the alerts its
rule matches get a `pending` delivery, the rest are passed over, and the place moves on in the same
transaction. What a channel still owes is then just its pending rows. Alert ids only grow (one writer
at a time, rows never deleted), so an alert below a channel's place can never appear later.

An alert is `sent` once every channel of the config in force (`active`) has read past it and every
delivery it has on those channels is sent; `failed` as soon as one of them failed for good. An alert no
channel wants stays `pending` (nothing is sent for it). Rule matching itself is the caller's
(scheduler.alerts); this module only stores its outcome.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import sqlite_utils

from judge import dates
from storage.db import write_tx

_ACTIVE = "(SELECT name FROM alert_channels WHERE active)"


# --- queueing -----------------------------------------------------------------------------------
def enqueue(
    db: sqlite_utils.Database | sqlite3.Connection,
    key: str,
    kind: str,
    payload: dict,
    *,
    source_id: int | None = None,
    post_id: int | None = None,
    status: str = "pending",
    note: str | None = None,
    created_at: str | None = None,
) -> bool:
    """Queue one alert under its idempotency `key` (call inside the cause's write transaction).

    `status` is "pending" (to be delivered) or "suppressed" (kept, never sent; `note` says why).
    Returns False when an alert with this key is queued already (nothing changes then).
    """
    cur = db.execute(
        "INSERT OR IGNORE INTO alerts (key, kind, post_id, source_id, status, created_at, last_error, payload) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            key,
            kind,
            post_id,
            source_id,
            status,
            created_at or dates.now_iso(),
            note,
            json.dumps(payload, ensure_ascii=False),
        ),
    )
    return cur.rowcount > 0


def alert_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Alerts by status."""
    return {r[0]: r[1] for r in db.execute("SELECT status, count(*) FROM alerts GROUP BY status")}


def delivery_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Deliveries (one alert on one channel) by status."""
    return {r[0]: r[1] for r in db.execute("SELECT status, count(*) FROM deliveries GROUP BY status")}


# --- channels ------------------------------------------------------------------------------------
def sync_channels(db: sqlite_utils.Database, wanted: dict[str, str]) -> None:
    """Make the channels of the config in force (name -> destination hash) the active ones.

    - a known name carries on from its place;
    - a new name whose destination belongs to a channel that was in force until now and left the
      config is that channel, renamed: it takes over its place and its deliveries (nothing is sent
      again);
    - any other new name, or a name coming back after it left the config, starts where the other
      channels are (the newest place any channel reached), so it is not sent the history;
    - a known channel missing from the config no longer decides any alert's status.
    """
    now = dates.now_iso()
    with write_tx(db):
        known = {r["name"]: r for r in db.query("SELECT * FROM alert_channels")}
        start = max((r["scanned_to"] for r in known.values()), default=0)
        for name, dest in wanted.items():
            row = known.get(name)
            if row is None:
                # only a channel of the config in force until now: one removed long ago would bring
                # back everything since it left
                old = next(
                    (
                        r
                        for r in sorted(known.values(), key=lambda r: -r["scanned_to"])
                        if r["name"] not in wanted and r["active"] and r["destination"] == dest
                    ),
                    None,
                )
                if old is not None:
                    db.execute(
                        "UPDATE alert_channels SET name = ?, active = 1, seen_at = ? WHERE name = ?",
                        (name, now, old["name"]),
                    )
                    db.execute("UPDATE OR IGNORE deliveries SET channel = ? WHERE channel = ?", (name, old["name"]))
                    known[name] = dict(old, name=name, active=1)
                    del known[old["name"]]
                else:
                    db.execute(
                        "INSERT INTO alert_channels (name, destination, scanned_to, active, added_at, seen_at) "
                        "VALUES (?, ?, ?, 1, ?, ?)",
                        (name, dest, start, now, now),
                    )
                    known[name] = {"name": name, "destination": dest, "scanned_to": start, "active": 1}
            elif not row["active"]:
                # Back after leaving the config: a new start; what it owed from before is dropped.
                db.execute("DELETE FROM deliveries WHERE channel = ? AND status IN ('pending', 'deferred')", (name,))
                db.execute(
                    "UPDATE alert_channels SET active = 1, destination = ?, scanned_to = max(scanned_to, ?), "
                    "seen_at = ? WHERE name = ?",
                    (dest, start, now, name),
                )
            elif row["destination"] != dest:
                db.execute("UPDATE alert_channels SET destination = ?, seen_at = ? WHERE name = ?", (dest, now, name))
        for name, row in known.items():
            if name not in wanted and row["active"]:
                db.execute("UPDATE alert_channels SET active = 0 WHERE name = ?", (name,))
                first, last = db.execute(
                    "SELECT min(alert_id), max(alert_id) FROM deliveries WHERE channel = ? AND "
                    "status IN ('pending', 'deferred')",
                    (name,),
                ).fetchone()
                if first is not None:
                    roll_up(db, first, last)


def unscanned(db: sqlite_utils.Database, channel: str, limit: int) -> list[dict]:
    """The next alerts after the channel's place (oldest first), payload decoded."""
    rows = db.query(
        "SELECT a.* FROM alerts a WHERE a.id > (SELECT scanned_to FROM alert_channels WHERE name = ?) "
        "ORDER BY a.id LIMIT ?",
        [channel, limit],
    )
    return [_load(r) for r in rows]


def record_scan(db: sqlite_utils.Database, channel: str, matched: list[int], scanned_to: int) -> None:
    """Store one read of the outbox: a pending delivery per matched alert, and the channel's new place."""
    now = dates.now_iso()
    with write_tx(db):
        before = db.execute("SELECT scanned_to FROM alert_channels WHERE name = ?", (channel,)).fetchone()[0]
        if scanned_to <= before:
            return  # another pass read this stretch already
        db.conn.executemany(
            "INSERT OR IGNORE INTO deliveries (alert_id, channel, status, attempts, updated_at) "
            "VALUES (?, ?, 'pending', 0, ?)",
            [(i, channel, now) for i in matched if i > before],
        )
        db.execute("UPDATE alert_channels SET scanned_to = ? WHERE name = ?", (scanned_to, channel))
        # alerts this channel passed over may now be complete on every other channel
        roll_up(db, before + 1, scanned_to)


# --- deliveries ----------------------------------------------------------------------------------
def owed(db: sqlite_utils.Database, channel: str, statuses: tuple[str, ...], limit: int) -> list[dict]:
    """The channel's deliveries in these statuses that are due for a try (oldest alert first), each
    with its alert (payload decoded), as `d_attempts` / `d_status`."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    marks = ", ".join("?" * len(statuses))
    rows = db.query(
        f"SELECT a.*, d.attempts AS d_attempts, d.status AS d_status FROM deliveries d JOIN alerts a ON "
        f"a.id = d.alert_id WHERE d.channel = ? AND d.status IN ({marks}) AND a.status != 'suppressed' "
        f"AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?) ORDER BY d.alert_id LIMIT ?",
        [channel, *statuses, now, limit],
    )
    return [_load(r) for r in rows]


def mark(
    db: sqlite_utils.Database,
    alert_id: int,
    channel: str,
    status: str,
    *,
    attempts: int,
    error: str | None = None,
    next_at: str | None = None,
    via: str | None = None,
) -> None:
    """Record one delivery outcome and sum the alert's status up again (call inside a write_tx)."""
    db.execute(
        "INSERT INTO deliveries (alert_id, channel, status, attempts, last_error, next_attempt_at, updated_at, via) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (alert_id, channel) DO UPDATE SET status = excluded.status, "
        "attempts = excluded.attempts, last_error = excluded.last_error, next_attempt_at = excluded.next_attempt_at, "
        "updated_at = excluded.updated_at, via = coalesce(excluded.via, deliveries.via)",
        (alert_id, channel, status, attempts, error, next_at, dates.now_iso(), via),
    )
    roll_up(db, alert_id, alert_id)


def roll_up(db: sqlite_utils.Database, first_id: int, last_id: int) -> None:
    """alerts.status of the alerts first_id..last_id from their deliveries on the active channels:
    `failed` if one failed; `sent` once every active channel has read past the alert and all of its
    deliveries are sent (at least one); otherwise unchanged."""
    on_active = f"d.alert_id = alerts.id AND d.channel IN {_ACTIVE}"
    db.execute(
        f"UPDATE alerts SET status = CASE WHEN EXISTS (SELECT 1 FROM deliveries d WHERE {on_active} AND "
        f"d.status = 'failed') THEN 'failed' ELSE 'sent' END, sent_at = coalesce(sent_at, ?), "
        f"attempts = (SELECT count(*) FROM deliveries d WHERE {on_active}) "
        f"WHERE id BETWEEN ? AND ? AND status != 'suppressed' AND ("
        f"EXISTS (SELECT 1 FROM deliveries d WHERE {on_active} AND d.status = 'failed') OR ("
        f"EXISTS (SELECT 1 FROM deliveries d WHERE {on_active} AND d.status = 'sent') "
        f"AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE {on_active} AND d.status IN ('pending', 'deferred')) "
        f"AND NOT EXISTS (SELECT 1 FROM alert_channels c WHERE c.active AND c.scanned_to < alerts.id)))",
        (dates.now_iso(), first_id, last_id),
    )


def list_alerts(db: sqlite_utils.Database, *, status: str | None = None, limit: int = 50) -> list[dict]:
    """The newest alerts (of one status), each with its title (None when its payload has none), its
    payload (JSON text) and its deliveries summed up in one line."""
    where, params = ("WHERE a.status = ?", [status]) if status else ("", [])
    return list(
        db.query(
            f"SELECT a.id, a.kind, a.status, a.created_at, a.sent_at, a.key, a.post_id, a.last_error, a.payload, "
            f"json_extract(a.payload, '$.title') AS title, (SELECT group_concat(d.channel || ':' || d.status || "
            f"coalesce(' (' || d.last_error || ')', ''), '; ') FROM deliveries d WHERE d.alert_id = a.id) AS deliveries "
            f"FROM alerts a {where} ORDER BY a.id DESC LIMIT ?",
            params + [limit],
        )
    )


def requeue_failed(db: sqlite_utils.Database, alert_id: int) -> str | None:
    """Put a failed alert and its failed deliveries back in the queue. Returns None when there is no such
    alert, "queued" when something was queued again, else the alert's status (nothing had failed)."""
    with write_tx(db):
        row = db.execute("SELECT status FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        if row is None:
            return None
        changed = db.execute(
            "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = NULL "
            "WHERE alert_id = ? AND status = 'failed'",
            (alert_id,),
        ).rowcount
        changed += db.execute(
            "UPDATE alerts SET status = 'pending' WHERE id = ? AND status = 'failed'", (alert_id,)
        ).rowcount
    return "queued" if changed else row[0]


def sent_last_hour(db: sqlite_utils.Database, channel: str) -> int:
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    return db.execute(
        "SELECT count(*) FROM deliveries WHERE channel = ? AND status = 'sent' AND via = 'immediate' "
        "AND updated_at >= ?",
        (channel, since),
    ).fetchone()[0]


def _load(row: dict) -> dict:
    row = dict(row)
    row["payload"] = json.loads(row.get("payload") or "{}")
    return row
