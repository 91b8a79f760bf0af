"""Sources (blogs and feeds), crawl and poll runs, and per-source crawl progress.

Collectors never open the database themselves: the Scrapy components and the poller call these
functions. Every write goes through `write_tx` (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import json
import os
import sqlite3
from urllib.parse import urlsplit

import sqlite_utils

from judge import dates
from judge.errors import RjwatchError
from judge.identity import canonical_url, fetchable_url
from storage import pidlock
from storage.db import DatabaseError, write_tx

KINDS = ("blogger", "feed", "manual")
STATES = ("enabled", "disabled", "candidate")
#: Largest row id SQLite holds (a signed 64-bit INTEGER).
MAX_ROW_ID = 2**63 - 1


class SourceError(ValueError, RjwatchError):
    """A source that cannot be found or added, explained in one line."""


def source_key(url: str) -> str:
    """What makes two spellings of one source the same (see judge.identity.canonical_url)."""
    return canonical_url(url)


def add_source(
    db: sqlite_utils.Database,
    url: str,
    kind: str,
    *,
    name: str | None = None,
    state: str = "enabled",
    settings: dict | None = None,
) -> tuple[int, bool]:
    """Register a source; returns (id, created). Adding a known URL returns the existing row."""
    if kind not in KINDS:
        raise SourceError(f"unknown source kind {kind!r} (one of {', '.join(KINDS)})")
    try:
        key = source_key(url)
    except ValueError as exc:
        raise SourceError(str(exc)) from None
    with write_tx(db):
        row = db.execute("SELECT id, state FROM sources WHERE canonical = ?", (key,)).fetchone()
        if row:
            if row[1] == "candidate" and state == "enabled":
                db.execute("UPDATE sources SET state = 'enabled' WHERE id = ?", (row[0],))
            return row[0], False
        cur = db.execute(
            "INSERT INTO sources (url, canonical, kind, name, state, added_at, settings) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (fetchable_url(url), key, kind, name, state, dates.now_iso(), json.dumps(settings or {})),
        )
        _relink_removed_posts(db, cur.lastrowid, key)
        return cur.lastrowid, True


def _relink_removed_posts(db: sqlite_utils.Database, source_id: int, key: str) -> None:
    """A source added again at the address of a removed one takes back that source's posts (the ones
    no other source claimed meanwhile). Call inside a write_tx."""
    db.execute(
        "UPDATE posts SET source_id = ? WHERE source_id IS NULL AND id IN "
        "(SELECT post_id FROM removed_source_posts WHERE canonical = ?)",
        (source_id, key),
    )
    db.execute("DELETE FROM removed_source_posts WHERE canonical = ?", (key,))


def get_source(db: sqlite_utils.Database, ref: str | int) -> dict:
    """A source by id or URL; raises SourceError when there is none."""
    rows: list[dict] = []
    if isinstance(ref, int) or str(ref).isdigit():
        if int(ref) <= MAX_ROW_ID:  # a bigger number is no id (and would overflow SQLite's INTEGER)
            rows = list(db.query("SELECT * FROM sources WHERE id = ?", [int(ref)]))
    else:
        try:
            key = source_key(str(ref))
        except ValueError as exc:
            raise SourceError(str(exc)) from None
        rows = list(db.query("SELECT * FROM sources WHERE canonical = ?", [key]))
    if not rows:
        raise SourceError(f"no source {ref}")
    row = rows[0]
    row["settings"] = json.loads(row.get("settings") or "{}")
    return row


def list_sources(db: sqlite_utils.Database, *, kind: str | None = None, state: str | None = None) -> list[dict]:
    where, params = [], []
    if kind:
        where.append("s.kind = ?")
        params.append(kind)
    if state:
        where.append("s.state = ?")
        params.append(state)
    sql = (
        "SELECT s.*, (SELECT count(*) FROM posts p WHERE p.source_id = s.id) AS posts, "
        "(SELECT max(r.started_at) FROM runs r WHERE r.source_id = s.id) AS last_run "
        "FROM sources s" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY s.id"
    )
    out = []
    for row in db.query(sql, params):
        row["settings"] = json.loads(row.get("settings") or "{}")
        out.append(row)
    return out


#: Longest name a source takes from its feed's or blog's title (a name is a label in a list, not a text).
SOURCE_NAME_MAX_CHARS = 200


def name_unnamed(db: sqlite_utils.Database, source_id: int, title: str | None) -> None:
    """Give a source that has no name the title its feed or blog declares (a name given by the user,
    in `source add --name` or the config, is kept)."""
    title = " ".join((title or "").split())[:SOURCE_NAME_MAX_CHARS]
    if not title:
        return
    with write_tx(db):
        db.execute("UPDATE sources SET name = ? WHERE id = ? AND coalesce(name, '') = ''", (title, source_id))


def posts_collected(db: sqlite_utils.Database) -> dict[int, int]:
    """How many distinct posts each source collected, by source id: the posts it was first to store and
    every post it saw again (a blog's crawl that reads posts its feed's poll stored first collected
    them too). One pass over the sightings, not one per source."""
    return dict(
        db.execute(
            "SELECT source_id, count(*) FROM (SELECT source_id, post_id FROM sightings WHERE source_id IS NOT NULL "
            "UNION SELECT source_id, id FROM posts WHERE source_id IS NOT NULL) GROUP BY source_id"
        ).fetchall()
    )


def count_sources(db: sqlite_utils.Database, *, state: str) -> int:
    """How many sources are in this state (`candidate`: waiting for approval)."""
    return db.execute("SELECT count(*) FROM sources WHERE state = ?", (state,)).fetchone()[0]


def count_posts(db: sqlite_utils.Database, source_id: int) -> int:
    """How many stored posts came from this source."""
    return db.execute("SELECT count(*) FROM posts WHERE source_id = ?", (source_id,)).fetchone()[0]


def list_candidates(db: sqlite_utils.Database) -> list[dict]:
    """Candidate sources, most linked first, with the posts linking to them and their sampled relevance."""
    rows = list(
        db.query(
            "SELECT s.id, s.url, s.name, s.settings, count(e.post_id) AS linking_posts, "
            "group_concat(DISTINCT e.post_id) AS post_ids FROM sources s LEFT JOIN candidate_evidence e "
            "ON e.source_id = s.id WHERE s.state = 'candidate' GROUP BY s.id ORDER BY linking_posts DESC"
        )
    )
    for r in rows:
        r["sampled_relevance"] = json.loads(r.pop("settings") or "{}").get("sampled_relevance")
    return rows


def set_source_state(db: sqlite_utils.Database, source_id: int, state: str, *, missing_ok: bool = False) -> None:
    """`missing_ok`: a source removed meanwhile is no error (the poller disabling a feed that answered 410)."""
    if state not in STATES:
        raise SourceError(f"unknown state {state!r}")
    with write_tx(db):
        if db.execute("UPDATE sources SET state = ? WHERE id = ?", (state, source_id)).rowcount == 0 and not missing_ok:
            raise SourceError(f"no source {source_id}")


def move_source(db: sqlite_utils.Database, source_id: int, new_url: str, key: str) -> bool:
    """The source now lives at `new_url` (canonical `key`), unless that address is a source of its own
    already (returns False then, and nothing changes)."""
    with write_tx(db):
        if db.execute("SELECT id FROM sources WHERE canonical = ? AND id != ?", (key, source_id)).fetchone():
            return False
        db.execute("UPDATE sources SET url = ?, canonical = ? WHERE id = ?", (new_url, key, source_id))
    return True


def name_and_url(db: sqlite_utils.Database, source_id: int) -> tuple[str | None, str] | None:
    """(name, url) of a source, or None when there is none."""
    row = db.execute("SELECT name, url FROM sources WHERE id = ?", (source_id,)).fetchone()
    return (row[0], row[1]) if row else None


def blog_crawl_schedule(db: sqlite_utils.Database) -> list[tuple]:
    """Per enabled blogger source: (id, settings JSON, its latest crawl's start and finish_reason,
    backfill_complete), what the daemon's crawl jobs are built from."""
    return db.execute(
        "SELECT s.id, s.settings, r.started_at, r.finish_reason, c.backfill_complete FROM sources s "
        "LEFT JOIN runs r ON r.id = (SELECT max(id) FROM runs WHERE source_id = s.id AND kind = 'crawl') "
        "LEFT JOIN crawl_state c ON c.source_id = s.id WHERE s.kind = 'blogger' AND s.state = 'enabled'"
    ).fetchall()


