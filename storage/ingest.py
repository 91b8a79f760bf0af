"""The one write path for posts: identify, classify, dedup and store, in one transaction.

The Scrapy pipeline, the feed poller and `rjwatch ingest` all hand `storage.items.PostIn` dicts to
`Ingestor.ingest` (one post) or `Ingestor.ingest_many` (a batch: one transaction, one savepoint per
post, so a bad post is reported and skipped while the rest are kept).

Identity, in layers (a post seen again gets a sighting, never a second row):
1. Blogger ids (blog_id, post_id): a post reached through its feed and its page is one row;
2. canonical URL (judge.identity): ?m=1 twins, ccTLD aliases, tracking arguments;
3. exact normalised-content hash on the same site: a feed entry whose id and link changed;
4. near-duplicate (MinHash/LSH, storage.lsh): a different post of the same article, stored as its own
   row with status `duplicate` and `duplicate_of` pointing at the original (the earliest published;
   a later-collected but earlier-published original takes the role over, and the story still has
   only one alert).

Why one module of this size: it is the one write path, and a post's whole transaction (verdict,
duplicate group, sightings, revisions, the alert) reads top to bottom here; the worker pool is
judge.pool's.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import islice
from urllib.parse import urlsplit

import sqlite_utils

from judge import dates
from judge.analyze import Analysis, BadPost, analyze, prepare_seed
from judge.classify import DUPLICATE_MIN_JACCARD, Verdict, decide
from judge.identity import canonical_url

# The analysis pool lives with the analysis; these names are re-exported for the callers of storage.
from judge.pool import AnalysisPool, default_workers  # noqa: F401
from judge.rejudge import rules_hash
from judge.relevance import ProfileError, TopicProfile
from judge.text import has_cjk
from storage import evidence, lsh, marks, outbox
from storage.db import DatabaseError, describe, write_tx

log = logging.getLogger(__name__)

#: Statuses that put a message in the alert outbox when a post is first stored.
ALERT_STATUSES = ("new", "copy", "excerpt")
#: Characters of post text carried in an alert payload as its snippet.
SNIPPET_CHARS = 280
#: Posts to analyse in one `ingest_many` batch from which an Ingestor that has an AnalysisPool hands
#: them to it. A started pool analyses a 500-entry feed in about half the time of one process, so
#: the writes of the first posts overlap the analysis of the rest; starting the pool costs a few
#: tenths of a second (once per pool), which a batch this size repays.
POOL_MIN_ITEMS = 200


@dataclass
class Outcome:
    """What happened to one post."""

    url: str
    action: str  # inserted | seen | updated | error
    post_id: int | None = None
    status: str | None = None
    error: str | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class BatchResult:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.action == action)

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.action == "error"]

    def by_status(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.outcomes:
            if o.action == "inserted" and o.status:
                out[o.status] = out.get(o.status, 0) + 1
        return out


def load_profile(db: sqlite_utils.Database) -> TopicProfile:
    """The topic profile stored by `rjwatch init` (or the packaged default)."""
    row = None
    if db["topics"].exists():
        row = db.execute("SELECT name, profile FROM topics ORDER BY id LIMIT 1").fetchone()
        profile = TopicProfile.from_text(row[1], f"topic {row[0]!r} in the database") if row else TopicProfile.load()
    else:
        profile = TopicProfile.load()
    profile.learned = marks.load_model(db)
    return profile


class Ingestor:
    """Holds what every ingest needs (seeds, topic profile) for one database connection."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        *,
        profile: TopicProfile | None = None,
        alerts: bool = True,
        pool: AnalysisPool | None = None,
        evidence_policy: evidence.Policy | None = None,
    ):
        self.db = db
        self.conn: sqlite3.Connection = db.conn
        try:
            self.profile = profile or load_profile(db)
        except ProfileError as exc:
            raise DatabaseError(str(exc)) from None
        self.seed_rows = [tuple(r) for r in db.execute("SELECT id, title, text FROM seeds ORDER BY id")]
        self.seeds = [prepare_seed(*r) for r in self.seed_rows]
        # The rules every verdict of this ingestor is made under (see storage.rejudge).
        self.judged_with = rules_hash(self.profile.rules_text, self.seed_rows)
        self.alerts = alerts
        self.pool = pool
        self.evidence = evidence_policy or evidence.Policy()  # which posts keep their response as WARC evidence
        self.unsynced: set = set()  # WARC files written in the open transaction, fsynced before it commits

    # -- public API ------------------------------------------------------------------------
    def analyze(self, item: dict) -> Analysis:
        return analyze(item, self.seeds, self.profile)

    def ingest(self, item: dict, *, silent: bool = False) -> Outcome:
        """Store one post in its own transaction. Raises BadPost for a post that cannot be stored."""
        a = self.analyze(item)
        with write_tx(self.db):
            outcome = self._store(a, item, silent=silent)
            self._sync_evidence()
            return outcome

    def ingest_many(self, items: Iterable[dict], *, silent: bool = False) -> BatchResult:
        """Store a batch in one transaction; bad posts are reported in the result and skipped.

        With an AnalysisPool and at least POOL_MIN_ITEMS posts to analyse, the pool analyses them
        while this process writes the ones already done (in order; still one transaction) and,
        while it waits, analyses pieces of the batch itself (AnalysisPool.shared).
        """
        items = list(items)
        known = [self.known_unchanged(it) for it in items]
        todo = [it for it, k in zip(items, known) if k is None]
        if self.pool is not None and len(todo) >= POOL_MIN_ITEMS:
            try:
                analysed = self.pool.shared(self, [for_analysis(it) for it in todo], self._analyze_safely)
                return self.write_prepared(
                    ((it, (k, None) if k is not None else next(analysed)) for it, k in zip(items, known)), silent=silent
                )
            except BrokenProcessPool:  # a worker was killed: nothing was committed, so do it here
                self.pool.close()
        results = iter([self._analyze_safely(it) for it in todo])
        return self.write_prepared(
            [(it, (k, None) if k is not None else next(results)) for it, k in zip(items, known)], silent=silent
        )

    def _analyze_safely(self, item: dict) -> tuple[Analysis | None, str | None]:
        try:
            return self.analyze(item), None
        except BadPost as exc:
            return None, str(exc)

    def ingest_stream(
        self,
        items: Iterable[dict],
        *,
        batch_size: int = 200,
        workers: int = 0,
        silent: bool = False,
        start_method: str | None = None,
    ) -> Iterator[BatchResult]:
        """Store a long stream of posts in batches, yielding each batch's result.

        With `workers` > 0 the database-free half (judge.analyze) runs in that many processes,
        one batch ahead of the writes, so text work and SQLite work overlap. The writes stay in
        this process: there is still exactly one writer. The workers are forked (sharing this
        process's memory) when this process runs no other thread, else they come from a fork
        server; `start_method` overrides the choice.
        """
        it = iter(items)
        if workers <= 0:
            while batch := list(islice(it, batch_size)):
                yield self.ingest_many(batch, silent=silent)
            return
        method = start_method or ("fork" if threading.active_count() == 1 else "forkserver")
        with AnalysisPool(workers, method=method) as pool:

            def submit(batch):
                known = [self.known_unchanged(it) for it in batch]
                todo = [it for it, k in zip(batch, known) if k is None]
                analysed = pool.map(self, [for_analysis(it) for it in todo])
                return batch, ((k, None) if k is not None else next(analysed) for k in known)

            pending = None
            while True:
                batch = list(islice(it, batch_size))
                upcoming = submit(batch) if batch else None
                if pending is not None:
                    done_batch, results = pending
                    yield self.write_prepared(list(zip(done_batch, results)), silent=silent)
                if upcoming is None:
                    return
                pending = upcoming

    def write_prepared(self, prepared: Iterable[tuple[dict, tuple]], *, silent: bool) -> BatchResult:
        """Store posts whose analysis is done: [(item, (Analysis | known post id | None, error))].

        `prepared` may be a generator that waits for analysis workers; it is consumed inside the
        transaction, in order."""
        result = BatchResult()
        with write_tx(self.db):
            for item, (a, error) in prepared:
                url = str(item.get("url") or "")
                if a is None:
                    result.outcomes.append(Outcome(url, "error", error=error))
                    continue
                try:
                    with self.db.atomic():
                        if isinstance(a, int):
                            result.outcomes.append(self._seen_unchanged(a, item))
                        else:
                            result.outcomes.append(self._store(a, item, silent=silent))
                except sqlite3.IntegrityError as exc:
                    result.outcomes.append(Outcome(url, "error", error=f"rejected by the database: {exc}"))
            self._sync_evidence()
        return result

    def known_unchanged(self, item: dict) -> int | None:
        """The id of the stored post this item is, when it brings nothing new (no analysis needed).

        A post seen again with no newer `updated` and no fuller text than stored only earns a
        sighting; skipping the text work for it makes re-polls and re-crawls cheap.
        """
        url = item.get("url")
        if not url or not isinstance(url, str):
            return None
        row = None
        if item.get("blog_id") and item.get("post_id"):
            row = self.conn.execute(
                "SELECT id, updated, summary_only FROM posts WHERE blog_id = ? AND post_id = ?",
                (str(item["blog_id"]), str(item["post_id"])),
            ).fetchone()
            if row is None:
                return None  # a row found by URL would carry other ids or none: the full path either way
        if row is None:
            try:
                canonical = canonical_url(url)
            except ValueError:
                return None
            found = self.conn.execute(
                "SELECT id, updated, summary_only, blog_id, post_id FROM posts WHERE canonical_url = ?", (canonical,)
            ).fetchone()
            if found is None:
                return None
            if item.get("post_id") and (found[3], found[4]) != (str(item.get("blog_id")), str(item["post_id"])):
                return None  # other ids (a different post), or ids we have not stored yet: the full path
            row = found[:3]
        post_id, updated, summary_only = row
        if summary_only and not item.get("summary_only"):
            return None  # the full text of a post first seen as a summary
        if _is_newer(item.get("updated"), updated):
            return None  # edited since
        return post_id

    def _seen_unchanged(self, post_id: int, item: dict) -> Outcome:
        now = dates.now_iso()
        url = str(item.get("url"))
        seen_url = item.get("seen_url") or url
        via = item.get("seen_via") or "cli"
        self.conn.execute(
            "INSERT INTO sightings (post_id, url, via, source_id, run_id, first_seen, last_seen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (post_id, url, via) DO UPDATE SET "
            "last_seen = excluded.last_seen, times = times + 1, run_id = coalesce(excluded.run_id, run_id)",
            (post_id, seen_url, via, item.get("source_id"), item.get("run_id"), now, now),
        )
        status = self.conn.execute(
            "UPDATE posts SET last_seen = ? WHERE id = ? RETURNING status", (now, post_id)
        ).fetchone()
        return Outcome(url, "seen", post_id, status[0] if status else None)

    # -- the write ---------------------------------------------------------------------------
    def _store(self, a: Analysis, item: dict, *, silent: bool) -> Outcome:
        now = dates.now_iso()
        existing = self.find_existing(a)
        if existing is not None:
            return self._seen_again(existing, a, item, now)
        return self._insert(a, item, now, silent=silent)

    def find_existing(self, a: Analysis) -> int | None:
        """The id of the stored post this one is (identity layers 1-3), or None."""
        q = self.conn.execute
        if a.post_id and a.blog_id:
            row = q("SELECT id FROM posts WHERE blog_id = ? AND post_id = ?", (a.blog_id, a.post_id)).fetchone()
            if row:
                return row[0]
        row = q("SELECT id, blog_id, post_id FROM posts WHERE canonical_url = ?", (a.canonical_url,)).fetchone()
        if row:
            # Same URL but different Blogger post ids is a different post only if both have ids.
            if not (a.post_id and row[2] and (row[1], row[2]) != (a.blog_id, a.post_id)):
                return row[0]
        host = urlsplit(a.canonical_url).hostname
        for pid, url, blog_id in q(
            "SELECT id, canonical_url, blog_id FROM posts WHERE content_hash = ?", (a.content_hash,)
        ):
            if urlsplit(url).hostname == host or (a.blog_id and blog_id == a.blog_id):
                return pid
        return None

    def _sighting(self, post_id: int, item: dict, a: Analysis, now: str) -> None:
        seen_url = item.get("seen_url") or a.url
        via = item.get("seen_via") or "cli"
        self.conn.execute(
            "INSERT INTO sightings (post_id, url, via, source_id, run_id, first_seen, last_seen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (post_id, url, via) DO UPDATE SET "
            "last_seen = excluded.last_seen, times = times + 1, run_id = coalesce(excluded.run_id, run_id)",
            (post_id, seen_url, via, item.get("source_id"), item.get("run_id"), now, now),
        )
        if seen_url != a.url:
            # The post's own URL is a place it can be found too (the feed told us).
            self.conn.execute(
                "INSERT OR IGNORE INTO sightings (post_id, url, via, source_id, run_id, first_seen, last_seen) "
                "VALUES (?, ?, 'link', ?, ?, ?, ?)",
                (post_id, a.url, item.get("source_id"), item.get("run_id"), now, now),
            )

    def _seen_again(self, post_id: int, a: Analysis, item: dict, now: str) -> Outcome:
        c = self.conn
        row = c.execute(
            "SELECT content_hash, updated, summary_only, status FROM posts WHERE id = ?",
            (post_id,),
        ).fetchone()
        old_hash, old_updated, old_summary, old_status = row[:4]
        self._sighting(post_id, item, a, now)
        c.execute(
            "UPDATE posts SET last_seen = ?, blog_id = coalesce(blog_id, ?), post_id = coalesce(post_id, ?),"
            " published = coalesce(published, ?) WHERE id = ?",
            (now, a.blog_id, a.post_id, dates.normalize(a.published), post_id),
        )
        changed = a.content_hash != old_hash
        newer = _is_newer(a.updated, old_updated)
        fuller = bool(old_summary) and not a.summary_only
        if not changed or (a.summary_only and not old_summary) or not (newer or fuller):
            return Outcome(a.url, "seen", post_id, old_status)
        # An edited post (or the full text of a post first seen as a summary): keep the old version.
        status = self._revise(post_id, a, now, updated=dates.normalize(a.updated), item=item)
        self._keep_evidence(post_id, status, item, "updated")
        return Outcome(a.url, "updated", post_id, status)

    def revise(self, post_id: int, a: Analysis, *, updated: str | None = None) -> tuple[int, str]:
        """Store `a` as the new version of the stored post `post_id` (call inside a write transaction):
        the current version goes to `revisions`, the post is judged again. `updated`: the time the
        new version is known from (default: the analysis's own). Returns (new revision, status)."""
        status = self._revise(post_id, a, dates.now_iso(), updated=updated or dates.normalize(a.updated))
        revision = self.conn.execute("SELECT revision FROM posts WHERE id = ?", (post_id,)).fetchone()[0]
        return revision, status

    def _revise(self, post_id: int, a: Analysis, now: str, *, updated: str | None, item: dict | None = None) -> str:
        c = self.conn
        old_updated, old_status, old_title, old_text, revision = c.execute(
            "SELECT updated, status, title, text, revision FROM posts WHERE id = ?", (post_id,)
        ).fetchone()
        c.execute(
            "INSERT INTO revisions (post_id, revision, title, text, updated, status, replaced_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (post_id, revision, old_title, old_text, old_updated, old_status, now),
        )
        verdict, dup_j = self.verdict(a, exclude=post_id)
        c.execute(
            "UPDATE posts SET title = coalesce(?, title), author = coalesce(?, author), updated = ?, text = ?, "
            "content_hash = ?, summary_only = ?, media_only = ?, lang = ?, machine_status = ?, "
            "status = coalesce(analyst_status, ?), relevance = ?, matched_terms = ?, seed_similarity = ?, "
            "duplicate_of = CASE WHEN analyst_status IS NULL THEN ? ELSE duplicate_of END, evidence = ?, cjk = ?, "
            "judged_with = ?, revision = revision + 1 WHERE id = ?",
            (
                a.title,
                a.author,
                updated,
                a.text,
                a.content_hash,
                int(a.summary_only),
                int(a.media_only),
                a.lang,
                verdict.status,
                verdict.status,
                a.relevance.score,
                json.dumps(a.relevance.matched_terms, ensure_ascii=False),
                json.dumps(a.seed_similarity),
                verdict.duplicate_of,
                _evidence(a, verdict, dup_j, item),
                int(has_cjk(a.title or old_title, a.text)),
                self.judged_with,
                post_id,
            ),
        )
        lsh.replace(c, post_id, a.signature, a.band_keys)
        self._links(post_id, a)
        return c.execute("SELECT status FROM posts WHERE id = ?", (post_id,)).fetchone()[0]  # an analyst's stays

    def verdict(self, a: Analysis, exclude: int | None = None) -> tuple[Verdict, float | None]:
        """The status a post would get against what is stored now (no write)."""
        matches = lsh.near_duplicates(self.conn, a.signature, a.band_keys, DUPLICATE_MIN_JACCARD, exclude=exclude)
        root, root_j = self._root_of(matches)
        return (
            decide(a.seed_matches, a.relevance.relevant, root, root_j, a.seed_note, a.translation_matches),
            root_j,
        )

    def _root_of(self, matches: list[tuple[int, float]]) -> tuple[int | None, float | None]:
        """The original (root) of the story the matches belong to, and the best similarity to it."""
        if not matches:
            return None, None
        best: dict[int, float] = {}
        for pid, j in matches:
            root = self.conn.execute("SELECT coalesce(duplicate_of, id) FROM posts WHERE id = ?", (pid,)).fetchone()[0]
            best[root] = max(best.get(root, 0.0), j)
        roots = list(best)
        if len(roots) == 1:
            return roots[0], best[roots[0]]
        keyed = []
        for r in roots:
            pub, first = self.conn.execute("SELECT published, first_seen FROM posts WHERE id = ?", (r,)).fetchone()
            keyed.append((dates.sort_key(pub, first), r))
        root = min(keyed)[1]
        return root, best[root]

    def _insert(self, a: Analysis, item: dict, now: str, *, silent: bool) -> Outcome:
        c = self.conn
        verdict, dup_j = self.verdict(a)
        published = dates.normalize(a.published)
        takes_over_from = None
        if verdict.duplicate_of is not None:
            pub, first = c.execute(
                "SELECT published, first_seen FROM posts WHERE id = ?", (verdict.duplicate_of,)
            ).fetchone()
            if dates.sort_key(published, now) < dates.sort_key(pub, first):
                # Collected later but published earlier: this post is the original.
                takes_over_from = verdict.duplicate_of
                verdict = decide(
                    a.seed_matches, a.relevance.relevant, None, no_match=a.seed_note, translations=a.translation_matches
                )
                verdict.reasons.append(f"published before post #{takes_over_from}, which becomes its duplicate")
        cur = c.execute(
            "INSERT INTO posts (canonical_url, url, blog_id, post_id, source_id, title, author, published, updated,"
            " lang, text, summary_only, media_only, content_hash, status, relevance, matched_terms, seed_similarity,"
            " duplicate_of, evidence, labels, first_seen, last_seen, cjk, judged_with, machine_status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                a.canonical_url,
                a.url,
                a.blog_id,
                a.post_id,
                item.get("source_id"),
                a.title,
                a.author,
                published,
                dates.normalize(a.updated),
                a.lang,
                a.text,
                int(a.summary_only),
                int(a.media_only),
                a.content_hash,
                verdict.status,
                a.relevance.score,
                json.dumps(a.relevance.matched_terms, ensure_ascii=False),
                json.dumps(a.seed_similarity),
                verdict.duplicate_of,
                _evidence(a, verdict, dup_j, item),
                json.dumps(a.labels, ensure_ascii=False),
                now,
                now,
                int(has_cjk(a.title, a.text)),
                self.judged_with,
                verdict.status,
            ),
        )
        post_id = cur.lastrowid
        lsh.add(c, post_id, a.signature, a.band_keys)
        self._sighting(post_id, item, a, now)
        self._links(post_id, a)
        self._keep_evidence(post_id, verdict.status, item, "first")
        story_alerted = False
        if takes_over_from is not None:
            story_alerted = self._take_over(post_id, takes_over_from)
        if self.alerts and verdict.status in ALERT_STATUSES:
            self._enqueue_alert(post_id, a, verdict, item, now, silent=silent, story_alerted=story_alerted)
        return Outcome(a.url, "inserted", post_id, verdict.status)

    def _keep_evidence(self, post_id: int, status: str, item: dict, reason: str) -> None:
        """Keep the response the post's text came from (storage.evidence), once the verdict is known and
        only for the policy's statuses. A post is never lost for its evidence: a record that cannot be
        written is logged and the post stored without it."""
        raw = item.pop("raw_response", None)
        if raw is None or not self.evidence.wants(status):
            return
        if reason == "updated" and not evidence.for_post(self.db, post_id):
            reason = "first"  # the first version kept (stored before with another status, or with evidence off)
        try:
            evidence.keep_raw(
                self.db, post_id, raw, reason=reason, folder=self.evidence.folder or None, unsynced=self.unsynced
            )
        except evidence.EvidenceError as exc:
            log.warning("rjwatch: post #%s stored without its evidence: %s", post_id, exc)

    def _sync_evidence(self) -> None:
        """fsync the WARC files of this transaction's records before it commits (storage.evidence)."""
        if self.unsynced:
            paths, self.unsynced = self.unsynced, set()
            try:
                evidence.sync_files(paths)
            except OSError as exc:
                raise evidence.EvidenceError(f"cannot write evidence to disk: {exc.strerror}") from None

    def _take_over(self, new_root: int, old_root: int) -> bool:
        """Re-link a story to its earlier-published original; True if the story had an alert already."""
        c = self.conn
        c.execute("UPDATE posts SET duplicate_of = ? WHERE duplicate_of = ?", (new_root, old_root))
        status, evidence = c.execute(
            "SELECT coalesce(machine_status, status), evidence FROM posts WHERE id = ?", (old_root,)
        ).fetchone()
        new_status = "duplicate" if status == "new" else status
        ev = json.loads(evidence or "{}")
        ev.setdefault("reasons", []).append(f"re-linked: post #{new_root} was published earlier")
        # An analyst's mark stays in force (status and link); rjwatch's own verdict changes.
        c.execute(
            "UPDATE posts SET duplicate_of = CASE WHEN analyst_status IS NULL THEN ? ELSE duplicate_of END, "
            "status = coalesce(analyst_status, ?), machine_status = ?, evidence = ? WHERE id = ?",
            (new_root, new_status, new_status, json.dumps(ev, ensure_ascii=False), old_root),
        )
        row = c.execute(
            "SELECT count(*) FROM alerts WHERE kind = 'new' AND post_id IN "
            "(SELECT id FROM posts WHERE id = ? OR duplicate_of = ?)",
            (old_root, new_root),
        ).fetchone()
        return row[0] > 0

    def _links(self, post_id: int, a: Analysis) -> None:
        self.conn.execute("DELETE FROM links WHERE post_id = ?", (post_id,))
        self.conn.executemany(
            "INSERT OR IGNORE INTO links (post_id, url, host) VALUES (?, ?, ?)",
            [(post_id, u, (urlsplit(u).hostname or "").lower()) for u in a.links],
        )

    def _enqueue_alert(
        self, post_id: int, a: Analysis, verdict: Verdict, item: dict, now: str, *, silent: bool, story_alerted: bool
    ) -> None:
        status = "pending"
        note = None
        if silent:
            status, note = "suppressed", "collected during a source's first backfill"
        elif story_alerted:
            status, note = "suppressed", "this story has been alerted already"
        why: dict = {"relevance": round(a.relevance.score, 3), "terms": _top_terms(a), "flags": a.flags}
        if verdict.seed_id is not None:
            why["seed"] = verdict.seed_id
            why["seed_similarity"] = a.seed_similarity.get(str(verdict.seed_id))
            if verdict.kind == "translation":
                why["kind"] = "translation"  # the seed in another language (a.lang)
        payload = {
            "post_id": post_id,
            "status": verdict.status,
            "title": a.title,
            "url": a.url,
            "published": dates.normalize(a.published),
            "lang": a.lang,
            "source_id": item.get("source_id"),
            "why": why,
            "snippet": a.text[:SNIPPET_CHARS],
        }
        outbox.enqueue(
            self.conn,
            f"post-{post_id}-{verdict.status}",
            verdict.status,
            payload,
            post_id=post_id,
            source_id=item.get("source_id"),
            status=status,
            note=note,
            created_at=now,
        )


