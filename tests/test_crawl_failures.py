"""Crawls that fail: a first crawl that could not read the blog leaves the backfill to do (19), and
crawls and polls that fail say so, with the cause, in their exit code, the source's health and the
anomaly alert (20). Real `rjwatch crawl` and `rjwatch poll` subprocesses against blogs and feeds served
on 127.0.0.1 (or a 127.0.0.1 port where nothing listens); each scenario ends with the shared invariants
of tests/reliability.py."""

from __future__ import annotations

import json

import pytest

from helpers import free_port, news_feed, no_traceback, q, rows
from reliability import FAST, assert_consistent, assert_stored_once, record, rjwatch_cmd, run_measured
from rjwatch.demo.site import build_blog

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

#: Posts of the test blogs: more than the home page shows (7), so that a crawl that read only the
#: home page is told apart from one that walked the whole blog.
BLOG_POSTS = 60
#: A Retry-After far beyond what a crawl waits out within a run (crawler.middlewares.MAX_RETRY_AFTER_S).
LONG_RETRY_AFTER_S = 3600


class RobotsGate:
    """A demo blog whose robots.txt says `Disallow: /` while `closed` is set."""

    def __init__(self, blog):
        self.blog = blog
        self.key = blog.key
        self.closed = True

    @property
    def canonical_host(self):
        return self.blog.canonical_host

    @canonical_host.setter
    def canonical_host(self, value):
        self.blog.canonical_host = value

    def render(self, path_with_query: str, host: str, request_headers=None):
        if self.closed and path_with_query.split("?", 1)[0] == "/robots.txt":
            return 200, {"Content-Type": "text/plain; charset=utf-8"}, b"User-agent: *\nDisallow: /\n"
        return self.blog.render(path_with_query, host, request_headers)


def add_blog(db_path, url: str) -> None:
    res = run_measured(rjwatch_cmd(db_path, "source", "add", url, "--kind", "blogger"))
    assert res.code == 0, res.stderr


def crawl_cmd(db_path, source: str, *extra: str) -> list[str]:
    return rjwatch_cmd(db_path, "crawl", "--source", source, *FAST, *extra)


def blog_state(db_path, url: str) -> dict:
    sid = q(db_path, "SELECT id FROM sources WHERE kind = 'blogger' AND url = ?", url.rstrip("/") + "/")
    state = rows(db_path, "SELECT * FROM crawl_state WHERE source_id = ?", sid)
    health = rows(db_path, "SELECT * FROM source_health WHERE source_id = ?", sid)
    return {
        "id": sid,
        "backfill_complete": state[0]["backfill_complete"] if state else 0,
        "health": health[0] if health else {},
    }


# --- 19 -----------------------------------------------------------------------------------------------
#: A dribbling server is cut off at this download timeout (and not retried), so the scenario stays quick.
DRIP_TIMEOUT = ["-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=0"]

#: (name, the cause the run must name, fault installer or None for the robots.txt gate, extra settings)
FIRST_CRAWL_FAULTS = [
    ("HTTP 500", "HTTP 500", lambda srv: srv.faults.status("*", 500), []),
    (
        "429 with a long Retry-After",
        "429",
        lambda srv: srv.faults.rate_limit("*", every=1, retry_after=LONG_RETRY_AFTER_S),
        [],
    ),
    ("robots.txt Disallow: /", "robots.txt", None, []),
    ("dribbling", "timed out", lambda srv: srv.faults.drip("*", chunk=8, pause=0.5), DRIP_TIMEOUT),
]