def blog_crawls(db: sqlite_utils.Database) -> list[dict]:
    """Per enabled blogger source: id, url, backfill_complete, last_full_at and its last crawl's start."""
    return list(
        db.query(
            "SELECT s.id, s.url, c.backfill_complete, c.last_full_at, (SELECT max(started_at) FROM runs r WHERE "
            "r.source_id = s.id AND r.kind = 'crawl') AS last_crawl FROM sources s LEFT JOIN crawl_state c ON "
            "c.source_id = s.id WHERE s.kind = 'blogger' AND s.state = 'enabled'"
        )
    )


def remove_source(db: sqlite_utils.Database, source_id: int) -> int:
    """Forget a source; its posts stay (unlinked) and are remembered by the source's address, so that
    adding that address again links them back. Returns how many posts it had."""
    with write_tx(db):
        row = db.execute("SELECT canonical FROM sources WHERE id = ?", (source_id,)).fetchone()
        if row is None:
            raise SourceError(f"no source {source_id}")
        kept = db.execute(
            "INSERT OR IGNORE INTO removed_source_posts (canonical, post_id, removed_at) "
            "SELECT ?, id, ? FROM posts WHERE source_id = ?",
            (row[0], dates.now_iso(), source_id),
        ).rowcount
        db.execute("DELETE FROM sources WHERE id = ?", (source_id,))
    return kept