def for_analysis(item: dict) -> dict:
    """The item as the analysis needs it: without the raw response (worker processes never get bodies)."""
    if "raw_response" not in item:
        return item
    return {k: v for k, v in item.items() if k != "raw_response"}


def _is_newer(new: str | None, old: str | None) -> bool:
    n, o = dates.parse(new), dates.parse(old)
    return n is not None and (o is None or n > o)


#: The order in which matched terms explain an alert: the dispute and places first, the sides last.
_TERM_ORDER = ("dispute", "place:", "bilateral", "framing", "relations", "economy", "history", "side_a", "side_b")


def _top_terms(a: Analysis, limit: int = 8) -> list[str]:
    ranked: dict[str, tuple[int, int]] = {}
    for concept, terms in a.relevance.matched_terms.items():
        rank = next(
            (
                i
                for i, key in enumerate(_TERM_ORDER)
                if concept == key or (key.endswith(":") and concept.startswith(key))
            ),
            None,
        )
        if rank is None:
            continue  # other countries explain nothing about the topic
        for term, n in terms.items():
            old = ranked.get(term, (rank, 0))
            ranked[term] = (min(rank, old[0]), old[1] + n)
    return [t for t, _ in sorted(ranked.items(), key=lambda kv: (kv[1][0], -kv[1][1]))[:limit]]


