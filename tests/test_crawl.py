"""Real Scrapy crawls (in a subprocess) of Blogger-style blogs served on 127.0.0.1; assertions on stored rows.

The blogs come from rjwatch.demo (every template family, feeds capped at 25 entries a page, robots.txt
disallowing /search, faults on demand); the crawler is the real `rjwatch crawl` command with only its
politeness delays lifted so that the suite stays quick (the per-site concurrency limit is kept).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path

import pytest

from helpers import FAST, REPO, descendants, gone, q, relevant_articles, run_cli, wait_until
from rjwatch.demo.site import build_blog
from storage.db import connect

pytestmark = pytest.mark.slow


def crawl(db_path: Path, source: str, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "rjwatch", "--db", str(db_path), "crawl", "--add", "--source", source, *FAST, *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)


def posts(db_path: Path) -> list[dict]:
    db = connect(db_path)
    try:
        return list(
            db.query(
                "SELECT id, canonical_url, title, post_id, blog_id, status, summary_only, text, revision "
                "FROM posts ORDER BY id"
            )
        )
    finally:
        db.conn.close()


TEMPLATES = [
    ("simple", "en"),
    ("minima", "de"),
    ("watermark", "fr"),
    ("awesomeinc", "ru"),
    ("travel", "ja"),
    ("contempo", "en"),
    ("soho", "es"),
    ("notable", "en"),
    ("thirdparty", "en"),
    ("dynamicviews", "de"),
]


@pytest.mark.parametrize("template, locale", TEMPLATES)
def test_every_post_of_a_blog_is_collected_once(db_path, served, template, locale):
    blog = build_blog(f"t-{template}", 60, template=template, locale=locale, seed=3)
    srv = served(blog)
    result = crawl(db_path, srv.base_url)
    assert result.returncode == 0, result.stderr[-2000:]
    stored = posts(db_path)
    assert len(stored) == 60
    assert {p["post_id"] for p in stored} == {p.post_id for p in blog.posts}
    assert {p["title"] for p in stored} == {p.title for p in blog.posts}
    assert all(p["blog_id"] == blog.blog_id for p in stored)
    assert srv.log.count(path="/search*") == 0 or all(
        r.status != 200 for r in srv.log.records() if r.path.startswith("/search")
    ), "robots.txt disallows /search"
    # 60 posts with a 25-entry cap: three feed pages followed through rel=next ...
    assert srv.log.count(path="/feeds/posts/default*") >= 3
    # ... and, as the feed carries every post in full, no post page is fetched at all
    assert not [r.path for r in srv.log.records() if r.path.endswith(".html")]
    run = json.loads(q(db_path, "SELECT stats FROM runs ORDER BY id DESC LIMIT 1"))
    assert q(db_path, "SELECT finish_reason FROM runs ORDER BY id DESC LIMIT 1") == "finished"
    assert sum(run["new"].values()) == 60


def test_a_blog_without_a_feed_is_walked_through_its_html(db_path, served):
    blog = build_blog("nofeed", 80, template="simple", feed_enabled=False, seed=5)
    srv = served(blog)
    result = crawl(db_path, srv.base_url)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(posts(db_path)) == 80
    # robots.txt keeps us off /search, so the "Older Posts" chain is not how we got there
    assert not any(r.path.startswith("/search") for r in srv.log.records())


def test_summary_feed_entries_get_their_page_fetched(db_path, served):
    blog = build_blog("summ", 30, template="contempo", feed_mode="summary", seed=7)
    srv = served(blog)
    assert crawl(db_path, srv.base_url).returncode == 0
    stored = posts(db_path)
    assert len(stored) == 30
    assert not any(p["summary_only"] for p in stored)
    by_id = {p.post_id: p for p in blog.posts}
    from judge.htmltext import html_to_text

    for p in stored:
        last_line = html_to_text(by_id[p["post_id"]].body_html).splitlines()[-1]
        assert last_line[:60] in p["text"]


def test_second_hostname_and_mobile_pages_are_the_same_posts(db_path, served):
    blog = build_blog("twohosts", 20, template="simple", seed=9)
    srv = served(blog)
    assert crawl(db_path, srv.base_url).returncode == 0
    assert crawl(db_path, srv.alias_url, "--full").returncode == 0  # localhost:PORT
    assert len(posts(db_path)) == 20
    some = blog.posts[0]
    mobile = f"{srv.base_url.rstrip('/')}{some.path}?m=1"
    again = run_cli("--db", str(db_path), "ingest", mobile, "--format", "json")
    assert json.loads(again.output)["seen"] == 1
    vias = q(
        db_path,
        "SELECT count(DISTINCT s.url) FROM sightings s JOIN posts p ON p.id = s.post_id WHERE p.post_id = ?",
        some.post_id,
    )
    assert vias >= 3  # feed / page on 127.0.0.1, page on localhost, the ?m=1 page


def test_one_request_at_a_time_per_site(db_path, served):
    blog = build_blog("polite", 40, template="simple", seed=11)
    srv = served(blog)
    srv.faults.slow("*.html", delay=0.05)
    assert crawl(db_path, srv.base_url, "--full").returncode == 0
    assert srv.peak_in_flight == 1
    assert len(posts(db_path)) == 40


def test_incremental_recrawl_asks_only_for_what_is_new(db_path, served):
    blog = build_blog("incr", 120, template="simple", seed=13)
    srv = served(blog)
    assert crawl(db_path, srv.base_url).returncode == 0
    assert len(posts(db_path)) == 120
    srv.log.reset()
    assert crawl(db_path, srv.base_url).returncode == 0
    srv.log.wait_for(1)
    assert srv.log.total <= 5, [r.path for r in srv.log.records()]
    # a new post and an edit are picked up by the next incremental crawl
    from datetime import datetime, timedelta

    from rjwatch.demo.site import Post

    now = datetime.now(UTC).replace(microsecond=0)
    blog.publish(
        Post(
            "1234567890123456789",
            "Fresh post about the Kuril talks",
            "",
            now - timedelta(minutes=5),
            body_html="<p>Japan and Russia resumed peace treaty talks on the Kuril Islands in Moscow.</p>",
        )
    )
    edited = blog.posts[5]
    blog.edit(edited.post_id, "<p>This post was corrected after publication.</p>", updated=now)
    srv.log.reset()
    assert crawl(db_path, srv.base_url).returncode == 0
    stored = {p["post_id"]: p for p in posts(db_path)}
    assert len(stored) == 121 and "1234567890123456789" in stored
    assert stored[edited.post_id]["revision"] == 2
    assert "corrected after publication" in stored[edited.post_id]["text"]
    assert q(db_path, "SELECT count(*) FROM revisions") == 1
    assert srv.log.total <= 8


def test_retry_after_is_waited_out(db_path, served):
    blog = build_blog("throttled", 10, template="simple", seed=17)
    srv = served(blog)
    srv.faults.rate_limit("/feeds/*", first=1, retry_after=2)
    srv.faults.burst_503(2, retry_after=1)
    result = crawl(db_path, srv.base_url)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(posts(db_path)) == 10
    feed_hits = [r for r in srv.log.records() if r.path.startswith("/feeds/posts/default")]
    first_429 = next(r for r in feed_hits if r.status == 429)
    retried = next(r for r in feed_hits if r.time > first_429.time and r.path == first_429.path)
    assert retried.time - first_429.time >= 1.9


def test_hostile_and_broken_responses_do_not_stop_the_crawl(db_path, served):
    blog = build_blog("faulty", 30, template="simple", feed_enabled=False, seed=19)
    srv = served(blog)
    paths = [p.path for p in blog.posts]
    srv.faults.truncate(paths[0], keep=0.3)
    srv.faults.huge(paths[1], size=50 << 20)
    srv.faults.gzip_bomb(paths[2])
    srv.faults.slow(paths[3], delay=8)  # beyond DOWNLOAD_TIMEOUT=5
    srv.faults.redirect_loop(paths[4], length=3)
    srv.faults.broken_chunked(paths[5])
    started = time.monotonic()
    result = crawl(db_path, srv.base_url)
    assert time.monotonic() - started < 100
    assert result.returncode == 0, result.stderr[-2000:]
    stored = {p["post_id"] for p in posts(db_path)}
    healthy = {p.post_id for p in blog.posts[6:]}
    assert healthy <= stored
    assert "Traceback" not in result.stdout


def test_kill_9_mid_backfill_then_the_next_run_collects_everything(db_path, served):
    blog = build_blog("killed", 150, template="simple", feed_enabled=False, seed=23)
    srv = served(blog)
    srv.faults.slow("*.html", delay=0.1)
    cmd = [
        sys.executable,
        "-m",
        "rjwatch",
        "--db",
        str(db_path),
        "crawl",
        "--add",
        "--source",
        srv.base_url,
        *FAST,
        "-s",
        "RJWATCH_BATCH_SIZE=10",
    ]
    for attempt in range(2):
        before = len(posts(db_path))
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Kill once this run has committed something (a loaded machine may take a while to start); the
        # second run is killed at a later moment of its walk, after a second batch of 10 is committed.
        wait_until(lambda: len(posts(db_path)) > before + 10 * attempt or proc.poll() is not None, timeout=90)
        kids = descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # its helper processes die with it (and write nothing more)
        assert wait_until(lambda: all(gone(pid) for pid in kids), timeout=30)
    partial = len(posts(db_path))
    assert 0 < partial < 150
    assert q(db_path, "SELECT count(*) FROM crawl_state WHERE backfill_complete = 1") == 0
    assert crawl(db_path, srv.base_url, timeout=240).returncode == 0
    stored = posts(db_path)
    assert len(stored) == 150 and len({p["post_id"] for p in stored}) == 150
    assert q(db_path, "PRAGMA integrity_check") == "ok"


def test_sigint_stops_cleanly_and_records_the_run(db_path, served):
    blog = build_blog("interrupted", 120, template="simple", feed_enabled=False, seed=29)
    srv = served(blog)
    srv.faults.slow("*.html", delay=0.1)
    cmd = [sys.executable, "-m", "rjwatch", "--db", str(db_path), "crawl", "--add", "--source", srv.base_url, *FAST]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # mid-walk: once the crawl has stored posts (Scrapy is running), not after a guessed delay
    assert wait_until(lambda: os.path.exists(db_path) and len(posts(db_path)) > 0, timeout=120, step=0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err
    assert q(db_path, "SELECT finish_reason FROM runs ORDER BY id DESC LIMIT 1") == "shutdown"
    assert crawl(db_path, srv.base_url, timeout=240).returncode == 0
    assert len(posts(db_path)) == 120


def test_a_blog_that_stops_yielding_posts_is_flagged(db_path, served):
    blog = build_blog("vanishing", 15, template="simple", seed=31)
    srv = served(blog)
    assert crawl(db_path, srv.base_url).returncode == 0
    srv.faults.status("*", 403)
    crawl(db_path, srv.base_url, "--full")
    stats = json.loads(q(db_path, "SELECT stats FROM runs ORDER BY id DESC LIMIT 1"))
    assert stats["anomaly"] and "no posts" in stats["anomaly"]
    assert q(db_path, "SELECT count(*) FROM alerts WHERE kind = 'anomaly'") == 1
    listed = run_cli("--db", str(db_path), "runs", "--format", "json")
    assert json.loads(listed.output)[0]["anomaly"]


def test_scrapy_crawl_command_works_from_the_project_folder(tmp_path, served):
    blog = build_blog("manual", 12, template="soho", locale="es", seed=37)
    srv = served(blog)
    db_file = tmp_path / "manual.db"
    env = dict(os.environ, RJWATCH_DB=str(db_file))
    scrapy = Path(sys.executable).with_name("scrapy")
    result = subprocess.run(
        [
            str(scrapy),
            "crawl",
            "blogger",
            "-a",
            f"url={srv.base_url}",
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(posts(db_file)) == 12
    assert q(db_file, "SELECT kind FROM sources") == "blogger"


def _relevant_post(post_id: str, title: str, extra_html: str = "", labels=()):
    from datetime import datetime

    from rjwatch.demo.site import Post

    art = relevant_articles(1)[0]
    body = "".join(f"<p>{para}</p>" for para in art["text"].split("\n") if para.strip()) + extra_html
    return Post(post_id, title, "", datetime(2024, 3, 1, tzinfo=UTC), body_html=body, labels=tuple(labels))


def test_discovery_proposes_linked_blogger_blogs_and_never_fetches_private_addresses(db_path, served):
    other = served(build_blog("linked", 5, template="simple", seed=53))
    blog = build_blog("linker", 3, template="simple", seed=51)
    links = (
        f'<p>See <a href="{other.base_url}/">a blog we follow</a>, '
        '<a href="http://169.254.169.254/latest/meta-data/">metadata</a>, '
        '<a href="http://10.1.2.3/admin">an intranet</a>, <a href="file:///etc/passwd">a file</a> and '
        '<a href="ftp://ftp.example.org/pub">an ftp site</a>.</p>'
    )
    blog.publish(_relevant_post("1111111111111111111", "Peace treaty talks: what the blogs say", links))
    srv = served(blog)
    assert crawl(db_path, srv.base_url).returncode == 0
    other.log.reset()
    # the linked blog is on loopback too: only a host trusted in the settings may be visited there
    trusting = dict(os.environ, RJWATCH_TRUSTED_HOSTS=other.base_url.split("//")[1])
    res = subprocess.run(
        [sys.executable, "-m", "rjwatch", "--db", str(db_path), "source", "discover", *FAST],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=trusting,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    cands = json.loads(run_cli("--db", str(db_path), "source", "candidates", "--format", "json").output)
    assert [c["url"].rstrip("/") for c in cands] == [other.base_url]
    assert cands[0]["linking_posts"] == 1
    assert other.log.count(path="/") >= 1
    assert "169.254.169.254" not in json.dumps(cands)
    # candidates are not crawled until approved: `rjwatch crawl` takes enabled blogs only
    listed = subprocess.run(
        [sys.executable, "-m", "rjwatch", "--db", str(db_path), "crawl", *FAST],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert other.base_url not in listed.stdout
    approve = run_cli("--db", str(db_path), "source", "approve", str(cands[0]["id"]))
    assert approve.exit_code == 0
    assert q(db_path, "SELECT state FROM sources WHERE id = ?", cands[0]["id"]) == "enabled"


def test_learned_urls_to_private_addresses_are_refused_but_approved_hosts_work():
    from crawler.middlewares import unsafe_reason

    assert unsafe_reason("http://127.0.0.1:8000/x", set())
    assert unsafe_reason("http://169.254.169.254/latest/meta-data/", set())
    assert unsafe_reason("http://10.0.0.7/", set())
    assert unsafe_reason("http://[::1]/", set())
    assert unsafe_reason("http://localhost/", set())
    assert unsafe_reason("file:///etc/passwd", set())
    assert unsafe_reason("ftp://ftp.example.org/", set())
    assert unsafe_reason("http://127.0.0.1:8000/x", {"127.0.0.1"}) is None
    assert unsafe_reason("http://127.0.0.1:8000/x", {"127.0.0.1:8000"}) is None
    assert unsafe_reason("http://127.0.0.1:8001/x", {"127.0.0.1:8000"})  # another port, another service
    assert unsafe_reason("https://93.184.215.14/", set()) is None


def test_query_mode_collects_only_what_the_label_feed_returns(db_path, served):
    blog = build_blog("labelled", 20, template="simple", seed=57)
    blog.publish(_relevant_post("2222222222222222222", "Kuril fisheries deal", labels=["Kurils"]))
    srv = served(blog)
    res = crawl(db_path, srv.base_url, "--query", "Kurils")
    assert res.returncode == 0, res.stderr[-2000:]
    stored = posts(db_path)
    assert [p["post_id"] for p in stored] == ["2222222222222222222"]
    assert not any(r.path.startswith("/search") and r.status == 200 for r in srv.log.records())


def test_concurrent_crawls_each_report_only_their_own_run(db_path, served):
    slow = served(build_blog("slow-one", 30, template="simple", feed_enabled=False, seed=61))
    slow.faults.slow("*.html", delay=0.1)
    quick = served(build_blog("quick-one", 5, template="simple", seed=63))
    cmd = [sys.executable, "-m", "rjwatch", "--db", str(db_path), "crawl", "--add", *FAST, "--source"]
    first = subprocess.Popen(cmd + [slow.base_url], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # the second crawl starts while the first one's run is open
    assert wait_until(
        lambda: (
            os.path.exists(db_path)
            and q(db_path, "SELECT count(*) FROM runs WHERE kind = 'crawl' AND finished_at IS NULL") == 1
        ),
        timeout=90,
        step=0.05,
    )
    second = subprocess.run(cmd + [quick.base_url], cwd=REPO, capture_output=True, text=True, timeout=120)
    out, _ = first.communicate(timeout=180)
    assert second.returncode == 0 and first.returncode == 0
    assert quick.base_url in second.stdout and slow.base_url not in second.stdout
    assert slow.base_url in out and quick.base_url not in out
