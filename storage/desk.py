"""Read queries behind the analyst's desk (`rjwatch serve`): today's coverage grouped by story, the
review queue, coverage over time for the charts, and sources with their health.

Every function here only reads; the desk writes through storage.marks and storage.sources. Each
query is bounded (a LIMIT, or an aggregate over an indexed range) so a page costs the same at a
thousand posts as at a million.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import sqlite_utils

from judge.relevance import RELEVANT_MIN_SCORE

#: Most posts listed on the Today page: a screenful of stories to scan, rendered well within 100 ms
#: (the page says how many more there are; a later `since` narrows them).
TODAY_LIMIT = 150
#: Posts whose relevance is within this distance of the threshold are "near" it and worth a look.
REVIEW_MARGIN = 0.15
#: Most posts in the review queue at once: a sitting's worth of decisions.
REVIEW_LIMIT = 60
#: Recent alerts shown beside the review queue.
REVIEW_ALERTS = 20
#: Chart bins: a range up to this many days is drawn per day, up to WEEK_BINS_MAX_DAYS per week,
#: beyond that per month, so a chart has between a handful and ~100 bars whatever the range.
DAY_BINS_MAX_DAYS = 62
WEEK_BINS_MAX_DAYS = 700

#: The one line of evidence a list shows: the strongest point of the relevance score for new and
#: off-topic posts (the seed comparison says nothing about them), the link for a duplicate, the seed
#: comparison for a copy or excerpt.
EVIDENCE = (
    "CASE WHEN p.status IN ('new', 'off_topic') THEN coalesce(json_extract(p.evidence, '$.relevance[0]'), "
    "json_extract(p.evidence, '$.reasons[0]')) WHEN p.status = 'duplicate' THEN "
    "coalesce(json_extract(p.evidence, '$.reasons[1]'), json_extract(p.evidence, '$.reasons[0]')) "
    "ELSE json_extract(p.evidence, '$.reasons[0]') END"
)

_ROW = f"""
SELECT p.id, p.title, p.url, p.lang, p.status, p.machine_status, p.analyst_status, p.relevance,
       p.published, p.first_seen, p.duplicate_of, p.source_id, coalesce(s.name, s.url) AS source,
       {EVIDENCE} AS evidence
FROM posts p LEFT JOIN sources s ON s.id = p.source_id
"""


def today(db: sqlite_utils.Database, since: str, *, limit: int = TODAY_LIMIT) -> dict:
    """Posts first seen since `since` (ISO 8601), grouped by story (a post and its duplicates),
    newest story first, with counts by status over the same range."""
    rows = [
        dict(r)
        for r in db.query(
            f"{_ROW} WHERE p.first_seen >= ? ORDER BY p.first_seen DESC, p.id DESC LIMIT ?", [since, limit]
        )
    ]
    stories: dict[int, dict] = {}
    for r in rows:
        key = r["duplicate_of"] or r["id"]
        story = stories.setdefault(key, {"id": key, "posts": [], "latest": r["first_seen"]})
        story["posts"].append(r)
    heads = [k for k in stories if k not in {r["id"] for r in rows}]
    if heads:
        # The original of a duplicate seen today, when it is older than the range: the story's title.
        marks = ",".join("?" * len(heads))
        for r in db.query(f"{_ROW} WHERE p.id IN ({marks})", heads):
            stories[r["id"]]["head"] = dict(r)
    counts = {
        r["status"]: r["n"]
        # INDEXED BY: grouping by status tempts the planner to walk posts_status over the whole table.
        for r in db.query(
            "SELECT status, count(*) AS n FROM posts INDEXED BY posts_first_seen WHERE first_seen >= ? GROUP BY status",
            [since],
        )
    }
    return {"stories": list(stories.values()), "counts": counts, "shown": len(rows), "total": sum(counts.values())}


def review_queue(db: sqlite_utils.Database, *, margin: float = REVIEW_MARGIN, limit: int = REVIEW_LIMIT) -> dict:
    """Unmarked posts whose relevance is near the threshold (newest first), and the latest alerts."""
    low, high = RELEVANT_MIN_SCORE - margin, RELEVANT_MIN_SCORE + margin
    near = [
        dict(r)
        for r in db.query(
            f"{_ROW} WHERE p.analyst_status IS NULL AND p.status IN ('new', 'off_topic') "
            "AND p.relevance BETWEEN ? AND ? ORDER BY p.id DESC LIMIT ?",
            [low, high, limit],
        )
    ]
    alerts = [
        dict(r)
        for r in db.query(
            "SELECT a.id AS alert_id, a.kind, a.created_at, a.status AS alert_status, p.id, p.title, p.url, p.lang, "
            "p.status, p.machine_status, p.analyst_status, p.relevance, p.first_seen, coalesce(s.name, s.url) AS source, "
            f"{EVIDENCE} AS evidence "
            "FROM alerts a JOIN posts p ON p.id = a.post_id LEFT JOIN sources s ON s.id = p.source_id "
            "ORDER BY a.id DESC LIMIT ?",
            [REVIEW_ALERTS],
        )
    ]
    return {"near": near, "alerts": alerts, "low": low, "high": high, "threshold": RELEVANT_MIN_SCORE}


def recent_marks(db: sqlite_utils.Database, *, limit: int = 20) -> list[dict]:
    """The latest analyst marks, newest first, with the post's title."""
    return [
        dict(r)
        for r in db.query(
            "SELECT m.post_id, m.status, m.duplicate_of, m.note, m.by, m.at, m.machine_status, p.title "
            "FROM marks m JOIN posts p ON p.id = m.post_id ORDER BY m.at DESC, m.id DESC LIMIT ?",
            [limit],
        )
    ]


