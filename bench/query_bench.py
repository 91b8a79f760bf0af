"""Query-feed benchmark: one polling pass over 200 news-search feeds with 20 new items each, every
item's publisher page fetched (4,000 pages across 400 local publisher hosts).

A Markdown table, printed and written to bench/out/query_bench.txt (figures to
bench/out/query.figures.json).

The fake engine and the publishers are the apps of rjwatch.demo.engines (one `GoogleNews` per query,
`link_form="direct"` by default: items link straight to the publisher's article, the 2020 form of
Google News links; one `Publisher` per host), served by one asyncio HTTP/1.1 server of this file in a
separate process (`--serve`), so its CPU is not the poller's. It listens on one port of 401 loopback
addresses: the engine at 127.4.0.1 and the publishers at 127.3.X.Y, each address a host of its own
for the poller's per-host limit (two requests at once). Each item's page is a distinct, relevant
article, so that every new post is judged on its full text and raises an alert.

The 200 feeds are registered as `rjwatch source add --query` registers them (crawler.query_feeds:
one query in four languages, en/ru/ja/es, 50 each; full text always), with the engine's base URL as
the `query_engines` setting points it at a mirror, and the publishers' addresses in `trusted_hosts`
(loopback is otherwise refused). Measured, from a fresh database, as `rjwatch poll` runs it
(`Poller.poll` of the due sources with the analysis pool of `ingest_workers = -1`):

- items/s: new posts stored per second of the pass;
- the time from the pass's start to the last alert in the outbox (a watcher thread reads the
  `alerts` table on its own connection every ALERT_WATCH_S);
- the peak memory (PSS, sampled every MEM_SAMPLE_S) of the polling process and its analysis-pool
  workers, and the polling process's peak RSS (VmHWM);
- requests counted at the server (feeds, pages, distinct publisher hosts).

Baseline, in the same run: the same 200 feeds with full text off (`full_text = never`: the poll and
the ingest of the feed items alone, no page fetched), so the cost of the 4,000 page fetches shows as
a ratio.

    python bench/query_bench.py                         # 200 feeds x 20 items, 400 hosts
    python bench/query_bench.py --feeds 20 --items 5    # a quick look

Why one module of this size: a benchmark is read and run as one file, like the others in bench/; its
server, its article generator and its measuring are each short.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import socket
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

#: The checkout this file belongs to: the project is imported from here, not from an installed copy.
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from serving import ServerProcess  # noqa: E402  (bench/, the folder of this script)

#: Where the table (query_bench.txt) is written.
OUT_DIR = REPO / "bench" / "out"

#: Query feeds in the pass, items per feed and publisher hosts: the sizes the issue states
#: (200 x 20 = 4,000 publisher fetches across 400 hosts, 10 pages a host).
FEEDS = 200
ITEMS = 20
HOSTS = 400
#: The languages the query is registered in (`--lang en,ru,ja,es`), one per feed in turn.
LANGS = ("en", "ru", "ja", "es")
#: Timed repetitions of each mode; the median is reported (one pass takes tens of seconds).
REPS = 1
#: The engine's loopback address, and the publishers' 127.3.X.Y with Y in 1..ADDRS_PER_BLOCK: clear
#: of 127.0.0.1 (other local servers) and of poll_bench's 127.1.x.y; every one reaches `lo` on Linux.
ENGINE_ADDRESS = "127.4.0.1"
ADDRS_PER_BLOCK = 250
#: Seconds to wait for the server to build its pages and start listening.
SERVER_START_TIMEOUT_S = 120
#: Listen backlog per address: 32 pollers connecting at once must never be refused.
LISTEN_BACKLOG = 512
#: How often the watcher reads the alerts table: the time to the last alert is known to this much.
ALERT_WATCH_S = 0.05
#: How often memory is sampled during a pass.
MEM_SAMPLE_S = 0.1
#: A `next_due` far in the past, so that every source is due when a pass starts.
LONG_AGO = "2000-01-01T00:00:00+00:00"
#: When the newest item of every feed was published (the rest a minute apart, newest first).
PUBLISHED_AT = datetime(2024, 12, 2, 23, 0, tzinfo=UTC)
#: Sentences per generated article: about 250 words, a short news story.
ARTICLE_SENTENCES = 12


def publisher_address(h: int) -> str:
    """The loopback address of publisher host number h."""
    return f"127.3.{h // ADDRS_PER_BLOCK}.{h % ADDRS_PER_BLOCK + 1}"


def host_of(i: int, k: int, items: int, hosts: int) -> int:
    """Publisher of item k of feed i: consecutive items (fetched one after another by one worker)
    are on different hosts, and every host gets the same number of pages."""
    return (i * items + k) % hosts


def query_of(i: int) -> str:
    return f'Kuril OR "Northern Territories" topic{i}'


# =================================================================================================
# Articles: distinct, relevant texts (the ingest judges them new and alerts on them)
# =================================================================================================

_WHO = [
    "Japanese and Russian diplomats",
    "Foreign Minister Sergey Lavrov",
    "Japan's foreign minister",
    "officials in Tokyo",
    "the Kremlin",
    "Japanese fishermen from Nemuro",
    "former residents of the Northern Territories",
    "the governor of Sakhalin",
    "Prime Minister Kishida",
    "President Putin",
    "a delegation from Hokkaido",
    "Russian border guards",
]
_DID = [
    "discussed the peace treaty",
    "raised the territorial dispute over the Kuril Islands",
    "reviewed joint economic activity on the southern Kurils",
    "debated fishing quotas near Shikotan and Habomai",
    "commented on the sanctions against Russia",
    "spoke about visa-free exchanges with Iturup and Kunashir",
    "called for talks on the Northern Territories",
    "protested military drills on the disputed islands",
    "considered energy projects on Sakhalin",
    "met to prepare a summit between Japan and Russia",
]
_WHERE = ["in Moscow", "in Tokyo", "in Vladivostok", "in Sapporo", "in Yuzhno-Sakhalinsk", "at the United Nations"]
_WHEN = ["on Monday", "on Tuesday", "this week", "last month", "in the spring", "before the autumn session"]
_SYLLABLES = ["ka", "to", "mi", "ro", "va", "shi", "ne", "dan", "kov", "ya", "su", "lev", "mo", "ri", "zin", "ha"]
_TAIL = [
    "according to the Japanese foreign ministry",
    "Russian news agencies reported",
    "officials from both sides said",
    "the statement said",
    "Kyodo News reported",
    "TASS reported",
]


def article(i: int, k: int) -> tuple[str, str]:
    """(title, text) of item k of feed i: the same every run, different from every other item."""
    rng = random.Random(i * 1_000_003 + k)

    def name() -> str:  # a made-up surname: words no other article shares, so no two read as one story
        return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()

    sentences = [
        f"{rng.choice(_WHO)}, {name()} said, {rng.choice(_DID)} {rng.choice(_WHERE)} {rng.choice(_WHEN)}; "
        f"{name()} of the {name()} institute and {name()} from {name()} University followed it, {rng.choice(_TAIL)}."
        for _ in range(ARTICLE_SENTENCES)
    ]
    title = f"Russia and Japan: report {i}-{k} on the Kuril Islands"
    half = len(sentences) // 2
    return title, " ".join(sentences[:half]) + "\n\n" + " ".join(sentences[half:])


# =================================================================================================
# The server (a separate process: `query_bench.py --serve FEEDS ITEMS HOSTS`)
# =================================================================================================


def build_apps(n_feeds: int, items: int, hosts: int, links: str):
    """The engine (one rjwatch.demo.engines.GoogleNews app per query, sharing one redirector) and the
    publishers (one Publisher per host) with every article in place."""
    from rjwatch.demo.engines import GoogleNews, Publisher, Redirector, Story

    redirector = Redirector()
    publishers = [Publisher(f"Publisher {h}") for h in range(hosts)]
    news = []
    for i in range(n_feeds):
        lang = LANGS[i % len(LANGS)]
        stories = []
        for k in range(items):
            h = host_of(i, k, items, hosts)
            title, text = article(i, k)
            published = PUBLISHED_AT - timedelta(minutes=k)
            path = publishers[h].add(title, text, published, path=f"/news/{i}/{k}.html")
            url = f"http://{publisher_address(h)}:{{port}}{path}"  # the port is known once listening
            stories.append((title, f"Publisher {h}", url, lang, published))
        news.append((stories, lang))

    def engine_apps(port: int) -> list:
        return [
            GoogleNews(
                [
                    Story(t, pub, url.format(port=port), lang=lang, published=when)
                    for t, pub, url, lang, when in stories
                ],
                link_form=links,
                redirector=redirector,
            )
            for stories, _ in news
        ]

    return engine_apps, publishers


def _reply(status: int, headers: dict, body: bytes) -> bytes:
    reason = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found"}.get(status, "Unknown")
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers.items() if k.lower() != "content-length"]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def serve(n_feeds: int, items: int, hosts: int, links: str) -> None:
    counts = {"feed": 0, "page": 0, "redirect": 0, "other": 0}
    page_hosts: set[str] = set()
    engine_apps, publishers = build_apps(n_feeds, items, hosts, links)
    by_address = {publisher_address(h): publishers[h] for h in range(hosts)}
    engines: list = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        local, port = writer.get_extra_info("sockname")[:2]
        host = f"{local}:{port}"
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                target = head.decode("latin-1").split("\r\n", 1)[0].split(" ")[1]
                parts = urlsplit(target)
                if parts.path == "/_bench/stats":
                    data = _reply(200, {}, json.dumps({**counts, "hosts": len(page_hosts)}).encode())
                elif parts.path == "/_bench/reset":
                    counts.update(feed=0, page=0, redirect=0, other=0)
                    page_hosts.clear()
                    data = _reply(200, {}, b"{}")
                elif local == ENGINE_ADDRESS:
                    q = parse_qs(parts.query).get("q", [""])[0]
                    i = int(q.rsplit("topic", 1)[1]) if parts.path == "/rss/search" and "topic" in q else 0
                    status, headers, body = engines[i % len(engines)].render(target, host)
                    counts["feed" if parts.path == "/rss/search" else "redirect"] += 1
                    data = _reply(status, headers, body)
                elif local in by_address:
                    status, headers, body = by_address[local].render(target, host)
                    if status == 200 and parts.path.startswith("/news/"):
                        counts["page"] += 1
                        page_hosts.add(local)
                    else:
                        counts["other"] += 1
                    data = _reply(status, headers, body)
                else:
                    counts["other"] += 1
                    data = _reply(404, {"Content-Type": "text/plain"}, b"not found\n")
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def main() -> None:
        addresses = [ENGINE_ADDRESS] + [publisher_address(h) for h in range(hosts)]
        for _ in range(20):
            probe = socket.socket()
            probe.bind((ENGINE_ADDRESS, 0))
            port = probe.getsockname()[1]
            probe.close()
            try:
                server = await asyncio.start_server(
                    handle, host=addresses, port=port, backlog=LISTEN_BACKLOG, reuse_address=True
                )
                break
            except OSError:
                continue
        else:
            raise SystemExit("no port free on every loopback address")
        engines.extend(engine_apps(port))
        print(json.dumps({"port": port}), flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class Server(ServerProcess):
    """The serving process, seen from the benchmark."""

    def __init__(self, n_feeds: int, items: int, hosts: int, links: str):
        super().__init__(
            [sys.executable, __file__, "--serve", str(n_feeds), str(items), str(hosts), links],
            "benchmark server",
            SERVER_START_TIMEOUT_S,
        )
        self.base = f"http://{ENGINE_ADDRESS}:{self.port}"

    def control(self, what: str) -> dict:
        return self.ask(self.base, what)


# =================================================================================================
# One pass
# =================================================================================================


class Watch:
    """Samples, in a thread, the alerts table (on its own connection) and the memory of this process
    and its children, until stopped."""

    def __init__(self, db_path: Path, t0: float):
        self.db_path, self.t0 = db_path, t0
        self.alerts = 0
        self.last_alert_s: float | None = None
        self.peak_pss_kb = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        from procstat import descendants, pss_kb

        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30)
        last_mem = 0.0
        try:
            while not self.stop_event.is_set():
                self.sample_alerts(conn)
                now = time.perf_counter()
                if now - last_mem >= MEM_SAMPLE_S:
                    last_mem = now
                    pid = os.getpid()
                    self.peak_pss_kb = max(self.peak_pss_kb, pss_kb(pid) + sum(pss_kb(c) for c in descendants(pid)))
                self.stop_event.wait(ALERT_WATCH_S)
            self.sample_alerts(conn)
        finally:
            conn.close()

    def sample_alerts(self, conn: sqlite3.Connection) -> None:
        try:
            n = conn.execute("SELECT count(*) FROM alerts WHERE kind IN ('new', 'copy', 'excerpt')").fetchone()[0]
        except sqlite3.OperationalError:  # busy for a moment: read again next time
            return
        if n > self.alerts:
            self.alerts, self.last_alert_s = n, time.perf_counter() - self.t0

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join()


def prepare(db_path: Path, server: Server, n_feeds: int, full_text: str) -> None:
    """A fresh database with the query sources registered (as `source add --query` does)."""
    from crawler import query_feeds
    from rjwatch.bootstrap import initialise
    from storage import health
    from storage.db import connect, write_tx
    from storage.sources import add_source

    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    db = connect(db_path)
    initialise(db)
    now = health.now()
    for i in range(n_feeds):
        lang = LANGS[i % len(LANGS)]
        settings = query_feeds.query_settings("google-news", query_of(i), lang)
        settings["full_text"] = full_text
        url = query_feeds.query_feed_url("google-news", query_of(i), lang, server.base)
        sid, _ = add_source(
            db, url, "feed", name=query_feeds.query_name("google-news", query_of(i), lang), settings=settings
        )
        # polled once before (when the feed was empty): the first collection of a source is silent,
        # the items of this pass are new and alerted on
        with write_tx(db):
            health.save(
                db,
                sid,
                last_poll=now,
                last_success=now,
                last_status=200,
                consecutive_failures=0,
                interval_s=settings["every"],
                new_item_rate=0.0,
                polls=1,
                next_due=LONG_AGO,
            )
    db.conn.close()


def one_pass(db_path: Path, server: Server, cfg, args, full_text: str) -> dict:
    from crawler.poller import Poller
    from storage import health
    from storage.db import connect
    from storage.ingest import AnalysisPool
    from storage.sources import list_runs

    prepare(db_path, server, args.feeds, full_text)
    db = connect(db_path)
    server.control("reset")
    pool = AnalysisPool.from_setting(int(cfg["ingest_workers"]))  # as `rjwatch poll` does
    try:
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        watch = Watch(db_path, t0)
        summary = Poller(db, cfg, pool=pool).poll(health.due_sources(db))
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        watch.stop()
    finally:
        if pool is not None:
            pool.close()
    posts = db.execute("SELECT count(*) FROM posts").fetchone()[0]
    by_status = dict(db.execute("SELECT status, count(*) FROM posts GROUP BY status").fetchall())
    alert_states = dict(
        db.execute(
            "SELECT status, count(*) FROM alerts WHERE kind IN ('new', 'copy', 'excerpt') GROUP BY status"
        ).fetchall()
    )
    full = db.execute("SELECT count(*) FROM posts WHERE summary_only = 0").fetchone()[0]
    under_publisher = db.execute("SELECT count(*) FROM posts WHERE url LIKE 'http://127.3.%'").fetchone()[0]
    run = list_runs(db, limit=1)[0]
    db.conn.close()
    served = server.control("stats")
    with open(f"/proc/{os.getpid()}/status") as fh:
        hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    return {
        "seconds": elapsed,
        "cpu_s": cpu,
        "polled": summary.polled,
        "failed": summary.failed,
        "posts": posts,
        "by_status": by_status,
        "full_text_posts": full,
        "under_publisher": under_publisher,
        "alerts": watch.alerts,
        "alert_states": alert_states,
        "last_alert_s": watch.last_alert_s,
        "peak_pss_mb": watch.peak_pss_kb / 1024,
        "hwm_mb": hwm / 1024,
        "served": served,
        "run_errors": run.get("errors"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--serve", nargs=4, metavar=("FEEDS", "ITEMS", "HOSTS", "LINKS"), help=argparse.SUPPRESS)
    ap.add_argument("--feeds", type=int, default=FEEDS, help=f"query feeds in the pass (default {FEEDS})")
    ap.add_argument("--items", type=int, default=ITEMS, help=f"new items per feed (default {ITEMS})")
    ap.add_argument("--hosts", type=int, default=HOSTS, help=f"publisher hosts (default {HOSTS})")
    ap.add_argument("--reps", type=int, default=REPS, help=f"timed passes per mode, median reported (default {REPS})")
    ap.add_argument(
        "--links",
        choices=("direct", "cbmi", "articles"),
        default="direct",
        help="the engine's item links: the publisher URL (default), an old CBMi token carrying it, or an opaque "
        "token resolved by a redirect (the last two need link unwrapping or resolving to reach the publisher)",
    )
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="folder for query_bench.txt and query.figures.json")
    args = ap.parse_args()
    if args.serve:
        serve(*(int(x) for x in args.serve[:3]), args.serve[3])
        return
    if not (1 <= args.hosts <= 250 * ADDRS_PER_BLOCK and args.feeds >= 1 and args.items >= 1):
        raise SystemExit("--feeds and --items must be 1 or more, --hosts from 1 to 62,500")

    from rjwatch.settings import load

    server = Server(args.feeds, args.items, args.hosts, args.links)
    cfg = load(None)
    # the engine as `query_engines` names a mirror; the publishers trusted (loopback is refused otherwise)
    cfg.values["query_engines"] = {**cfg["query_engines"], "google-news": server.base}
    cfg.values["trusted_hosts"] = [publisher_address(h) for h in range(args.hosts)]
    workdir = Path(tempfile.mkdtemp(prefix="rjwatch-querybench-"))
    report = [
        "## rjwatch query-feed benchmark",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"load average at start {os.getloadavg()[0]:.2f}, sqlite {sqlite3.sqlite_version}; "
        f"{args.feeds} Google News query feeds x {args.items} new items, pages on {args.hosts} publisher hosts, "
        f"poll_workers {cfg['poll_workers']}",
        "",
    ]
    results: dict[str, list[dict]] = {"never": [], "always": []}
    try:
        for rep in range(args.reps):
            for mode in ("never", "always"):
                r = one_pass(workdir / f"{mode}.db", server, cfg, args, mode)
                results[mode].append(r)
                print(f"  rep {rep + 1}, full text {mode}: {json.dumps(r, default=str)}", file=sys.stderr)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    n_items = args.feeds * args.items

    def mid(mode: str) -> dict:
        series = sorted(results[mode], key=lambda r: r["seconds"])
        return series[len(series) // 2]

    base, full = mid("never"), mid("always")
    for r in results["always"] + results["never"]:
        assert r["failed"] == 0 and r["polled"] == args.feeds, r
        assert r["posts"] == n_items, r
        assert args.links != "direct" or r["under_publisher"] == n_items, r  # stored under the publisher's URL
    for r in results["always"]:
        assert r["served"]["page"] == n_items and r["full_text_posts"] == n_items, r
    med = {m: statistics.median(r["seconds"] for r in results[m]) for m in results}
    report += [
        "| pass | seconds | items/s | to last alert, s | alerts (pending / suppressed) | posts by status | "
        "requests: feeds / pages (hosts) | peak PSS, MB (RSS peak) | CPU s |",
        "|---|---:|---:|---:|---|---|---|---:|---:|",
    ]
    for label, r, m in (
        ("full text off (baseline: the poll alone)", base, "never"),
        ("**full text always (every publisher page fetched)**", full, "always"),
    ):
        s = r["served"]
        last = f"{r['last_alert_s']:.2f}" if r["last_alert_s"] is not None else "-"
        report.append(
            f"| {label} | {med[m]:.2f} | {n_items / med[m]:.0f} | {last} | {r['alerts']} "
            f"({r['alert_states'].get('pending', 0)} / {r['alert_states'].get('suppressed', 0)}) | "
            f"{json.dumps(r['by_status'], sort_keys=True)} | {s['feed']} / {s['page']} ({s['hosts']}) | "
            f"{r['peak_pss_mb']:.0f} ({r['hwm_mb']:.0f}) | {r['cpu_s']:.1f} |"
        )
    ratio = med["always"] / med["never"]
    from crawler.poller import JITTER_S, PER_HOST_LIMIT

    floor = (args.feeds + n_items) * JITTER_S / 2 / int(cfg["poll_workers"])
    report += [
        "",
        f"Full text always / baseline: {ratio:.1f}x the time. Median of {args.reps} pass(es) per mode, each from a "
        "fresh database. 'To last alert' is from the pass's start to the last new/copy/excerpt alert written to "
        "the outbox (suppressed ones count: a story alerted once already). Peak PSS is the polling process with "
        "its analysis-pool workers; CPU s is the polling process only (not the server). The feeds are on one engine "
        f"host, fetched {PER_HOST_LIMIT} at a time, as news.google.com would be; the poller's random pre-request "
        f"pause alone puts a floor of {floor:.2f} s under the full-text pass.",
        "",
        f"Load average at end {os.getloadavg()[0]:.2f}.",
    ]
    import figures
    from figures import figure, record

    figures.OUT = args.out
    record(
        "query",
        [
            figure(
                f"query-feed pass, {args.feeds} feeds x {args.items} items, publisher pages fetched",
                round(n_items / med["always"]),
                "items/s",
                "the same feeds with full text off",
                round(n_items / med["never"]),
                note=f"{ratio:.1f}x the baseline's time",
            ),
            figure(
                "query-feed pass: time to the last alert",
                round(full["last_alert_s"], 2) if full["last_alert_s"] is not None else None,
                "s",
                "the pass's whole time",
                round(med["always"], 2),
            ),
            figure("query-feed pass: peak memory (PSS, with pool workers)", round(full["peak_pss_mb"]), "MB"),
        ],
    )
    text = "\n".join(report) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "query_bench.txt").write_text(text)


if __name__ == "__main__":
    main()
