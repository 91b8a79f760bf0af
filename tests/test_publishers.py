"""Publisher pages of query-feed entries, and per-site extraction rules.

Real polls (`rjwatch poll`) on a real SQLite file of a query feed served on 127.0.0.1 (a plain RSS feed
registered as a source with the `query` setting) whose items link to publisher sites on other loopback
addresses (127.0.0.2 and up, trusted through the `trusted_hosts` setting): every page is fetched
and the post judged on it, one request at a time per publisher, never against its robots.txt (then the
teaser is stored and flagged), the same story from three publishers is one duplicate group with one
alert, and a site's extraction rule picks the article where the generic extraction takes the comments
too (`rjwatch classify URL` shows the rule, and a crawl of a blog applies its rule to the pages it extracts).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape

import pytest

from helpers import ARTICLE, FAST, REPO, one_line_error, relevant_articles, rows, run_cli
from reliability import record
from rjwatch.demo.server import SiteServer
from rjwatch.demo.site import build_blog
from storage.db import connect
from storage.source_settings import update_source

#: Publisher hosts of these tests (loopback addresses other than the feed's 127.0.0.1).
HOSTS = [f"127.0.0.{i}" for i in range(2, 10)]
#: A teaser that says nothing of the topic: alone it is off_topic.
TEASER = "A report from our correspondent, with more inside. Read the full story on our site ..."
#: A long readers' section that generic extraction keeps with the article.
COMMENTS = "".join(
    f"<p>Reader {i} wrote: I have been following the crab and sea urchin prices at the Sapporo market for "
    "years, and they went up again this winter, which nobody at the city council seems to care about.</p>"
    for i in range(12)
)


def article_page(title: str, text: str, *, site: str = "Courier", published: str = "2024-05-03T08:00:00+00:00") -> str:
    paras = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n") if p.strip())
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)} | {site}</title></head><body>"
        f"<header><a href='/'>{site}</a> <a href='/world'>World</a> <a href='/sports'>Sports</a></header>"
        f"<article><h1>{escape(title)}</h1><time datetime='{published}'>{published[:10]}</time>{paras}</article>"
        f"<footer>(c) {site} Media. All rights reserved.</footer></body></html>"
    )


class Publisher:
    """A publisher's site: article pages by path, and a robots.txt (None: 404)."""

    canonical_host = ""

    def __init__(self, key: str, pages: dict[str, str], robots: str | None = None):
        self.key, self.pages, self.robots = key, pages, robots

    def render(self, target: str, host: str, headers) -> tuple[int, dict, bytes]:
        path = target.split("?", 1)[0]
        if path == "/robots.txt" and self.robots is not None:
            return 200, {"Content-Type": "text/plain"}, self.robots.encode()
        if path in self.pages:
            return 200, {"Content-Type": "text/html; charset=utf-8"}, self.pages[path].encode()
        return 404, {"Content-Type": "text/plain"}, b"not found"


class QueryFeeds:
    """RSS feeds at /feed<N>.xml whose items (title or None, link, teaser) link to publishers."""

    canonical_host = ""

    def __init__(self, feeds: dict[str, list[tuple]]):
        self.key, self.feeds = "query", feeds

    def render(self, target: str, host: str, headers) -> tuple[int, dict, bytes]:
        items = self.feeds.get(target.split("?", 1)[0])
        if items is None:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        body = ""
        for title, link, teaser in items:
            body += (
                "<item>"
                + (f"<title>{escape(title)}</title>" if title else "")
                + f"<link>{escape(link)}</link><guid>{escape(link)}</guid><description>{escape(teaser)}</description>"
                + "</item>"
            )
        doc = (
            "<?xml version='1.0'?><rss version='2.0'><channel><title>Google Alert - kuril</title>"
            f"<link>http://{host}/</link><lastBuildDate>{format_datetime(_NOW)}</lastBuildDate>{body}</channel></rss>"
        )
        return 200, {"Content-Type": "application/rss+xml"}, doc.encode()


