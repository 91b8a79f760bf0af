"""Cluster benchmark: pages/s of 1, 2 and 3 `rjwatch cluster worker` processes, and the ingest worker's rate.

Everything is measured in one run, on the same machine:

1. A 2,000-post Blogger-style blog (rjwatch.demo, feed off, so every post is a page fetch) served on
   loopback by a separate server process (bench/crawl_bench.py's), and a redis-server on a free port.
2. For N = 1, 2, 3: a fresh database and an empty Redis; N workers are started and registered, then
   the blog is seeded. The ingest worker is *not* running meanwhile, so the crawl's pages/s is the
   workers' alone: responses the server saw over the span from its first request to its last.
3. Then the ingest worker starts and drains the 2,000 posts the workers left in the stream; its
   sustained rate is the posts left after its first commit over the time from that commit to the
   stream being empty (start-up and the first batch are left out).
4. The baseline, in the same run: one local `rjwatch crawl` of the same blog (spider, pipeline and
   storage in one process, as without a cluster), same Scrapy settings.

    python bench/cluster_bench.py              # about 5 minutes
    python bench/cluster_bench.py --posts 300  # a smoke run

The table is printed and written to bench/out/cluster_bench.txt; the headline figures go to
bench/out/cluster.figures.json (bench/figures.py) for bench/run_all.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from crawl_bench import CLEAN_ENV, FAST, Server, fresh_db, rjwatch  # noqa: E402

OUT = REPO / "bench" / "out" / "cluster_bench.txt"
#: Posts of the benchmark blog (the size the cluster tests use).
POSTS = 2000
#: Politeness lifted for the benchmark only, as in crawl_bench.py: 16 requests in flight per process.
#: Longest a crawl or a drain may take before the benchmark gives up.
TIMEOUT_S = 900


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cluster(db: Path, url: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rjwatch", "--db", str(db), "cluster", *args, "--redis", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=CLEAN_ENV,
    )


def status(db: Path, url: str) -> dict:
    r = rjwatch(db, "cluster", "status", "--redis", url, "--format", "json")
    return json.loads(r.stdout)


def wait(predicate, what: str, timeout: float = TIMEOUT_S, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise RuntimeError(f"timed out waiting for {what}")


def run_cluster(tmp: Path, srv: Server, url: str, server, n: int, posts: int) -> dict:
    server.flushall()
    db = fresh_db(tmp, f"cluster{n}")
    assert rjwatch(db, "source", "add", srv.url, "--kind", "blogger").returncode == 0
    workers = [cluster(db, url, "worker", *FAST) for _ in range(n)]
    try:
        wait(lambda: status(db, url)["workers"] == n, f"{n} workers to register", timeout=120)
        srv.ask("reset")
        rjwatch(db, "cluster", "seed", "--redis", url)
        # Crawled: the stream holds every post, the frontier is empty, nothing in flight.
        wait(lambda: server.xlen("rjwatch:items") >= posts, "the crawl")
        st = wait(
            lambda: (
                lambda s: (
                    s if s["queued_requests"] == 0 and all(w["in_flight"] == 0 for w in s["worker_detail"]) else None
                )
            )(status(db, url)),
            "the workers to settle",
        )
        seen = srv.ask("stats")
        fp_key = next(iter(server.scan_iter("rjwatch:blogger:dupefilter:*")))
        fingerprints = server.scard(fp_key)
        fp_bytes = server.memory_usage(fp_key, samples=0) / fingerprints
        item_bytes = server.memory_usage("rjwatch:items", samples=0) / server.xlen("rjwatch:items")
        per_worker = [w["pages"] for w in st["worker_detail"]]
        span = seen["last"] - seen["first"]
        started = time.monotonic()
        ingest = cluster(db, url, "ingest", "--idle-exit", "3")
        left = wait(
            lambda: (lambda x: x if x < posts else None)(server.xlen("rjwatch:items")), "the first commit", every=0.02
        )
        first_commit = time.monotonic()
        wait(lambda: server.xlen("rjwatch:items") == 0, "the drain", every=0.05)
        drained = time.monotonic()
        ingest.wait(TIMEOUT_S)
        stored = (
            int(
                subprocess.run(
                    ["sqlite3", str(db), "SELECT count(*) FROM posts"], capture_output=True, text=True
                ).stdout.strip()
                or 0
            )
            if shutil.which("sqlite3")
            else posts
        )
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(60)
    return {
        "fp_bytes": fp_bytes,
        "item_bytes": item_bytes,
        "workers": n,
        "responses": seen["total"],
        "post_pages": seen["post_pages"],
        "span_s": span,
        "pages_per_s": seen["total"] / span,
        "per_worker": per_worker,
        "stored": stored,
        "ingest_items_per_s": left / max(1e-6, drained - first_commit),
        "ingest_total_s": drained - started,
    }


def run_local(tmp: Path, srv: Server) -> dict:
    db = fresh_db(tmp, "local")
    srv.ask("reset")
    started = time.monotonic()
    r = rjwatch(db, "crawl", "--add", "--source", srv.url, *FAST, timeout=TIMEOUT_S)
    wall = time.monotonic() - started
    if r.returncode:
        raise RuntimeError(f"local crawl failed:\n{r.stderr[-2000:]}")
    seen = srv.ask("stats")
    span = seen["last"] - seen["first"]
    return {"responses": seen["total"], "span_s": span, "pages_per_s": seen["total"] / span, "wall_s": wall}


def main() -> None:
    import redis

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=POSTS)
    args = ap.parse_args()
    binary = shutil.which("redis-server")
    if not binary:
        sys.exit("cluster_bench: redis-server is not installed (apt-get install -y redis-server)")
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="rjwatch-cluster-bench-"))
    redis_proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    server = redis.Redis.from_url(url)
    wait(lambda: _ping(server), "redis-server", timeout=10, every=0.05)
    srv = Server("cluster-bench", args.posts, False)
    try:
        results = [run_cluster(tmp, srv, url, server, n, args.posts) for n in (1, 2, 3)]
        memory = server.info("memory")["used_memory"]
        local = run_local(tmp, srv)
    finally:
        srv.close()
        redis_proc.terminate()
        redis_proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    base = results[0]["pages_per_s"]
    lines = [
        f"# cluster_bench: {args.posts}-post blog, feed off; {time.strftime('%Y-%m-%d %H:%M')}",
        "",
        "| crawler workers | responses | span s | pages/s | speed-up vs 1 worker | pages per worker | "
        "ingest posts/s (drain) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['workers']} | {r['responses']} | {r['span_s']:.1f} | {r['pages_per_s']:.1f} | "
            f"{r['pages_per_s'] / base:.2f} | {' / '.join(map(str, r['per_worker']))} | "
            f"{r['ingest_items_per_s']:.0f} |"
        )
    lines += [
        "",
        f"local `rjwatch crawl` (one process, crawl and storage together): {local['responses']} responses, "
        f"{local['pages_per_s']:.1f} pages/s; 1 cluster worker is {base / local['pages_per_s']:.2f}x that",
        f"Redis memory after the last round's crawl: {memory / 1e6:.1f} MB (used_memory); "
        f"dupefilter {results[-1]['fp_bytes']:.0f} bytes per URL, stream {results[-1]['item_bytes']:.0f} "
        f"bytes per waiting post (MEMORY USAGE)",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.posts == POSTS:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(text, "utf-8")
    from figures import figure, record

    local_rate = round(local["pages_per_s"], 1)
    figs = [
        figure(
            f"crawl of a {args.posts}-post blog, {r['workers']} cluster worker{'s' if r['workers'] > 1 else ''}",
            round(r["pages_per_s"], 1),
            "pages/s",
            "local `rjwatch crawl`, one process",
            local_rate,
        )
        for r in results
    ]
    figs.append(
        figure(
            "ingest worker draining the stream (3-worker round)", round(results[-1]["ingest_items_per_s"]), "posts/s"
        )
    )
    record("cluster", figs)


def _ping(server) -> bool:
    import redis

    try:
        return bool(server.ping())
    except redis.ConnectionError:
        return False


if __name__ == "__main__":
    main()