def bin_unit(start: date, end: date) -> str:
    """`day`, `week` or `month`: the bin that gives a readable number of bars for the range."""
    days = (end - start).days
    if days <= DAY_BINS_MAX_DAYS:
        return "day"
    return "week" if days <= WEEK_BINS_MAX_DAYS else "month"


def _bin_expr(unit: str) -> str:
    day = "substr(coalesce(published, first_seen), 1, 10)"
    if unit == "day":
        return day
    if unit == "week":  # the Monday the week starts on
        return f"date({day}, '-' || ((strftime('%w', {day}) + 6) % 7) || ' days')"
    return f"substr({day}, 1, 7) || '-01'"


def date_range(db: sqlite_utils.Database) -> tuple[str | None, str | None]:
    """The first and last day of the corpus (publication date, else first seen)."""
    row = db.execute(
        "SELECT min(substr(coalesce(published, first_seen), 1, 10)), max(substr(coalesce(published, first_seen), 1, 10)) FROM posts"
    ).fetchone()
    return row[0], row[1]


def coverage(db: sqlite_utils.Database, start: str, end: str, unit: str, by: str) -> list[dict]:
    """Posts per bin between `start` and `end` (days, inclusive) by `status` or `lang`."""
    col = {"status": "status", "lang": "coalesce(lang, '?')"}[by]
    b = _bin_expr(unit)
    return [
        dict(r)
        for r in db.query(
            f"SELECT {b} AS bin, {col} AS key, count(*) AS n FROM posts "
            "WHERE substr(coalesce(published, first_seen), 1, 10) BETWEEN ? AND ? GROUP BY bin, key ORDER BY bin",
            [start, end],
        )
    ]


def bins(start: date, end: date, unit: str) -> list[str]:
    """Every bin label between two days, so empty bins show as gaps."""
    out: list[str] = []
    if unit == "day":
        d = start
        while d <= end:
            out.append(d.isoformat())
            d += timedelta(days=1)
    elif unit == "week":
        d = start - timedelta(days=start.weekday())
        while d <= end:
            out.append(d.isoformat())
            d += timedelta(days=7)
    else:
        y, m = start.year, start.month
        while (y, m) <= (end.year, end.month):
            out.append(f"{y:04d}-{m:02d}-01")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def sources_with_health(db: sqlite_utils.Database) -> list[dict]:
    """Every source (candidates apart) with its post count, last run and health."""
    rows = [
        dict(r)
        for r in db.query(
            "SELECT s.id, s.url, s.name, s.kind, s.state, s.added_at, "
            "(SELECT count(*) FROM posts p WHERE p.source_id = s.id) AS posts, "
            "h.last_poll, h.last_success, h.consecutive_failures, h.last_error, h.next_due "
            "FROM sources s LEFT JOIN source_health h ON h.source_id = s.id "
            "WHERE s.state != 'candidate' ORDER BY s.id"
        )
    ]
    return rows


def parse_day(value: str) -> date:
    return datetime.fromisoformat(value[:10]).date()


def evidence_line(evidence: str | None) -> str:
    """The first reason of a verdict, as stored (a JSON string or plain text)."""
    if not evidence:
        return ""
    try:
        value = json.loads(evidence)
    except ValueError:
        return evidence
    return value if isinstance(value, str) else str(value)


def seeds(db: sqlite_utils.Database) -> list[dict]:
    """The reference articles (id, title, url, lang, published)."""
    return [dict(r) for r in db.query("SELECT id, title, url, lang, published FROM seeds ORDER BY id")]


def seed_text(db: sqlite_utils.Database, seed_id: int) -> str | None:
    row = db.execute("SELECT text FROM seeds WHERE id = ?", (seed_id,)).fetchone()
    return row[0] if row else None


def post_text(db: sqlite_utils.Database, post_id: int) -> str | None:
    row = db.execute("SELECT text FROM posts WHERE id = ?", (post_id,)).fetchone()
    return row[0] if row else None


def links_between(db: sqlite_utils.Database, post_ids: list[int], seed_urls: list[str]) -> list[dict]:
    """Who links to whom among these posts and the seeds: (from post, to post or seed URL)."""
    if not post_ids:
        return []
    marks = ",".join("?" * len(post_ids))
    out = [
        dict(r)
        for r in db.query(
            f"SELECT l.post_id AS src, t.id AS dst, l.url FROM links l JOIN posts t "
            f"ON (t.url = l.url OR t.canonical_url = l.url) AND t.id IN ({marks}) "
            f"WHERE l.post_id IN ({marks}) AND t.id != l.post_id",
            [*post_ids, *post_ids],
        )
    ]
    if seed_urls:
        smarks = ",".join("?" * len(seed_urls))
        out += [
            {**dict(r), "dst": None}
            for r in db.query(
                f"SELECT post_id AS src, url FROM links WHERE post_id IN ({marks}) AND url IN ({smarks})",
                [*post_ids, *seed_urls],
            )
        ]
    return out


def spread_count(db: sqlite_utils.Database, seed_id: int | None) -> int:
    """How many copies and excerpts of the seed (of every seed with None) there are."""
    where, params = "status IN ('copy', 'excerpt')", []
    if seed_id is not None:
        where += " AND json_extract(evidence, '$.seed') = ?"
        params.append(seed_id)
    return db.execute(f"SELECT count(*) FROM posts WHERE {where}", params).fetchone()[0]
