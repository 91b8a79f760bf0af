"""Saved searches: a name for a full-text query and its filters (`rjwatch saved`, alert rules)."""

from __future__ import annotations

import json

import sqlite_utils

from judge.dates import now_iso
from judge.errors import RjwatchError
from storage.db import write_tx
from storage.search import Filters, plan


class SavedSearchError(ValueError, RjwatchError):
    """An unknown saved search, or a name that cannot be used."""


def add(db: sqlite_utils.Database, name: str, query: str, filters: Filters, *, replace: bool = False) -> None:
    """Save a query under a name (checked first, so a broken query is never saved)."""
    name = name.strip()
    if not name or any(c.isspace() for c in name):
        raise SavedSearchError("a saved search name must be one word (no spaces)")
    plan(query)
    with write_tx(db):
        exists = db.execute("SELECT 1 FROM saved_searches WHERE name = ?", [name]).fetchone()
        if exists and not replace:
            raise SavedSearchError(f"a saved search named {name!r} exists already (use --replace)")
        db.execute(
            "INSERT OR REPLACE INTO saved_searches (name, query, filters, created_at) VALUES (?, ?, ?, ?)",
            [name, query, json.dumps(filters.as_dict(), ensure_ascii=False), now_iso()],
        )


def get(db: sqlite_utils.Database, name: str) -> tuple[str, Filters]:
    row = db.execute("SELECT query, filters FROM saved_searches WHERE name = ?", [name]).fetchone()
    if row is None:
        raise SavedSearchError(f"no saved search named {name!r} (see `rjwatch saved list`)")
    return row[0], Filters.from_dict(json.loads(row[1] or "{}"))


def find(db: sqlite_utils.Database, name: str) -> tuple[str, Filters] | None:
    try:
        return get(db, name)
    except SavedSearchError:
        return None


def list_all(db: sqlite_utils.Database) -> list[dict]:
    return [
        {
            "name": r["name"],
            "query": r["query"],
            "filters": json.loads(r["filters"] or "{}"),
            "created_at": r["created_at"],
        }
        for r in db.query("SELECT * FROM saved_searches ORDER BY name")
    ]


def remove(db: sqlite_utils.Database, name: str) -> None:
    with write_tx(db):
        if db.execute("DELETE FROM saved_searches WHERE name = ?", [name]).rowcount == 0:
            raise SavedSearchError(f"no saved search named {name!r}")
