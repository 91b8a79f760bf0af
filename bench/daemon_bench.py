"""Daemon benchmark: scheduling lag, memory and repeated alert deliveries of `rjwatch run` under steady load.

What it measures, for the real daemon (`rjwatch --db DB --config CFG run`, a subprocess) over N minutes:

- scheduling lag: the heartbeat's own figures (when each of the last 1,000 job runs was handed to the
  executor, minus when it was planned; scheduler/daemon.py), and three measurements taken from
  outside the daemon against its 5 s tick grid: when each heartbeat job really ran (its row changes;
  read every 0.1 s), when each polling pass reached the feeds (its first feed request), and how long
  each feed waited between two fetches (planned: 60-66 s). Late runs are listed with the number of
  crawl subprocesses alive at the time (each crawl job holds one of the daemon's executor threads,
  JOB_THREADS in scheduler/daemon.py, for as long as its subprocess lives);
- memory: the daemon's VmRSS from /proc/<pid>/status every 10 s; "start" is the first sample after one
  minute, "end" the last one before SIGTERM (targets: growth <= 10 % and end <= 200 MB);
- delivered once each: posts that qualified for an alert during the run (outbox rows of kind new/copy/excerpt
  that are not suppressed) against the distinct `X-Rjwatch-Key`s a local webhook received (must be
  equal) and keys received twice (must be 0); plus what happened to every post the benchmark published;
- work done: polling passes and feed fetches, blog crawls, and a clean stop (SIGTERM, exit 0);
- the conditions: the daemon's CPU and the whole machine's (other work may share it), load average.

The world: 200 RSS feeds (rjwatch.demo NewsFeed, one loopback address each, served by a small
selector-based server in a separate process) and 5 Blogger-style blogs (build_blog, 100 posts, Simple
template, one SiteServer each, same process). The feeds are registered with `rjwatch source import`
(one OPML file: the same add_source path as `source add --kind feed`, without 200 CLI start-ups of
about a second each); the blogs with `rjwatch source add URL --kind blogger` (which also registers each
blog's posts feed). `rjwatch poll --all` and `rjwatch crawl` then collect everything silently, so that
every post published afterwards alerts on its own.

While the daemon runs, a new relevant post is published every 2 s on a random feed or blog. Each text
is unique: a generated lead paragraph on Russia-Japan peace treaty talks that carries the post's
number (and is all a feed's 280-character summary shows), then six sentences drawn from the English
`tests/fixtures/classify/new__*.txt` articles. Before the run, `rjwatch classify` must call one such
post `new` in both forms (full text, and the feed summary).

    python bench/daemon_bench.py              # 10 minutes
    python bench/daemon_bench.py --quick      # 2 minutes (a smoke run)
    python bench/daemon_bench.py --minutes 30

The table is printed and written to bench/out/daemon_bench[_quick].txt, with the raw numbers (.json),
the posts published (_published.jsonl) and the daemon's log (_daemon.log) beside it.
"""

from __future__ import annotations

import argparse
import html
import json
import multiprocessing
import os
import random
import re
import selectors
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "bench" / "out"

# --- the world ---------------------------------------------------------------------------------
#: Feeds and blogs served, and posts per blog: the sizes the benchmark's brief names.
N_FEEDS = 200
N_BLOGS = 5
BLOG_POSTS = 100
#: Stories each feed carries before the run, so that the silent first collection stores something
#: (a real feed is never empty) without making the setup long: 600 posts.
FEED_START_ITEMS = 3
#: Feed i is served on 127.0.1.(FEED_IP_BASE + i), blog j on 127.0.2.(BLOG_IP_BASE + j): one loopback
#: address per site, because the poller limits requests per host name (crawler.poller.PER_HOST_LIMIT)
#: and 200 news feeds are 200 different sites in real life. Linux routes all of 127/8 to lo.
FEED_IP_BASE = 2
BLOG_IP_BASE = 2
#: Handler threads of the feed server: as many as the poller's default workers (poll_workers = 32),
#: so that the server never queues a polling pass.
FEED_SERVER_THREADS = 32
#: Socket timeout of one feed connection: a stuck client cannot hold a handler thread for long.
FEED_SERVER_TIMEOUT_S = 10.0
#: Seeds of the generated content, so that every run publishes the same texts in the same places.
WORLD_SEED = 20170320
PUBLISH_SEED = 1956

# --- the load ----------------------------------------------------------------------------------
#: One new relevant post every 2 s: 300 in 10 minutes, far more than real coverage of the topic, so
#: that lost or doubled alerts would show up, yet only ~5 % of the 200 feeds change per polling minute.
PUBLISH_EVERY_S = 2.0
#: Share of the posts published on the 5 blogs (the rest go to the 200 feeds): enough blog posts
#: (~45 in 10 minutes) that the blogs' feeds and crawls see new posts every few minutes.
BLOG_SHARE = 0.15
#: Fixture sentences added after the generated lead of each post (the full text of blog posts).
POOL_SENTENCES_PER_POST = 6
#: Characters of a story in the demo RSS feed's <description> (rjwatch.demo.templates.news.rss): what
#: the poller classifies for a feed post.
FEED_SUMMARY_CHARS = 280

# --- the daemon's configuration (from the brief) ---------------------------------------------------
TICK_S = 5.0
POLL_INTERVAL_S = 60.0
CONFIG = {
    "poll_tick": "5s",
    "alert_tick": "5s",
    "poll_interval": "1m",
    "min_interval": "1m",
    "max_interval": "1m",
    "crawl_interval": "3m",
    # Politeness lifted, as in tests/test_daemon.py: local blogs need no delay.
    "crawl_settings": ["DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False"],
}
#: Immediate deliveries allowed per hour on the webhook: the highest a channel accepts (one a second),
#: above what a run publishes, so flood control defers none.
MAX_PER_HOUR = 3_600

# --- measurement ---------------------------------------------------------------------------------
#: RSS sampling period, and the age of the daemon at which its "start" RSS is taken (imports done,
#: first passes run, caches warm): both from the brief.
RSS_SAMPLE_S = 10.0
RSS_START_AFTER_S = 60.0
#: How often the heartbeat row is read to see when each heartbeat job really ran (a primary-key
#: lookup on a read-only connection: ~10 reads/s cost the daemon nothing measurable), and every how
#: many of those reads the daemon's child processes (crawls) are listed (every 0.5 s).
WATCH_S = 0.1
CHILD_WATCH_EVERY = 5
#: Targets from the brief: RSS growth from start to end, and RSS at the end.
RSS_GROWTH_MAX = 0.10
RSS_END_MAX_MB = 200.0
#: The poller sets a feed's next poll to interval * uniform(1.0, 1.1) after each fetch
#: (crawler.poller); the daemon looks every tick. A healthy daemon refetches a feed within
#: 66 s + one 5 s tick + 1 s of pass overhead.
DUE_JITTER = 0.1
REFETCH_MAX_S = POLL_INTERVAL_S * (1 + DUE_JITTER) + TICK_S + 1.0
#: Feed requests less than this apart belong to one polling pass (a pass sends all its requests
#: within ~50 ms of jitter; passes are 5 s apart).
PASS_GAP_S = 1.0
#: A job run (heartbeat, polling pass) that starts more than this after its tick counts as late.
LATE_S = 1.0
#: After the last post: how long to wait for every published post to be collected and alerted. A
#: post published in the last second is fetched by the next poll of its feed (<= 72 s), alerted at
#: the next tick; four minutes also leave room for a blog crawl that happens to be running.
DRAIN_TIMEOUT_S = 240.0
#: Once nothing is owed, one more alert tick plus slack, to see that nothing else arrives.
SETTLE_S = TICK_S * 2
#: SIGTERM to exit: the daemon gives a running crawl child 20 s (CHILD_STOP_GRACE_S), then stops.
STOP_TIMEOUT_S = 60.0
#: Setup commands (init, import, first poll of 1,000 posts, first crawl of 500) each finish well
#: within this; beyond it something is wrong.
SETUP_TIMEOUT_S = 600.0


