"""Analyst corrections (`rjwatch mark`, `rjwatch marks`) and the model they teach (`rjwatch learn`).

A mark says what a post really is: relevant (`new`), `off_topic`, `copy`, `excerpt` or `duplicate`
of another post, who said so, when and why. Marks are kept as a history in the `marks` table; a
post's latest mark is in force (a `cleared` mark withdraws it). The verdict in force is written to
`posts.status`, so every list, search, export and saved query sees the analyst's word; rjwatch's own
verdict stays in `posts.machine_status` and the analyst's in `posts.analyst_status`. Re-judging skips
marked posts (storage.rejudge.corrected_ids) and re-crawling keeps their status and duplicate link
while it refreshes the machine verdict.

Marks move between installations as JSONL (`marks export` / `marks import`), keyed by the post's
canonical URL (or its Blogger blog and post ids), so they find the same post in another database.

The model (judge.learned) is trained from the posts that carry a mark in force and stored in
`learned_models`; the latest row is attached to the topic profile (storage.ingest.load_profile).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlite_utils

from judge import dates, text
from judge.errors import RjwatchError
from judge.learned import Example, LearnedModel, TooFewMarks, features, train
from judge.relevance import RELEVANT_MIN_POINTS, TopicProfile, normalize_lines
from storage.db import write_tx

#: What an analyst can say a post is (the statuses of judge.classify).
MARK_STATUSES = ("new", "off_topic", "copy", "excerpt", "duplicate")
#: Other words analysts use for them.
ALIASES = {"relevant": "new", "off-topic": "off_topic", "offtopic": "off_topic", "irrelevant": "off_topic"}
#: The status of a mark that withdraws the one before it.
CLEARED = "cleared"
#: Statuses that mean "about the topic" for learning (a copy or a duplicate of relevant coverage is too).
RELEVANT_MARKS = ("new", "copy", "excerpt", "duplicate")
#: Longest note kept with a mark (a reason, not an essay).
MAX_NOTE_CHARS = 2000
#: Fields of an exported mark (one JSON object per line).
EXPORT_FIELDS = (
    "url",
    "blog_id",
    "blogger_post_id",
    "status",
    "duplicate_of_url",
    "note",
    "by",
    "at",
    "machine_status",
)


class MarkError(ValueError, RjwatchError):
    """A mark that cannot be made, explained in one line."""


@dataclass
class Marked:
    post_id: int
    old: str
    new: str
    machine: str


def normalize_status(status: str) -> str:
    s = (status or "").strip().lower()
    s = ALIASES.get(s, s.replace("-", "_"))
    if s not in MARK_STATUSES:
        raise MarkError(f"unknown status {status!r}: use one of relevant, {', '.join(MARK_STATUSES[1:])}")
    return s


def _latest(conn, post_id: int):
    return conn.execute(
        "SELECT status, duplicate_of, machine_duplicate_of FROM marks WHERE post_id = ? ORDER BY at DESC, id DESC LIMIT 1",
        (post_id,),
    ).fetchone()


def _apply_latest(conn, post_id: int) -> None:
    """Write the post's verdict in force from its latest mark (or rjwatch's own when none is)."""
    last = _latest(conn, post_id)
    if last is None:
        return
    status, dup, machine_dup = last
    if status == CLEARED:
        conn.execute(
            "UPDATE posts SET status = coalesce(machine_status, status), analyst_status = NULL, duplicate_of = ? "
            "WHERE id = ?",
            (machine_dup, post_id),
        )
        return
    if status == "duplicate":
        link = dup
    elif status == "off_topic":
        link = machine_dup  # off the topic says nothing about which story it belongs to
    else:
        link = None  # new coverage, a copy or an excerpt of a seed stands alone
    conn.execute(
        "UPDATE posts SET status = ?, analyst_status = ?, duplicate_of = ? WHERE id = ?",
        (status, status, link, post_id),
    )


def _insert(conn, post_id: int, status: str, dup: int | None, note: str | None, by: str, at: str) -> None:
    row = conn.execute(
        "SELECT coalesce(machine_status, status), duplicate_of, canonical_url, analyst_status FROM posts WHERE id = ?",
        (post_id,),
    ).fetchone()
    machine, link, url, analyst = row
    last = _latest(conn, post_id)
    # The machine's own duplicate link: the post's link unless a mark in force has replaced it.
    machine_dup = last[2] if (last is not None and analyst is not None) else link
    conn.execute(
        "INSERT INTO marks (post_id, status, duplicate_of, note, by, at, machine_status, machine_duplicate_of, url) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (post_id, status, dup, note, by, at, machine, machine_dup, url),
    )


def _check_post(conn, post_id: int) -> str:
    row = conn.execute("SELECT status FROM posts WHERE id = ?", (post_id,)).fetchone()
    if row is None:
        raise MarkError(f"no post #{post_id} (see `rjwatch posts`)")
    return row[0]


def mark(
    db: sqlite_utils.Database,
    post_id: int,
    status: str,
    *,
    by: str,
    note: str | None = None,
    duplicate_of: int | None = None,
) -> Marked:
    """Record an analyst's verdict on a post; it is in force at once."""
    status = normalize_status(status)
    if status == "duplicate" and duplicate_of is None:
        raise MarkError("a duplicate needs the post it duplicates: `rjwatch mark ID duplicate --of OTHER`")
    if status != "duplicate" and duplicate_of is not None:
        raise MarkError("--of goes only with the status `duplicate`")
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise MarkError(f"the note is {len(note):,} characters (at most {MAX_NOTE_CHARS:,})")
    with write_tx(db):
        conn = db.conn
        old = _check_post(conn, post_id)
        if duplicate_of is not None:
            if duplicate_of == post_id:
                raise MarkError("a post cannot be a duplicate of itself")
            _check_post(conn, duplicate_of)
        _insert(conn, post_id, status, duplicate_of, note, by, dates.now_iso())
        _apply_latest(conn, post_id)
        machine = conn.execute("SELECT coalesce(machine_status, status) FROM posts WHERE id = ?", (post_id,)).fetchone()
    return Marked(post_id, old, status, machine[0])


