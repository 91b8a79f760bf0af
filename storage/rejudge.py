"""Re-judging stored posts under the current profile, seeds and thresholds (`rjwatch rejudge`).

Each post is judged again from what the database kept (judge.rejudge: text, title, language and
its MinHash signature), so nothing is fetched or extracted again. Posts go in batches; each batch
is one write transaction (BEGIN IMMEDIATE, so it waits for the daemon's writes and the daemon waits
for it), and every post it writes records the rules it was judged under (`posts.judged_with`). A
run killed at any point leaves each post either as it was or fully re-judged, and the next run
carries on with the posts still judged under other rules.

Duplicate groups stay consistent: a post keeps the original it was linked to (the earliest
published, decided at ingest); a copy or excerpt that stops being one is linked again through the
near-duplicate index, to an earlier-published post only, so the earliest post stays the original.

Alerts: a post whose new status is one that alerts (new, copy, excerpt) and differs from its old
one gets one alert in the outbox, under the same idempotency key as at ingest (`post-<id>-<status>`),
so a resumed run or a second run never sends it twice. It is sent only with `alert=True`; otherwise
it is kept as `suppressed` (like the alerts of a backfill). A post that stops qualifying sends
nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sqlite_utils

from judge import dates
from judge.analyze import prepare_seed
from judge.classify import DUPLICATE_MIN_JACCARD, decide
from judge.fingerprint import band_keys, blob_to_sig
from judge.learned import rules_text
from judge.pool import AnalysisPool, default_workers
from judge.rejudge import Reassessment, Task, reassess, rules_hash, split_rules, worker_reassess_many
from judge.relevance import ProfileError
from storage import lsh, marks, outbox
from storage.db import DatabaseError, write_tx
from storage.ingest import ALERT_STATUSES, SNIPPET_CHARS, load_profile

#: Posts per batch (one transaction each). Big enough that the commit is a small share of the
#: work (~0.1 s of judging at 1,500 posts/s); small enough that the daemon's writes wait well
#: under its busy timeout for a batch to commit, and a kill loses little work.
BATCH_SIZE = 500
#: Posts of a batch that need text work from which the pool shares it (fewer: not worth the pickling).
POOL_MIN_TASKS = 50
#: Statuses that came from a seed comparison: such a post was stored without a duplicate link.
SEED_STATUSES = ("copy", "excerpt")


@dataclass
class Filters:
    """Which stored posts to re-judge (all of them by default)."""

    source_id: int | None = None
    since: str | None = None
    until: str | None = None
    statuses: tuple[str, ...] = ()
    ids: tuple[int, ...] = ()
    # False: skip posts already judged under the current rules (this is what makes a run resumable).
    force: bool = False


@dataclass
class Change:
    post_id: int
    title: str | None
    url: str
    old: str
    new: str


@dataclass
class Report:
    rules: str
    judged: int = 0
    changes: list[Change] = field(default_factory=list)
    alerts: int = 0
    skipped_corrected: int = 0

    def transitions(self) -> list[dict]:
        """[{from, to, posts}] most frequent first."""
        counts: dict[tuple[str, str], int] = {}
        for c in self.changes:
            counts[(c.old, c.new)] = counts.get((c.old, c.new), 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [{"from": a, "to": b, "posts": n} for (a, b), n in ranked]


def corrected_ids(conn: sqlite3.Connection, ids: list[int]) -> set[int]:
    """Posts with an analyst's mark in force (storage.marks): re-judging never overwrites them."""
    if not ids:
        return set()
    marks_ = ",".join("?" * len(ids))
    return {
        r[0] for r in conn.execute(f"SELECT id FROM posts WHERE analyst_status IS NOT NULL AND id IN ({marks_})", ids)
    }


def stored_profile_text(db: sqlite_utils.Database) -> str | None:
    """The text of the topic profile stored by `rjwatch init` (None before one is stored)."""
    row = db.execute("SELECT profile FROM topics ORDER BY id LIMIT 1").fetchone() if db["topics"].exists() else None
    return row[0] if row else None


def current_rules(db: sqlite_utils.Database) -> str:
    """The rules hash of the profile and seeds stored now (what `posts.judged_with` is compared to)."""
    row = db.execute("SELECT profile FROM topics ORDER BY id LIMIT 1").fetchone() if db["topics"].exists() else None
    raw = row[0] if row else load_profile(db).raw  # the stored text, without building the profile
    seeds = [tuple(r) for r in db.execute("SELECT id, title, text FROM seeds ORDER BY id")]
    return rules_hash(rules_text(raw, marks.model_digest(db)), seeds)