def now_iso() -> str:
    """The daemon's own timestamp format (judge.dates.now_iso: UTC, whole seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def parse_iso(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def pct(values: list[float], p: float) -> float | None:
    """The p-th quantile (0..1) of values, by the same rule as the heartbeat's lag summary."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


# --- texts -----------------------------------------------------------------------------------------
# A feed carries only the first 280 characters of a story (rjwatch.demo NewsFeed), so that is all the
# poller classifies, and all that tells two feed posts apart: the lead must be relevant and unique
# within its first sentence. Each lead sentence is assembled from independent parts (a dateline, a
# speaker, a verb, two claims, a tail carrying the post's number), most with slots (islands, cities,
# numbers) that break up the fixed words, so that two posts rarely share more than one part. Checked
# by ingesting 600 generated posts (every 7th as full text, the rest as feed summaries) into a fresh
# database: all 600 `new` (relevance >= 0.5: the title and the tail carry a dispute or bilateral term),
# none a `duplicate` (estimated Jaccard >= 0.5, judge.classify.DUPLICATE_MIN_JACCARD).
_SUBJECTS = [
    "The Russian deputy foreign minister",
    "Moscow's chief negotiator",
    "A Kremlin spokesman",
    "Russia's ambassador in Tokyo",
    "The Russian foreign ministry",
    "A senior Russian diplomat",
    "The head of the Russian delegation",
    "Russia's foreign minister",
    "Japan's vice-minister for foreign affairs",
    "Tokyo's chief negotiator",
    "The Japanese prime minister",
    "Japan's ambassador in Moscow",
    "The Japanese foreign ministry",
    "A senior Japanese official",
    "The head of the Japanese delegation",
    "Japan's foreign minister",
]
_VERBS = [
    "said on {day} that",
    "told reporters in {city} that",
    "warned in a {month} statement that",
    "insisted after {h} hours that",
    "wrote in readout {r} that",
    "repeated at a {city} briefing that",
    "suggested in an interview on {day} that",
    "conceded in {city} that",
    "argued on {date} that",
    "noted with some irritation on {day} that",
    "stressed late on {day} that",
    "admitted to {k} journalists that",
]
_CLAIMS = [
    "the peace treaty could not be signed while {island} remained disputed",
    "Japan must accept the results of the war before any deal on {island}",
    "Russia would keep its {k} new missile units on {island}",
    "the 1956 Joint Declaration, signed in {city2}, was still the basis",
    "Tokyo wanted visa-free visits to {island} restored by {month}",
    "Moscow saw no point in {city2} talks while Japan kept its sanctions",
    "joint economic projects on {island} should come before sovereignty",
    "the Kuril dispute had outlasted {k} Japanese prime ministers",
    "a treaty text was still {k} or more years away",
    "fishing quotas near {island} would be settled in {city2}",
    "former residents of {island} deserved an answer before {month}",
    "the Japan-US alliance worried Russian planners in {city2}",
    "both sides had tabled {k} new drafts on {island}",
    "Russia and Japan would meet again in {city2} in {month}",
    "a peace treaty with Russia remained Japan's goal since {year}",
    "Japan's claim to {island} and three other islands had not changed",
    "Russian border guards near {island} had detained {k} Japanese boats",
    "the Habomai and Shikotan transfer of {year} was off the table",
    "Japanese investors in {city2} were waiting for a Kuril deal",
    "Moscow would consider grave visits to {island} in {month}",
    "the Russia–Japan dialogue in {city2} should continue despite Ukraine",
    "Tokyo would not recognise Russian sovereignty over {island}",
    "{k} working groups on the islands would report by {month}",
    "sanctions imposed by Tokyo in {year} had poisoned the treaty talks",
    "a ferry link from {city2} to {island} was under discussion",
    "Russian troops held {k} exercises on {island} this year",
    "the Japanese side proposed a joint fisheries zone off {island}",
    "a Putin–Kishida meeting in {city2} was not planned for {month}",
    "the southern Kurils would stay Russian, according to {city2} officials",
    "Japanese maps showing {island} as Japanese angered Moscow",
    "the peace treaty question would go to leaders in {month}",
    "Russian and Japanese historians would meet in {city2} on the islands",
]
_NUMBERED = [
    "after round {n} of the Russia–Japan peace treaty talks",
    "at Russia–Japan treaty session {n}",
    "as Russia–Japan treaty round {n} closed in {city}",
    "during round {n} of the Japan–Russia talks",
    "in remarks after Russia–Japan treaty meeting No. {n}",
    "when Japan–Russia talks number {n} ended on {day}",
]
_QUALIFIERS = [
    "after round {n}",
    "in {month}",
    "for the first time since {year}",
    "despite pressure from {city3}",
    "according to notes seen in {city3}",
    "as negotiators left {city3}",
    "without naming a date",
    "before the summit in {city3}",
    "with {k} experts present",
    "in written answers to question {r}",
    "after {h} hours of talks",
    "at session {n}",
    "when asked about round {n}",
    "in {city3} on {day}",
    "to a committee of {k} deputies",
    "ahead of talks No. {n}",
]
_OPENERS = [
    "{City}, {date}:",
    "From our {city} bureau, {day}:",
    "Dispatch {n} from {city}:",
    "{Day}, {city} desk:",
    "Report {n}-{r}, {city}:",
    "{City}, {k} {month}:",
    "Notes from {city}, {day}:",
    "Update {r} from {city}:",
]
_CLOSERS = [
    "Round {n} of the Russia–Japan peace treaty talks ended in {city} on {day}.",
    "Russian and Japanese negotiators closed peace treaty session No. {n} in {city}.",
    "Peace treaty consultations between Moscow and Tokyo, number {n} in the series, took place in {city} this {day}.",
    "Diplomats from Russia and Japan met in {city} on {date} for peace treaty talks, round {n}.",
    "Japan and Russia held round {n} of their peace treaty negotiations in {city} on {day}.",
    "In {city}, session {n} of talks on a Russia–Japan peace treaty opened on {date}.",
]
_TITLES = [
    "Russia-Japan peace treaty talks, round {n}: {city} meeting",
    "Russia and Japan hold treaty session {n} in {city}",
    "Kuril dispute: {city} round {n}",
    "Round {n} of Russia-Japan peace talks in {city}",
    "Japan, Russia meet again on peace treaty (session {n})",
    "{city} talks No. {n} on the Kuril Islands",
]
_CITIES = [
    "Moscow",
    "Tokyo",
    "Vladivostok",
    "Sapporo",
    "Yuzhno-Sakhalinsk",
    "Nemuro",
    "Osaka",
    "Khabarovsk",
    "Kyoto",
    "St Petersburg",
]
_ISLANDS = [
    "Iturup",
    "Kunashir",
    "Shikotan",
    "the Habomai islets",
    "the southern Kurils",
    "the islands Japan calls its Northern Territories",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


class Texts:
    """Unique, relevant posts: a generated lead carrying the post's number, then fixture sentences."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.pool = []
        for path in sorted((REPO / "tests" / "fixtures" / "classify").glob("new__en_*.txt")):
            if "quotes_seed" in path.name:
                continue  # that article quotes the seed; keep every post clear of copy/excerpt
            body = path.read_text("utf-8").partition("\n\n")[2]
            for sentence in re.split(r"(?<=[.!?])\s+", body):
                sentence = sentence.strip()
                if 8 <= len(sentence.split()) <= 60:  # whole sentences, no headings or chrome
                    self.pool.append(sentence)
        if len(self.pool) < 40:
            raise SystemExit(f"only {len(self.pool)} fixture sentences found under tests/fixtures/classify")

    def _fill(self, n: int) -> dict:
        r = self.rng
        f = {
            "n": n,
            "city": r.choice(_CITIES),
            "city2": r.choice(_CITIES),
            "city3": r.choice(_CITIES),
            "day": r.choice(_DAYS),
            "month": r.choice(_MONTHS),
            "island": r.choice(_ISLANDS),
            "date": f"{r.randint(1, 28)} {r.choice(_MONTHS)}",
            "year": r.randint(1991, 2019),
            "k": r.randint(2, 19),
            "h": r.randint(2, 11),
            "r": r.randint(100, 999),
        }
        f["City"], f["Day"] = f["city"], f["day"]
        return f

    def _sentence(self, n: int, tails: list[str], opener: bool = False) -> str:
        r = self.rng
        first, second = r.sample(_CLAIMS, 2)
        start = f"{r.choice(_OPENERS)} " if opener else ""
        text = f"{start}{r.choice(_SUBJECTS)} {r.choice(_VERBS)} {first}, and that {second} {r.choice(tails)}."
        return text.format(**self._fill(n))

    def post(self, n: int) -> tuple[str, list[str]]:
        """(title, paragraphs) of post number n."""
        f = self._fill(n)
        lead = " ".join(
            [self._sentence(n, _NUMBERED, opener=True)]
            + [self._sentence(n, _QUALIFIERS) for _ in range(2)]
            + [self.rng.choice(_CLOSERS).format(**f)]
        )
        rest = self.rng.sample(self.pool, POOL_SENTENCES_PER_POST)
        half = POOL_SENTENCES_PER_POST // 2
        return self.rng.choice(_TITLES).format(**f), [lead, " ".join(rest[:half]), " ".join(rest[half:])]


def to_html(paragraphs: list[str]) -> str:
    return "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)


# --- the sites (a separate process) --------------------------------------------------------------
class _FeedHandler(BaseHTTPRequestHandler):
    """One request to one NewsFeed; `server` is the _Listener of the address it arrived on."""

    protocol_version = "HTTP/1.0"  # one request per connection: nothing idles in a handler thread

    def do_GET(self):
        listener = self.server
        status, headers, body = listener.app.render(
            self.path, self.headers.get("Host") or listener.netloc, self.headers
        )
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)
        listener.log.append((time.time(), listener.index, status))

    def log_message(self, *args):
        pass


class _Listener:
    def __init__(self, index: int, app, netloc: str, log: list):
        self.index, self.app, self.netloc, self.log = index, app, netloc, log


class FeedHost(threading.Thread):
    """Many NewsFeeds, each at the root of its own loopback address, behind one selector loop.

    200 `SiteServer`s would do the same with 200 accept threads polling every 50 ms (~8 % of a core
    while idle on this machine); this loop sleeps until a connection arrives and hands it to a pool.
    """

    def __init__(self, apps: list):
        super().__init__(daemon=True, name="feed-host")
        self.sel = selectors.DefaultSelector()
        self.pool = ThreadPoolExecutor(FEED_SERVER_THREADS, thread_name_prefix="feed")
        self.log: list = []  # (time, feed index, status); list.append is atomic
        self.urls = []
        self.stopping = threading.Event()
        for i, app in enumerate(apps):
            ip = f"127.0.1.{FEED_IP_BASE + i}"
            sock = socket.create_server((ip, 0), backlog=128)
            sock.setblocking(False)
            netloc = f"{ip}:{sock.getsockname()[1]}"
            self.sel.register(sock, selectors.EVENT_READ, _Listener(i, app, netloc, self.log))
            self.urls.append(f"http://{netloc}/rss.xml")

    def run(self):
        while not self.stopping.is_set():
            for key, _ in self.sel.select(timeout=0.5):
                try:
                    conn, addr = key.fileobj.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                self.pool.submit(self._serve, conn, addr, key.data)

    @staticmethod
    def _serve(conn, addr, listener):
        conn.setblocking(True)
        conn.settimeout(FEED_SERVER_TIMEOUT_S)
        try:
            _FeedHandler(conn, addr, listener)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def stop(self):
        self.stopping.set()
        self.join(2)
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()
        self.pool.shutdown(wait=False, cancel_futures=True)


def _site_host(conn) -> None:
    """Runs in its own process: serves the feeds and blogs, publishes on request, hands out its logs."""
    from rjwatch.demo.server import SiteServer
    from rjwatch.demo.site import NewsFeed, NewsItem, Post, build_blog

    feeds = []
    for i in range(N_FEEDS):
        # The starting stories: the (off-topic) posts of a small synthetic blog, as news items.
        seed_posts = build_blog(f"news{i}", FEED_START_ITEMS, seed=WORLD_SEED).posts
        items = [
            NewsItem(f"story-{i}-{k}", p.title, p.published, body_html=p.body_html) for k, p in enumerate(seed_posts)
        ]
        feeds.append(NewsFeed(key=f"news{i}", title=f"Regional news {i}", items=items))
    blogs = [build_blog(f"blog{j}", BLOG_POSTS, template="simple", seed=WORLD_SEED + j) for j in range(N_BLOGS)]
    host = FeedHost(feeds)
    host.start()
    servers = [SiteServer(b, host=f"127.0.2.{BLOG_IP_BASE + j}").start() for j, b in enumerate(blogs)]
    conn.send({"feeds": host.urls, "blogs": [s.base_url for s in servers]})
    ids = random.Random(WORLD_SEED)
    while True:
        msg = conn.recv()
        if msg[0] == "publish":
            _, kind, index, title, body_html = msg
            when = datetime.now(UTC).replace(microsecond=0)
            if kind == "feed":
                slug = "talks-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
                feeds[index].publish(NewsItem(slug, title, when, body_html=body_html, lang="en"))
                conn.send({"url": f"{host.urls[index].rsplit('/', 1)[0]}/news/{slug}.html"})
            else:
                post = blogs[index].publish(
                    Post(
                        str(ids.randrange(10**18, 10**19)),
                        title,
                        "",
                        when,
                        body_html=body_html,
                        lang="en",
                        author="Blog Author",
                    )
                )
                conn.send({"url": servers[index].base_url + post.path})
        elif msg[0] == "logs":
            blog_log = [(r.time, j, r.path, r.status) for j, s in enumerate(servers) for r in s.requests]
            conn.send({"feeds": list(host.log), "blogs": blog_log})
        elif msg[0] == "stop":
            host.stop()
            for s in servers:
                s.stop()
            conn.send("stopped")
            return


class Sites:
    """The parent's handle on the site process."""

    def __init__(self):
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_site_host, args=(child,), name="rjwatch-bench-sites", daemon=True)
        self.proc.start()
        if not self.conn.poll(120):
            raise SystemExit("the site process did not start within 120 s")
        urls = self.conn.recv()
        self.feed_urls, self.blog_urls = urls["feeds"], urls["blogs"]
        self.lock = threading.Lock()

    def call(self, *msg):
        with self.lock:
            try:
                self.conn.send(msg)
                return self.conn.recv()
            except (OSError, EOFError):
                self.proc.join(1)
                raise SystemExit(f"the site process is gone (exit code {self.proc.exitcode})") from None

    def stop(self):
        try:
            self.call("stop")
        finally:
            self.proc.join(10)