def clear(db: sqlite_utils.Database, post_id: int, *, by: str, note: str | None = None) -> Marked:
    """Withdraw the post's mark: rjwatch's own verdict is in force again."""
    with write_tx(db):
        conn = db.conn
        old = _check_post(conn, post_id)
        analyst = conn.execute("SELECT analyst_status FROM posts WHERE id = ?", (post_id,)).fetchone()[0]
        if analyst is None:
            raise MarkError(f"post #{post_id} has no mark to clear")
        _insert(conn, post_id, CLEARED, None, note, by, dates.now_iso())
        _apply_latest(conn, post_id)
        new = conn.execute("SELECT status FROM posts WHERE id = ?", (post_id,)).fetchone()[0]
    return Marked(post_id, old, new, new)


def marks_of(db: sqlite_utils.Database, post_id: int) -> list[dict]:
    """A post's marks, oldest first."""
    return [
        dict(r)
        for r in db.query(
            "SELECT id, status, duplicate_of, note, by, at, machine_status FROM marks WHERE post_id = ? ORDER BY at, id",
            [post_id],
        )
    ]


def list_marks(db: sqlite_utils.Database, *, history: bool = False, limit: int | None = None) -> list[dict]:
    """Marks in force (newest first), or every mark ever made with `history`."""
    where = (
        ""
        if history
        else "WHERE p.analyst_status IS NOT NULL AND m.id = (SELECT id FROM marks WHERE post_id = m.post_id ORDER BY at DESC, id DESC LIMIT 1)"
    )
    sql = (
        "SELECT m.id, m.post_id, m.status, m.duplicate_of, m.machine_status, p.machine_status AS machine_now, "
        "m.by, m.at, m.note, p.title, coalesce(p.url, p.canonical_url) AS url "
        f"FROM marks m JOIN posts p ON p.id = m.post_id {where} ORDER BY m.at DESC, m.id DESC"
    )
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [dict(r) for r in db.query(sql)]


def export_marks(db: sqlite_utils.Database) -> Iterator[dict]:
    """Every mark, oldest first, keyed by the post's canonical URL (and Blogger ids when known)."""
    for r in db.query(
        "SELECT p.canonical_url AS url, p.blog_id, p.post_id AS blogger_post_id, m.status, "
        "d.canonical_url AS duplicate_of_url, m.note, m.by, m.at, m.machine_status "
        "FROM marks m JOIN posts p ON p.id = m.post_id LEFT JOIN posts d ON d.id = m.duplicate_of "
        "ORDER BY m.at, m.id"
    ):
        yield {k: r[k] for k in EXPORT_FIELDS}


def _find_post(conn, url: str | None, blog_id: str | None, blogger_post_id: str | None) -> int | None:
    if url:
        row = conn.execute("SELECT id FROM posts WHERE canonical_url = ?", (url,)).fetchone()
        if row:
            return row[0]
    if blog_id and blogger_post_id:
        row = conn.execute(
            "SELECT id FROM posts WHERE blog_id = ? AND post_id = ?", (str(blog_id), str(blogger_post_id))
        ).fetchone()
        if row:
            return row[0]
    return None


@dataclass
class ImportReport:
    imported: int = 0
    already: int = 0
    unmatched: int = 0