# --- runs ---------------------------------------------------------------------------------------
def start_run(db: sqlite_utils.Database, kind: str, source_id: int | None, *, owned: bool = True) -> int:
    """A new run row. `owned`: this process runs it to its end, so its pid and start time are recorded
    (a cluster round, finished by the ingest worker, is not owned by the process that opens it)."""
    pid = os.getpid() if owned else None
    started = pidlock.process_start(pid) if owned else None
    with write_tx(db):
        return db.execute(
            "INSERT INTO runs (kind, source_id, started_at, pid, pid_started) VALUES (?, ?, ?, ?, ?)",
            (kind, source_id, dates.now_iso(), pid, started),
        ).lastrowid


def mark_dead_runs(db: sqlite_utils.Database, *, source_id: int | None = None) -> list[int]:
    """Runs left unfinished by a process that is gone (kill -9, a crash, a reboot) get finish_reason
    `died`; returns their ids. A read-only database is left as it is."""
    where = " AND source_id = ?" if source_id is not None else ""
    params = [source_id] if source_id is not None else []
    dead = [
        rid
        for rid, pid, started in db.execute(
            f"SELECT id, pid, pid_started FROM runs WHERE finish_reason IS NULL AND pid IS NOT NULL{where}", params
        )
        if not pidlock.running(pid, started)
    ]
    if not dead:
        return []
    try:
        with write_tx(db):
            for rid in dead:
                db.execute(
                    "UPDATE runs SET finish_reason = 'died', finished_at = ? WHERE id = ? AND finish_reason IS NULL",
                    (dates.now_iso(), rid),
                )
    except (sqlite3.OperationalError, DatabaseError) as exc:
        if "readonly" not in str(exc).lower().replace("-", "") and "read only" not in str(exc).lower():
            raise
        return []
    return dead


def finish_run(
    db: sqlite_utils.Database, run_id: int, *, finish_reason: str, pages: int, items: int, errors: int, stats: dict
) -> None:
    with write_tx(db):
        db.execute(
            "UPDATE runs SET finished_at = ?, finish_reason = ?, pages = ?, items = ?, errors = ?, stats = ? "
            "WHERE id = ?",
            (
                dates.now_iso(),
                finish_reason,
                pages,
                items,
                errors,
                json.dumps(stats, ensure_ascii=False, default=str),
                run_id,
            ),
        )


