"""The cluster's database side: seeding rounds, the one ingest worker, ending rounds, and status.

Everything here runs next to the SQLite file; crawler workers (crawler.cluster) never open it.

- `seed`: opens a `runs` row per blog (a round), fills the blog's set of stored post URLs in Redis
  when it is missing, and pushes one start message per blog. A blog whose round is still open is
  left alone.
- `IngestWorker`: reads the item stream with a consumer group (XREADGROUP), stores each batch with
  `Ingestor.ingest_many` (storage's single write path), and only after the transaction has committed
  acknowledges and deletes the entries (XACK, XDEL). Entries a dead consumer had read are taken over
  with XAUTOCLAIM. An entry delivered twice is stored once: identity (Blogger ids, canonical URL) makes
  the second delivery a sighting. At-least-once delivery plus idempotent ingest.
- Ending rounds: when the frontier has been quiet across two heartbeats of every worker (no queued
  request, no start message, no stream entry, nothing in flight and no page fetched), the ingest
  worker closes the open rounds: `runs` figures, crawl progress (`crawl_state`), the backfill summary
  alert, and the round's dupefilter set. A worker that vanished without saying goodbye marks the open
  rounds `interrupted`: its requests may be lost, so the blog's backfill is not complete and the
  next round walks it again, skipping the posts already stored.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import time
from dataclasses import dataclass, field

from crawler import schedule
from crawler.cluster import (
    HEARTBEAT_S,
    INGEST_BEAT,
    INGEST_GROUP,
    ITEMS_STREAM,
    KNOWN_KEY,
    REQUESTS_KEY,
    ROUND_STATS,
    ROUNDS_KEY,
    SPIDER_NAME,
    START_KEY,
    WALK_FAILED,
    WORKER_BEAT,
    WORKERS_KEY,
    round_fingerprint_key,
)
from crawler.spiders.blogger import INCREMENTAL_OVERLAP
from judge import dates
from judge.identity import canonical_url
from storage import outbox
from storage import sources as src
from storage.db import DatabaseError, write_tx
from storage.ingest import Ingestor

log = logging.getLogger("rjwatch.cluster")

#: A stream entry read by a consumer but not acknowledged for this long is taken over by the ingest
#: worker (XAUTOCLAIM): the consumer that read it died between reading and committing. A batch
#: commits in well under a second, so a minute only catches the dead.
CLAIM_IDLE_MS = 60_000
#: How long one XREADGROUP waits for new entries before the worker looks at rounds and stops.
READ_BLOCK_MS = 1000
#: Canonical URLs sent to Redis per SADD when a blog's set of stored posts is filled.
KNOWN_CHUNK = 1000
#: Window of the ingest rate shown by `cluster status`.
RATE_WINDOW_S = 10.0
#: Pause after a failed write (the database locked for longer than its busy timeout) before the
#: same entries are tried again; they stay unacknowledged meanwhile.
WRITE_RETRY_S = 5.0

_REQUESTS = REQUESTS_KEY % {"spider": SPIDER_NAME}
_STARTS = START_KEY % {"name": SPIDER_NAME}


# --- seeding ------------------------------------------------------------------------------------
def open_rounds(server) -> dict[int, dict]:
    return {int(k): json.loads(v) for k, v in server.hgetall(ROUNDS_KEY).items()}


def fill_known(db, server, source_id: int) -> int:
    """Put the canonical URLs of the blog's stored posts in its Redis set (when the set is missing)."""
    key = KNOWN_KEY % source_id
    if server.exists(key):
        return 0
    urls = src.post_urls(db, source_id)
    for i in range(0, len(urls), KNOWN_CHUNK):
        server.sadd(key, *urls[i : i + KNOWN_CHUNK])
    return len(urls)


def seed(db, server, sources: list[dict], *, full: bool = False) -> list[dict]:
    """Open a round for each blog and push its start message; returns what happened per blog."""
    busy = {r["source_id"]: run for run, r in open_rounds(server).items()}
    out = []
    for source in sources:
        sid = source["id"]
        if sid in busy:
            out.append(
                {
                    "source_id": sid,
                    "url": source["url"],
                    "run_id": busy[sid],
                    "seeded": False,
                    "why": "its previous round is still open",
                }
            )
            continue
        state = src.crawl_state(db, sid)
        complete = bool(state.get("backfill_complete"))
        since = None
        if complete and not full and state.get("newest_updated"):
            newest = dates.parse(state["newest_updated"])
            since = (newest - INCREMENTAL_OVERLAP).isoformat(timespec="seconds") if newest else None
        fill_known(db, server, sid)
        run_id = src.start_run(db, "crawl", sid, owned=False)  # the ingest worker ends the round
        message = {
            "url": source["url"],
            "source_id": sid,
            "run_id": run_id,
            "full": full,
            "backfill_complete": complete,
            "newest_updated": state.get("newest_updated"),
            "since": since,
            "feed_url": state.get("feed_url"),
        }
        mode = "incremental" if complete and not full else "full"
        pipe = server.pipeline()
        pipe.hset(
            ROUNDS_KEY,
            run_id,
            json.dumps({"source_id": sid, "started": time.time(), "mode": mode, "silent": not complete}),
        )
        pipe.lpush(_STARTS, json.dumps(message))
        pipe.execute()
        out.append({"source_id": sid, "url": source["url"], "run_id": run_id, "seeded": True, "mode": mode})
    return out