#: Keys of a post (PostIn) that its evidence keeps, under these names: why its page's text is missing,
#: and the extraction rule that gave its text.
ITEM_EVIDENCE_KEYS = {"full_text_missing": "full_text", "extraction": "extraction"}


def _evidence(a: Analysis, verdict: Verdict, dup_j: float | None, item: dict | None = None) -> str:
    ev = {
        "reasons": verdict.reasons,
        "relevance": a.relevance.reasons,
        "seed": verdict.seed_id,
        # How a copy or excerpt carries the seed: "text" or "translation" (in another language).
        "kind": verdict.kind,
        "duplicate_jaccard": round(dup_j, 3) if dup_j is not None else None,
        "mode": a.mode,
        "shingles": a.shingle_count,
        # What qualifies the verdict: partial (a round-up or a passing mention), history, places_only,
        # enumeration, media_only, summary_only, uncovered_language (the profile lacks the language).
        "flags": a.flags,
    }
    for key, name in ITEM_EVIDENCE_KEYS.items():
        if (item or {}).get(key):
            ev[name] = str(item[key])
    return json.dumps(ev, ensure_ascii=False)


# -- module-level conveniences -------------------------------------------------------------------
def ingest(db: sqlite_utils.Database, item: dict, **kw) -> Outcome:
    """Store one post (see Ingestor.ingest)."""
    return Ingestor(db).ingest(item, **kw)


def ingest_many(db: sqlite_utils.Database, items: Iterable[dict], **kw) -> BatchResult:
    """Store a batch of posts in one transaction (see Ingestor.ingest_many)."""
    return Ingestor(db).ingest_many(items, **kw)


__all__ = ["Ingestor", "AnalysisPool", "Outcome", "BatchResult", "BadPost", "ingest", "ingest_many", "describe"]
