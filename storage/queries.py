"""Read-only queries behind `rjwatch posts` and `rjwatch show`, and which posts are stored in full (the poller)."""

from __future__ import annotations

import json

import sqlite_utils

from storage import checks, evidence
from storage.marks import marks_of

POST_COLUMNS = (
    "id",
    "url",
    "canonical_url",
    "title",
    "author",
    "published",
    "lang",
    "source",
    "status",
    "machine_status",
    "analyst_status",
    "relevance",
    "matched_terms",
    "seed_similarity",
    "duplicate_of",
    "first_seen",
    "sightings",
    "summary_only",
    "media_only",
    "flags",
    "full_text",
)

_LIST_SQL = """
SELECT p.id, p.url, p.canonical_url, p.title, p.author, p.published, p.lang,
       coalesce(s.name, s.url) AS source, p.status, coalesce(p.machine_status, p.status) AS machine_status,
       p.analyst_status, p.relevance, p.matched_terms, p.seed_similarity,
       p.duplicate_of, p.first_seen,
       (SELECT count(*) FROM sightings g WHERE g.post_id = p.id) AS sightings,
       p.summary_only, p.media_only, coalesce(json_extract(p.evidence, '$.flags'), '[]') AS flags,
       json_extract(p.evidence, '$.full_text') AS full_text
FROM posts p LEFT JOIN sources s ON s.id = p.source_id
"""


#: The orders of `list_posts`. Published: newest publication first (a post without a date by when it was
#: first seen), compared as instants (julianday reads the offsets) so that +09:00 and UTC dates
#: interleave right; collected: the order the posts were stored, newest first; relevance: highest first.
_PUBLISHED = "coalesce(julianday(p.published), julianday(p.first_seen))"
POST_ORDERS = {
    "published": f"{_PUBLISHED} DESC, p.id DESC",
    "collected": "p.id DESC",
    "relevance": f"p.relevance DESC, {_PUBLISHED} DESC, p.id DESC",
}


def _decode(row: dict) -> dict:
    for key in ("matched_terms", "seed_similarity", "evidence", "labels", "flags"):
        if key in row and isinstance(row[key], str):
            row[key] = json.loads(row[key])
    return row


def list_posts(
    db: sqlite_utils.Database,
    *,
    status: str | None = None,
    sort: str = "published",
    limit: int | None = None,
    offset: int = 0,
) -> list[dict]:
    """Stored posts in one of POST_ORDERS (default: newest published first), with their source's name."""
    where, params = "", []
    if status:
        where = "WHERE p.status = ?"
        params.append(status)
    sql = f"{_LIST_SQL} {where} ORDER BY {POST_ORDERS[sort]} LIMIT ? OFFSET ?"
    params += [limit if limit is not None else -1, offset]
    return [_decode(dict(r)) for r in db.query(sql, params)]


def get_post(db: sqlite_utils.Database, post_id: int) -> dict | None:
    rows = list(
        db.query(
            "SELECT p.*, coalesce(s.name, s.url) AS source FROM posts p "
            "LEFT JOIN sources s ON s.id = p.source_id WHERE p.id = ?",
            [post_id],
        )
    )
    if not rows:
        return None
    post = _decode(dict(rows[0]))
    post["sightings"] = list(
        db.query(
            "SELECT url, via, first_seen, last_seen, times FROM sightings WHERE post_id = ? ORDER BY first_seen, id",
            [post_id],
        )
    )
    post["duplicates"] = list(
        db.query("SELECT id, title, url, published FROM posts WHERE duplicate_of = ? ORDER BY id", [post_id])
    )
    post["revisions"] = list(
        db.query(
            "SELECT revision, title, updated, status, replaced_at, length(text) AS chars FROM revisions "
            "WHERE post_id = ? ORDER BY revision",
            [post_id],
        )
    )
    post["links"] = [r["url"] for r in db.query("SELECT url FROM links WHERE post_id = ? ORDER BY rowid", [post_id])]
    post["seeds"] = {str(r["id"]): r["title"] for r in db.query("SELECT id, title FROM seeds")}
    post["marks"] = marks_of(db, post_id)
    post["evidence_records"] = evidence.for_post(db, post_id)  # WARC records of its raw responses
    post["page_checks"] = checks.page_checks(db, post_id)
    post["archive"] = checks.archive_of(db, post_id)
    return post


def counts_by_status(db: sqlite_utils.Database) -> dict[str, int]:
    return {r["status"]: r["n"] for r in db.query("SELECT status, count(*) AS n FROM posts GROUP BY status")}