_NOW = datetime(2024, 5, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def servers():
    started: list[SiteServer] = []

    def start(app, host: str = "127.0.0.1") -> SiteServer:
        srv = SiteServer(app, host=host).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


def write_config(tmp_path, extra: str = "", name: str = "rjwatch.toml"):
    path = tmp_path / name
    path.write_text(f"trusted_hosts = {json.dumps(HOSTS)}\nfetch_timeout = 2.0\n{extra}", "utf-8")
    return path


def query_source(db_path, feed_url: str) -> int:
    res = run_cli("--db", str(db_path), "source", "add", feed_url, "--kind", "feed")
    assert res.exit_code == 0, res.output
    db = connect(db_path)
    try:
        sid = db.execute("SELECT id FROM sources WHERE url = ?", (feed_url,)).fetchone()[0]
        update_source(db, sid, settings={"query": {"engine": "google-alerts", "q": "kuril", "lang": "en"}})
    finally:
        db.conn.close()
    return sid


def poll(db_path, *args: str) -> None:
    res = run_cli("--db", str(db_path), "poll", "--all", *args)
    assert res.exit_code == 0, res.output


def paths(srv: SiteServer) -> list[str]:
    return [r.path for r in srv.requests]


def posts(db_path) -> dict[str, dict]:
    found = rows(
        db_path,
        "SELECT id, url, title, status, summary_only, text, duplicate_of, evidence, published FROM posts ORDER BY id",
    )
    return {r["url"].split("/", 3)[3]: {**r, "evidence": json.loads(r["evidence"])} for r in found}


# --- (a) full text from the publisher's page -----------------------------------------------------------
def test_query_feed_entries_are_judged_on_their_publishers_pages(db_path, tmp_path, servers):
    write_config(tmp_path)
    recipe = "Simmer the pork bones for twelve hours with ginger.\nServe the broth with noodles and spring onions."
    pub = servers(
        Publisher(
            "courier",
            {"/a": article_page("Peace treaty talks resume in Moscow", ARTICLE), "/b": article_page("Broth", recipe)},
        ),
        HOSTS[0],
    )
    feeds = servers(
        QueryFeeds({"/feed1.xml": [(None, f"{pub.base_url}/a", TEASER), ("Soup", f"{pub.base_url}/b", TEASER)]})
    )
    query_source(db_path, f"{feeds.base_url}/feed1.xml")

    poll(db_path)
    got = posts(db_path)
    assert got["a"]["status"] == "new" and got["a"]["summary_only"] == 0
    assert "Northern Territories" in got["a"]["text"] and "correspondent" not in got["a"]["text"]
    assert got["a"]["title"] == "Peace treaty talks resume in Moscow"  # the feed gave none: the page's
    assert got["a"]["published"].startswith("2024-05-03")
    assert got["b"]["status"] == "off_topic" and got["b"]["summary_only"] == 0
    assert pub.log.wait_for(3)
    assert sorted(paths(pub)) == ["/a", "/b", "/robots.txt"]
    assert all(r.user_agent and r.user_agent.startswith("rjwatch/") for r in pub.requests)

    # The next poll fetches no page stored with its text already (nor robots.txt, then).
    poll(db_path)
    assert feeds.log.wait_for(2)
    assert sorted(paths(pub)) == ["/a", "/b", "/robots.txt"]
    assert len(posts(db_path)) == 2


def test_a_query_source_with_full_text_turned_off_fetches_no_publisher_page(db_path, tmp_path, servers):
    write_config(tmp_path)
    pub = servers(Publisher("courier", {"/a": article_page("Peace treaty talks resume in Moscow", ARTICLE)}), HOSTS[0])
    feeds = servers(QueryFeeds({"/feed1.xml": [(None, f"{pub.base_url}/a", TEASER)]}))
    sid = query_source(db_path, f"{feeds.base_url}/feed1.xml")
    res = run_cli("--db", str(db_path), "source", "set", str(sid), "--full-text", "never")
    assert res.exit_code == 0, res.output
    poll(db_path)
    assert feeds.log.wait_for(1)
    assert paths(pub) == []  # not even robots.txt
    assert [p["summary_only"] for p in posts(db_path).values()] == [1]


# --- (b) one request at a time per publisher ---------------------------------------------------------
@pytest.mark.slow
def test_one_request_at_a_time_per_publisher_across_the_pass(db_path, tmp_path, servers):
    write_config(tmp_path)
    articles = relevant_articles(6)
    pub = servers(
        Publisher("wire", {f"/story-{i}": article_page(a["title"], a["text"]) for i, a in enumerate(articles)}),
        HOSTS[1],
    )
    pub.faults.slow("/story-*", 0.3)  # every page takes a while: overlapping requests would show
    other = servers(
        Publisher("other", {f"/o-{i}": article_page(a["title"], a["text"]) for i, a in enumerate(articles)}), HOSTS[2]
    )
    feeds = servers(
        QueryFeeds(
            {
                "/feed1.xml": [(None, f"{pub.base_url}/story-{i}", TEASER) for i in range(3)]
                + [(None, f"{other.base_url}/o-{i}", TEASER) for i in range(3)],
                "/feed2.xml": [(None, f"{pub.base_url}/story-{i}", TEASER) for i in range(3, 6)],
            }
        )
    )
    query_source(db_path, f"{feeds.base_url}/feed1.xml")
    query_source(db_path, f"{feeds.base_url}/feed2.xml")

    poll(db_path)
    assert pub.log.wait_for(7)
    assert sorted(paths(pub)) == sorted(["/robots.txt"] + [f"/story-{i}" for i in range(6)])
    assert pub.peak_in_flight == 1, pub.peak_in_flight
    assert other.peak_in_flight == 1
    got = posts(db_path)
    assert len(got) == 9 and all(p["summary_only"] == 0 for p in got.values()), [
        p["evidence"].get("full_text") for p in got.values()
    ]


# --- (c) robots.txt: stored from the teaser, flagged, no page request (scenario 31) ---------------------
@pytest.mark.reliability
@pytest.mark.slow
def test_a_publisher_that_blocks_by_robots_txt_gives_flagged_teasers(db_path, tmp_path, servers):
    write_config(tmp_path)
    pages = {f"/news/{i}": article_page(f"Story {i}", ARTICLE) for i in range(3)}
    pub = servers(Publisher("closed", pages, robots="User-agent: *\nDisallow: /news/\n"), HOSTS[3])
    teaser = "Japan and Russia: talks on the Kuril Islands and a peace treaty resume in Moscow, day {} ..."
    items = [(f"Story {i}", f"{pub.base_url}/news/{i}", teaser.format(i + 1)) for i in range(3)]
    feeds = servers(QueryFeeds({"/feed1.xml": items}))
    query_source(db_path, f"{feeds.base_url}/feed1.xml")

    poll(db_path)
    assert pub.log.wait_for(1)
    assert paths(pub) == ["/robots.txt"]  # asked once, and no page
    got = posts(db_path)
    assert len(got) == 3
    for p in got.values():
        assert p["summary_only"] == 1 and p["evidence"]["full_text"] == "blocked by robots.txt"
        assert "summary_only" in p["evidence"]["flags"] and "Kuril" in p["text"]
    listed = json.loads(
        run_cli("--db", str(db_path), "posts", "--format", "json", "--columns", "id,summary_only,full_text").output
    )
    assert {(r["summary_only"], r["full_text"]) for r in listed} == {(1, "blocked by robots.txt")}
    shown = run_cli("--db", str(db_path), "show", str(listed[0]["id"])).output
    assert "full text:   missing, judged on the feed's teaser: blocked by robots.txt" in shown

    poll(db_path)  # again: still no page, still one row each
    assert pub.log.wait_for(2)
    assert paths(pub) == ["/robots.txt", "/robots.txt"]
    assert len(posts(db_path)) == 3
    record("31 publisher blocks by robots.txt", runs=2, posts=3, faults=1, lost=0, doubled=0)


# --- scenario 32: robots.txt unreachable, a page failing, a page hanging ------------------------------
@pytest.mark.reliability
@pytest.mark.slow
def test_failing_publisher_pages_keep_their_teasers_until_a_later_poll(db_path, tmp_path, servers):
    write_config(tmp_path)
    articles = relevant_articles(3)
    sites = [
        servers(
            Publisher(f"p{i}", {f"/p{i}": article_page(a["title"], a["text"])}, robots="User-agent: *\nAllow: /\n"),
            HOSTS[4 + i],
        )
        for i, a in enumerate(articles)
    ]
    sites[0].faults.status("/robots.txt", 503)
    sites[1].faults.status("/p1", 500)
    sites[2].faults.hang("/p2", seconds=30)
    feeds = servers(
        QueryFeeds(
            {
                "/feed1.xml": [
                    (a["title"], f"{s.base_url}/p{i}", TEASER) for i, (a, s) in enumerate(zip(articles, sites))
                ]
            }
        )
    )
    query_source(db_path, f"{feeds.base_url}/feed1.xml")

    poll(db_path)
    got = posts(db_path)
    assert len(got) == 3 and all(p["summary_only"] == 1 for p in got.values())
    reasons = [got[f"p{i}"]["evidence"]["full_text"] for i in range(3)]
    assert reasons[0].startswith("robots.txt unreachable (HTTP 503)")
    assert reasons[1].startswith("page not fetched") and "500" in reasons[1]
    assert reasons[2].startswith("page not fetched") and "timed out" in reasons[2]
    assert sites[0].log.wait_for(1)
    assert paths(sites[0]) == ["/robots.txt"]  # robots.txt unreachable: the page is not asked for

    for s in sites:
        s.faults.clear()
    poll(db_path)
    again = posts(db_path)
    assert len(again) == 3
    for p in again.values():
        assert p["summary_only"] == 0 and "full_text" not in p["evidence"], p
    record("32 publisher pages fail (robots.txt 503, HTTP 500, hang)", runs=2, posts=3, faults=3, lost=0, doubled=0)


# --- (d) the same story from three publishers: one group, one alert ---------------------------------
@pytest.mark.slow
def test_the_same_story_from_three_publishers_is_one_duplicate_group_with_one_alert(db_path, tmp_path, servers):
    write_config(tmp_path)
    pubs = [
        servers(
            Publisher(name, {"/world/talks": article_page("Peace treaty talks resume in Moscow", ARTICLE, site=name)}),
            host,
        )
        for name, host in zip(("Courier", "Herald", "Gazette"), HOSTS[5:8])
    ]
    app = QueryFeeds({"/feed1.xml": []})
    feeds = servers(app)
    query_source(db_path, f"{feeds.base_url}/feed1.xml")
    poll(db_path)  # the first poll (nothing yet) is the source's silent backfill
    app.feeds["/feed1.xml"] = [(f"Talks resume - {p.app.key}", f"{p.base_url}/world/talks", TEASER) for p in pubs]
    poll(db_path)

    got = rows(db_path, "SELECT id, status, duplicate_of, summary_only FROM posts ORDER BY id")
    assert len(got) == 3 and all(r["summary_only"] == 0 for r in got)
    originals = [r for r in got if r["duplicate_of"] is None]
    assert len(originals) == 1 and originals[0]["status"] == "new"
    assert sorted(r["status"] for r in got) == ["duplicate", "duplicate", "new"]
    assert all(r["duplicate_of"] == originals[0]["id"] for r in got if r is not originals[0])
    alerts = rows(db_path, "SELECT post_id, status FROM alerts WHERE kind IN ('new', 'copy', 'excerpt')")
    assert alerts == [{"post_id": originals[0]["id"], "status": "pending"}]


# --- (e) per-site extraction rules ------------------------------------------------------------------
RULES = """
[extract_rules."{host}"]
title = "h1.headline"
date = "//time/@datetime"
body = "div.article-body > div"
"""


def commented_page() -> str:
    """An article whose paragraphs are lines of one block, and a longer readers' section after it: the
    generic extraction keeps the readers' section with the article."""
    lines = "<br>".join(escape(p) for p in ARTICLE.split("\n"))
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Daily Courier | Home</title></head><body>"
        "<div class='top'><a href='/'>Home</a></div><div class='article-body'>"
        "<h1 class='headline'>Peace treaty talks resume in Moscow</h1>"
        f"<time datetime='2024-05-03T08:00:00+00:00'>May 3</time><div>{lines}</div></div>"
        f"<div class='talk'>{COMMENTS}</div></body></html>"
    )


