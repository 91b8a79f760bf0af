"""Distributed crawling on scrapy-redis: real redis-server, real worker and ingest processes, a local blog.

A 2,000-post Blogger-style blog (feed off, so every post is a page fetch) is served on 127.0.0.1 and
counts what it serves. Three `rjwatch cluster worker` processes share the frontier in a redis-server
started on a free port; one `rjwatch cluster ingest` stores their posts. Politeness delays are lifted
(as in test_crawl.py); each worker may keep a few requests in flight to the one site.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from helpers import REPO, free_port, q, run_cli, tuples, wait_until
from rjwatch.demo.server import SiteServer
from rjwatch.demo.site import build_blog

pytestmark = pytest.mark.slow

POSTS = 2000
FAST = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=4",
    "-s",
    "RETRY_TIMES=2",
    "-s",
    "DOWNLOAD_TIMEOUT=10",
    "-s",
    "LOG_LEVEL=INFO",
]
#: Longest wait for a round of the 2,000-post blog on a busy 2-core machine.
ROUND_TIMEOUT_S = 240
#: Longest wait for a fresh redis-server to answer a ping (it starts in milliseconds when idle).
REDIS_START_S = 10


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server; .ci/run does it)")
    import redis

    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    if not wait_until(answers, timeout=REDIS_START_S, step=0.05):
        proc.kill()
        pytest.fail("redis-server did not start")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def big_blog():
    blog = build_blog("cluster", POSTS, template="simple", feed_enabled=False, seed=21)
    srv = SiteServer(blog).start()
    yield blog, srv
    srv.stop()


@pytest.fixture
def cluster(redis_url, big_blog, db_path):
    """A clean Redis, the blog registered as a source, and a way to start processes (all stopped after)."""
    import redis

    redis.Redis.from_url(redis_url).flushall()
    blog, srv = big_blog
    srv.log.wait_for(0)
    srv.reset_log()
    assert run_cli("--db", str(db_path), "source", "add", srv.base_url, "--kind", "blogger").exit_code == 0
    procs: list[subprocess.Popen] = []

    def start(*args: str, log_name: str) -> subprocess.Popen:
        out = open(db_path.parent / f"{log_name}.log", "w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "rjwatch", "--db", str(db_path), "cluster", *args, "--redis", redis_url],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        proc.log_path = out.name
        procs.append(proc)
        return proc

    yield start
    _stop(procs)


def _stop(procs: list[subprocess.Popen]) -> None:
    """SIGTERM every process still running, then wait for each (a kill after 30 s)."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def worker(start, n: int):
    return start("worker", *FAST, log_name=f"worker{n}")


def seed(db_path: Path, redis_url: str) -> list[int]:
    result = run_cli("--db", str(db_path), "cluster", "seed", "--redis", redis_url)
    assert result.exit_code == 0, result.output
    return [int(line.split()[1][1:]) for line in result.output.splitlines() if ": seeded" in line]


def wait_round(db_path: Path, run_id: int, timeout: float = ROUND_TIMEOUT_S) -> str:
    def ended() -> list[tuple]:
        return tuples(db_path, "SELECT finish_reason FROM runs WHERE id = ? AND finished_at IS NOT NULL", run_id)

    if not wait_until(ended, timeout=timeout, step=0.5):
        pytest.fail(f"round {run_id} did not end within {timeout} s")
    return ended()[0][0]


def post_fetches(srv: SiteServer) -> Counter:
    srv.log.wait_for(0)
    return Counter(r.path for r in srv.log.records() if r.path.endswith(".html"))


def assert_every_post_once(db_path: Path, blog) -> None:
    count, ids, urls = tuples(
        db_path, "SELECT count(*), count(DISTINCT post_id), count(DISTINCT canonical_url) FROM posts"
    )[0]
    assert (count, ids, urls) == (POSTS, POSTS, POSTS)
    stored = {r[0] for r in tuples(db_path, "SELECT post_id FROM posts")}
    assert stored == {p.post_id for p in blog.posts}