# -- the seed's spread ---------------------------------------------------------------------------
def seed_spread(
    db: sqlite_utils.Database,
    seed_id: int | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
    removed: bool = False,
) -> list[dict]:
    """Every copy and excerpt of a seed (or of every seed), in the order they were first seen, with
    what changed against the seed (for a translation: how many of the seed's paragraphs it carries)
    and the state of its page (`page`: live, or removed/revised with the date; crawler.recheck).
    `limit`/`offset`: one page of them (the changes are worked out for that page only); `removed`:
    only those whose page is gone."""
    from judge.diff import paragraph_changes

    seeds = {r["id"]: r for r in db.query("SELECT id, title, text FROM seeds")}
    where, params = "p.status IN ('copy', 'excerpt')", []
    if seed_id is not None:
        where += " AND json_extract(p.evidence, '$.seed') = ?"
        params.append(seed_id)
    if removed:
        where += " AND p.page_state = 'removed'"
    rows = []
    # `+p.first_seen`: ordering by the bare column lets the planner walk posts_first_seen over the
    # whole table (330 ms at 100,000 posts) instead of the few copies found by posts_status (2 ms).
    for r in db.query(
        f"SELECT p.id, p.first_seen, p.published, p.status, p.lang, p.title, p.url, p.text, p.seed_similarity, "
        f"p.page_state, p.page_state_at, "
        f"coalesce(json_extract(p.evidence, '$.kind'), 'text') AS kind, json_extract(p.evidence, '$.seed') AS seed, coalesce(s.name, s.url) AS source, "
        f"(SELECT count(*) FROM sightings g WHERE g.post_id = p.id) AS sightings "
        f"FROM posts p LEFT JOIN sources s ON s.id = p.source_id WHERE {where} ORDER BY +p.first_seen, p.id LIMIT ? OFFSET ?",
        [*params, -1 if limit is None else limit, offset],
    ):
        r = dict(r)
        r["page"] = page_label(r.pop("page_state"), r.pop("page_state_at"))
        sim = json.loads(r.pop("seed_similarity") or "{}").get(str(r["seed"])) or {}
        text = r.pop("text")
        seed = seeds.get(r["seed"])
        r["containment"] = round(sim.get("containment", 0.0), 3)
        r["blog"] = r["source"] or _host(r["url"])
        if r["kind"] == "translation":
            # Words cannot be compared across languages: say how much of the seed it translates.
            r["changes"] = (
                f"translation ({r['lang'] or '?'}): {sim.get('paragraphs', 0)} of {sim.get('seed_paragraphs', 0)} "
                "¶ of the seed in order"
            )
            r["paragraphs"] = {k: sim.get(k) for k in ("paragraphs", "seed_paragraphs", "anchors")}
            rows.append(r)
            continue
        changes = paragraph_changes(seed["text"], text) if seed else None
        r["changes"] = changes.summary() if changes else ""
        r["paragraphs"] = changes.__dict__ if changes else None
        rows.append(r)
    return rows


def page_label(state: str | None, at: str | None) -> str:
    """`live` (also for a page never checked), or `removed 2026-12-05` / `revised 2026-12-05`."""
    if state in ("removed", "revised"):
        return f"{state} {(at or '')[:10]}".strip()
    return "live"


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or url


def revision_texts(db: sqlite_utils.Database, post_id: int) -> list[tuple[str, str]]:
    """(label, text) for every version of a post, oldest first, ending with the current one."""
    out = [
        (f"r{r['revision']} ({r['updated'] or r['replaced_at']})", r["text"])
        for r in db.query(
            "SELECT revision, updated, replaced_at, text FROM revisions WHERE post_id = ? ORDER BY revision", [post_id]
        )
    ]
    cur = list(db.query("SELECT revision, updated, text FROM posts WHERE id = ?", [post_id]))
    if cur:
        out.append((f"r{cur[0]['revision']} (current)", cur[0]["text"]))
    return out


# -- stats ---------------------------------------------------------------------------------------
#: Rows in each "top" list of `rjwatch stats`.
STATS_TOP = 10
#: Days (and ISO weeks) shown in the per-day and per-week tables (the plot covers the whole range).
STATS_DAYS = 30


def profile_languages(db: sqlite_utils.Database) -> list[str]:
    """The languages the stored topic profile carries vocabulary for ([] when it names none)."""
    import tomllib

    if not db["topics"].exists():
        return []
    row = db.execute("SELECT profile FROM topics ORDER BY id LIMIT 1").fetchone()
    try:
        langs = tomllib.loads(row[0]).get("languages") if row else None
    except tomllib.TOMLDecodeError:
        return []
    return [str(x).lower() for x in langs] if isinstance(langs, list) else []


