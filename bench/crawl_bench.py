"""Crawl benchmark: pages/s of a full `rjwatch crawl` against `scrapy bench`, the cost of an incremental
re-crawl, and where the time of one page goes.

Everything is measured in one run, on the same machine:

1. Full crawl, HTML path: a 5,000-post Blogger-style blog (rjwatch.demo, feed disabled, so the posts
   are found through the home page, archives and the sitemap) served on loopback by a separate
   server process, crawled by the real `rjwatch crawl` command (spider, pipeline, storage) with only
   the politeness limits lifted. Pages/s is responses received over the run's wall time (the `runs`
   row, and the crawl process's own wall clock); peak RSS and CPU time come from /usr/bin/time -v,
   the memory of the crawl with its worker processes from sampling their PSS.
2. `scrapy bench` (Scrapy's own link-following spider against its own local server, Scrapy's default
   settings) for a fixed time; our pages/s is reported as a ratio of its pages/s.
   Measurements 1 and 2 are run twice, interleaved, so that load from other work shows up as spread.
3. Incremental re-crawl: a second 5,000-post blog with its feed on is crawled fully once, then again
   with default politeness except DOWNLOAD_DELAY=0; the requests the server saw during the re-crawl
   and its wall time are reported.
4. Per-page costs: 500 post pages fetched once, then the extractor alone (`crawler.extract.extract_page`),
   the spider's whole page callback (extraction, link walk, known-post lookup, new requests), and
   storage alone (`Ingestor.ingest_many`, batches as the pipeline makes them). Set against the crawl's CPU
   time per response, the remainder is Scrapy itself (engine, scheduler, downloader, Twisted) plus the
   crawl process's fixed start-up cost, which is measured separately by crawling a 5-post blog.

    python bench/crawl_bench.py               # the full benchmark (several minutes)
    python bench/crawl_bench.py --posts 500   # a smoke run on smaller blogs

The table is printed and written to bench/out/crawl_bench.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin

#: The checkout this file belongs to: crawls run from it, and its packages are imported from it.
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from procstat import pss_kb  # noqa: E402

#: Where the table of a full-size run is kept next to the other benchmarks' results.
OUT = REPO / "bench" / "out" / "crawl_bench.txt"

#: Posts per benchmark blog: a large real blog (the largest we know has about 7,000 posts).
POSTS = 5000
#: Seed of the generated blogs, so every run crawls the same pages.
SEED = 0
#: Settings of the full crawls: politeness lifted for the benchmark only (16 requests in flight, as
#: `scrapy bench` has), warnings only so that logging costs what it costs in production.
FAST = [
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "-s",
    "CONCURRENT_REQUESTS=16",
    "-s",
    "LOG_LEVEL=WARNING",
]
#: Settings of the incremental re-crawl: production politeness, only the fixed delay removed.
INCREMENTAL = ["-s", "DOWNLOAD_DELAY=0", "-s", "LOG_LEVEL=WARNING"]
#: Seconds `scrapy bench` runs; long enough that its start-up ramp is a small part of the mean.
SCRAPY_BENCH_SECONDS = 20
#: Times measurements 1 and 2 are repeated (interleaved) to show run-to-run spread on a shared machine.
ROUNDS = 2
#: Post pages fetched once for the per-page cost breakdown.
SAMPLE_PAGES = 500
#: Pages run through each step before it is timed (lazy imports, the language detector's models).
WARMUP_PAGES = 5
#: Posts stored per transaction by the pipeline (RJWATCH_BATCH_SIZE / setting batch_size default).
BATCH = 200
#: Posts of the blog crawled to measure a crawl process's fixed cost (start-up, robots.txt, closing).
TINY_POSTS = 5
#: Requests an incremental re-crawl of an unchanged blog may make (robots.txt, feed, home page, ...).
INCREMENTAL_TARGET = 5
#: Our pages/s over scrapy bench's that the benchmark aims for.
RATIO_TARGET = 1.0
#: Longest any single crawl may take before the benchmark gives up (a 5,000-page crawl takes minutes).
CRAWL_TIMEOUT = 1800
#: Longest we wait for a server process that closed its output (it failed) to exit.
SERVER_EXIT_TIMEOUT = 120

#: Seconds between samples of a crawl's memory (its peak lasts seconds: batches, the scheduler's queue).
MEMORY_SAMPLE_SECONDS = 0.25
#: GNU time gives one process's peak RSS and CPU time; without it, rusage of children is the fallback.
TIME_BIN = shutil.which("time", path="/usr/bin") or None
#: A rjwatch.toml or environment variables of the caller must not change the measured crawls.
CLEAN_ENV = {
    k: v
    for k, v in os.environ.items()
    if k not in ("RJWATCH_CONFIG", "RJWATCH_DB", "SCRAPY_SETTINGS_MODULE", "SCRAPY_PROJECT")
}


# -------------------------------------------------------------------------------------------------
# The blog server, in its own process


def serve(key: str, n_posts: int, feed: bool) -> None:
    """Build a blog, serve it, and answer commands on stdin (one JSON line each) until `quit`."""
    from rjwatch.demo.server import SiteServer
    from rjwatch.demo.site import build_blog

    blog = build_blog(key, n_posts, feed_enabled=feed, seed=SEED)
    srv = SiteServer(blog).start()
    print(json.dumps({"url": srv.base_url, "paths": [p.path for p in blog.posts]}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "reset":
            srv.log.wait_for(0)
            srv.log.reset()
            reply = {"ok": True}
        elif cmd == "stats":
            srv.log.wait_for(0)  # no request in flight
            recs = srv.log.records()
            t = os.times()
            reply = {
                "total": srv.log.total,
                "peak_in_flight": srv.peak_in_flight,
                "paths": [r.path for r in recs[:50]],
                "post_pages": sum(1 for r in recs if r.path.split("?")[0].endswith(".html")),
                "feed_pages": sum(1 for r in recs if r.path.startswith("/feeds/")),
                "first": min((r.time for r in recs), default=None),
                "last": max((r.time + r.duration for r in recs), default=None),
                "cpu": t.user + t.system,
            }
        elif cmd == "quit":
            break
        else:
            reply = {"error": f"unknown command {cmd!r}"}
        print(json.dumps(reply), flush=True)
    srv.stop()


class Server:
    """Client side of a `serve` process."""

    def __init__(self, key: str, n_posts: int, feed: bool):
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", key, str(n_posts), str(int(feed))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=CLEAN_ENV,
        )
        hello = json.loads(self._line())
        self.url: str = hello["url"]
        self.paths: list[str] = hello["paths"]

    def _line(self) -> str:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"blog server exited ({self.proc.wait(SERVER_EXIT_TIMEOUT)})")
        return line

    def ask(self, cmd: str) -> dict:
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return json.loads(self._line())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(10)


# -------------------------------------------------------------------------------------------------
# Running crawls


def rjwatch(db: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rjwatch", "--db", str(db), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=CLEAN_ENV,
        timeout=timeout,
    )


class TreeMemory(threading.Thread):
    """Samples the proportional set size (PSS) summed over a process and all its descendants.

    The crawl may start worker processes for its storage work; /usr/bin/time reports the largest single
    process, this the memory of the whole crawl (PSS counts a page shared by several processes once).
    """

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_mb = 0.0
        self.most_processes = 0
        self.main_cpu = 0.0  # CPU s of the measured command itself (not /usr/bin/time, not workers)
        self.stop = threading.Event()

    @staticmethod
    def _tree(pid: int) -> list[int]:
        out, todo = [], [pid]
        while todo:
            p = todo.pop()
            out.append(p)
            try:
                for task in os.listdir(f"/proc/{p}/task"):
                    todo.extend(int(c) for c in open(f"/proc/{p}/task/{task}/children").read().split())
            except OSError:
                pass
        return out

    def run(self) -> None:
        while not self.stop.is_set():
            pids = self._tree(self.pid)
            self.peak_mb = max(self.peak_mb, sum(pss_kb(p) for p in pids) / 1024)
            self.most_processes = max(self.most_processes, len(pids) - (1 if TIME_BIN else 0))
            main = pids[1] if TIME_BIN and len(pids) > 1 else pids[0]
            try:
                fields = open(f"/proc/{main}/stat").read().rsplit(")", 1)[1].split()
                self.main_cpu = max(self.main_cpu, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
            except (OSError, IndexError, ValueError):
                pass
            self.stop.wait(MEMORY_SAMPLE_SECONDS)


def timed(cmd: list[str], *, cwd: Path, timeout: float) -> tuple[subprocess.CompletedProcess, dict]:
    """Run a command; its wall time, CPU time (its children included), peak RSS of its largest process
    (from /usr/bin/time -v when present) and peak PSS of its whole process tree."""
    usage = {}
    if TIME_BIN:
        with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as fh:
            tfile = fh.name
        full = [TIME_BIN, "-v", "-o", tfile, *cmd]
    else:
        full = cmd
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    popen = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=CLEAN_ENV)
    sampler = TreeMemory(popen.pid)
    sampler.start()
    try:
        out, err = popen.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        popen.kill()
        raise
    finally:
        sampler.stop.set()
        sampler.join()
    usage["wall"] = time.perf_counter() - start
    usage["pss_mb"] = sampler.peak_mb
    usage["processes"] = sampler.most_processes
    usage["main_cpu"] = sampler.main_cpu
    if TIME_BIN:
        text = Path(tfile).read_text()
        os.unlink(tfile)
        field = lambda name: float(re.search(rf"{re.escape(name)}: ([\d.]+)", text).group(1))  # noqa: E731
        usage["cpu"] = field("User time (seconds)") + field("System time (seconds)")
        usage["rss_mb"] = field("Maximum resident set size (kbytes)") / 1024
    else:
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        usage["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        # the largest child waited for so far: an upper bound if an earlier child was larger
        usage["rss_mb"] = after.ru_maxrss / 1024
    return subprocess.CompletedProcess(full, popen.returncode, out, err), usage


def crawl(db: Path, srv: Server, settings: list[str]) -> dict:
    """One `rjwatch crawl` of the served blog into `db`: the run row, the process usage, the server's view."""
    srv.ask("reset")
    cpu_before = srv.ask("stats")["cpu"]
    cmd = [sys.executable, "-m", "rjwatch", "--db", str(db), "crawl", "--add", "--source", srv.url, *settings]
    proc, usage = timed(cmd, cwd=REPO, timeout=CRAWL_TIMEOUT)
    seen = srv.ask("stats")
    if proc.returncode:
        raise RuntimeError(f"crawl failed ({proc.returncode}):\n{proc.stdout[-1500:]}\n{proc.stderr[-3000:]}")
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT started_at, finished_at, pages, items, stats, finish_reason FROM runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
        stored = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
    finally:
        conn.close()
    started, finished = (datetime.fromisoformat(x) for x in row[:2])
    stats = json.loads(row[4])
    run_s = (finished - started).total_seconds()
    return {
        "run_s": run_s,
        "pages": row[2],
        "items": row[3],
        "new": sum(stats.get("new", {}).values()),
        "requests": stats.get("requests"),
        "finish_reason": row[5],
        "stored": stored,
        "server_requests": seen["total"],
        "server_paths": seen["paths"],
        "server_post_pages": seen["post_pages"],
        "server_feed_pages": seen["feed_pages"],
        "server_span": (seen["last"] - seen["first"]) if seen["first"] else 0.0,
        "server_cpu": seen["cpu"] - cpu_before,
        **usage,
    }