# --- the webhook receiver --------------------------------------------------------------------------
class Receiver:
    """Records every POST with its arrival time and `X-Rjwatch-Key` (Apprise json:// channel)."""

    def __init__(self):
        self.records: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    payload = {}
                with receiver.lock:
                    receiver.records.append(
                        {"t": time.time(), "key": self.headers.get("X-Rjwatch-Key"), "title": payload.get("title")}
                    )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True, name="receiver")
        self.thread.start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.records)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# --- the daemon and the CLI ----------------------------------------------------------------------
def python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def clean_env() -> dict:
    """The environment without RJWATCH_* (so only --db/--config count) and with logs in UTC."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RJWATCH_")}
    env["TZ"] = "UTC"
    return env


def cli(db: Path, cfg: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [python(), "-m", "rjwatch", "--db", str(db), "--config", str(cfg), *args]
    r = subprocess.run(cmd, cwd=REPO, env=clean_env(), capture_output=True, text=True, timeout=SETUP_TIMEOUT_S)
    if check and r.returncode != 0:
        raise SystemExit(f"`rjwatch {' '.join(args)}` exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def write_config(path: Path, hook_url: str) -> None:
    lines = [f"{k} = {json.dumps(v)}" for k, v in CONFIG.items()]
    lines += ["", "[[alerts.channels]]", 'name = "hook"', f'url = "{hook_url}"', f"max_per_hour = {MAX_PER_HOUR}"]
    path.write_text("\n".join(lines) + "\n", "utf-8")


def proc_status(pid: int) -> dict:
    """VmRSS (MB) and CPU seconds of one process, or {} when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            rss = next((int(line.split()[1]) / 1024 for line in fh if line.startswith("VmRSS:")), None)
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return {"rss_mb": rss, "cpu_s": cpu, "ppid": int(fields[1])}
    except (OSError, StopIteration, ValueError, IndexError):
        return {}


