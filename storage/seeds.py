"""Seeds (reference articles) and the topic profile stored in the database.

The packaged seed (rjwatch's reason to exist: "What Russia Wants From Its Dialogue With Japan") is
seed #1; `rjwatch seed add` adds more. Every comparison runs against all seeds.
"""

from __future__ import annotations

import sqlite_utils

from judge import dates, text
from judge.errors import RjwatchError
from judge.lang import detect
from storage.db import write_tx


def add_seed(
    db: sqlite_utils.Database,
    *,
    title: str,
    body: str,
    published: str | None = None,
    url: str | None = None,
    origin: str | None = None,
) -> tuple[int, bool]:
    """Store a seed; returns (id, created). The same text twice is one seed."""
    clean = text.clean_text(body)
    if not clean:
        raise ValueError("the seed has no text")
    mode, toks = text.tokens(text.normalize(clean))
    digest = text.content_hash(toks)
    with write_tx(db):
        row = db.execute("SELECT id FROM seeds WHERE content_hash = ?", (digest,)).fetchone()
        if row:
            return row[0], False
        # A seed id is never given twice (not even after `seed remove` of the newest seed): stored
        # verdicts keep their comparisons under the seed's id (storage.rejudge reuses them).
        next_id = db.execute(
            "SELECT max(coalesce((SELECT max(id) FROM seeds), 0), "
            "coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seeds_last_id'), 0)) + 1"
        ).fetchone()[0]
        cur = db.execute(
            "INSERT INTO seeds (id, title, url, published, lang, text, content_hash, origin, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                next_id,
                text.clean_title(title) or "(untitled)",
                url,
                dates.normalize(published),
                detect(clean),
                clean,
                digest,
                origin,
                dates.now_iso(),
            ),
        )
        return cur.lastrowid, True


class SeedError(ValueError, RjwatchError):
    """A seed that is not there."""


def remove_seed(db: sqlite_utils.Database, seed_id: int) -> str:
    """Delete a seed; returns its title. Stored verdicts stay until they are re-judged."""
    with write_tx(db):
        row = db.execute("DELETE FROM seeds WHERE id = ? RETURNING title", (seed_id,)).fetchone()
        if row is not None:  # its id is not given again (see add_seed)
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('seeds_last_id', ?) ON CONFLICT (key) DO UPDATE SET "
                "value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                (seed_id,),
            )
    if row is None:
        raise SeedError(f"no seed #{seed_id} (see `rjwatch seed list`)")
    return row[0]


def list_seeds(db: sqlite_utils.Database) -> list[dict]:
    return list(
        db.query(
            "SELECT id, title, published, lang, url, origin, added_at, length(text) AS chars FROM seeds ORDER BY id"
        )
    )


def seed_exists(db: sqlite_utils.Database, seed_id: int) -> bool:
    return db.execute("SELECT 1 FROM seeds WHERE id = ?", [seed_id]).fetchone() is not None


def seed_count(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT count(*) FROM seeds").fetchone()[0]


def seed_texts(db: sqlite_utils.Database) -> list[tuple[int, str, str]]:
    """(id, title, text) of every seed, oldest first: what analysis worker processes compare with."""
    return [tuple(r) for r in db.execute("SELECT id, title, text FROM seeds ORDER BY id")]


def store_topic(db: sqlite_utils.Database, name: str, profile_text: str) -> None:
    with write_tx(db):
        db.execute(
            "INSERT INTO topics (name, profile, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO "
            "UPDATE SET profile = excluded.profile, updated_at = excluded.updated_at",
            (name, profile_text, dates.now_iso()),
        )
        # One topic is in force: the latest stored.
        db.execute("DELETE FROM topics WHERE name != ?", (name,))