def import_marks(db: sqlite_utils.Database, rows: Iterable[tuple[int, dict]]) -> ImportReport:
    """Add exported marks (line number, object) to this database in one transaction. A mark already
    here (same post, status, author and time) is skipped, so importing twice changes nothing; a mark
    of a post this database does not hold is counted, not stored (import again once it is collected)."""
    report = ImportReport()
    touched: set[int] = set()
    with write_tx(db):
        conn = db.conn
        for line, obj in rows:
            if not isinstance(obj, dict):
                raise MarkError(f"line {line}: not a JSON object")
            status = obj.get("status")
            try:
                status = CLEARED if status == CLEARED else normalize_status(str(status or ""))
            except MarkError as exc:
                raise MarkError(f"line {line}: {exc}") from None
            by, at = obj.get("by"), obj.get("at")
            if not isinstance(by, str) or not by or not isinstance(at, str) or dates.parse(at) is None:
                raise MarkError(f"line {line}: a mark needs `by` and an ISO 8601 `at`")
            post_id = _find_post(conn, obj.get("url"), obj.get("blog_id"), obj.get("blogger_post_id"))
            if post_id is None:
                report.unmatched += 1
                continue
            dup = None
            if status == "duplicate":
                dup = _find_post(conn, obj.get("duplicate_of_url"), None, None)
                if dup is None or dup == post_id:
                    report.unmatched += 1
                    continue
            at = dates.normalize(at)
            if conn.execute(
                "SELECT 1 FROM marks WHERE post_id = ? AND status = ? AND by = ? AND at = ?", (post_id, status, by, at)
            ).fetchone():
                report.already += 1
                continue
            note = obj.get("note")
            _insert(conn, post_id, status, dup, str(note)[:MAX_NOTE_CHARS] if note else None, by, at)
            touched.add(post_id)
            report.imported += 1
        for post_id in touched:
            _apply_latest(conn, post_id)
    return report


# -- learning ------------------------------------------------------------------------------------
def training_examples(db: sqlite_utils.Database, profile: TopicProfile) -> list[Example]:
    """One example per post with a mark in force, scored by the profile alone."""
    learned, profile.learned = profile.learned, None
    try:
        out = []
        for title, body, status in db.execute(
            "SELECT title, text, analyst_status FROM posts WHERE analyst_status IS NOT NULL ORDER BY id"
        ):
            norm, ntitle = normalize_lines(body or ""), text.normalize(title or "")
            rel = profile.score(norm, ntitle)
            out.append(
                Example(features(norm, ntitle, rel.flags), rel.points, status in RELEVANT_MARKS, RELEVANT_MIN_POINTS)
            )
        return out
    finally:
        profile.learned = learned


def learn(db: sqlite_utils.Database, profile: TopicProfile) -> tuple[LearnedModel, float]:
    """Train a model from the marks in force and store it; (model, seconds spent training)."""
    examples = training_examples(db, profile)
    t0 = time.perf_counter()
    try:
        model = train(examples)
    except TooFewMarks as exc:
        raise MarkError(f"cannot learn yet: {exc}") from None
    spent = time.perf_counter() - t0
    model.trained_at = dates.now_iso()
    with write_tx(db):
        db.execute(
            "INSERT INTO learned_models (trained_at, marks, digest, model) VALUES (?, ?, ?, ?)",
            (model.trained_at, model.marks, model.digest, model.to_json()),
        )
    return model, spent


def relearn_if_marked(db: sqlite_utils.Database, profile: TopicProfile) -> LearnedModel | None:
    """Train again when marks were made since the model in use (re-judging does this first); None
    when nothing new was marked or there are too few marks to learn from."""
    if not marks_after_model(db):
        return None
    try:
        return learn(db, profile)[0]
    except MarkError:
        return None


def forget(db: sqlite_utils.Database) -> bool:
    """Stop using the learned model (the profile alone judges again); False if there was none."""
    if load_model(db) is None:
        return False
    with write_tx(db):
        db.execute(
            "INSERT INTO learned_models (trained_at, marks, digest, model) VALUES (?, 0, '', NULL)", (dates.now_iso(),)
        )
    return True


def load_model(db: sqlite_utils.Database) -> LearnedModel | None:
    """The model in use, or None (no model trained, or forgotten)."""
    if not db["learned_models"].exists():
        return None
    row = db.execute("SELECT model, trained_at FROM learned_models ORDER BY id DESC LIMIT 1").fetchone()
    if not row or not row[0]:
        return None
    return LearnedModel.from_json(row[0], row[1])


def model_digest(db: sqlite_utils.Database) -> str | None:
    if not db["learned_models"].exists():
        return None
    row = db.execute("SELECT digest FROM learned_models ORDER BY id DESC LIMIT 1").fetchone()
    return row[0] if row and row[0] else None


def marks_after_model(db: sqlite_utils.Database) -> int:
    """Marks made since the model in use was trained (all of them when there is none)."""
    if not db["marks"].exists():
        return 0
    row = db.execute("SELECT max(trained_at) FROM learned_models").fetchone()
    since = row[0] if row else None
    return db.execute("SELECT count(*) FROM marks WHERE at > ?", (since or "",)).fetchone()[0]