def test_19_a_failed_first_crawl_leaves_the_backfill_to_do_and_the_next_crawl_walks_the_whole_blog(db_path, served):
    total = 0
    for n, (name, cause, install, settings) in enumerate(FIRST_CRAWL_FAULTS):
        # No feed: the HTML walk is the only way through the blog, and an incremental crawl would read
        # only the home page's posts.
        blog = build_blog(f"failed-first-{n}", BLOG_POSTS, template="simple", feed_enabled=False, seed=190 + n)
        gate = RobotsGate(blog)
        srv = served(gate)
        if install is None:
            gate.closed = True
        else:
            gate.closed = False
            install(srv)
        add_blog(db_path, srv.base_url)
        first = run_measured(crawl_cmd(db_path, srv.base_url, *settings), timeout=150)
        assert not first.timed_out and first.seconds < 90, (name, first.seconds)
        no_traceback(first.stdout)
        assert first.code != 0, (name, first.stdout, first.stderr[-2000:])
        assert cause in first.stdout + first.stderr, (name, first.stdout, first.stderr[-1500:])
        state = blog_state(db_path, srv.base_url)
        assert state["backfill_complete"] == 0, name
        assert cause in (state["health"].get("last_error") or ""), (name, state["health"])
        assert state["health"].get("consecutive_failures") == 1, (name, state["health"])
        # the blog recovers: the next crawl walks all of it, not only the home page
        srv.faults.clear()
        gate.closed = False
        second = run_measured(crawl_cmd(db_path, srv.base_url), timeout=180)
        assert second.code == 0, (name, second.stdout, second.stderr[-2000:])
        stored = q(
            db_path,
            f"SELECT count(*) FROM posts WHERE post_id IN ({','.join('?' * len(blog.posts))})",
            *[p.post_id for p in blog.posts],
        )
        assert stored == BLOG_POSTS, (name, stored)
        state = blog_state(db_path, srv.base_url)
        assert state["backfill_complete"] == 1, name
        assert state["health"].get("consecutive_failures") == 0 and not state["health"].get("last_error"), name
        total += BLOG_POSTS
        lost = assert_stored_once(db_path, post_ids=[p.post_id for p in blog.posts])
        assert lost == 0
    assert_consistent(db_path)
    record(
        "19 failed first crawl leaves the backfill to do",
        runs=2 * len(FIRST_CRAWL_FAULTS),
        posts=total,
        faults=len(FIRST_CRAWL_FAULTS),
        lost=0,
        doubled=0,
    )


def test_19_a_broken_page_chain_leaves_the_backfill_to_do(db_path, served):
    """Only the month archives fail: the home page answered, but the walk never read the rest."""
    blog = build_blog("broken-chain", BLOG_POSTS, template="simple", feed_enabled=False, seed=199)
    srv = served(blog)
    srv.faults.status("/20*/", 500)  # every archive listing
    srv.faults.status("/sitemap.xml*", 500)
    srv.faults.status("*.html", 503)  # and the post pages reached through them
    add_blog(db_path, srv.base_url)
    first = run_measured(crawl_cmd(db_path, srv.base_url), timeout=150)
    no_traceback(first.stdout)
    assert "incomplete" in first.stdout, first.stdout
    assert blog_state(db_path, srv.base_url)["backfill_complete"] == 0
    srv.faults.clear()
    second = run_measured(crawl_cmd(db_path, srv.base_url), timeout=180)
    assert second.code == 0, second.stderr[-2000:]
    lost = assert_stored_once(db_path, post_ids=[p.post_id for p in blog.posts])
    assert blog_state(db_path, srv.base_url)["backfill_complete"] == 1
    assert_consistent(db_path)
    record("19 broken page chain leaves the backfill to do", runs=2, posts=BLOG_POSTS, faults=3, lost=lost, doubled=0)


# --- 20 -----------------------------------------------------------------------------------------------
def test_20_a_crawl_of_an_unknown_source_is_refused_unless_added(db_path, served):
    typo = f"http://127.0.0.1:{free_port()}/"
    refused = run_measured(crawl_cmd(db_path, typo), timeout=60)
    assert refused.code != 0
    no_traceback(refused.stdout, refused.stderr)
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "--add" in refused.stderr, refused.stderr
    assert q(db_path, "SELECT count(*) FROM sources") == 0
    assert q(db_path, "SELECT count(*) FROM runs") == 0
    blog = build_blog("added", 12, template="simple", seed=201)
    srv = served(blog)
    added = run_measured(crawl_cmd(db_path, srv.base_url, "--add"), timeout=120)
    assert added.code == 0, added.stderr[-2000:]
    assert q(db_path, "SELECT count(*) FROM sources WHERE kind = 'blogger'") == 1
    lost = assert_stored_once(db_path, post_ids=[p.post_id for p in blog.posts])
    # registered now: the next crawl needs no --add
    again = run_measured(crawl_cmd(db_path, srv.base_url), timeout=120)
    assert again.code == 0, again.stderr[-2000:]
    assert_consistent(db_path)
    record("20 crawl of an unknown source", runs=3, posts=len(blog.posts), faults=1, lost=lost, doubled=0)