def test_three_workers_fetch_every_page_once_and_one_writer_stores_every_post_once(
    cluster, big_blog, db_path, redis_url
):
    blog, srv = big_blog
    workers = [worker(cluster, n) for n in range(3)]
    cluster("ingest", log_name="ingest")
    (run_id,) = seed(db_path, redis_url)
    assert wait_round(db_path, run_id) == "finished"

    fetched = post_fetches(srv)
    assert set(fetched) == {p.path for p in blog.posts}
    assert max(fetched.values()) == 1, [p for p, n in fetched.items() if n > 1][:5]
    every = Counter(r.path for r in srv.log.records())
    assert {p: n for p, n in every.items() if n > 1 and p != "/robots.txt"} == {}  # each worker reads robots.txt
    assert_every_post_once(db_path, blog)

    pages, items, stats = tuples(db_path, "SELECT pages, items, stats FROM runs WHERE id = ?", run_id)[0]
    assert items == POSTS and pages >= POSTS
    assert sum(json.loads(stats)["new"].values()) == POSTS
    assert tuples(db_path, "SELECT backfill_complete FROM crawl_state WHERE source_id = 1")[0][0] == 1

    status = json.loads(
        run_cli("--db", str(db_path), "cluster", "status", "--redis", redis_url, "--format", "json").output
    )
    assert status["workers"] == 3 and status["queued_requests"] == 0 and status["stream_entries"] == 0
    assert status["ingest_stored"] == POSTS and status["open_rounds"] == []
    # The work was shared: every worker fetched pages.
    assert all(w["pages"] > 0 for w in status["worker_detail"]), status["worker_detail"]
    for w in workers:
        assert w.poll() is None, open(w.log_path).read()[-2000:]

    # An incremental round of the unchanged blog: nothing new, and no post page fetched again.
    srv.reset_log()
    (again,) = seed(db_path, redis_url)
    assert wait_round(db_path, again) == "finished"
    assert post_fetches(srv) == Counter()
    assert tuples(db_path, "SELECT count(*) FROM posts")[0][0] == POSTS


def test_killed_worker_and_ingest_lose_nothing_and_store_nothing_twice(cluster, big_blog, db_path, redis_url):
    blog, srv = big_blog
    workers = [worker(cluster, n) for n in range(3)]
    ingest = cluster("ingest", log_name="ingest")
    (first,) = seed(db_path, redis_url)
    assert wait_until(lambda: q(db_path, "SELECT count(*) FROM posts") >= POSTS // 4, timeout=ROUND_TIMEOUT_S), (
        "the crawl did not get going"
    )
    os.kill(workers[0].pid, signal.SIGKILL)
    os.kill(ingest.pid, signal.SIGKILL)
    workers[0].wait(10)
    ingest.wait(10)
    worker(cluster, 3)
    cluster("ingest", log_name="ingest2")  # same consumer name: re-reads what the killed one had read

    # The worker died without a goodbye: the round cannot vouch for the requests it held.
    assert wait_round(db_path, first) == "interrupted"
    assert tuples(db_path, "SELECT backfill_complete FROM crawl_state WHERE source_id = 1")[0][0] in (None, 0)
    missing = POSTS - tuples(db_path, "SELECT count(*) FROM posts")[0][0]

    # The next round walks the blog again, fetching only the pages of posts not stored yet.
    srv.log.wait_for(0)
    srv.reset_log()
    (second,) = seed(db_path, redis_url)
    assert wait_round(db_path, second) == "finished"
    assert sum(post_fetches(srv).values()) == missing
    assert_every_post_once(db_path, blog)
    assert tuples(db_path, "SELECT backfill_complete FROM crawl_state WHERE source_id = 1")[0][0] == 1