def children_of(pid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(name))
            except (OSError, ValueError, IndexError):
                continue
    return out


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as fh:
        parts = [int(x) for x in fh.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def read_db(db: Path, sql: str, params=()) -> list:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


class Sampler(threading.Thread):
    """Every RSS_SAMPLE_S: the daemon's VmRSS and CPU, its crawl children, the heartbeat, machine load."""

    def __init__(self, pid: int, db: Path, t0: float):
        super().__init__(daemon=True, name="sampler")
        self.pid, self.db, self.t0 = pid, db, t0
        self.samples: list[dict] = []
        self.stopping = threading.Event()

    def sample(self) -> None:
        now = time.time()
        st = proc_status(self.pid)
        kids = [proc_status(c) for c in children_of(self.pid)]
        try:
            row = read_db(self.db, "SELECT value FROM meta WHERE key = 'heartbeat'")
            beat = json.loads(row[0][0]) if row else None
        except sqlite3.Error:
            beat = None
        busy, total = machine_busy()
        self.samples.append(
            {
                "t": now,
                "age_s": round(now - self.t0, 1),
                "rss_mb": st.get("rss_mb"),
                "cpu_s": st.get("cpu_s"),
                "children": len(kids),
                "children_rss_mb": round(sum(k.get("rss_mb") or 0 for k in kids), 1),
                "heartbeat": beat,
                "machine_busy": busy,
                "machine_total": total,
                "loadavg": os.getloadavg()[0],
            }
        )

    def run(self):
        while not self.stopping.wait(RSS_SAMPLE_S - (time.time() - self.t0) % RSS_SAMPLE_S):
            self.sample()


class Watcher(threading.Thread):
    """Notes when the heartbeat row changes (each heartbeat job run) and how long crawl children live.

    The heartbeat job runs every tick and writes one row, so the moment the row changes is when the
    job really ran (within WATCH_S), which the daemon's own lag figure does not show: it is taken when
    a job is handed to the executor, not when a worker thread starts it.
    """

    def __init__(self, pid: int, db: Path):
        super().__init__(daemon=True, name="watcher")
        self.pid, self.db = pid, db
        self.beats: list[tuple[float, str]] = []  # (time the new row was seen, its "at")
        self.children: dict[int, list] = {}  # pid -> [first seen, last seen, command line]
        self.stopping = threading.Event()

    def run(self):
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30, check_same_thread=False)
        last, i = None, 0
        try:
            while not self.stopping.wait(WATCH_S):
                try:
                    row = conn.execute("SELECT value FROM meta WHERE key = 'heartbeat'").fetchone()
                except sqlite3.Error:
                    row = None
                now = time.time()
                if row and row[0] != last:
                    last = row[0]
                    self.beats.append((now, json.loads(row[0]).get("at")))
                i += 1
                if i % CHILD_WATCH_EVERY == 0:
                    for child in children_of(self.pid):
                        if child not in self.children:
                            self.children[child] = [now, now, cmdline(child)]
                        self.children[child][1] = now
        finally:
            conn.close()


class Publisher(threading.Thread):
    """Publishes post n at t0 + n * PUBLISH_EVERY_S on a random feed or blog, and records it."""

    def __init__(self, sites: Sites, texts: Texts, t0: float, until: float):
        super().__init__(daemon=True, name="publisher")
        self.sites, self.texts, self.t0, self.until = sites, texts, t0, until
        self.rng = random.Random(PUBLISH_SEED)
        self.published: list[dict] = []
        self.stopping = threading.Event()

    def run(self):
        n = 0
        while True:
            n += 1
            due = self.t0 + n * PUBLISH_EVERY_S
            if due > self.until or self.stopping.wait(max(0.0, due - time.time())):
                return
            if self.rng.random() < BLOG_SHARE:
                kind, index = "blog", self.rng.randrange(N_BLOGS)
            else:
                kind, index = "feed", self.rng.randrange(N_FEEDS)
            title, paragraphs = self.texts.post(n)
            t = time.time()
            reply = self.sites.call("publish", kind, index, title, to_html(paragraphs))
            self.published.append(
                {"n": n, "t": t, "at": now_iso(), "kind": kind, "site": index, "url": reply["url"], "title": title}
            )


# --- analysis --------------------------------------------------------------------------------------
def daemon_started_at(log_path: Path) -> float | None:
    """When the daemon logged "rjwatch daemon started" (right after creating its 5 s triggers)."""
    for line in log_path.read_text("utf-8", "replace").splitlines():
        if "rjwatch daemon started" in line:
            stamp = line[:23]  # "2025-01-01 12:00:00,123" (logging's asctime, TZ=UTC)
            return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC).timestamp()
    return None


def poll_passes(feed_log: list, t_from: float, t_to: float) -> list[dict]:
    """Group the feed server's requests into polling passes (clusters PASS_GAP_S apart)."""
    times = sorted(r[0] for r in feed_log if t_from <= r[0] <= t_to)
    passes: list[dict] = []
    for t in times:
        if passes and t - passes[-1]["last"] <= PASS_GAP_S:
            passes[-1]["last"] = t
            passes[-1]["requests"] += 1
        else:
            passes.append({"first": t, "last": t, "requests": 1})
    return passes