def fresh_db(tmp: Path, name: str) -> Path:
    db = tmp / f"{name}.db"
    r = rjwatch(db, "init")
    if r.returncode:
        raise RuntimeError(f"rjwatch init failed:\n{r.stdout}\n{r.stderr}")
    return db


#: Scrapy's LogStats line, once a second under `scrapy bench` (LOGSTATS_INTERVAL = 1).
_RATE_RE = re.compile(r"Crawled (\d+) pages \(at (\d+) pages/min\)")


def scrapy_bench(tmp: Path) -> dict:
    """`scrapy bench` for SCRAPY_BENCH_SECONDS, outside the project (Scrapy's defaults, not ours)."""
    where = tmp / "scrapy-bench"
    where.mkdir(exist_ok=True)
    scrapy = Path(sys.executable).with_name("scrapy")
    cmd = [str(scrapy), "bench", "-s", f"CLOSESPIDER_TIMEOUT={SCRAPY_BENCH_SECONDS}"]
    proc, usage = timed(cmd, cwd=where, timeout=SCRAPY_BENCH_SECONDS * 10)
    log = proc.stderr + proc.stdout
    lines = _RATE_RE.findall(log)
    if proc.returncode or not lines:
        raise RuntimeError(f"scrapy bench failed ({proc.returncode}):\n{log[-3000:]}")
    # one line a second; the first is the 0-page line at start, the last covers a part second at closing
    rates = [int(rate) / 60 for _, rate in lines[1:-1]] or [int(lines[-1][1]) / 60]
    received = re.search(r"'response_received_count': (\d+)", log)
    elapsed = re.search(r"'elapsed_time_seconds': ([\d.]+)", log)
    overall = int(received.group(1)) / float(elapsed.group(1)) if received and elapsed else float("nan")
    return {"mean_logged": sum(rates) / len(rates), "overall": overall, **usage}


