"""Feed polling benchmark: one `Poller.poll` pass over 1,000 local feeds, and parse + ingest of a 500-entry feed.

Two Markdown tables, printed and written to bench/out/poll_bench.txt.

1. Polling pass. 1,000 Blogger Atom feeds (25 entries each, Blogger's default page) are served by a
   small asyncio HTTP/1.1 server of this file running in a separate process (`--serve`), so its CPU
   is not the poller's; it listens on one port of many loopback addresses (127.1.x.y), and each
   address is a host of its own for the poller's per-host limit. The feeds were polled once before:
   950 have their validators stored and answer 304; 50 have 3 new entries on top of the 22 entries
   already stored (25 per page), so their pass parses 25 entries and must store exactly 150 new
   posts. Measured: `Poller(db, cfg).poll(health.due_sources(db))`, as the daemon runs it - seconds,
   feeds/s, requests counted at the server, new posts, the CPU of the polling and of the serving
   process. Beside it, in the same run, a pure-304 pass (nothing changed anywhere) and a bare urllib3
   thread pool making the same 1,000 conditional requests with the same concurrency, so the
   poller's own overhead is visible. Two layouts: one feed per host (1,000 hosts, like blogspot
   blogs) and 20 feeds per host (50 hosts: within urllib3's pool cache, so connections are reused).
   Target: >= 200 feeds/s.

   Setup, not measured: the 50 changing feeds are polled for real once (their 25 entries stored,
   validators saved); the 950 unchanged feeds get their validators written with `storage.health.save`
   (the poller's own state), because ingesting their 23,750 entries first would only lengthen the
   run - a 304 never touches posts. Each repetition starts from a copy of that database.

2. Parse + ingest of one 500-entry Blogger feed (`build_blog(..., 500, feed_max_results_cap=500)`
   rendered at `/feeds/posts/default?max-results=500`): entries/s of bare `feedparser.parse`, of
   `crawler.feeds.parse_feed` (alone, and with the pool, which parses a big document in two
   halves at once), of `judge.analyze` alone (the database-free half of ingest), of
   `parse_feed` + `Ingestor.ingest_many` into a fresh initialised database - in one process, and
   with the analysis pool the poller uses on a machine with 2+ cores (`storage.ingest.AnalysisPool`,
   started in the warm-up as a daemon keeps it) - and of a second `ingest_many` of the same entries
   (all already stored: what a changed feed pays for the entries it repeats). Target: parse +
   ingest <= 2x the bare parse.

    python bench/poll_bench.py               # both parts, 3 repetitions (median reported)
    python bench/poll_bench.py --quick       # 1 repetition, one layout
    python bench/poll_bench.py --profile     # also cProfile both parts -> bench/out/poll_profile.txt
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gzip
import io
import json
import os
import platform
import pstats
import shutil
import socket
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from pathlib import Path

#: The checkout this file belongs to: the project is imported from here, not from an installed copy.
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from serving import ServerProcess  # noqa: E402  (bench/, the folder of this script)

#: Where the tables (poll_bench.txt) and the --profile listings (poll_profile.txt) are written.
OUT_DIR = REPO / "bench" / "out"

#: Feeds in the polling pass: the size the 200 feeds/s target is stated for.
FEEDS = 1000
#: Every CHANGED_EVERY-th feed has new entries: 1 in 20 = the 5% of feeds that changed.
CHANGED_EVERY = 20
#: New entries on each changed feed (50 feeds x 3 = the 150 posts the pass must store).
NEW_ENTRIES = 3
#: Entries per feed page: Blogger's default `max-results`, so a changed feed repeats 22 known entries.
ENTRIES = 25
#: Host layouts measured, as feeds per host: 1 (every feed its own host, like blogspot blogs) and
#: 20 (50 hosts, fewer than urllib3's 50 cached pools in crawler.http, so connections are reused).
FEEDS_PER_HOST = (1, 20)
#: Timed repetitions per measurement; the median is reported (the machine has 2 cores and other
#: work may run, so single runs are noisy).
REPS = 3
#: Part 2 runs this many times more repetitions than part 1 (each takes seconds). Every repetition
#: times the bare parse and our parse + ingest back to back, and the ratio reported is the median of
#: the per-repetition ratios, which other work on the machine disturbs far less than either time.
PARSE_REPS_FACTOR = 3
#: Entries of the big feed in part 2: the largest page Blogger has ever served.
BIG_FEED_ENTRIES = 500
#: Loopback addresses are 127.1.X.Y with Y in 1..ADDRS_PER_BLOCK: clear of 127.0.0.1, which other
#: local servers use, and every one reaches `lo` on Linux.
ADDRS_PER_BLOCK = 250
#: Seconds to wait for the feed server to build its 1,000 feeds and start listening.
SERVER_START_TIMEOUT_S = 300
#: Listen backlog per address: 32 pollers connecting at once must never be refused.
LISTEN_BACKLOG = 512
#: gzip level of served bodies (urllib3 asks for gzip, and Blogger serves feeds gzipped).
GZIP_LEVEL = 6
#: Lines of each cProfile listing written by --profile.
PROFILE_LINES = 30
#: A `next_due` far in the past, so that every source is due when a pass starts.
LONG_AGO = "2000-01-01T00:00:00+00:00"


def address(k: int) -> str:
    """The loopback address of host number k."""
    return f"127.1.{k // ADDRS_PER_BLOCK}.{k % ADDRS_PER_BLOCK + 1}"


def feed_path(i: int) -> str:
    return f"/{i:04d}/feeds/posts/default"


def is_changed(i: int) -> bool:
    return i % CHANGED_EVERY == CHANGED_EVERY // 2


# =================================================================================================
# The feed server (a separate process: `poll_bench.py --serve N_FEEDS N_HOSTS ENTRIES`)
# =================================================================================================


class FeedStore:
    """Precomputed responses: per feed, generation 0 (as last polled) and 1 (with the new entries)."""

    def __init__(self, n_feeds: int, entries: int):
        from rjwatch.demo.site import build_blog

        self.gen = 0
        self.feeds: list[list[tuple[str, str, str, bytes]]] = []
        self._gz: dict[tuple[int, int], bytes] = {}
        for i in range(n_feeds):
            key = f"feed{i:04d}"
            extra = NEW_ENTRIES if is_changed(i) else 0
            blog = build_blog(key, entries + extra, feed_max_results_cap=entries)
            host = f"{key}.blogspot.com"
            page = f"/feeds/posts/default?max-results={entries}"

            def render() -> tuple[str, str, str, bytes]:
                status, headers, body = blog.render(page, host)
                assert status == 200, (key, status)
                return headers["ETag"], headers["Last-Modified"], headers["Content-Type"], body

            newest = render()
            for post in list(blog.posts[:extra]):
                blog.delete(post.post_id)
            self.feeds.append([render(), newest] if extra else [newest, newest])

    def current(self, i: int) -> tuple[str, str, str, bytes]:
        return self.feeds[i][self.gen]

    def gzipped(self, i: int) -> bytes:
        key = (i, self.gen)
        if key not in self._gz:
            self._gz[key] = gzip.compress(self.current(i)[3], GZIP_LEVEL)
        return self._gz[key]


class Counter:
    def __init__(self):
        self.reset()

    def reset(self):
        self.by_status: dict[int, int] = {}
        self.cpu0 = time.process_time()

    def add(self, status: int):
        self.by_status[status] = self.by_status.get(status, 0) + 1

    def snapshot(self) -> dict:
        return {
            "requests": sum(self.by_status.values()),
            "by_status": self.by_status,
            "cpu_s": time.process_time() - self.cpu0,
        }


def _reply(status: int, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}.get(status, "Unknown")
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers]
    if status != 304:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _not_modified(etag: str, last_modified: str, hdrs: dict) -> bool:
    """RFC 9110: If-None-Match decides when present, else If-Modified-Since."""
    inm = hdrs.get("if-none-match")
    if inm is not None:
        tags = [t.strip() for t in inm.split(",")]
        return "*" in tags or etag in tags or f"W/{etag}" in tags
    ims = hdrs.get("if-modified-since")
    if ims:
        try:
            return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
    return False


def _control(store: FeedStore, counter: Counter, path: str) -> bytes:
    if path.startswith("/_bench/gen/"):
        store.gen = int(path.rsplit("/", 1)[1])
        out = {"gen": store.gen}
    elif path == "/_bench/reset":
        counter.reset()
        out = {}
    elif path == "/_bench/stats":
        out = counter.snapshot()
    elif path == "/_bench/validators":
        out = {i: store.current(i)[:2] for i in range(len(store.feeds))}
    else:
        return _reply(404, [("Content-Type", "text/plain")], b"no such control\n")
    return _reply(200, [("Content-Type", "application/json")], json.dumps(out).encode())


def serve(n_feeds: int, n_hosts: int, entries: int) -> None:
    store = FeedStore(n_feeds, entries)
    counter = Counter()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                target = lines[0].split(" ")[1]
                hdrs = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        hdrs[name.strip().lower()] = value.strip()
                path = target.split("?", 1)[0]
                if path.startswith("/_bench/"):
                    writer.write(_control(store, counter, path))
                else:
                    i = int(path[1:5]) if path.endswith("/feeds/posts/default") and path[1:5].isdigit() else -1
                    if not 0 <= i < n_feeds:
                        status, data = 404, _reply(404, [("Content-Type", "text/plain")], b"not found\n")
                    else:
                        etag, last_modified, ctype, body = store.current(i)
                        base = [("ETag", etag), ("Last-Modified", last_modified)]
                        if _not_modified(etag, last_modified, hdrs):
                            status, data = 304, _reply(304, base)
                        elif "gzip" in hdrs.get("accept-encoding", ""):
                            status, data = (
                                200,
                                _reply(
                                    200,
                                    base + [("Content-Type", ctype), ("Content-Encoding", "gzip")],
                                    store.gzipped(i),
                                ),
                            )
                        else:
                            status, data = 200, _reply(200, base + [("Content-Type", ctype)], body)
                    counter.add(status)
                    writer.write(data)
                await writer.drain()
                if hdrs.get("connection", "").lower() == "close":
                    return
        finally:
            writer.close()

    async def main() -> None:
        hosts = [address(k) for k in range(n_hosts)]
        for _ in range(20):
            probe = socket.socket()
            probe.bind((hosts[0], 0))
            port = probe.getsockname()[1]
            probe.close()
            try:
                server = await asyncio.start_server(
                    handle, host=hosts, port=port, backlog=LISTEN_BACKLOG, reuse_address=True
                )
                break
            except OSError:
                continue
        else:
            raise SystemExit("no port free on every loopback address")
        print(json.dumps({"port": port, "hosts": n_hosts}), flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class FeedServer(ServerProcess):
    """The serving process, seen from the benchmark."""

    def __init__(self, n_feeds: int, n_hosts: int, entries: int):
        super().__init__(
            [sys.executable, __file__, "--serve", str(n_feeds), str(n_hosts), str(entries)],
            "feed server",
            SERVER_START_TIMEOUT_S,
        )

    def url(self, i: int, host: int) -> str:
        return f"http://{address(host)}:{self.port}{feed_path(i)}"

    def control(self, what: str) -> dict:
        return self.ask(f"http://{address(0)}:{self.port}", what)


# =================================================================================================
# Part 1: the polling pass
# =================================================================================================


def prepare_layout(server: FeedServer, workdir: Path, per_host: int, cfg) -> tuple[Path, list[tuple[str, dict]]]:
    """A database as after one earlier pass; returns its path and (url, request headers) per feed."""
    from crawler.poller import Poller
    from rjwatch.bootstrap import initialise
    from rjwatch.settings import parse_duration
    from storage import health
    from storage.db import connect, write_tx
    from storage.sources import add_source, list_sources

    path = workdir / f"template-{per_host}.db"
    db = connect(path)
    initialise(db)
    n_hosts = FEEDS // per_host
    ids = {}
    for i in range(FEEDS):
        # Feed i on host i % n_hosts: consecutive feeds (and so concurrent requests) hit different hosts.
        sid, _ = add_source(db, server.url(i, i % n_hosts), "feed")
        ids[i] = sid
    server.control("gen/0")
    validators = server.control("validators")
    sources = {s["id"]: s for s in list_sources(db, kind="feed")}
    changed = [sources[ids[i]] for i in range(FEEDS) if is_changed(i)]
    interval = parse_duration(cfg["poll_interval"])
    now = health.now()
    with write_tx(db):
        for i in range(FEEDS):
            if not is_changed(i):
                etag, last_modified = validators[str(i)]
                health.save(
                    db,
                    ids[i],
                    etag=etag,
                    last_modified=last_modified,
                    last_poll=now,
                    last_success=now,
                    last_status=200,
                    consecutive_failures=0,
                    interval_s=interval,
                    new_item_rate=0.0,
                    polls=1,
                    next_due=LONG_AGO,
                )
    first = Poller(db, cfg).poll(changed)
    stored = sum(first.new_by_status.values())
    assert first.failed == 0 and stored == len(changed) * ENTRIES, first.line()
    with write_tx(db):
        db.execute("UPDATE source_health SET next_due = ?", (LONG_AGO,))
    requests = []
    for i in range(FEEDS):
        h = health.get(db, ids[i])
        validators = {"If-None-Match": h["etag"], "If-Modified-Since": h["last_modified"]}
        requests.append((server.url(i, i % n_hosts), validators))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return path, requests


def poll_pass(template: Path, workdir: Path, server: FeedServer, cfg, profile: bool = False) -> dict:
    """One timed pass, from a fresh copy of the template database."""
    from crawler.poller import Poller
    from storage import health
    from storage.db import connect

    run = workdir / "run.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(run) + suffix).unlink(missing_ok=True)
    shutil.copyfile(template, run)
    db = connect(run)
    posts_before = db.execute("SELECT count(*) FROM posts").fetchone()[0]
    server.control("reset")
    main_prof = cProfile.Profile() if profile else None
    poller_cls = _ProfiledPoller if profile else Poller
    cpu0, main0, t0 = time.process_time(), time.thread_time(), time.perf_counter()
    if main_prof:
        main_prof.enable()
    poller = poller_cls(db, cfg)
    summary = poller.poll(health.due_sources(db))
    if main_prof:
        main_prof.disable()
    elapsed, cpu, main_cpu = time.perf_counter() - t0, time.process_time() - cpu0, time.thread_time() - main0
    seen = server.control("stats")
    new_rows = db.execute("SELECT count(*) FROM posts").fetchone()[0] - posts_before
    db.conn.close()
    out = {
        "seconds": elapsed,
        "cpu_s": cpu,
        "main_cpu_s": main_cpu,
        "server_cpu_s": seen["cpu_s"],
        "requests": seen["requests"],
        "by_status": {int(k): v for k, v in seen["by_status"].items()},
        "polled": summary.polled,
        "failed": summary.failed,
        "not_modified": summary.not_modified,
        "new": sum(summary.new_by_status.values()),
        "new_rows": new_rows,
        "seen": summary.seen,
    }
    if profile:
        out["profiles"] = (main_prof, poller.worker_profiles)
    return out


def baseline_pass(requests: list[tuple[str, dict]], workers: int, server: FeedServer, pool) -> dict:
    """The same conditional GETs from a bare urllib3 thread pool: no jitter, no per-host limit, no parsing."""
    import urllib3

    from rjwatch.settings import load

    agent = load(None)["user_agent"]

    def get(item):
        url, validators = item
        headers = {"User-Agent": agent, "Accept-Encoding": "gzip, deflate"}
        headers.update({k: v for k, v in validators.items() if v})
        resp = pool.request(
            "GET", url, headers=headers, redirect=False, retries=False, timeout=urllib3.Timeout(connect=30, read=30)
        )
        return resp.status

    server.control("reset")
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as ex:
        statuses = list(ex.map(get, requests))
    elapsed = time.perf_counter() - t0
    seen = server.control("stats")
    return {
        "seconds": elapsed,
        "requests": seen["requests"],
        "client_statuses": statuses,
        "server_cpu_s": seen["cpu_s"],
    }


def _make_profiled_poller():
    """A Poller whose fetches each run under their own cProfile, in their worker thread (cProfile sees
    only the thread that enables it). Used for --profile only; timed passes use the Poller as is."""
    from crawler.poller import Poller

    class ProfiledPoller(Poller):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.worker_profiles: list[cProfile.Profile] = []
            self._plock = threading.Lock()

        def _safe_fetch(self, source, state):
            prof = cProfile.Profile()
            prof.enable()
            try:
                return super()._safe_fetch(source, state)
            finally:
                prof.disable()
                with self._plock:
                    self.worker_profiles.append(prof)

    return ProfiledPoller


_ProfiledPoller = None  # set in main() once the project is importable


def run_polling(args, workdir: Path, report: list[str], profile_out: list[str]) -> dict:
    import urllib3

    from rjwatch.settings import load

    cfg = load(None)
    workers = int(cfg["poll_workers"])
    layouts = FEEDS_PER_HOST[:1] if args.quick else FEEDS_PER_HOST
    n_hosts_max = max(FEEDS // p for p in layouts)
    t0 = time.perf_counter()
    server = FeedServer(FEEDS, n_hosts_max, ENTRIES)
    print(
        f"feed server: {FEEDS} feeds on {n_hosts_max} loopback addresses, port {server.port} "
        f"(built in {time.perf_counter() - t0:.1f} s)",
        file=sys.stderr,
    )
    rows = []
    try:
        for per_host in layouts:
            t0 = time.perf_counter()
            template, requests = prepare_layout(server, workdir, per_host, cfg)
            print(f"layout {per_host} feed(s)/host prepared in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            pool = urllib3.PoolManager(num_pools=50, maxsize=4, retries=False)  # as crawler.http's pool
            runs, quiet, base = [], [], []
            for rep in range(args.reps):
                server.control("gen/0")
                quiet.append(poll_pass(template, workdir, server, cfg))
                server.control("gen/1")
                base.append(baseline_pass(requests, workers, server, pool))
                runs.append(poll_pass(template, workdir, server, cfg))
                r = runs[-1]
                print(
                    f"  rep {rep + 1}: pass {r['seconds']:.2f} s, {r['new']} new, 304-only pass "
                    f"{quiet[-1]['seconds']:.2f} s, urllib3 {base[-1]['seconds']:.2f} s",
                    file=sys.stderr,
                )
            if args.profile and per_host == layouts[0]:
                prof = poll_pass(template, workdir, server, cfg, profile=True)
                main_prof, worker_profs = prof["profiles"]
                profile_out.append(
                    _profile_text(
                        f"Polling pass ({per_host} feed(s)/host), main thread: due_sources, Poller, "
                        f"recording and ingest",
                        main_prof,
                    )
                )
                profile_out.append(
                    _profile_text(
                        f"Polling pass ({per_host} feed(s)/host), worker threads ({len(worker_profs)} fetches, "
                        "times summed over threads)",
                        *worker_profs,
                    )
                )
            pool.clear()
            rows.append((per_host, runs, quiet, base))
    finally:
        server.stop()

    lines = [
        f"### Polling pass: {FEEDS} feeds, {FEEDS // CHANGED_EVERY} with {NEW_ENTRIES} new entries "
        f"({ENTRIES} per page), the rest 304; poll_workers={workers}",
        "",
        "| layout | pass | seconds | feeds/s | poller CPU s (main thread) | server CPU s | requests at server | "
        "200 / 304 | new posts | target >= 200 feeds/s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    summary = {}
    for per_host, runs, quiet, base in rows:
        layout = f"{FEEDS // per_host} hosts x {per_host} feed{'s' if per_host > 1 else ''}"
        for name, series in (("Poller.poll, 5% changed", runs), ("Poller.poll, all 304", quiet)):
            med = statistics.median(r["seconds"] for r in series)
            mid = sorted(series, key=lambda r: r["seconds"])[len(series) // 2]
            fps = FEEDS / med
            ok = "met" if fps >= 200 else "MISSED"
            bs = mid["by_status"]
            lines.append(
                f"| {layout} | {name} | {med:.2f} | {fps:.0f} | {mid['cpu_s']:.2f} ({mid['main_cpu_s']:.2f}) | "
                f"{mid['server_cpu_s']:.2f} | {mid['requests']} | {bs.get(200, 0)} / {bs.get(304, 0)} | "
                f"{mid['new']} (rows +{mid['new_rows']}) | {ok} |"
            )
            summary[(per_host, name)] = fps
            for r in series:
                assert r["failed"] == 0 and r["polled"] == FEEDS, r
            if series is not quiet:
                for r in series:
                    assert r["new"] == r["new_rows"] == FEEDS // CHANGED_EVERY * NEW_ENTRIES, r
        med = statistics.median(b["seconds"] for b in base)
        mid = sorted(base, key=lambda b: b["seconds"])[len(base) // 2]
        st = mid["client_statuses"]
        lines.append(
            f"| {layout} | bare urllib3, {workers} threads, same requests | {med:.2f} | {FEEDS / med:.0f} "
            f"(req/s) | - | {mid['server_cpu_s']:.2f} | {mid['requests']} | {st.count(200)} / "
            f"{st.count(304)} | - | - |"
        )
        summary[(per_host, "bare urllib3")] = FEEDS / med
        ratio = statistics.median(r["seconds"] for r in runs) / med
        ratio_quiet = statistics.median(r["seconds"] for r in quiet) / med
        lines.append(
            f"| {layout} | Poller.poll / bare urllib3 (5% changed; all 304) | {ratio:.1f}x; "
            f"{ratio_quiet:.1f}x | | | | | | | |"
        )
    from crawler.poller import JITTER_S

    floor = FEEDS * JITTER_S / 2 / workers
    lines += [
        "",
        f"Median of {args.reps} repetition(s); 'poller CPU s' is the CPU of all threads of the polling "
        "process during the pass (in brackets: the main thread, which records and ingests; the rest is the fetching "
        "and parsing worker threads), 'server CPU s' that of the serving process. 'rows +N' is the growth of the "
        f"posts table. The poller's random pre-request pause (mean {JITTER_S / 2 * 1000:.0f} ms) alone puts a "
        f"floor of {floor:.2f} s under any pass of {FEEDS} feeds with {workers} workers.",
        "",
    ]
    report.extend(lines)
    return summary


# =================================================================================================
# Part 2: parse + ingest of one 500-entry feed
# =================================================================================================


def run_parse_ingest(args, workdir: Path, report: list[str], profile_out: list[str]) -> dict:
    import feedparser

    from crawler.feeds import parse_feed
    from rjwatch.bootstrap import initialise
    from rjwatch.demo.site import build_blog
    from storage.db import connect
    from storage.ingest import POOL_MIN_ITEMS, AnalysisPool, Ingestor

    host = "bench500.blogspot.com"
    blog = build_blog("bench500", BIG_FEED_ENTRIES, feed_max_results_cap=BIG_FEED_ENTRIES)
    page = f"/feeds/posts/default?max-results={BIG_FEED_ENTRIES}"
    status, headers, body = blog.render(page, host)
    assert status == 200
    url = f"http://{host}{page}"
    n = BIG_FEED_ENTRIES
    # What `rjwatch poll` and the daemon use on this machine (setting ingest_workers = -1).
    pool = AnalysisPool.from_setting(-1)

    def fresh_ingestor(tag: str, with_pool: bool = False) -> Ingestor:
        path = workdir / f"parse-{tag}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        db = connect(path)
        initialise(db)
        return Ingestor(db, pool=pool if with_pool else None)

    # Warm-up (untimed): imports, feedparser's first-use setup, the language model, and the start
    # of the analysis pool (the daemon keeps it; `rjwatch poll` starts it on the first big batch).
    warm = fresh_ingestor("warm", with_pool=True)
    warm.ingest_many(parse_feed(body, url, headers).entries[: max(5, POOL_MIN_ITEMS)])
    parse_feed(body, url, headers, pool=pool)  # a worker's first half-parse imports feedparser
    warm.db.conn.close()

    reps = args.reps * PARSE_REPS_FACTOR
    steps = (
        "bare",
        "parse_feed",
        "parse_split",
        "analyze",
        "inline",
        "inline_ingest",
        "pooled",
        "pooled_ingest",
        "again",
    )
    times: dict[str, list[float]] = {k: [] for k in steps}
    statuses = None
    try:
        for rep in range(reps):
            t0 = time.perf_counter()
            bare = feedparser.parse(body)
            times["bare"].append(time.perf_counter() - t0)
            assert len(bare.entries) == n

            t0 = time.perf_counter()
            result = parse_feed(body, url, headers)
            times["parse_feed"].append(time.perf_counter() - t0)
            assert len(result.entries) == n

            if pool is not None:
                t0 = time.perf_counter()
                halves = parse_feed(body, url, headers, pool=pool)
                times["parse_split"].append(time.perf_counter() - t0)
                assert len(halves.entries) == n

            ing = fresh_ingestor(f"a{rep}")
            t0 = time.perf_counter()
            for e in result.entries:
                ing.analyze(e)
            times["analyze"].append(time.perf_counter() - t0)
            ing.db.conn.close()

            for mode, with_pool in (("inline", False), ("pooled", True)):
                ing = fresh_ingestor(f"{mode}{rep}", with_pool)
                t0 = time.perf_counter()
                # as the poller does: with the pool, a big document is parsed in two halves at once
                entries = parse_feed(body, url, headers, pool=ing.pool).entries
                t1 = time.perf_counter()
                res = ing.ingest_many(entries)
                t2 = time.perf_counter()
                times[mode].append(t2 - t0)
                times[f"{mode}_ingest"].append(t2 - t1)
                assert res.count("inserted") == n, res.by_status()
                if statuses is not None:
                    assert res.by_status() == statuses
                statuses = res.by_status()
                if mode == "pooled":
                    t0 = time.perf_counter()
                    again = ing.ingest_many(parse_feed(body, url, headers).entries)
                    times["again"].append(time.perf_counter() - t0)
                    assert again.count("seen") == n
                ing.db.conn.close()
            print(
                f"  rep {rep + 1}: bare {times['bare'][-1]:.2f} s, parse_feed {times['parse_feed'][-1]:.2f} s, "
                f"parse+ingest {times['inline'][-1]:.2f} s in one process, {times['pooled'][-1]:.2f} s with the "
                "analysis pool",
                file=sys.stderr,
            )

        if args.profile:
            ing = fresh_ingestor("prof")
            prof = cProfile.Profile()
            prof.enable()
            ing.ingest_many(parse_feed(body, url, headers).entries)
            prof.disable()
            ing.db.conn.close()
            profile_out.append(
                _profile_text(f"parse_feed + ingest_many of {n} entries into a fresh database (one process)", prof)
            )
    finally:
        if pool is not None:
            pool.close()

    med = {k: statistics.median(v) for k, v in times.items() if v}
    bare = med["bare"]
    per_rep = {k: statistics.median(t / b for t, b in zip(v, times["bare"])) for k, v in times.items() if v}
    ratio = per_rep["pooled"]
    workers = pool.workers if pool is not None else 0

    def row(label: str, key: str, bold: bool = False) -> str:
        label = f"**{label}**" if bold else label
        return f"| {label} | {med[key]:.3f} | {n / med[key]:.0f} | {per_rep[key]:.2f} |"

    lines = [
        f"### Parse + ingest of one {n}-entry Blogger feed ({len(body) / 1e6:.2f} MB, statuses {statuses})",
        "",
        "| step | seconds | entries/s | x bare feedparser (same repetition) |",
        "|---|---:|---:|---:|",
        row("bare `feedparser.parse(bytes)`", "bare"),
        row("`parse_feed` (feedparser without its HTML sanitiser and link rewriting)", "parse_feed"),
        *(
            [row("`parse_feed` with the analysis pool (two halves parsed at once)", "parse_split")]
            if times["parse_split"]
            else []
        ),
        row("`Ingestor.analyze` alone, one process (judge.analyze, no database)", "analyze"),
        row("`ingest_many` alone, one process", "inline_ingest"),
        row("`parse_feed` + `ingest_many`, one process (ingest_workers = 0)", "inline"),
        row(f"`ingest_many` alone, analysis pool of {workers} started workers", "pooled_ingest"),
        row("`parse_feed` + `ingest_many`, analysis pool (the default here)", "pooled", bold=True),
        row(f"`parse_feed` + `ingest_many` again (all {n} already stored)", "again"),
        "",
        f"Target parse + ingest <= 2x bare parse: {'met' if ratio <= 2 else 'MISSED'} ({ratio:.2f}x with the analysis "
        f"pool, {per_rep['inline']:.2f}x in one process). Each ingest goes into a fresh database. Seconds are medians "
        f"of {reps} repetitions; each ratio is the median of the {reps} per-repetition ratios.",
        "",
    ]
    report.extend(lines)
    return {
        "ratio": ratio,
        "n": n,
        "bare_per_s": n / bare,
        "parse_ingest_per_s": n / med["pooled"],
        "inline_ratio": per_rep["inline"],
    }


# =================================================================================================


def _profile_text(title: str, *profiles: cProfile.Profile) -> str:
    buf = io.StringIO()
    stats = pstats.Stats(profiles[0], stream=buf)
    for p in profiles[1:]:
        stats.add(p)
    stats.strip_dirs()
    buf.write(f"## {title}\n\n### by cumulative time\n")
    stats.sort_stats("cumulative").print_stats(PROFILE_LINES)
    buf.write("### by own time\n")
    stats.sort_stats("tottime").print_stats(PROFILE_LINES)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--serve", nargs=3, type=int, metavar=("FEEDS", "HOSTS", "ENTRIES"), help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="one repetition, one layout")
    ap.add_argument("--reps", type=int, default=REPS)
    ap.add_argument("--profile", action="store_true", help="cProfile both parts into bench/out/poll_profile.txt")
    ap.add_argument("--part", choices=("all", "poll", "parse"), default="all")
    args = ap.parse_args()
    if args.serve:
        serve(*args.serve)
        return
    if args.quick:
        args.reps = 1

    global _ProfiledPoller
    _ProfiledPoller = _make_profiled_poller()

    report = [
        "## rjwatch feed polling benchmark",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"load average at start {os.getloadavg()[0]:.2f}, sqlite {sqlite3.sqlite_version}",
        "",
    ]
    profile_out: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="rjwatch-pollbench-"))
    try:
        polling = parsing = None
        if args.part in ("all", "poll"):
            polling = run_polling(args, workdir, report, profile_out)
        if args.part in ("all", "parse"):
            parsing = run_parse_ingest(args, workdir, report, profile_out)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report.append(f"Load average at end {os.getloadavg()[0]:.2f}.")
    from figures import figure, record

    figs = []
    for (per_host, name), fps in sorted((polling or {}).items(), key=str):
        if name != "bare urllib3":
            figs.append(
                figure(
                    f"polling pass, {FEEDS // per_host} hosts x {per_host} feeds: {name}",
                    round(fps),
                    "feeds/s",
                    "bare urllib3, same requests and concurrency",
                    round(polling[(per_host, "bare urllib3")]),
                    ">= 200 feeds/s" if "changed" in name else None,
                )
            )
    if parsing:
        figs.append(
            figure(
                f"parse + ingest of a {parsing['n']}-entry feed",
                round(parsing["parse_ingest_per_s"]),
                "entries/s",
                "bare feedparser.parse",
                round(parsing["bare_per_s"]),
                "<= 2x the time",
                note=f"{parsing['ratio']:.2f}x the bare parse's time (median of per-repetition ratios; "
                f"{parsing['inline_ratio']:.2f}x in one process)",
            )
        )
    record("poll", figs)
    text = "\n".join(report) + "\n"
    print(text)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "poll_bench.txt").write_text(text)
    if profile_out:
        (OUT_DIR / "poll_profile.txt").write_text("\n\n".join(profile_out))


if __name__ == "__main__":
    main()