def _window(since: str | None, until: str | None, alias: str = "p.") -> tuple[str, list[str]]:
    """A WHERE clause keeping posts published (else first seen) in [since, until)."""
    when = f"coalesce({alias}published, {alias}first_seen)"
    terms = [(f"{when} >= ?", since), (f"{when} < ?", until)]
    kept = [(sql, value) for sql, value in terms if value]
    if not kept:
        return "", []
    return "WHERE " + " AND ".join(sql for sql, _ in kept), [value for _, value in kept]


def iso_week(day: str) -> str:
    """The ISO 8601 week of a date ("2020-W01"): weeks start on Monday and week 1 holds the year's
    first Thursday, so the days of 2019-12-30 to 2020-01-05 are all 2020-W01 (strftime's %W would
    call the first of them 2019-W52 and the rest 2020-W00)."""
    from datetime import date

    year, week, _ = date.fromisoformat(day[:10]).isocalendar()
    return f"{year}-W{week:02d}"


def stats(db: sqlite_utils.Database, *, since: str | None = None, until: str | None = None) -> dict:
    """Counts for `rjwatch stats`: by status, source, language, day and ISO week; the top sources of
    new coverage; and the health of crawls and polls. `since` and `until` (ISO instants, until
    excluded) keep the posts published (else first seen) between them."""
    cond, params = _window(since, until)
    day = "substr(coalesce(p.published, p.first_seen), 1, 10)"

    def q(sql: str, extra: list | None = None) -> list[dict]:
        return [dict(r) for r in db.query(sql, params + (extra or []))]

    out = {
        "total": q(f"SELECT count(*) AS n FROM posts p {cond}")[0]["n"],
        "by_status": q(f"SELECT status, count(*) AS posts FROM posts p {cond} GROUP BY status ORDER BY posts DESC"),
        "by_lang": q(
            f"SELECT coalesce(lang, '?') AS lang, count(*) AS posts FROM posts p {cond} "
            f"GROUP BY lang ORDER BY posts DESC"
        ),
        "by_source": q(
            f"SELECT coalesce(s.name, s.url, '(none)') AS source, count(*) AS posts, "
            f"sum(p.status = 'new') AS new, sum(p.status IN ('copy', 'excerpt')) AS copies "
            f"FROM posts p LEFT JOIN sources s ON s.id = p.source_id {cond} "
            f"GROUP BY p.source_id ORDER BY posts DESC LIMIT {STATS_TOP}"
        ),
        "top_new_sources": q(
            f"SELECT coalesce(s.name, s.url, '(none)') AS source, count(*) AS new, "
            f"max(coalesce(p.published, p.first_seen)) AS latest "
            f"FROM posts p LEFT JOIN sources s ON s.id = p.source_id "
            f"WHERE p.status = 'new' {('AND ' + cond[6:]) if cond else ''} "
            f"GROUP BY p.source_id ORDER BY new DESC LIMIT {STATS_TOP}"
        ),
        "by_day": q(
            f"SELECT {day} AS day, count(*) AS posts, sum(status = 'new') AS new, "
            f"sum(status IN ('copy', 'excerpt')) AS copies FROM posts p {cond} "
            f"GROUP BY day ORDER BY day DESC LIMIT {STATS_DAYS}"
        ),
    }
    weeks: dict[str, dict] = {}
    every_day = q(
        f"SELECT {day} AS day, count(*) AS posts, sum(status = 'new') AS new, "
        f"sum(status IN ('copy', 'excerpt')) AS copies FROM posts p {cond} GROUP BY day"
    )
    for r in every_day:
        try:
            week = iso_week(r["day"])
        except ValueError:  # no date at all
            continue
        row = weeks.setdefault(week, {"week": week, "posts": 0, "new": 0, "copies": 0})
        for key in ("posts", "new", "copies"):
            row[key] += r[key]
    out["by_week"] = [weeks[w] for w in sorted(weeks, reverse=True)[:STATS_DAYS]]
    covered = profile_languages(db)
    for row in out["by_lang"]:
        row["in_profile"] = "-" if not covered or row["lang"] == "?" else ("yes" if row["lang"] in covered else "no")
    out["outside_profile"] = sum(r["posts"] for r in out["by_lang"] if r["in_profile"] == "no")
    out["profile_languages"] = covered
    out["runs"] = [
        dict(r)
        for r in db.query(
            "SELECT kind, count(*) AS runs, sum(finished_at IS NULL) AS unfinished, sum(errors > 0) AS with_errors, "
            "sum(pages) AS pages, sum(items) AS items, max(started_at) AS last_started FROM runs GROUP BY kind"
        )
    ]
    out["sources"] = [
        dict(r)
        for r in db.query(
            "SELECT s.kind, s.state, count(*) AS sources, sum(coalesce(h.consecutive_failures, 0) > 0) AS failing "
            "FROM sources s LEFT JOIN source_health h ON h.source_id = s.id GROUP BY s.kind, s.state ORDER BY s.kind"
        )
    ]
    out["failing"] = [
        dict(r)
        for r in db.query(
            "SELECT s.id, coalesce(s.name, s.url) AS source, h.consecutive_failures AS failures, h.last_error, "
            "h.last_success FROM source_health h JOIN sources s ON s.id = h.source_id "
            "WHERE h.consecutive_failures > 0 ORDER BY h.consecutive_failures DESC LIMIT ?",
            [STATS_TOP],
        )
    ]
    return out