# --- watching the frontier ------------------------------------------------------------------------
@dataclass
class Snapshot:
    at: float
    queued: int
    starts: int
    stream: int
    workers: dict[str, dict] = field(default_factory=dict)  # live workers' latest heartbeats
    dead: list[str] = field(default_factory=list)  # registered, but no heartbeat any more

    @property
    def empty(self) -> bool:
        return not (self.queued or self.starts or self.stream) and all(
            not w.get("in_flight") for w in self.workers.values()
        )


def snapshot(server) -> Snapshot:
    pipe = server.pipeline()
    pipe.zcard(_REQUESTS).llen(_STARTS).xlen(ITEMS_STREAM).hkeys(WORKERS_KEY)
    queued, starts, stream, registered = pipe.execute()
    registered = [w.decode() if isinstance(w, bytes) else w for w in registered]
    beats = server.mget([WORKER_BEAT % w for w in registered]) if registered else []
    snap = Snapshot(time.time(), queued, starts, stream)
    for wid, beat in zip(registered, beats):
        if beat is None:
            snap.dead.append(wid)
        else:
            snap.workers[wid] = json.loads(beat)
    return snap


def quiet_between(first: Snapshot, second: Snapshot) -> bool:
    """Nothing happened between two snapshots: both empty, the same workers, each of which has
    beaten since the first (so a request it popped after its earlier beat would show) with the
    same page count."""
    if not (first.empty and second.empty) or set(first.workers) != set(second.workers):
        return False
    for wid, beat in second.workers.items():
        if beat["at"] <= first.at or beat.get("pages") != first.workers[wid].get("pages"):
            return False
    return True