def stale_count(db: sqlite_utils.Database, rules: str | None = None) -> int:
    """How many posts were judged under other rules than the current ones."""
    rules = rules or current_rules(db)
    return db.execute("SELECT count(*) FROM posts WHERE judged_with IS NOT ?", (rules,)).fetchone()[0]


def select_ids(db: sqlite_utils.Database, f: Filters, rules: str) -> list[int]:
    """Ids of the posts to re-judge, oldest first."""
    where, args = [], []
    if f.source_id is not None:
        where.append("source_id = ?")
        args.append(f.source_id)
    if f.since:
        where.append("coalesce(published, first_seen) >= ?")
        args.append(f.since)
    if f.until:
        where.append("coalesce(published, first_seen) < ?")
        args.append(f.until)
    if f.statuses:
        where.append(f"status IN ({','.join('?' * len(f.statuses))})")
        args.extend(f.statuses)
    if f.ids:
        where.append(f"id IN ({','.join('?' * len(f.ids))})")
        args.extend(f.ids)
    if not f.force:
        where.append("judged_with IS NOT ?")
        args.append(rules)
    sql = "SELECT id FROM posts" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
    return [r[0] for r in db.execute(sql, args)]


class Rejudger:
    """Re-judges stored posts of one database under the rules stored in it now."""

    def __init__(self, db: sqlite_utils.Database, *, workers: int | None = None):
        self.db = db
        self.conn = db.conn
        try:
            self.profile = load_profile(db)
        except ProfileError as exc:
            raise DatabaseError(str(exc)) from None
        self.seed_rows = [tuple(r) for r in db.execute("SELECT id, title, text FROM seeds ORDER BY id")]
        self.seeds = [prepare_seed(*r) for r in self.seed_rows]
        self.rules = rules_hash(self.profile.rules_text, self.seed_rows)
        self.profile_part, self.seeds_part = split_rules(self.rules)
        self.workers = workers

    def run(
        self,
        filters: Filters,
        *,
        dry_run: bool = False,
        alert: bool = False,
        batch_size: int = BATCH_SIZE,
        progress: Callable[[int], None] | None = None,
    ) -> Report:
        """Re-judge the selected posts; `progress(n)` after each batch of n posts."""
        report = Report(self.rules)
        ids = select_ids(self.db, filters, self.rules)
        batches = [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]
        workers = default_workers(len(ids)) if self.workers is None else self.workers
        pool = AnalysisPool(workers, method="fork") if workers > 0 else None
        try:
            for batch, done in self._reassessed(batches, pool, filters.force):
                self._write(batch, done, report, dry_run=dry_run, alert=alert)
                if progress:
                    progress(len(batch))
        finally:
            if pool is not None:
                pool.close()
        return report

    def _tasks(self, batch: list[int], force: bool) -> list[Task]:
        """What each post of a batch needs made again (judge.rejudge.Task), from its stored verdict."""
        marks = ",".join("?" * len(batch))
        out = []
        for pid, title, body, lang, summary, media, judged_with, score, terms, sim, ev in self.conn.execute(
            "SELECT id, title, text, lang, summary_only, media_only, judged_with, relevance, matched_terms, "
            "seed_similarity, evidence FROM posts WHERE id IN (" + marks + ") ORDER BY id",
            batch,
        ):
            old_profile, old_seeds = split_rules(judged_with)
            unknown = force or old_profile is None
            rescore = unknown or old_profile != self.profile_part
            if unknown:
                compare = tuple(s.id for s in self.seeds)
            elif old_seeds == self.seeds_part:
                compare = ()
            else:
                known = json.loads(sim or "{}")
                mode = json.loads(ev or "{}").get("mode")
                compare = tuple(s.id for s in self.seeds if str(s.id) not in known and s.mode == mode)
            out.append(
                Task(
                    pid,
                    title,
                    body,  # the text is at hand for every post judged again (a translation is looked for anew)
                    lang,
                    bool(summary),
                    bool(media),
                    rescore,
                    compare,
                    score,
                    terms,
                    sim,
                    ev,
                )
            )
        return out

    def _reassessed(self, batches: list[list[int]], pool: AnalysisPool | None, force: bool) -> Iterator[tuple]:
        """(batch ids, reassessments) per batch. Posts that need text work go to the pool's workers
        (the next batch is judged there while this process writes the current one); the others are
        done here."""

        def here(tasks):
            return [reassess(t, self.seeds, self.profile) for t in tasks]

        def submit(batch):
            tasks = self._tasks(batch, force)
            heavy = [t for t in tasks if t.text is not None]
            if pool is None or len(heavy) < POOL_MIN_TASKS:
                return batch, tasks, None
            pool.start(self)
            piece = -(-len(heavy) // (pool.workers + 1))  # the workers and this process share it
            futures = [pool.submit(worker_reassess_many, heavy[i : i + piece]) for i in range(piece, len(heavy), piece)]
            return batch, tasks, (heavy[:piece], futures, heavy[piece:])

        pending = submit(batches[0]) if batches else None
        for k in range(len(batches)):
            batch, tasks, shared = pending
            pending = submit(batches[k + 1]) if k + 1 < len(batches) else None
            if shared is None:
                yield batch, here(tasks)
                continue
            mine, futures, rest = shared
            done = {r.post_id: r for r in here(mine)}
            for fut in futures:
                if fut is not None:
                    done.update((r.post_id, r) for r in fut.result())
            # a piece the pool could not take (it is gone), and the posts that needed no text work
            yield batch, [done.get(t.post_id) or reassess(t, self.seeds, self.profile) for t in tasks]

    # -- the database half -------------------------------------------------------------------------
    def _write(self, batch, done: list[Reassessment], report: Report, *, dry_run: bool, alert: bool) -> None:
        if dry_run:  # read only: nothing is written, no write lock is taken
            self._judge_batch(batch, done, report, dry_run=True, alert=False)
            return
        with write_tx(self.db):
            self._judge_batch(batch, done, report, dry_run=False, alert=alert)

    def _judge_batch(self, batch, done: list[Reassessment], report: Report, *, dry_run: bool, alert: bool) -> None:
        locked = corrected_ids(self.conn, batch)
        report.skipped_corrected += len(locked)
        for r in done:
            if r.post_id in locked:
                continue
            change = self._one(r, report, dry_run=dry_run, alert=alert)
            report.judged += 1
            if change is not None:
                report.changes.append(change)

    def _one(self, r: Reassessment, report: Report, *, dry_run: bool, alert: bool) -> Change | None:
        c = self.conn
        row = c.execute(
            "SELECT status, duplicate_of, evidence, title, url, published, first_seen, source_id, lang, text "
            "FROM posts WHERE id = ?",
            (r.post_id,),
        ).fetchone()
        if row is None:  # deleted since it was read
            return None
        old_status, old_dup, evidence, title, url, published, first_seen, source_id, lang, body = row
        old_ev = json.loads(evidence or "{}")
        root, root_j = old_dup, old_ev.get("duplicate_jaccard")
        if root is None and old_status in SEED_STATUSES:
            root, root_j = self._earlier_root(r.post_id, published, first_seen)
        verdict = decide(
            r.seed_matches,
            r.relevance.relevant,
            root,
            root_j if root_j is not None else 1.0,
            r.seed_note,
            r.translations,
        )
        ev = {
            "reasons": verdict.reasons,
            "relevance": r.relevance.reasons,
            "seed": verdict.seed_id,
            "kind": verdict.kind,
            "duplicate_jaccard": round(root_j, 3) if verdict.duplicate_of is not None and root_j is not None else None,
            "mode": r.mode,
            "shingles": r.shingle_count,
            "flags": r.flags,
            "rejudged": dates.now_iso(),
        }
        for kept in ("full_text", "extraction"):  # how the text was had: the same after re-judging
            if old_ev.get(kept):
                ev[kept] = old_ev[kept]
        if dry_run:
            return None if verdict.status == old_status else Change(r.post_id, title, url, old_status, verdict.status)
        c.execute(
            "UPDATE posts SET status = ?, machine_status = ?, relevance = ?, matched_terms = ?, seed_similarity = ?, "
            "duplicate_of = ?, evidence = ?, judged_with = ? WHERE id = ?",
            (
                verdict.status,
                verdict.status,
                r.relevance.score,
                json.dumps(r.relevance.matched_terms, ensure_ascii=False),
                json.dumps(r.seed_similarity),
                verdict.duplicate_of,
                json.dumps(ev, ensure_ascii=False),
                self.rules,
                r.post_id,
            ),
        )
        if old_status in SEED_STATUSES and verdict.status not in SEED_STATUSES and verdict.duplicate_of is None:
            self._take_over_later(r.post_id, published, first_seen)
        if verdict.status == old_status:
            return None
        if verdict.status in ALERT_STATUSES:
            why: dict = {"relevance": round(r.relevance.score, 3), "flags": r.flags, "rejudged_from": old_status}
            if verdict.seed_id is not None:
                why["seed"] = verdict.seed_id
                why["seed_similarity"] = r.seed_similarity.get(str(verdict.seed_id))
            payload = {
                "post_id": r.post_id,
                "status": verdict.status,
                "title": title,
                "url": url,
                "published": published,
                "lang": lang,
                "source_id": source_id,
                "why": why,
                "snippet": (body or "")[:SNIPPET_CHARS],
            }
            # Without --alert the alert is kept but never sent (as for a backfill), so the outbox
            # still accounts for every post that qualifies.
            queued = outbox.enqueue(
                c,
                f"post-{r.post_id}-{verdict.status}",
                verdict.status,
                payload,
                post_id=r.post_id,
                source_id=source_id,
                status="pending" if alert else "suppressed",
                note=None if alert else "re-judged without --alert",
            )
            if queued and alert:
                report.alerts += 1
        return Change(r.post_id, title, url, old_status, verdict.status)

    def _take_over_later(self, post_id: int, published: str | None, first_seen: str) -> None:
        """A post that is no longer a copy or excerpt and has no earlier original: the stories it is
        a near-duplicate of whose original was published later are re-linked to it (as at ingest)."""
        blob = self.conn.execute("SELECT signature FROM minhash WHERE post_id = ?", (post_id,)).fetchone()
        if blob is None:
            return
        sig = blob_to_sig(blob[0])
        mine = dates.sort_key(published, first_seen)
        for pid, _ in lsh.near_duplicates(self.conn, sig, band_keys(sig), DUPLICATE_MIN_JACCARD, exclude=post_id):
            root, status, pub, first = self.conn.execute(
                "SELECT id, status, published, first_seen FROM posts WHERE id = "
                "(SELECT coalesce(duplicate_of, id) FROM posts WHERE id = ?)",
                (pid,),
            ).fetchone()
            if root == post_id or status in SEED_STATUSES or dates.sort_key(pub, first) <= mine:
                continue
            self.conn.execute("UPDATE posts SET duplicate_of = ? WHERE duplicate_of = ?", (post_id, root))
            # An analyst's mark stays in force (storage.marks); rjwatch's own verdict changes.
            self.conn.execute(
                "UPDATE posts SET duplicate_of = CASE WHEN analyst_status IS NULL THEN ? ELSE duplicate_of END, "
                "machine_status = CASE machine_status WHEN 'new' THEN 'duplicate' ELSE machine_status END, "
                "status = CASE WHEN analyst_status IS NULL AND status = 'new' THEN 'duplicate' ELSE status END "
                "WHERE id = ?",
                (post_id, root),
            )

    def _earlier_root(self, post_id: int, published: str | None, first_seen: str) -> tuple[int | None, float | None]:
        """The original of the story this post belongs to, among posts published before it."""
        blob = self.conn.execute("SELECT signature FROM minhash WHERE post_id = ?", (post_id,)).fetchone()
        if blob is None:
            return None, None
        sig = blob_to_sig(blob[0])
        matches = lsh.near_duplicates(self.conn, sig, band_keys(sig), DUPLICATE_MIN_JACCARD, exclude=post_id)
        mine = dates.sort_key(published, first_seen)
        best: dict[int, float] = {}
        for pid, j in matches:
            root, pub, first = self.conn.execute(
                "SELECT coalesce(p.duplicate_of, p.id), r.published, r.first_seen FROM posts p "
                "JOIN posts r ON r.id = coalesce(p.duplicate_of, p.id) WHERE p.id = ?",
                (pid,),
            ).fetchone()
            if root != post_id and dates.sort_key(pub, first) < mine:
                best[root] = max(best.get(root, 0.0), j)
        if not best:
            return None, None
        root = min(
            best,
            key=lambda r: dates.sort_key(
                *self.conn.execute("SELECT published, first_seen FROM posts WHERE id = ?", (r,)).fetchone()
            ),
        )
        return root, best[root]