def settle_child_run(
    db: sqlite_utils.Database, source_id: int, *, pid: int, started: str, extra: dict, reason: str
) -> tuple[int, str] | None:
    """A crawl child's own run (by its pid, started at or after `started`) after the child exited:
    `extra` is merged into its stats; a run the child left open is finished with `reason`. Returns
    (run id, its finish_reason), or None when the child made no run. Call inside a write_tx."""
    row = db.execute(
        "SELECT id, stats FROM runs WHERE source_id = ? AND kind = 'crawl' AND "
        "started_at >= ? AND pid = ? ORDER BY id DESC LIMIT 1",
        (source_id, started, pid),
    ).fetchone()
    if not row:
        return None
    stats = json.loads(row[1] or "{}")
    stats.update(extra)
    db.execute(
        "UPDATE runs SET stats = ?, finished_at = coalesce(finished_at, ?), finish_reason = "
        "coalesce(finish_reason, ?) WHERE id = ?",
        (json.dumps(stats), dates.now_iso(), reason, row[0]),
    )
    return row[0], db.execute("SELECT finish_reason FROM runs WHERE id = ?", (row[0],)).fetchone()[0]


def add_failed_crawl_run(db: sqlite_utils.Database, source_id: int, *, started: str, stats: dict) -> int:
    """A `failed` crawl run for a crawl that died before it could open one of its own."""
    return db.execute(
        "INSERT INTO runs (kind, source_id, started_at, finished_at, finish_reason, errors, stats) "
        "VALUES ('crawl', ?, ?, ?, 'failed', 1, ?)",
        (source_id, started, dates.now_iso(), json.dumps(stats)),
    ).lastrowid


def prune_runs(db: sqlite_utils.Database, before: str) -> int:
    """Delete runs started before `before`, except each blog's last crawl (crawl_state.last_run_id)."""
    with write_tx(db):
        return db.execute(
            "DELETE FROM runs WHERE started_at < ? AND id NOT IN "
            "(SELECT last_run_id FROM crawl_state WHERE last_run_id IS NOT NULL)",
            (before,),
        ).rowcount


def post_urls(db: sqlite_utils.Database, source_id: int) -> list[str]:
    """The canonical URLs of the posts stored from one source."""
    return [r[0] for r in db.execute("SELECT canonical_url FROM posts WHERE source_id = ?", (source_id,))]