def test_20_a_crawl_where_nothing_listens_fails_with_connection_refused(db_path):
    dead = f"http://127.0.0.1:{free_port()}/"
    add_blog(db_path, dead)
    res = run_measured(crawl_cmd(db_path, dead), timeout=120)
    no_traceback(res.stdout)
    assert res.code != 0, res.stdout
    assert "connection refused" in (res.stdout + res.stderr).lower(), res.stdout
    state = blog_state(db_path, dead)
    assert "connection refused" in (state["health"].get("last_error") or "").lower(), state
    assert state["health"]["consecutive_failures"] == 1
    assert state["backfill_complete"] == 0
    # the streak grows run after run and shows in `source show`
    res = run_measured(crawl_cmd(db_path, dead), timeout=120)
    assert res.code != 0
    assert blog_state(db_path, dead)["health"]["consecutive_failures"] == 2
    shown = run_measured(rjwatch_cmd(db_path, "source", "show", str(state["id"])))
    assert "connection refused" in shown.stdout.lower(), shown.stdout
    record("20 crawl where nothing listens", runs=2, posts=0, faults=2, lost=0, doubled=0)


def test_20_the_anomaly_alert_names_the_cause(db_path, served):
    blog = build_blog("went-down", 15, template="simple", seed=203)
    srv = served(blog)
    add_blog(db_path, srv.base_url)
    assert run_measured(crawl_cmd(db_path, srv.base_url), timeout=120).code == 0
    srv.faults.status("*", 500)
    res = run_measured(crawl_cmd(db_path, srv.base_url, "--full"), timeout=120)
    assert res.code != 0
    alerts = rows(db_path, "SELECT payload FROM alerts WHERE kind = 'anomaly'")
    assert len(alerts) == 1
    problem = json.loads(alerts[0]["payload"])["problem"]
    assert "HTTP 500" in problem and "template change" not in problem, problem
    srv.faults.clear()
    assert run_measured(crawl_cmd(db_path, srv.base_url, "--full"), timeout=120).code == 0
    lost = assert_stored_once(db_path, post_ids=[p.post_id for p in blog.posts])
    assert_consistent(db_path)
    record("20 anomaly alert names the cause", runs=3, posts=len(blog.posts), faults=1, lost=lost, doubled=0)


def test_20_a_poll_where_every_source_fails_exits_non_zero(db_path, served):
    dead = f"http://127.0.0.1:{free_port()}/rss.xml"
    feed = news_feed(3)
    srv = served(feed)
    srv.faults.status("/rss.xml", 500)
    for url in (dead, f"{srv.base_url}/rss.xml"):
        assert run_measured(rjwatch_cmd(db_path, "source", "add", url, "--kind", "feed")).code == 0
    res = run_measured(rjwatch_cmd(db_path, "poll", "--all"), timeout=120)
    no_traceback(res.stdout, res.stderr)
    assert res.code != 0, (res.stdout, res.stderr)
    assert "2 failed" in res.stdout, res.stdout
    as_json = run_measured(rjwatch_cmd(db_path, "poll", "--all", "--format", "json"), timeout=120)
    assert as_json.code != 0 and json.loads(as_json.stdout)["failed"] == 2
    # one source answering is a pass that worked (the other failure is reported, not fatal)
    srv.faults.clear()
    res = run_measured(rjwatch_cmd(db_path, "poll", "--all"), timeout=120)
    assert res.code == 0, (res.stdout, res.stderr)
    lost = assert_stored_once(db_path, urls=[f"{srv.base_url}/news/{i.slug}.html" for i in feed.items])
    assert_consistent(db_path)
    record("20 poll where every source fails", runs=3, posts=len(feed.items), faults=3, lost=lost, doubled=0)
