"""The `meta` table: the daemon's small named state, one JSON or text value per key.

Keys in use: `heartbeat` (the daemon's last beat, as JSON: `rjwatch status` reads whether it runs),
`last_digest` (when the daily digest was last sent, so a missed one is caught up at start),
`job:<name>` (each daemon job's last start, end and outcome), and the demo's mark on its own
database. Every write is an upsert in its own transaction (a savepoint inside the caller's).
"""

from __future__ import annotations

import json

import sqlite_utils

from storage.db import write_tx

HEARTBEAT = "heartbeat"
LAST_DIGEST = "last_digest"
JOB_PREFIX = "job:"


def get(db: sqlite_utils.Database, key: str) -> str | None:
    """The value stored under `key`, or None."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def put(db: sqlite_utils.Database, key: str, value: str) -> None:
    """Store `value` under `key`, replacing what was there."""
    with write_tx(db):
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def heartbeat(db: sqlite_utils.Database) -> dict | None:
    """The daemon's last heartbeat, or None if no daemon ever ran on this database."""
    value = get(db, HEARTBEAT)
    return json.loads(value) if value is not None else None


def beat(db: sqlite_utils.Database, beat: dict) -> None:
    put(db, HEARTBEAT, json.dumps(beat))


def job_states(db: sqlite_utils.Database) -> dict[str, dict]:
    """Each daemon job's last recorded state, by job name."""
    return {
        k[len(JOB_PREFIX) :]: json.loads(v)
        for k, v in db.execute("SELECT key, value FROM meta WHERE key LIKE ?", (JOB_PREFIX + "%",))
    }


def set_job_state(db: sqlite_utils.Database, name: str, state: dict) -> None:
    put(db, JOB_PREFIX + name, json.dumps(state, default=str, ensure_ascii=False))