# -------------------------------------------------------------------------------------------------
# Per-page costs


def breakdown(srv: Server, tmp: Path) -> dict:
    """Extractor, whole page callback and storage, each alone over the same SAMPLE_PAGES post pages."""
    from scrapy.http import HtmlResponse, Request

    from crawler import extract
    from crawler.spiders.blogger import BloggerSpider
    from storage import sources as src
    from storage.db import connect
    from storage.ingest import Ingestor

    step = max(1, len(srv.paths) // SAMPLE_PAGES)
    urls = [srv.url + p for p in srv.paths[::step][:SAMPLE_PAGES]]
    bodies = []
    for u in urls:
        with urllib.request.urlopen(u, timeout=30) as resp:
            bodies.append(resp.read())
    n = len(bodies)
    out = {"n": n, "kb_per_page": sum(map(len, bodies)) / n / 1024}

    def cpu_ms(fn) -> float:
        """CPU ms per page of fn() over the sample (CPU time, as the crawl's is: other work does not count)."""
        start = time.process_time()
        fn()
        return (time.process_time() - start) / n * 1000

    # warm-up (lazy imports, compiled patterns) outside the timed loops
    for b, u in list(zip(bodies, urls))[:WARMUP_PAGES]:
        extract.extract_page(b, u)
    pages: list[dict] = []
    out["extract_ms"] = cpu_ms(lambda: pages.extend(extract.extract_page(b, u) for b, u in zip(bodies, urls)))

    # The spider builds its item from the extracted page exactly like this (BloggerSpider.parse_page).
    keys = ("title", "author", "published", "updated", "html", "lang_hint", "blog_id", "post_id", "labels", "links")
    db_path = fresh_db(tmp, "breakdown")
    db = connect(db_path)
    source_id, _ = src.add_source(db, srv.url, "blogger")
    run_id = src.start_run(db, "crawl", source_id)
    items = []
    for page, u in zip(pages, urls):
        item = {k: page.get(k) for k in keys}
        item.update(url=u, seen_via="page", seen_url=u, source_id=source_id, run_id=run_id)
        items.append(item)
    ing = Ingestor(db)
    for item in items[:WARMUP_PAGES]:
        ing.analyze(dict(item))  # loads the language detector; nothing is written
    # the analysis alone (clean-up, language, fingerprints, relevance): the part that can leave the reactor
    out["analyze_ms"] = cpu_ms(lambda: [ing.analyze(dict(item)) for item in items])
    results = []
    # batches as the pipeline makes them; a first crawl is a silent backfill
    out["ingest_ms"] = cpu_ms(
        lambda: results.extend(ing.ingest_many(items[i : i + BATCH], silent=True) for i in range(0, n, BATCH))
    )
    out["ingest_stored"] = sum(1 for r in results for o in r.outcomes if o.action == "inserted")

    # Listing the links as the spider does: parsel parses the page a second time (one Selector object
    # per href), then every href is resolved against the page URL. Timed without and with the resolving.
    def list_links(resolve: bool) -> int:
        count = 0
        for b, u in zip(bodies, urls):
            r = HtmlResponse(url=u, body=b, encoding="utf-8")
            hrefs = r.css("a::attr(href)").getall()
            r.css("a.blog-pager-older-link::attr(href), a#Blog1_blog-pager-older-link::attr(href)").getall()
            if resolve:
                count += len([urljoin(u, h) for h in hrefs])
        return count

    out["css_ms"] = cpu_ms(lambda: list_links(False))
    counted = []
    out["linkwalk_ms"] = cpu_ms(lambda: counted.append(list_links(True)))
    out["links_per_page"] = counted[0] / n

    # The whole callback of a full walk, with the known-post lookup against the database just filled
    # (as in a real crawl, most linked posts are stored by then) and request objects built.
    class Stats:
        def inc_value(self, *a, **k):
            pass

    class Ctx:
        incremental = False

        def known(self, urls_):
            return src.known_urls(db, urls_) if urls_ else set()

    class Crawler:
        stats = Stats()
        rjwatch = Ctx()

    def callback(responses) -> int:
        spider = BloggerSpider(url=srv.url)
        spider.crawler = Crawler()
        return sum(1 for r in responses for _ in spider.parse_page(r))

    def page(u: str, b: bytes) -> HtmlResponse:  # as the crawl sees a post page: tied to its request
        req = Request(u, meta={"rjwatch_post_page": True, "rjwatch_role": "post"})
        return HtmlResponse(url=u, body=b, encoding="utf-8", request=req)

    callback([page(u, b) for b, u in list(zip(bodies, urls))[:WARMUP_PAGES]])
    responses = [page(u, b) for b, u in zip(bodies, urls)]
    out["callback_ms"] = cpu_ms(lambda: callback(responses))
    db.conn.close()
    return out


# -------------------------------------------------------------------------------------------------
# The report


def fmt(x, digits: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:,.{digits}f}"


def report(full: list[dict], bench: list[dict], incr: dict, feed_full: dict, tiny: dict, bd: dict, posts: int) -> str:
    def row(label, values, target="", digits=1):
        cells = [fmt(v, digits) if not isinstance(v, str) else v for v in values]
        cells += [""] * (ROUNDS - len(cells))
        return f"| {label} | " + " | ".join(cells) + f" | {target} |"

    pps_run = [f["pages"] / f["run_s"] if f["run_s"] else float("nan") for f in full]
    pps_wall = [f["pages"] / f["wall"] for f in full]
    bench_pps = [b["mean_logged"] for b in bench]
    ratio = [p / b for p, b in zip(pps_run, bench_pps)]
    cpu_per_page = [f["cpu"] / f["pages"] * 1000 for f in full]
    cpu_per_page_net = [(f["cpu"] - tiny["cpu"]) / f["pages"] * 1000 for f in full]
    py = sys.version.split()[0]
    lines = [
        f"machine: {os.cpu_count()} cores, load average before the run {bd['load_before']}, after it "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}, Python {py}, "
        f"Scrapy {bd['scrapy']}, SQLite {sqlite3.sqlite_version}; blogs of {posts:,} posts, template simple",
        "",
        "| measurement | " + " | ".join(f"run {i + 1}" for i in range(ROUNDS)) + " | target |",
        "|---|" + "---|" * ROUNDS + "---|",
        row("**1. full crawl, HTML path** (feed off): responses received (`runs.pages`)", [f["pages"] for f in full]),
        row(
            "requests made / requests the server answered",
            [f"{f['requests']:,} / {f['server_requests']:,}" for f in full],
        ),
        row("posts stored", [f["stored"] for f in full], f"{posts:,}"),
        row(
            "crawl wall time s: `runs` row (1 s resolution) / crawl process / server first-to-last request",
            [f"{f['run_s']:.0f} / {f['wall']:.1f} / {f['server_span']:.1f}" for f in full],
        ),
        row("**pages/s** (responses / `runs` wall time)", pps_run),
        row("pages/s (responses / crawl process wall time, start-up included)", pps_wall),
        row("new posts/s (`runs` wall time)", [f["new"] / f["run_s"] if f["run_s"] else None for f in full]),
        row(
            "peak RSS of the crawl's largest process, MB / peak PSS of all its processes, MB (processes)",
            [f"{f['rss_mb']:.0f} / {f['pss_mb']:.0f} ({f['processes']})" for f in full],
        ),
        row(
            "crawl CPU s (user+sys, its worker processes included) / share of its wall time",
            [f"{f['cpu']:.1f} / {f['cpu'] / f['wall']:.0%}" for f in full],
        ),
        row(
            "of which in the crawl's main process (reactor: downloads, callbacks, writes) / in other processes",
            [f"{f['main_cpu']:.1f} / {f['cpu'] - f['main_cpu']:.1f}" for f in full],
        ),
        row("server process CPU s during the crawl", [f["server_cpu"] for f in full]),
        row("**2. `scrapy bench`** pages/s (mean of its per-second log lines)", bench_pps),
        row(
            "scrapy bench pages/s (responses / elapsed) ; its CPU share",
            [f"{b['overall']:.1f} ; {b['cpu'] / b['wall']:.0%}" for b in bench],
        ),
        row("**ratio: our pages/s / scrapy bench pages/s**", ratio, f"≥ {RATIO_TARGET:.1f}", digits=2),
        row(
            "**3. incremental re-crawl** (feed on, unchanged blog): requests the server saw",
            [incr["server_requests"]],
            f"≤ {INCREMENTAL_TARGET}",
        ),
        row("re-crawl: paths requested", [", ".join(f"`{p}`" for p in incr["server_paths"])]),
        row("re-crawl wall time s: crawl process / `runs` row", [f"{incr['wall']:.1f} / {incr['run_s']:.0f}"]),
        row("re-crawl: crawl process CPU s", [incr["cpu"]]),
        row(
            "(the full crawl before it, feed on: responses, posts stored, pages/s by `runs`)",
            [
                f"{feed_full['pages']:,}, {feed_full['stored']:,}, "
                f"{feed_full['pages'] / feed_full['run_s'] if feed_full['run_s'] else float('nan'):.1f}"
            ],
        ),
        row(
            "(that full crawl: feed pages / post pages fetched, though the feed carries every post in full)",
            [f"{feed_full['server_feed_pages']:,} / {feed_full['server_post_pages']:,}"],
        ),
        row(
            f"**4. per page, CPU** ({bd['n']} post pages, {bd['kb_per_page']:.0f} KB each): `extract_page` ms",
            [bd["extract_ms"]],
            digits=2,
        ),
        row(
            f"every link of a page listed with parsel `a::attr(href)` (a 2nd parse; {bd['links_per_page']:.0f} "
            "links a page) ms",
            [bd["css_ms"]],
            digits=2,
        ),
        row("every link listed and resolved (parsel + `urljoin` of each href) ms", [bd["linkwalk_ms"]], digits=2),
        row(
            "whole spider callback `parse_page` (extract + link walk + known-post lookup + requests) ms",
            [bd["callback_ms"]],
            digits=2,
        ),
        row(
            "callback beyond extraction (link walk, known-post lookup, requests) ms",
            [bd["callback_ms"] - bd["extract_ms"]],
            digits=2,
        ),
        row(f"`Ingestor.ingest_many` ms per post (batches of {BATCH}, silent backfill)", [bd["ingest_ms"]], digits=2),
        row(
            "of which analysis (`Ingestor.analyze`, what ingest workers take over) / writing, ms per post",
            [f"{bd['analyze_ms']:.2f} / {bd['ingest_ms'] - bd['analyze_ms']:.2f}"],
        ),
        row("crawl CPU ms per response (run 1, run 2)", cpu_per_page, digits=2),
        row(
            f"fixed cost of a crawl process (crawl of a {TINY_POSTS}-post blog): CPU s / wall s",
            [f"{tiny['cpu']:.1f} / {tiny['wall']:.1f}"],
        ),
        row("crawl CPU ms per response without the fixed cost", cpu_per_page_net, digits=2),
        row(
            "remainder: Scrapy (engine, downloader, Twisted, middlewares) + pipeline hand-off, ms per response "
            "(ingest weighted by posts per response)",
            [
                c - bd["callback_ms"] - bd["ingest_ms"] * f["stored"] / f["pages"]
                for c, f in zip(cpu_per_page_net, full)
            ],
            digits=2,
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=POSTS, help=f"posts per blog (default {POSTS})")
    ap.add_argument("--serve", nargs=3, metavar=("KEY", "N", "FEED"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.serve[2] == "1")
        return
    import scrapy

    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    tmp = Path(tempfile.mkdtemp(prefix="rjcrawlbench-"))
    servers: list[Server] = []
    try:
        html = Server("bench", args.posts, feed=False)
        servers.append(html)
        full, bench = [], []
        for i in range(ROUNDS):
            full.append(crawl(fresh_db(tmp, f"html{i}"), html, FAST))
            print(f"... full crawl {i + 1}: {full[-1]['pages']} pages, {full[-1]['run_s']:.0f} s", file=sys.stderr)
            bench.append(scrapy_bench(tmp))
            print(f"... scrapy bench {i + 1}: {bench[-1]['mean_logged']:.1f} pages/s", file=sys.stderr)
        bd = breakdown(html, tmp)
        bd.update(load_before=load_before, scrapy=scrapy.__version__)
        html.close()

        tiny_srv = Server("bench-tiny", TINY_POSTS, feed=False)
        servers.append(tiny_srv)
        tiny = crawl(fresh_db(tmp, "tiny"), tiny_srv, FAST)
        tiny_srv.close()

        feed = Server("bench-feed", args.posts, feed=True)
        servers.append(feed)
        db = fresh_db(tmp, "feed")
        feed_full = crawl(db, feed, FAST)
        print(f"... feed blog full crawl: {feed_full['pages']} pages", file=sys.stderr)
        incr = crawl(db, feed, INCREMENTAL)
        feed.close()
    finally:
        for s in servers:
            try:
                s.close()
            except Exception:  # a server that died already has nothing to close
                if s.proc.poll() is None:
                    s.proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    for f in full:
        if f["stored"] != args.posts:
            print(f"WARNING: a full crawl stored {f['stored']} posts, not {args.posts}", file=sys.stderr)
    text = report(full, bench, incr, feed_full, tiny, bd, args.posts)
    print(text)
    from figures import figure, record

    figs = [
        figure(
            f"full crawl of a {args.posts:,}-post blog, run {i + 1}",
            round(f["pages"] / f["run_s"], 1) if f["run_s"] else None,
            "pages/s",
            "scrapy bench, same run",
            round(b["mean_logged"], 1),
            f">= {RATIO_TARGET:.1f}x",
        )
        for i, (f, b) in enumerate(zip(full, bench))
    ]
    figs.append(
        figure(
            "incremental re-crawl of the unchanged blog",
            incr["server_requests"],
            "requests",
            target=f"<= {INCREMENTAL_TARGET}",
        )
    )
    figs.append(figure("peak RSS of the largest crawl process", round(max(f["rss_mb"] for f in full)), "MB"))
    record("crawl", figs)
    if args.posts == POSTS:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