def test_bad_redis_url_is_one_line(db_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rjwatch",
            "--db",
            str(db_path),
            "cluster",
            "status",
            "--redis",
            f"redis://127.0.0.1:{free_port()}/0",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.startswith("rjwatch: error: cannot reach Redis") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    none = run_cli("--db", str(db_path), "cluster", "seed")
    assert none.exit_code != 0 and "no Redis for the cluster" in none.output


def test_cluster_setting_from_the_config_table(tmp_path):
    from rjwatch.settings import load

    cfg_file = tmp_path / "rj.toml"
    cfg_file.write_text('[cluster]\nredis_url = "redis://10.0.0.5:6379/2"\n', "utf-8")
    assert load(cfg_file)["cluster.redis_url"] == "redis://10.0.0.5:6379/2"


def test_daemon_in_cluster_mode_pushes_start_urls_instead_of_crawling(redis_url, db_path, tmp_path):
    import redis

    from crawler.cluster_control import open_rounds
    from rjwatch.settings import load
    from scheduler.daemon import Daemon

    server = redis.Redis.from_url(redis_url)
    server.flushall()
    cfg_file = tmp_path / "rj.toml"
    cfg_file.write_text(f'[cluster]\nredis_url = "{redis_url}"\n', "utf-8")
    assert run_cli("--db", str(db_path), "source", "add", "http://blog.invalid/", "--kind", "blogger").exit_code == 0
    daemon = Daemon(db_path, load(cfg_file))
    first = daemon._run_crawl(1)["cluster"]
    assert first["seeded"] and first["mode"] == "full"
    message = json.loads(server.lpop("rjwatch:blogger:start_urls"))
    assert (message["url"], message["source_id"], message["run_id"]) == ("http://blog.invalid/", 1, first["run_id"])
    assert list(open_rounds(server)) == [first["run_id"]]
    # While the round is open, the next tick pushes nothing.
    assert daemon._run_crawl(1)["cluster"]["seeded"] is False
    assert server.llen("rjwatch:blogger:start_urls") == 0


def test_a_round_that_could_not_read_the_blog_leaves_its_backfill_to_do(redis_url, db_path, served):
    """A cluster round whose archive listings and post pages fail is not a complete backfill: the next
    round walks the whole blog again (not only what the home page lists)."""
    import redis

    redis.Redis.from_url(redis_url).flushall()
    blog = build_blog("cluster-broken", 40, template="simple", feed_enabled=False, seed=23)
    srv = served(blog)
    srv.faults.status("/20*/", 500)  # every archive listing
    srv.faults.status("/sitemap.xml*", 500)
    srv.faults.status("*.html", 503)  # and every post page
    assert run_cli("--db", str(db_path), "source", "add", srv.base_url, "--kind", "blogger").exit_code == 0
    procs = []
    for args, name in ((("worker", *FAST), "worker"), (("ingest",), "ingest")):
        out = open(db_path.parent / f"{name}.log", "w")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "rjwatch", "--db", str(db_path), "cluster", *args, "--redis", redis_url],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )
        )
    try:
        (first,) = seed(db_path, redis_url)
        assert wait_round(db_path, first) == "finished"
        stats = json.loads(tuples(db_path, "SELECT stats FROM runs WHERE id = ?", first)[0][0])
        assert "walk incomplete" in (stats.get("note") or ""), stats
        assert "request(s) the walk needed failed" in (stats.get("anomaly") or ""), stats
        assert tuples(db_path, "SELECT backfill_complete FROM crawl_state WHERE source_id = 1")[0][0] == 0
        srv.faults.clear()
        (second,) = seed(db_path, redis_url)
        assert tuples(db_path, "SELECT stats FROM runs WHERE id = ?", second)  # seeded as a full round
        assert wait_round(db_path, second) == "finished"
        assert tuples(db_path, "SELECT backfill_complete FROM crawl_state WHERE source_id = 1")[0][0] == 1
        assert tuples(db_path, "SELECT count(DISTINCT post_id) FROM posts")[0][0] == 40
    finally:
        _stop(procs)