def daily_counts(db: sqlite_utils.Database, *, since: str | None = None, until: str | None = None) -> list[dict]:
    """Posts per day, status and language ({day, status, lang, n}), for the coverage plot; `since`
    and `until` as in `stats`."""
    cond, params = _window(since, until, alias="")
    day = "substr(coalesce(published, first_seen), 1, 10)"
    return [
        dict(r)
        for r in db.query(
            f"SELECT {day} AS day, status, coalesce(lang, '?') AS lang, count(*) AS n FROM posts {cond} "
            f"GROUP BY day, status, lang ORDER BY day",
            params,
        )
    ]


# -- export --------------------------------------------------------------------------------------
EXPORT_COLUMNS = (
    "id",
    "canonical_url",
    "url",
    "title",
    "author",
    "published",
    "updated",
    "lang",
    "status",
    "machine_status",
    "analyst_status",
    "analyst_note",
    "relevance",
    "duplicate_of",
    "blog_id",
    "post_id",
    "first_seen",
    "last_seen",
    "revision",
    "source_id",
    "source_name",
    "source_url",
    "source_kind",
    "matched_terms",
    "seed_similarity",
    "evidence",
    "sightings",
    "text",
)


#: Page cache while exporting (KiB). An export reads each page once, in order, so the connection's
#: usual 64 MiB cache would only add to the peak RSS of a full export (190 MB of a 200 MB budget at
#: a million posts); a few MiB keep the sightings index and the sources hot.
EXPORT_CACHE_KIB = 8 * 1024


def export_rows(db: sqlite_utils.Database, query: str | None = None, filters=None):
    """Stream every matching post with its provenance, oldest first, one row at a time."""
    from storage.search import from_where

    frm, where, params, order = from_where(db, query, filters)
    sql = f"""
    SELECT p.id, p.canonical_url, p.url, p.title, p.author, p.published, p.updated, p.lang, p.status,
           coalesce(p.machine_status, p.status), p.analyst_status,
           CASE WHEN p.analyst_status IS NOT NULL THEN
               (SELECT m.note FROM marks m WHERE m.post_id = p.id ORDER BY m.at DESC, m.id DESC LIMIT 1) END,
           p.relevance, p.duplicate_of, p.blog_id, p.post_id, p.first_seen, p.last_seen, p.revision,
           p.source_id, s.name AS source_name, s.url AS source_url, s.kind AS source_kind,
           p.matched_terms, p.seed_similarity, p.evidence,
           (SELECT json_group_array(json_object('url', g.url, 'via', g.via, 'first_seen', g.first_seen,
                                                'last_seen', g.last_seen, 'times', g.times))
            FROM sightings g WHERE g.post_id = p.id) AS sightings,
           p.text
    FROM {frm} LEFT JOIN sources s ON s.id = p.source_id
    WHERE {where} ORDER BY {order}"""
    cache = db.execute("PRAGMA cache_size").fetchone()[0]
    db.execute(f"PRAGMA cache_size = -{EXPORT_CACHE_KIB}")
    try:
        cursor = db.execute(sql, params)
        for row in cursor:
            rec = dict(zip(EXPORT_COLUMNS, row))
            for key in ("matched_terms", "seed_similarity", "evidence", "sightings"):
                rec[key] = json.loads(rec[key]) if rec[key] else None
            yield rec
    finally:
        db.execute(f"PRAGMA cache_size = {cache}")


def count_matching(db: sqlite_utils.Database, query: str | None = None, filters=None) -> int:
    from storage.search import from_where

    frm, where, params, _ = from_where(db, query, filters)
    return db.execute(f"SELECT count(*) FROM {frm} WHERE {where}", params).fetchone()[0]


def stored_in_full(db: sqlite_utils.Database, urls: list[str]) -> set[str]:
    """Which of these URLs (as given) name posts stored with their full text, not a feed's summary."""
    from storage.sources import known_urls

    return known_urls(db, urls, full_text=True)