def test_an_extraction_rule_picks_the_article_where_generic_extraction_takes_the_comments(db_path, tmp_path, servers):
    host = HOSTS[0]
    pub = servers(Publisher("courier", {"/a": commented_page()}), host)
    url = f"{pub.base_url}/a"
    plain = write_config(tmp_path, name="plain.toml")
    write_config(tmp_path, RULES.format(host=host))  # rjwatch.toml, read by default

    generic = json.loads(run_cli("--config", str(plain), "classify", url, "--format", "json").output)
    assert "Reader 0 wrote" in generic["text"] and generic["extraction"] == "generic"

    res = run_cli("--db", str(db_path), "classify", url, "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert "Lavrov" in out["text"] and "Reader" not in out["text"]
    assert out["title"] == "Peace treaty talks resume in Moscow" and out["published"].startswith("2024-05-03T08:00")
    assert out["extraction"] == f"rule for {host} (title, date, body)"
    text = run_cli("--db", str(db_path), "classify", url).output
    assert f"extraction: rule for {host} (title, date, body)" in text

    # ... and in a poll of a query feed whose entry is on that site.
    feeds = servers(QueryFeeds({"/feed1.xml": [(None, url, TEASER)]}))
    query_source(db_path, f"{feeds.base_url}/feed1.xml")
    poll(db_path)
    got = posts(db_path)["a"]
    assert "Lavrov" in got["text"] and "Reader" not in got["text"] and got["summary_only"] == 0
    assert got["evidence"]["extraction"] == f"rule for {host} (title, date, body)"
    shown = run_cli("--db", str(db_path), "show", str(got["id"])).output
    assert f"extraction:  rule for {host} (title, date, body)" in shown


def test_a_rule_that_matches_nothing_falls_back_to_generic_extraction_and_says_so(db_path, tmp_path, servers):
    host = HOSTS[0]
    pub = servers(Publisher("courier", {"/a": commented_page()}), host)
    write_config(tmp_path, f'[extract_rules."{host}"]\nbody = "div.no-such-block"\n')
    out = json.loads(run_cli("--db", str(db_path), "classify", f"{pub.base_url}/a", "--format", "json").output)
    assert "Lavrov" in out["text"]
    assert out["extraction"] == f"rule for {host} matched nothing: generic extraction used"
    assert out["extraction"] in out["reasons"]


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ('body = "div[[broken"', ['extract_rules."news.example.com".body', "not a valid CSS selector"]),
        ('date = "//time[@datetime"', ['extract_rules."news.example.com".date', "not a valid XPATH selector"]),
        ('author = "p.by"', ['extract_rules."news.example.com"', "unknown field 'author'"]),
    ],
)
def test_a_bad_extraction_rule_is_a_one_line_config_error(tmp_path, monkeypatch, rule, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rjwatch.toml").write_text(f'[extract_rules."news.example.com"]\n{rule}\n', "utf-8")
    (tmp_path / "page.html").write_text(commented_page(), "utf-8")
    res = run_cli("classify", "page.html", "--url", "https://news.example.com/a")
    one_line_error(res, *words)


@pytest.mark.slow
def test_a_crawl_extracts_a_blogs_pages_with_its_sites_rule(db_path, tmp_path, served):
    """A blog whose feed gives summaries only: its post pages are extracted by the crawl, with the rule."""
    blog = build_blog("ruled", 4, feed_mode="summary", seed=5)
    srv = served(blog)
    config = tmp_path / "crawl.toml"
    config.write_text(f'[extract_rules."{srv.netloc}"]\ntitle = "//title"\n', "utf-8")
    cmd = [sys.executable, "-m", "rjwatch", "--config", str(config), "--db", str(db_path), "crawl", "--add"]
    result = subprocess.run(
        [*cmd, "--source", srv.base_url, *FAST], capture_output=True, text=True, timeout=180, cwd=REPO
    )
    assert result.returncode == 0, result.stderr[-2000:]
    stored = rows(db_path, "SELECT title, summary_only, evidence FROM posts")
    assert len(stored) == 4
    assert {r["title"] for r in stored} == {f"{blog.title}: {p.title}" for p in blog.posts}  # the <title>s
    assert all(r["summary_only"] == 0 for r in stored)
    assert {json.loads(r["evidence"])["extraction"] for r in stored} == {f"rule for {srv.netloc} (title)"}


def test_a_bad_extraction_rule_from_the_environment_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "page.html").write_text(commented_page(), "utf-8")
    env = {"RJWATCH_EXTRACT_RULES": '"news.example.com" = {title = "(//h1"}'}
    res = run_cli("classify", "page.html", "--url", "https://news.example.com/a", env=env)
    one_line_error(res, "RJWATCH_EXTRACT_RULES", 'extract_rules."news.example.com".title', "XPATH")
    env = {"RJWATCH_EXTRACT_RULES": '"news.example.com" = {title = "h1.headline"}'}
    out = json.loads(
        run_cli("classify", "page.html", "--url", "https://news.example.com/a", "--format", "json", env=env).output
    )
    assert (
        out["title"] == "Peace treaty talks resume in Moscow"
        and out["extraction"] == "rule for news.example.com (title)"
    )