# --- the ingest worker ------------------------------------------------------------------------------
class IngestWorker:
    def __init__(self, db, server, *, batch_size: int = 200, consumer: str | None = None):
        self.db = db
        self.server = server
        self.batch_size = batch_size
        self.consumer = consumer or f"ingest@{socket.gethostname()}"
        self.ingestor = Ingestor(db)
        self.stored = 0
        self.bad = 0
        self.recent: list[tuple[float, int]] = []  # (time, items) of recent batches, for the rate
        self.stopping = False
        self.last_snapshot: Snapshot | None = None
        self.ensure_group()

    def ensure_group(self) -> None:
        import redis

        try:
            self.server.xgroup_create(ITEMS_STREAM, INGEST_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    # -- reading ------------------------------------------------------------------------------
    def _read(self, block: bool) -> list[tuple[bytes, dict]]:
        # Our own pending entries first (read before a crash, never acknowledged), then entries a
        # dead consumer left, then new ones.
        for reader in (self._own_pending, self._claim):
            entries = reader()
            if entries:
                return entries
        got = self.server.xreadgroup(
            INGEST_GROUP,
            self.consumer,
            {ITEMS_STREAM: ">"},
            count=self.batch_size,
            block=READ_BLOCK_MS if block else None,
        )
        return [e for _, entries in got or [] for e in entries]

    def _own_pending(self) -> list:
        got = self.server.xreadgroup(INGEST_GROUP, self.consumer, {ITEMS_STREAM: "0"}, count=self.batch_size)
        return [e for _, entries in got or [] for e in entries if e[1]]

    def _claim(self) -> list:
        result = self.server.xautoclaim(
            ITEMS_STREAM, INGEST_GROUP, self.consumer, CLAIM_IDLE_MS, "0-0", count=self.batch_size
        )
        return [e for e in result[1] if e[1]]

    # -- one batch --------------------------------------------------------------------------------
    def step(self, *, block: bool = True) -> int:
        """Read and store one batch; returns how many entries it handled."""
        entries = self._read(block)
        if not entries:
            return 0
        groups: dict[bool, list[dict]] = {True: [], False: []}
        ids = []
        for entry_id, fields in entries:
            ids.append(entry_id)
            try:
                item = json.loads(fields[b"item"])
                if not isinstance(item, dict):
                    raise ValueError("not an object")
            except (KeyError, ValueError) as exc:
                self.bad += 1
                log.warning("cluster ingest: dropping stream entry %s: %s", entry_id, exc)
                continue
            groups[fields.get(b"silent") == b"1"].append(item)
        outcomes = []
        try:
            for silent, items in groups.items():
                if items:
                    outcomes += [
                        (it, o) for it, o in zip(items, self.ingestor.ingest_many(items, silent=silent).outcomes)
                    ]
        except DatabaseError as exc:
            log.warning("cluster ingest: %s; retrying in %.0f s (entries stay unacknowledged)", exc, WRITE_RETRY_S)
            time.sleep(WRITE_RETRY_S)
            return 0
        # Committed: now, and only now, the entries may go.
        self._after_commit(ids, outcomes)
        return len(ids)

    def _after_commit(self, ids: list, outcomes: list) -> None:
        pipe = self.server.pipeline()
        known: dict[int, set[str]] = {}
        for item, o in outcomes:
            run = item.get("run_id")
            if run:
                pipe.hincrby(ROUND_STATS % run, "items", 1)
                key = f"new:{o.status}" if o.action == "inserted" else o.action
                pipe.hincrby(ROUND_STATS % run, key, 1)
            if o.action in ("inserted", "seen", "updated") and item.get("source_id"):
                try:
                    known.setdefault(int(item["source_id"]), set()).add(canonical_url(o.url))
                except ValueError:
                    pass
        for sid, urls in known.items():
            pipe.sadd(KNOWN_KEY % sid, *urls)
        pipe.xack(ITEMS_STREAM, INGEST_GROUP, *ids)
        pipe.xdel(ITEMS_STREAM, *ids)
        now = time.time()
        self.stored += len(outcomes)
        self.recent.append((now, len(outcomes)))
        self.recent = [(t, n) for t, n in self.recent if now - t <= RATE_WINDOW_S]
        pipe.hset(INGEST_BEAT, mapping=self._beat(now))
        pipe.execute()

    def _beat(self, now: float) -> dict:
        window = sum(n for _, n in self.recent)
        span = max(1.0, now - min((t for t, _ in self.recent), default=now)) if self.recent else RATE_WINDOW_S
        return {
            "at": now,
            "consumer": self.consumer,
            "stored": self.stored,
            "bad": self.bad,
            "rate": round(window / span, 1) if window else 0.0,
        }

    # -- rounds -----------------------------------------------------------------------------------
    def check_rounds(self) -> list[int]:
        """Close the open rounds when the frontier is quiet; returns the runs closed."""
        rounds = open_rounds(self.server)
        snap = snapshot(self.server)
        if snap.dead:
            for wid in snap.dead:
                log.warning("cluster: worker %s stopped beating without a goodbye; open rounds are interrupted", wid)
                self.server.hdel(WORKERS_KEY, wid)
            for run, info in rounds.items():
                info["lost_worker"] = True
                self.server.hset(ROUNDS_KEY, run, json.dumps(info))
            self.last_snapshot = None
            return []
        first = self.last_snapshot
        if not rounds or not snap.empty:
            self.last_snapshot = None
            return []
        if first is None:
            self.last_snapshot = snap
            return []
        if snap.at - first.at < 2 * HEARTBEAT_S:
            return []  # keep the older snapshot until every worker has beaten since
        if not quiet_between(first, snap):
            self.last_snapshot = snap
            return []
        self.last_snapshot = None
        for run, info in rounds.items():
            self.finish_round(run, info)
        return list(rounds)

    def finish_round(self, run_id: int, info: dict) -> None:
        stats = {k.decode(): int(v) for k, v in self.server.hgetall(ROUND_STATS % run_id).items()}
        sid = info["source_id"]
        lost = bool(info.get("lost_worker"))
        reason = "interrupted" if lost else "finished"
        new_by_status = {k.split(":", 1)[1]: v for k, v in stats.items() if k.startswith("new:")}
        items = stats.get("items", 0)
        walk_failed = stats.get(WALK_FAILED, 0)
        previous = src.previous_items(self.db, sid, run_id) if items == 0 and not lost and not walk_failed else 0
        anomaly = schedule.round_anomaly(items, lost_worker=lost, walk_failed=walk_failed, previous_items=previous)
        summary = {
            "new": new_by_status,
            "seen": stats.get("seen", 0),
            "updated": stats.get("updated", 0),
            "dropped": {"error": stats["error"]} if stats.get("error") else {},
            "mode": f"cluster {info.get('mode', 'full')}",
            "anomaly": anomaly,
            "note": "a crawler worker died during the round"
            if lost
            else (
                f"walk incomplete: {walk_failed} request(s) the walk needed failed; the next round walks the blog again"
                if walk_failed
                else None
            ),
        }
        src.finish_run(
            self.db,
            run_id,
            finish_reason=reason,
            pages=stats.get("pages", 0),
            items=items,
            errors=stats.get("error", 0),
            stats=summary,
        )
        update: dict = {"last_run_id": run_id}
        newest, blog_id = src.newest_of_run(self.db, run_id)
        old = src.crawl_state(self.db, sid).get("newest_updated")
        if newest and (not old or dates.parse(newest) > dates.parse(old)):
            update["newest_updated"] = newest
        if blog_id:
            update["blog_id"] = blog_id
        full_walk = info.get("mode") == "full"
        read = reason == "finished" and not walk_failed  # the walk read the blog (crawler.spiders.blogger.Walk)
        if read and full_walk:
            update["backfill_complete"] = 1
            update["last_full_at"] = dates.now_iso()
        src.update_crawl_state(self.db, sid, **update)
        alerts = []
        if anomaly:
            alerts.append(
                (f"anomaly-run-{run_id}", "anomaly", {"source_id": sid, "run_id": run_id, "problem": anomaly})
            )
        if info.get("silent") and full_walk and read:
            alerts.append(
                (
                    f"backfill-source-{sid}",
                    "backfill",
                    {
                        "source_id": sid,
                        "run_id": run_id,
                        "posts": sum(new_by_status.values()),
                        "by_status": new_by_status,
                    },
                )
            )
        if alerts:
            with write_tx(self.db):
                for key, kind, payload in alerts:
                    outbox.enqueue(self.db, key, kind, payload, source_id=sid)
        pipe = self.server.pipeline()
        pipe.delete(round_fingerprint_key(run_id), ROUND_STATS % run_id)
        pipe.hdel(ROUNDS_KEY, run_id)
        pipe.execute()
        log.info(
            "cluster: round %s (source %s) %s: %s pages, %s items", run_id, sid, reason, stats.get("pages", 0), items
        )

    # -- the loop ---------------------------------------------------------------------------------
    def run(self, *, idle_exit: float = 0) -> None:
        """Store batches until stopped (SIGTERM/SIGINT finish the current batch first), or until
        nothing has come for `idle_exit` seconds and no round is open (0: never)."""

        def stop(signum, frame):
            self.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        last_work = time.monotonic()
        while not self.stopping:
            if self.step():
                last_work = time.monotonic()
                continue
            self.check_rounds()
            self.server.hset(INGEST_BEAT, mapping=self._beat(time.time()))
            if idle_exit and time.monotonic() - last_work >= idle_exit and not self.server.hlen(ROUNDS_KEY):
                break


# --- status ----------------------------------------------------------------------------------------
def status(server) -> dict:
    snap = snapshot(server)
    import redis

    beat = server.hgetall(INGEST_BEAT)
    oldest = server.xrange(ITEMS_STREAM, count=1)
    try:
        pending = server.xpending(ITEMS_STREAM, INGEST_GROUP)
    except redis.ResponseError:  # no stream or no group yet
        pending = None
    beat = {k.decode(): v.decode() for k, v in (beat or {}).items()}
    now = time.time()
    lag_s = None
    if oldest:
        lag_s = round(max(0.0, now - int(oldest[0][0].split(b"-")[0]) / 1000), 1)
    workers = []
    for wid, b in sorted(snap.workers.items()):
        age = max(1.0, now - b.get("started", now))
        workers.append(
            {
                "id": wid,
                "pages": b.get("pages", 0),
                "in_flight": b.get("in_flight", 0),
                "pages_per_s": round(b.get("pages", 0) / age, 1),
                "beat_age_s": round(now - b["at"], 1),
            }
        )
    rounds = open_rounds(server)
    return {
        "queued_requests": snap.queued,
        "start_messages": snap.starts,
        "workers": len(snap.workers),
        "worker_detail": workers,
        "dead_workers": snap.dead,
        "stream_entries": snap.stream,
        "unacknowledged": (pending or {}).get("pending", 0) if isinstance(pending, dict) else 0,
        "ingest_lag_s": lag_s,
        "ingest_items_per_s": float(beat.get("rate", 0) or 0),
        "ingest_stored": int(beat.get("stored", 0) or 0),
        "ingest_beat_age_s": round(now - float(beat["at"]), 1) if beat.get("at") else None,
        "open_rounds": [{"run_id": r, **i} for r, i in sorted(rounds.items())],
    }