def newest_of_run(db: sqlite_utils.Database, run_id: int) -> tuple[str | None, str | None]:
    """(newest `updated`, largest blog id) of the posts sighted by one run."""
    row = db.execute(
        "SELECT max(p.updated), max(p.blog_id) FROM posts p JOIN sightings s ON s.post_id = p.id WHERE s.run_id = ?",
        (run_id,),
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def list_runs(db: sqlite_utils.Database, *, source_id: int | None = None, limit: int = 50) -> list[dict]:
    where = "WHERE r.source_id = ?" if source_id else ""
    params = [source_id] if source_id else []
    rows = list(
        db.query(
            f"SELECT r.*, coalesce(s.name, s.url) AS source FROM runs r LEFT JOIN sources s ON s.id = r.source_id "
            f"{where} ORDER BY r.id DESC LIMIT ?",
            params + [limit],
        )
    )
    for row in rows:
        row["stats"] = json.loads(row.get("stats") or "{}")
    return rows


def runs_by_id(db: sqlite_utils.Database, run_ids: list[int]) -> list[dict]:
    """These runs, oldest first, with their source's URL and their stats parsed."""
    marks = ",".join("?" * len(run_ids)) or "NULL"
    rows = list(
        db.query(
            f"SELECT r.*, s.url FROM runs r JOIN sources s ON s.id = r.source_id WHERE r.id IN ({marks}) ORDER BY r.id",
            list(run_ids),
        )
    )
    for row in rows:
        row["stats"] = json.loads(row.get("stats") or "{}")
    return rows


def latest_run(db: sqlite_utils.Database, kind: str, source_id: int) -> dict | None:
    """The newest run of this kind for this source (finish_reason NULL: still running)."""
    rows = list(
        db.query(
            "SELECT id, started_at, finished_at, finish_reason FROM runs WHERE kind = ? AND source_id = ? "
            "ORDER BY id DESC LIMIT 1",
            [kind, source_id],
        )
    )
    return rows[0] if rows else None


def previous_items(db: sqlite_utils.Database, source_id: int, before_run: int) -> int:
    """Items yielded by this source's earlier finished runs (to flag a sudden drop to zero)."""
    row = db.execute(
        "SELECT coalesce(sum(items), 0) FROM runs WHERE source_id = ? AND id < ? AND finished_at IS NOT NULL",
        (source_id, before_run),
    ).fetchone()
    return row[0]


# --- crawl progress -------------------------------------------------------------------------------
def crawl_state(db: sqlite_utils.Database, source_id: int) -> dict:
    rows = list(db.query("SELECT * FROM crawl_state WHERE source_id = ?", [source_id]))
    return (
        rows[0]
        if rows
        else {
            "source_id": source_id,
            "backfill_complete": 0,
            "newest_updated": None,
            "blog_id": None,
            "feed_url": None,
            "feed_ok": None,
        }
    )


def update_crawl_state(db: sqlite_utils.Database, source_id: int, **values) -> None:
    allowed = {"blog_id", "feed_url", "backfill_complete", "newest_updated", "last_full_at", "last_run_id", "feed_ok"}
    bad = set(values) - allowed
    if bad:
        raise ValueError(f"unknown crawl_state fields: {bad}")
    cols = ", ".join(values)
    marks = ", ".join("?" * len(values))
    updates = ", ".join(f"{k} = excluded.{k}" for k in values)
    with write_tx(db):
        db.execute(
            f"INSERT INTO crawl_state (source_id, {cols}) VALUES (?, {marks}) "
            f"ON CONFLICT (source_id) DO UPDATE SET {updates}",
            (source_id, *values.values()),
        )


def known_urls(db: sqlite_utils.Database, urls: list[str], *, full_text: bool = False) -> set[str]:
    """Which of these URLs (as given) name posts already stored (compared canonically); with
    `full_text`, only those stored with their full text, not a feed's summary."""
    by_key: dict[str, str] = {}
    for u in urls:
        try:
            by_key[canonical_url(u)] = u
        except ValueError:
            continue
    found: set[str] = set()
    keys = list(by_key)
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        marks = ",".join("?" * len(chunk))
        only_full = "summary_only = 0 AND " if full_text else ""
        sql = f"SELECT canonical_url FROM posts WHERE {only_full}canonical_url IN ({marks})"
        for (key,) in db.execute(sql, chunk):
            found.add(by_key[key])
    return found


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def site_of(url: str) -> str:
    """Host and port: two blogs on one host but different ports are different sites."""
    return (urlsplit(url).netloc or "").lower()


def add_candidate_evidence(db: sqlite_utils.Database, source_id: int, linked_from: list[tuple[int, str]]) -> None:
    """Record which stored posts (post id, linked URL) point at a candidate source."""
    now = dates.now_iso()
    with write_tx(db):
        db.conn.executemany(
            "INSERT OR IGNORE INTO candidate_evidence (source_id, post_id, url, found_at) VALUES (?, ?, ?, ?)",
            [(source_id, pid, url, now) for pid, url in linked_from],
        )


def candidate_hosts(db: sqlite_utils.Database, *, limit: int = 200) -> list[dict]:
    """Hosts linked from relevant posts that are not sources yet, most-linked first.

    Each: {'home': 'https://host/', 'linked_from': [(post_id, url), ...]}.
    """
    known = {site_of(r[0]) for r in db.execute("SELECT url FROM sources")}
    rows = db.execute(
        "SELECT l.post_id, l.url, p.url FROM links l JOIN posts p ON p.id = l.post_id "
        "WHERE p.status IN ('new', 'copy', 'excerpt', 'duplicate') ORDER BY l.host"
    )
    by_host: dict[str, dict] = {}
    for post_id, url, post_url in rows:
        site = site_of(url)
        if not site or site in known or site == site_of(post_url):
            continue
        parts = urlsplit(url)
        entry = by_host.setdefault(site, {"home": f"{parts.scheme}://{parts.netloc}/", "linked_from": []})
        entry["linked_from"].append((post_id, url))
    ranked = sorted(by_host.values(), key=lambda e: -len(e["linked_from"]))
    return ranked[:limit]