def refetch_gaps(feed_log: list, t_from: float, t_to: float) -> list[float]:
    """Seconds between consecutive fetches of the same feed, in the window."""
    by_feed = defaultdict(list)
    for t, index, _ in feed_log:
        if t_from <= t <= t_to:
            by_feed[index].append(t)
    gaps = []
    for times in by_feed.values():
        times.sort()
        gaps += [b - a for a, b in zip(times, times[1:])]
    return gaps


def summarise(values: list[float], digits: int = 3) -> dict:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(pct(values, 0.5), digits),
        "p99": round(pct(values, 0.99), digits),
        "max": round(max(values), digits),
    }


def analyse(ctx: dict) -> dict:
    db: Path = ctx["db"]
    t_start, t_stop = ctx["t_daemon"], ctx["t_sigterm"]
    start_iso = datetime.fromtimestamp(t_start, UTC).isoformat(timespec="seconds")
    published = ctx["published"]
    received = ctx["received"]
    res: dict = {"minutes": ctx["minutes"], "published": len(published)}

    # Scheduling lag: the heartbeat (the daemon's own figure) ...
    beat_rows = read_db(db, "SELECT value FROM meta WHERE key = 'heartbeat'")
    beat = json.loads(beat_rows[0][0]) if beat_rows else {}
    res["heartbeat"] = beat
    sampled_max = [
        s["heartbeat"]["lag"]["max_s"] for s in ctx["samples"] if s.get("heartbeat") and s["heartbeat"].get("lag")
    ]
    res["heartbeat_lag_max_seen"] = max(sampled_max) if sampled_max else None

    # ... and from outside. The 5 s jobs fire on one grid that starts when the daemon creates its
    # triggers, just before it logs "rjwatch daemon started"; tick k is at phase + 5 k.
    phase = ctx.get("t_grid")
    children = [(first, last) for first, last, cmd in ctx["children"].values() if " crawl " in f" {cmd} "]
    res["other_children"] = sorted({cmd for _, _, cmd in ctx["children"].values() if " crawl " not in f" {cmd} "})

    def crawling(t: float) -> int:
        """Crawl subprocesses alive at t (each holds one of the daemon's executor threads)."""
        return sum(1 for first, last in children if first - CHILD_WATCH_EVERY * WATCH_S <= t <= last)

    def tick_of(t: float) -> tuple[int, float]:
        k = int((t - phase) // TICK_S)
        return k, t - (phase + k * TICK_S)

    # The heartbeat job: when its row changed, against its tick. A run that starts more than one tick
    # late is seen against the next tick, and leaves a tick without any heartbeat.
    beats = [(t, at) for t, at in ctx["beats"] if t_start <= t <= t_stop]
    if phase is not None and beats:
        seen, lags = set(), []
        late_beats = []
        for t, _ in beats:
            k, lag = tick_of(t)
            seen.add(k)
            lags.append(lag)
            if lag > LATE_S:
                late_beats.append(
                    {"age_s": round(t - t_start, 1), "lag_s": round(lag, 2), "crawls_running": crawling(t)}
                )
        last_tick = tick_of(t_stop - LATE_S)[0]
        missing = sorted(set(range(0, last_tick + 1)) - seen)
        res["beat_lag_s"] = summarise(lags, 2)
        res["late_beats"] = late_beats
        res["ticks"] = last_tick + 1
        res["ticks_without_beat"] = [
            {
                "age_s": round(phase + k * TICK_S - t_start, 1),
                "crawls_running": crawling(phase + k * TICK_S + TICK_S / 2),
            }
            for k in missing
        ]
    else:
        res["beat_lag_s"], res["late_beats"], res["ticks"], res["ticks_without_beat"] = {"n": 0}, [], 0, []

    # Polling passes: when each reached the feeds (its first request), against its tick.
    passes = poll_passes(ctx["feed_log"], t_start, t_stop)
    if phase is not None:
        for p in passes:
            p["offset"] = tick_of(p["first"])[1]
    res["pass_offset_s"] = summarise([p["offset"] for p in passes if "offset" in p])
    res["passes"] = len(passes)
    res["pass_list"] = [
        [
            round(p["first"] - t_start, 2),
            round(p.get("offset", -1), 3),
            p["requests"],
            round(p["last"] - p["first"], 2),
            crawling(p["first"]),
        ]
        for p in passes
    ]
    res["late_passes"] = [
        {
            "age_s": round(p["first"] - t_start, 1),
            "offset_s": round(p["offset"], 2),
            "requests": p["requests"],
            "crawls_running": crawling(p["first"]),
        }
        for p in passes
        if p.get("offset", 0) > LATE_S
    ]
    gaps = refetch_gaps(ctx["feed_log"], t_start, t_stop)
    res["refetch_s"] = summarise(gaps, 1)
    res["refetch_over"] = sum(1 for g in gaps if g > REFETCH_MAX_S)

    # The daemon's `runs` rows for polls: how many, what they fetched, and how many began at least a
    # second after their tick. started_at is cut to whole seconds: a start in [s, s + 1) with a tick
    # inside that second may have been on time.
    poll_rows = read_db(
        db,
        "SELECT started_at, finished_at, pages, stats FROM runs WHERE kind = 'poll' AND started_at >= ? ORDER BY id",
        (start_iso,),
    )
    res["poll_runs"] = len(poll_rows)
    res["feed_fetches"] = sum(r[2] or 0 for r in poll_rows)
    res["poll_not_modified"] = sum(json.loads(r[3] or "{}").get("not_modified", 0) for r in poll_rows)
    res["poll_failed"] = sum(json.loads(r[3] or "{}").get("failed", 0) for r in poll_rows)
    if phase is not None:
        lower = [tick_of(parse_iso(r[0]))[1] for r in poll_rows]
        res["poll_runs_late_1s"] = sum(1 for d in lower if 1.0 <= d <= TICK_S - 1.0)
    res["feed_requests_seen"] = sum(1 for r in ctx["feed_log"] if t_start <= r[0] <= t_stop)

    # Crawls: the daemon's runs rows, and the subprocesses as seen from outside.
    crawl_rows = read_db(
        db,
        "SELECT source_id, started_at, finished_at, finish_reason FROM runs "
        "WHERE kind = 'crawl' AND started_at >= ? ORDER BY id",
        (start_iso,),
    )
    res["crawls"] = len(crawl_rows)
    res["crawl_reasons"] = dict(Counter(r[3] for r in crawl_rows))
    res["crawl_children"] = sorted([round(first - t_start, 1), round(last - t_start, 1)] for first, last in children)
    res["crawl_child_s"] = summarise([last - first for first, last in children], 1)
    res["crawl_concurrency_max"] = max((crawling(first) for first, _ in children), default=0)

    # Job failures and crawl exits the daemon logged (the run and the drain).
    log = ctx["log_text"]
    failures = Counter(m.group(1) for m in re.finditer(r"ERROR rjwatch\.daemon: job (\S+) failed", log))
    failures.update(
        m.group(1) + " (raised)" for m in re.finditer(r'ERROR apscheduler\.executors\.default: Job "Daemon\.(\w+)', log)
    )
    res["job_failures"] = dict(failures)
    res["crawl_nonzero_exits"] = len(re.findall(r"WARNING rjwatch\.daemon: crawl of source \d+ exited", log))
    errors = re.findall(r"^((?:sqlite3|storage\.db)\.\w+Error: .*)$", log, re.M)
    res["db_errors"] = dict(Counter(re.sub(r"sqlite_utils_[0-9a-f]{32}", "sqlite_utils_<id>", e) for e in errors))

    # Memory.
    rss = [(s["age_s"], s["rss_mb"]) for s in ctx["samples"] if s.get("rss_mb") and s["t"] <= t_stop]
    start = next(((a, v) for a, v in rss if a >= RSS_START_AFTER_S), None)
    end = rss[-1] if rss else None
    res["rss_start"] = start
    res["rss_end"] = end
    res["rss_peak_mb"] = max((v for _, v in rss), default=None)
    res["rss_growth"] = (end[1] - start[1]) / start[1] if start and end else None
    res["rss_series"] = rss
    res["children_rss_peak_mb"] = max((s["children_rss_mb"] for s in ctx["samples"]), default=0)
    cpu = [s for s in ctx["samples"] if s.get("cpu_s") is not None and s["t"] <= t_stop]
    if len(cpu) >= 2:
        a, b = cpu[0], cpu[-1]
        res["daemon_cpu_share"] = (b["cpu_s"] - a["cpu_s"]) / (b["t"] - a["t"])
        ncpu = os.cpu_count() or 1
        res["machine_busy_share"] = (
            (b["machine_busy"] - a["machine_busy"]) / max(1, b["machine_total"] - a["machine_total"])
        ) * ncpu
        res["loadavg_max"] = max(s["loadavg"] for s in ctx["samples"])

    # Exactly once.
    qualified = read_db(
        db,
        "SELECT key, kind, post_id FROM alerts WHERE kind IN ('new', 'copy', 'excerpt') AND "
        "status != 'suppressed' AND created_at >= ?",
        (start_iso,),
    )
    q_keys = {r[0] for r in qualified}
    res["qualified"] = len(q_keys)
    res["qualified_by_kind"] = dict(Counter(r[1] for r in qualified))
    res["posts_relevant_in_window"] = read_db(
        db, "SELECT count(*) FROM posts WHERE status IN ('new', 'copy', 'excerpt') AND first_seen >= ?", (start_iso,)
    )[0][0]
    post_keys = [r["key"] for r in received if (r["key"] or "").startswith("post-")]
    delivered = set(post_keys)
    res["delivered"] = len(delivered & q_keys)
    res["delivered_post_keys"] = len(delivered)
    res["duplicates"] = len(post_keys) - len(delivered)
    res["duplicate_keys"] = sorted(k for k, c in Counter(post_keys).items() if c > 1)
    res["missing_keys"] = sorted(q_keys - delivered)
    res["unexpected_keys"] = sorted(delivered - q_keys)
    res["other_deliveries"] = dict(
        Counter((r["key"] or "?").split("-")[0] for r in received if not (r["key"] or "").startswith("post-"))
    )
    res["alerts_by_status"] = dict(read_db(db, "SELECT status, count(*) FROM alerts GROUP BY status"))
    res["deliveries_by_status"] = dict(read_db(db, "SELECT status, count(*) FROM deliveries GROUP BY status"))

    # Every published post: collected? with what status? alerted? how fast?
    rows = read_db(
        db,
        "SELECT p.id, p.title, p.status, p.first_seen, a.key, a.status FROM posts p LEFT JOIN alerts a "
        "ON a.post_id = p.id AND a.kind IN ('new', 'copy', 'excerpt') WHERE p.first_seen >= ?",
        (start_iso,),
    )
    by_title = {r[1]: r for r in rows}
    first_delivery = {}
    for r in received:
        first_delivery.setdefault(r["key"], r["t"])
    statuses, not_collected, collect_lat, alert_lat = Counter(), [], [], []
    for p in published:
        row = by_title.get(p["title"])
        if row is None:
            not_collected.append(p)
            continue
        statuses[row[2]] += 1
        collect_lat.append(parse_iso(row[3]) - p["t"])
        if row[4] in first_delivery:
            alert_lat.append(first_delivery[row[4]] - p["t"])
    res["published_status"] = dict(statuses)
    res["not_collected"] = [
        {"n": p["n"], "kind": p["kind"], "site": p["site"], "age_s": round(p["t"] - t_start)} for p in not_collected
    ]
    res["collect_latency_s"] = summarise(collect_lat, 1)
    res["alert_latency_s"] = summarise(alert_lat, 1)
    res["published_by_kind"] = dict(Counter(p["kind"] for p in published))
    res["exit_code"] = ctx["exit_code"]
    res["stop_s"] = ctx["stop_s"]
    res["drained"] = ctx["drained"]
    res["drain_s"] = ctx["drain_s"]
    res["setup"] = ctx["setup"]
    return res


def fmt(v, unit: str = "", digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}{unit}"
    return f"{v}{unit}"


def render(res: dict, label: str) -> str:
    hb = (res.get("heartbeat") or {}).get("lag") or {}
    ok = lambda cond: "ok" if cond else "FAIL"  # noqa: E731
    rs, re_ = res.get("rss_start"), res.get("rss_end")
    growth = res.get("rss_growth")
    po, rf, bl = res["pass_offset_s"], res["refetch_s"], res["beat_lag_s"]
    al, cc = res["alert_latency_s"], res["crawl_child_s"]
    rows = [
        ("daemon run", f"{res['minutes']:g} min publishing + {fmt(res['drain_s'], ' s', 0)} drain", "", ""),
        (
            "posts published (feeds / blogs)",
            f"{res['published']} ({res['published_by_kind'].get('feed', 0)} / {res['published_by_kind'].get('blog', 0)})",
            "",
            "",
        ),
        (
            "lag, heartbeat row (submission) p50 / p99 / max",
            f"{fmt(hb.get('p50_s'), ' s')} / {fmt(hb.get('p99_s'), ' s')} / {fmt(hb.get('max_s'), ' s')} "
            f"({hb.get('samples', 0)} runs)",
            "",
            "",
        ),
        (
            "lag, heartbeat job ran (tick -> row) p50/p99/max",
            f"{fmt(bl.get('p50'), ' s', 2)} / {fmt(bl.get('p99'), ' s', 2)} / {fmt(bl.get('max'), ' s', 2)} "
            f"({bl['n']} runs)",
            f"late (> {LATE_S:g} s): 0",
            ok(not res["late_beats"]),
        ),
        (
            "ticks without a heartbeat run",
            f"{len(res['ticks_without_beat'])} of {res['ticks']}",
            "0",
            ok(not res["ticks_without_beat"]),
        ),
        (
            "lag, poll pass (tick -> 1st feed request) p50/p99/max",
            f"{fmt(po.get('p50'), ' s')} / {fmt(po.get('p99'), ' s')} / {fmt(po.get('max'), ' s')} ({po['n']} passes)",
            f"late (> {LATE_S:g} s): 0",
            ok(not res["late_passes"]),
        ),
        (
            "feed refetch interval p50 / p99 / max",
            f"{fmt(rf.get('p50'), ' s', 1)} / {fmt(rf.get('p99'), ' s', 1)} / {fmt(rf.get('max'), ' s', 1)} "
            f"({rf['n']} refetches)",
            f"<= {REFETCH_MAX_S:.0f} s",
            ok(res["refetch_over"] == 0),
        ),
        (
            "RSS at 1 min / end / peak",
            f"{fmt(rs and rs[1], ' MB', 1)} / {fmt(re_ and re_[1], ' MB', 1)} / {fmt(res['rss_peak_mb'], ' MB', 1)}",
            f"end <= {RSS_END_MAX_MB:.0f} MB",
            ok(re_ is not None and re_[1] <= RSS_END_MAX_MB),
        ),
        (
            "RSS growth 1 min -> end",
            fmt(growth * 100 if growth is not None else None, " %", 1),
            f"<= {RSS_GROWTH_MAX * 100:.0f} %",
            ok(growth is not None and growth <= RSS_GROWTH_MAX),
        ),
        ("posts that qualified (outbox new/copy/excerpt)", f"{res['qualified']} {res['qualified_by_kind']}", "", ""),
        (
            "alerts delivered (distinct keys)",
            f"{res['delivered']}",
            "= qualified",
            ok(res["delivered"] == res["qualified"] and not res["unexpected_keys"]),
        ),
        ("duplicate deliveries", f"{res['duplicates']}", "0", ok(res["duplicates"] == 0)),
        (
            "published posts collected / by status",
            f"{res['published'] - len(res['not_collected'])} {res['published_status']}",
            "all, all new",
            ok(not res["not_collected"] and res["published_status"].get("new", 0) == res["published"]),
        ),
        (
            "publish -> alert delivered p50 / p99 / max",
            f"{fmt(al.get('p50'), ' s', 1)} / {fmt(al.get('p99'), ' s', 1)} / {fmt(al.get('max'), ' s', 1)}",
            "",
            "",
        ),
        (
            "polls done (runs rows / feed fetches / 304s)",
            f"{res['poll_runs']} / {res['feed_fetches']} / {res['poll_not_modified']}",
            "",
            "",
        ),
        ("crawls done (finish reasons)", f"{res['crawls']} {res['crawl_reasons']}", "", ""),
        (
            "crawl subprocess life p50 / max; most at once",
            f"{fmt(cc.get('p50'), ' s', 1)} / {fmt(cc.get('max'), ' s', 1)}; {res['crawl_concurrency_max']}",
            "",
            "",
        ),
        (
            "job failures in the daemon log (by job)",
            ", ".join(f"{k} {v}" for k, v in sorted(res["job_failures"].items())) or "none",
            "none",
            ok(not res["job_failures"]),
        ),
        (
            "crawl subprocesses that exited non-zero",
            f"{res['crawl_nonzero_exits']} of {res['crawls']}",
            "0",
            ok(res["crawl_nonzero_exits"] == 0),
        ),
        (
            "SIGTERM -> exit",
            f"exit {res['exit_code']} after {fmt(res['stop_s'], ' s', 1)}",
            "exit 0",
            ok(res["exit_code"] == 0),
        ),
        (
            "daemon CPU / machine busy (cores of 2)" if os.cpu_count() == 2 else "daemon CPU / machine busy (cores)",
            f"{fmt(res.get('daemon_cpu_share'), '', 2)} / {fmt(res.get('machine_busy_share'), '', 2)}; "
            f"load avg max {fmt(res.get('loadavg_max'), '', 1)}",
            "",
            "",
        ),
    ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    lines = [
        f"rjwatch daemon benchmark ({label}), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{N_FEEDS} feeds + {N_BLOGS} blogs, one post every {PUBLISH_EVERY_S:g} s",
        "",
    ]
    lines.append(f"{'measure':<{w0}}  {'value':<{w1}}  {'target':<{w2}}  check")
    lines.append(f"{'-' * w0}  {'-' * w1}  {'-' * w2}  -----")
    for r in rows:
        lines.append(f"{r[0]:<{w0}}  {r[1]:<{w1}}  {r[2]:<{w2}}  {r[3]}")
    res["failed_checks"] = [r[0] for r in rows if r[3] == "FAIL"]
    lines.append("")
    lines.append(
        "age = seconds since the daemon started; crawls = crawl subprocesses alive then (each holds one "
        "of the daemon's executor threads)"
    )
    if res["late_beats"]:
        lines.append(
            "late heartbeat runs: "
            + ", ".join(
                f"age {b['age_s']} s +{b['lag_s']} s (crawls {b['crawls_running']})" for b in res["late_beats"][:40]
            )
        )
    if res["ticks_without_beat"]:
        lines.append(
            "ticks without a heartbeat run: "
            + ", ".join(f"age {b['age_s']} s (crawls {b['crawls_running']})" for b in res["ticks_without_beat"][:40])
        )
    if res["late_passes"]:
        lines.append(
            "late polling passes: "
            + ", ".join(
                f"age {p['age_s']} s +{p['offset_s']} s ({p['requests']} feeds, crawls {p['crawls_running']})"
                for p in res["late_passes"][:40]
            )
        )
    if res["crawl_children"]:
        lines.append(f"crawl subprocesses [first seen, last seen] (age s): {res['crawl_children']}")
    if res["other_children"]:
        lines.append(f"other child processes of the daemon: {res['other_children']}")
    for key in ("missing_keys", "unexpected_keys", "duplicate_keys"):
        if res[key]:
            lines.append(f"{key}: {res[key][:20]}")
    if res["not_collected"]:
        lines.append(f"published but not collected: {res['not_collected'][:20]}")
    lines.append(
        f"other deliveries: {res['other_deliveries']}; outbox {res['alerts_by_status']}; "
        f"deliveries {res['deliveries_by_status']}"
    )
    lines.append(
        f"relevant posts first seen in the window: {res['posts_relevant_in_window']}; poll runs rows "
        f"starting >= 1 s after their tick: {res.get('poll_runs_late_1s')} of {res['poll_runs']}; "
        f"publish -> stored {res['collect_latency_s']}"
    )
    if res["db_errors"]:
        lines.append(
            "database errors behind the job failures (daemon log): "
            + "; ".join(f"{v} x {k}" for k, v in sorted(res["db_errors"].items(), key=lambda kv: -kv[1]))
        )
    lines.append(f"RSS series (age s, MB): {[(round(a), round(v, 1)) for a, v in res['rss_series']]}")
    lines.append(f"setup: {res['setup']}")
    return "\n".join(lines) + "\n"


# --- the run ---------------------------------------------------------------------------------------
def drain(db: Path, published: list[dict], receiver: Receiver, deadline: float) -> bool:
    """Wait until every published post is stored and nothing is owed to the webhook."""
    titles = {p["title"] for p in published}
    quiet_since = None
    while time.time() < deadline:
        stored = (
            {
                r[0]
                for r in read_db(
                    db, f"SELECT title FROM posts WHERE title IN ({','.join('?' * len(titles))})", tuple(titles)
                )
            }
            if titles
            else set()
        )
        pending = read_db(db, "SELECT count(*) FROM alerts WHERE status = 'pending'")[0][0]
        if stored == titles and pending == 0:
            if quiet_since is None:
                quiet_since = time.time()
            elif time.time() - quiet_since >= SETTLE_S:
                return True
        else:
            quiet_since = None
        time.sleep(1.0)
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="minutes of publishing (default 10)")
    ap.add_argument("--quick", action="store_true", help="a 2-minute smoke run")
    ap.add_argument("--keep", action="store_true", help="keep the temporary database and config")
    args = ap.parse_args()
    minutes = 2.0 if args.quick else args.minutes
    label = "quick" if args.quick else f"{minutes:g} min"
    stem = "daemon_bench_quick" if args.quick else "daemon_bench"
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rjwatch-daemon-bench-"))
    db, cfg = work / "rjwatch.db", work / "rjwatch.toml"
    log_path = OUT / f"{stem}_daemon.log"
    setup: dict = {}
    receiver = Receiver()
    sites = None
    daemon = None
    try:
        t = time.time()
        sites = Sites()
        setup["sites_s"] = round(time.time() - t, 1)
        write_config(cfg, receiver.url)
        cli(db, cfg, "init")

        # The check the brief asks for: a generated post is `new`, as a page and as a feed summary.
        from rjwatch.demo.templates import snippet

        title, paragraphs = Texts(PUBLISH_SEED + 1).post(0)
        full, summary = work / "check_full.txt", work / "check_summary.txt"
        full.write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n", "utf-8")
        summary.write_text(title + "\n\n" + snippet(to_html(paragraphs), FEED_SUMMARY_CHARS) + "\n", "utf-8")
        for path in (full, summary):
            verdict = json.loads(cli(db, cfg, "classify", str(path), "--format", "json").stdout)
            verdict = verdict[0] if isinstance(verdict, list) else verdict
            setup[f"classify_{path.stem}"] = verdict.get("status")
            if verdict.get("status") != "new":
                raise SystemExit(
                    f"a generated post is {verdict.get('status')!r}, not 'new' ({path.name}):\n"
                    f"{json.dumps(verdict, indent=1)[:2000]}"
                )

        # Register: 200 feeds from one OPML file, 5 blogs (each also registers its posts feed).
        opml = work / "feeds.opml"
        opml.write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0"><head><title>bench</title></head>'
            "<body>\n"
            + "".join(
                f'<outline type="rss" text="Regional news {i}" xmlUrl="{u}"/>\n' for i, u in enumerate(sites.feed_urls)
            )
            + "</body></opml>\n",
            "utf-8",
        )
        t = time.time()
        cli(db, cfg, "source", "import", str(opml))
        for url in sites.blog_urls:
            cli(db, cfg, "source", "add", url, "--kind", "blogger")
        setup["register_s"] = round(time.time() - t, 1)
        # The silent first collection.
        t = time.time()
        r = cli(db, cfg, "poll", "--all")
        setup["first_poll"] = r.stdout.strip().splitlines()[-1]
        setup["first_poll_s"] = round(time.time() - t, 1)
        t = time.time()
        cli(db, cfg, "crawl")
        setup["first_crawl_s"] = round(time.time() - t, 1)
        setup["posts_before"] = read_db(db, "SELECT count(*) FROM posts")[0][0]
        setup["sources"] = dict(read_db(db, "SELECT kind, count(*) FROM sources GROUP BY kind"))
        print(f"setup done: {json.dumps(setup)}", flush=True)

        # The run.
        with open(log_path, "w") as log_fh:
            t_daemon = time.time()
            daemon = subprocess.Popen(
                [python(), "-m", "rjwatch", "--db", str(db), "--config", str(cfg), "run"],
                cwd=REPO,
                env=clean_env(),
                stdout=log_fh,
                stderr=subprocess.STDOUT,
            )
        sampler = Sampler(daemon.pid, db, t_daemon)
        sampler.start()
        watcher = Watcher(daemon.pid, db)
        watcher.start()
        texts = Texts(PUBLISH_SEED)
        t_end = t_daemon + minutes * 60
        publisher = Publisher(sites, texts, t_daemon, t_end)
        publisher.start()
        shown = None
        while time.time() < t_end:
            if daemon.poll() is not None:
                raise SystemExit(f"the daemon exited early ({daemon.returncode}); see {log_path}")
            time.sleep(1.0)
            left = int((t_end - time.time()) // 60) + 1
            if left != shown:
                shown = left
                print(
                    f"  {left} min to go: {len(publisher.published)} published, {len(receiver.snapshot())} deliveries",
                    flush=True,
                )
        publisher.join()
        t_drain = time.time()
        drained = drain(db, publisher.published, receiver, t_drain + DRAIN_TIMEOUT_S)
        drain_s = time.time() - t_drain
        status = cli(db, cfg, "status", "--format", "json", check=False)
        (OUT / f"{stem}_status.json").write_text(status.stdout or status.stderr, "utf-8")
        sampler.sample()
        sampler.stopping.set()
        watcher.stopping.set()
        watcher.join()
        t_sigterm = time.time()
        daemon.send_signal(signal.SIGTERM)
        try:
            exit_code = daemon.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            exit_code = None
            daemon.kill()
            daemon.wait()
        stop_s = time.time() - t_sigterm
        time.sleep(1.0)  # a delivery still in flight reaches the receiver
        logs = sites.call("logs")
        ctx = {
            "db": db,
            "minutes": minutes,
            "t_daemon": t_daemon,
            "t_sigterm": t_sigterm,
            "t_grid": daemon_started_at(log_path),
            "published": publisher.published,
            "received": receiver.snapshot(),
            "samples": sampler.samples,
            "feed_log": logs["feeds"],
            "beats": watcher.beats,
            "children": watcher.children,
            "log_text": log_path.read_text("utf-8", "replace"),
            "exit_code": exit_code,
            "stop_s": stop_s,
            "drained": drained,
            "drain_s": drain_s,
            "setup": setup,
        }
        res = analyse(ctx)
        res["blog_requests"] = dict(
            Counter(("feed" if "/feeds/" in r[2] else "page") for r in logs["blogs"] if t_daemon <= r[0] <= t_sigterm)
        )
        text = render(res, label)
        print("\n" + text)
        (OUT / f"{stem}.txt").write_text(text, "utf-8")
        with open(OUT / f"{stem}_published.jsonl", "w", encoding="utf-8") as fh:
            for p in publisher.published:
                fh.write(json.dumps(p, ensure_ascii=False) + "\n")
        (OUT / f"{stem}.json").write_text(
            json.dumps(
                {
                    "result": res,
                    "samples": sampler.samples,
                    "deliveries": ctx["received"],
                    "heartbeat_rows": watcher.beats,
                    "children": watcher.children,
                    "t_daemon": t_daemon,
                    "t_grid": ctx["t_grid"],
                },
                indent=1,
                default=str,
            ),
            "utf-8",
        )
        from figures import figure, record

        hb = (res.get("heartbeat") or {}).get("lag") or {}
        rs, re_ = res.get("rss_start"), res.get("rss_end")
        record(
            "daemon",
            [
                figure(f"daemon, {label}: scheduling lag p50 / p99", f"{hb.get('p50_s')} / {hb.get('p99_s')}", "s"),
                figure(
                    f"daemon, {label}: RSS at the end",
                    re_ and re_[1],
                    "MB",
                    "RSS after 1 minute",
                    rs and rs[1],
                    "<= +10%, <= 200 MB",
                ),
                figure(
                    f"daemon, {label}: alerts delivered (distinct keys)",
                    res["delivered"],
                    "",
                    "posts that qualified",
                    res["qualified"],
                    "equal",
                ),
                figure(f"daemon, {label}: duplicate deliveries", res["duplicates"], "", target="0"),
                figure(
                    f"daemon, {label}: SIGTERM -> exit",
                    f"exit {res['exit_code']} after {res['stop_s']:.1f} s",
                    "",
                    target="exit 0",
                ),
            ],
        )
        return 1 if res["failed_checks"] else 0
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        if sites is not None:
            try:
                sites.stop()
            except (OSError, EOFError):
                pass
        receiver.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
