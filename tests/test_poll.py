"""The feed poller against real feeds served on 127.0.0.1: conditional GET, HTTP semantics, health, OPML.

Assertions are on stored rows, on the requests the server saw, and on source health. Real feedparser,
real urllib3, real SQLite; the CLI is the real `rjwatch` command run in-process.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest

from helpers import health, news_feed, q, relevant_articles, run_cli
from rjwatch.demo.site import NewsItem, build_blog
from storage.db import connect


def cli(db_path, *args):
    return run_cli("--db", str(db_path), *args)


def poll(db_path, *args, code: int = 0) -> dict:
    """One `rjwatch poll --format json`; `code` 1 when every polled source is expected to fail."""
    result = cli(db_path, "poll", "--format", "json", *args)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def test_conditional_get_makes_an_unchanged_feed_cost_a_304(db_path, served):
    feed = news_feed(3)
    srv = served(feed)
    assert cli(db_path, "source", "add", f"{srv.base_url}/rss.xml", "--kind", "feed").exit_code == 0
    first = poll(db_path, "--all")
    assert sum(first["new_by_status"].values()) == 3
    second = poll(db_path, "--all")
    assert second["not_modified"] == 1 and second["new_by_status"] == {}
    assert [r.status for r in srv.log.records() if r.path == "/rss.xml"] == [200, 304]
    h = health(db_path)
    assert h["etag"] and h["last_modified"] and h["consecutive_failures"] == 0
    extra = relevant_articles(4)[3]
    feed.publish(
        NewsItem("story-new", extra["title"], datetime(2024, 6, 1, tzinfo=UTC), body_html=f"<p>{extra['text']}</p>")
    )
    third = poll(db_path, "--all")
    assert sum(third["new_by_status"].values()) == 1
    assert q(db_path, "SELECT count(*) FROM posts") == 4
    # the first poll of a new source is a silent backfill: one summary alert, no alert per post
    kinds = [r[0] for r in connect(db_path).execute("SELECT kind || ':' || status FROM alerts ORDER BY id")]
    assert kinds.count("backfill:pending") == 1
    assert [k for k in kinds if k.endswith(":pending") and not k.startswith("backfill")] == [kinds[-1]]


def test_a_server_that_ignores_validators_causes_no_duplicates(db_path, served):
    srv = served(news_feed(3, ignore_validators=True))
    cli(db_path, "source", "add", f"{srv.base_url}/rss.xml", "--kind", "feed")
    for _ in range(3):
        poll(db_path, "--all")
    assert [r.status for r in srv.log.records() if r.path == "/rss.xml"] == [200, 200, 200]
    assert q(db_path, "SELECT count(*) FROM posts") == 3
    alertable = q(db_path, "SELECT count(*) FROM posts WHERE status IN ('new', 'copy', 'excerpt')")
    assert q(db_path, "SELECT count(*) FROM alerts WHERE kind IN ('new', 'copy', 'excerpt')") == alertable
    assert q(db_path, "SELECT max(times) FROM sightings") == 3


def test_permanent_redirect_moves_the_source(db_path, served):
    blog = build_blog("moved", 5, template="simple", seed=2)
    srv = served(blog)
    cli(db_path, "source", "add", f"{srv.base_url}/atom.xml", "--kind", "feed")  # 301 to /feeds/posts/default
    out = poll(db_path, "--all")
    assert sum(out["new_by_status"].values()) == 5
    src = next(connect(db_path).query("SELECT url FROM sources WHERE id = 1"))
    assert src["url"].endswith("/feeds/posts/default")
    assert health(db_path)["moved_from"].endswith("/atom.xml")


def test_gone_disables_the_source_with_a_reason(db_path, served):
    srv = served(news_feed(2))
    srv.faults.status("/rss.xml", 410)
    cli(db_path, "source", "add", f"{srv.base_url}/rss.xml", "--kind", "feed")
    out = poll(db_path, "--all", code=1)
    assert out["failed"] == 1
    assert q(db_path, "SELECT state FROM sources WHERE id = 1") == "disabled"
    assert "410" in health(db_path)["disabled_reason"]
    listed = json.loads(cli(db_path, "source", "list", "--format", "json").output)
    assert listed[0]["state"] == "disabled" and "410" in listed[0]["last_error"]


def test_retry_after_sets_the_next_poll(db_path, served):
    srv = served(news_feed(2))
    srv.faults.rate_limit("/rss.xml", first=1, retry_after=120)
    cli(db_path, "source", "add", f"{srv.base_url}/rss.xml", "--kind", "feed")
    before = datetime.now(UTC)
    out = poll(db_path, "--all", code=1)
    assert out["failed"] == 1
    due = datetime.fromisoformat(health(db_path)["next_due"])
    assert timedelta(seconds=110) <= due - before <= timedelta(seconds=130)
    assert poll(db_path)["polled"] == 0  # not due yet


def test_failures_back_off_and_alert_once(db_path, served, monkeypatch):
    monkeypatch.setenv("RJWATCH_FAILURE_ALERT_AFTER", "3")
    srv = served(news_feed(2))
    srv.faults.status("/rss.xml", 500)
    cli(db_path, "source", "add", f"{srv.base_url}/rss.xml", "--kind", "feed")
    dues = []
    for _ in range(5):
        poll(db_path, "--all", code=1)
        h = health(db_path)
        dues.append(datetime.fromisoformat(h["next_due"]) - datetime.fromisoformat(h["last_poll"]))
    assert health(db_path)["consecutive_failures"] == 5
    assert dues == sorted(dues) and dues[-1] >= 8 * dues[0] * 0.9  # exponential back-off
    assert q(db_path, "SELECT count(*) FROM alerts WHERE kind = 'source_failing'") == 1
    status = cli(db_path, "status")
    assert "FAILING source #1" in status.output
    srv.faults.clear()
    poll(db_path, "--all")
    assert health(db_path)["consecutive_failures"] == 0


@pytest.mark.parametrize(
    "fault, expect",
    [
        ("hang", "timed out"),
        ("huge", "cap"),
        ("gzip_bomb", "after decompression"),
        ("html_instead_of_feed", "not a feed"),
    ],
)
def test_hostile_feed_responses_fail_cleanly(db_path, served, monkeypatch, fault, expect):
    monkeypatch.setenv("RJWATCH_FETCH_TIMEOUT", "1")
    srv = served(news_feed(2))
    getattr(srv.faults, fault)("/rss.xml")
    cli(db_path, "source", "add", f"{srv.base_url}/rss.xml", "--kind", "feed")
    started = time.monotonic()
    out = poll(db_path, "--all", code=1)
    assert time.monotonic() - started < 30
    assert out["failed"] == 1 and expect in out["sources"][0]["error"]
    assert q(db_path, "SELECT count(*) FROM posts") == 0


def test_blogger_feed_backfill_walks_every_page(db_path, served):
    blog = build_blog("history", 120, template="simple", seed=4)  # the feed caps pages at 25 entries
    srv = served(blog)
    cli(db_path, "source", "add", f"{srv.base_url}/feeds/posts/default", "--kind", "feed")
    out = poll(db_path, "--all", "--backfill")
    assert sum(out["new_by_status"].values()) == 120
    pages = [r for r in srv.log.records() if r.path.startswith("/feeds/posts/default")]
    assert len(pages) == 5
    assert q(db_path, "SELECT count(DISTINCT post_id) FROM posts") == 120


def test_summary_feed_with_full_text_fetches_the_pages(db_path, served):
    blog = build_blog("summaries", 6, template="contempo", feed_mode="summary", seed=6)
    srv = served(blog)
    cli(db_path, "source", "add", f"{srv.base_url}/feeds/posts/default", "--kind", "feed", "--full-text")
    poll(db_path, "--all")
    db = connect(db_path)
    assert db.execute("SELECT count(*) FROM posts WHERE summary_only = 0").fetchone()[0] == 6
    assert sum(1 for r in srv.log.records() if r.path.endswith(".html")) == 6


def test_a_feed_entry_later_crawled_as_a_page_is_one_post(db_path, served):
    blog = build_blog("both", 8, template="simple", seed=8)
    srv = served(blog)
    assert cli(db_path, "source", "add", srv.base_url, "--kind", "auto").exit_code == 0
    kinds = sorted(r["kind"] for r in json.loads(cli(db_path, "source", "list", "--format", "json").output))
    assert kinds == ["blogger", "feed"]
    poll(db_path, "--all")
    page = blog.posts[0]
    res = cli(db_path, "ingest", f"{srv.base_url.rstrip('/')}{page.path}", "--format", "json")
    assert json.loads(res.output)["seen"] == 1
    assert q(db_path, "SELECT count(*) FROM posts") == 8


def test_malformed_feed_keeps_what_it_can(db_path, served, tmp_path):
    from crawler.guard import allowed_sites
    from crawler.http import fetch

    srv = served(news_feed(3))
    body = fetch(f"{srv.base_url}/rss.xml", allowed=allowed_sites(srv.base_url)).body.replace(
        b"</channel>", b"<item><title>broken &amp</channel>"
    )
    bad = tmp_path / "bad.xml"
    bad.write_bytes(body)
    res = cli(db_path, "ingest", str(bad), "--format", "json")
    assert json.loads(res.output)["inserted"] == 3


def test_changing_guids_do_not_make_new_rows(db_path, tmp_path):
    def rss(guid_prefix: str) -> str:
        items = "".join(
            f"<item><title>Talks {i}</title><link>https://wire.example.org/story-{i}</link>"
            f"<guid isPermaLink='false'>{guid_prefix}-{i}</guid><description>"
            f"{a['text'][:2000]}</description></item>"
            for i, a in enumerate(relevant_articles(3))
        )
        return f"<?xml version='1.0'?><rss version='2.0'><channel><title>W</title><link>https://wire.example.org/</link>{items}</channel></rss>"

    for n, prefix in enumerate(["a", "b", "c"]):
        f = tmp_path / f"feed{n}.xml"
        f.write_text(rss(prefix))
        cli(db_path, "ingest", str(f))
    assert q(db_path, "SELECT count(*) FROM posts") == 3
    assert q(db_path, "SELECT count(*) FROM alerts") == 3


def test_opml_import_and_export_round_trip(db_path, tmp_path):
    opml = tmp_path / "subs.opml"
    opml.write_text("""<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
      <outline text="News"><outline type="rss" text="A" xmlUrl="https://a.example.org/feed.xml"/>
      <outline type="rss" text="B" xmlUrl="https://b.example.org/rss"/></outline>
      <outline type="blogger" text="Blog" htmlUrl="https://someblog.blogspot.com/"/>
      <outline type="rss" text="bad" xmlUrl="file:///etc/passwd"/></body></opml>""")
    res = cli(db_path, "source", "import", str(opml))
    assert res.exit_code == 0 and "3 feed(s), 3 new source(s)" in res.output
    exported = cli(db_path, "source", "export").output
    from rjwatch.opml import read_opml

    assert {o["url"] for o in read_opml(exported.encode())} == {
        "https://a.example.org/feed.xml",
        "https://b.example.org/rss",
        "https://someblog.blogspot.com/",
    }
    evil = tmp_path / "evil.opml"
    evil.write_text(
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<opml version="2.0"><body><outline text="&x;" xmlUrl="https://x.example.org/f"/></body></opml>'
    )
    bad = cli(db_path, "source", "import", str(evil))
    assert bad.exit_code == 1 and "refused" in bad.stderr


def test_the_default_source_list_is_valid_and_never_contacted():
    from rjwatch.opml import read_opml

    data = resources.files("rjwatch").joinpath("data", "default_sources.opml").read_bytes()
    outlines = read_opml(data)
    assert len(outlines) >= 10
    assert all(o["url"].startswith(("http://", "https://")) and o["title"] for o in outlines)
    assert b"EDIT FREELY" in data
    assert len({o["url"] for o in outlines}) == len(outlines)


def test_adaptive_interval_speeds_up_for_busy_feeds_and_every_wins(db_path, served):
    feed = news_feed(2)
    srv = served(feed)
    cli(db_path, "source", "add", f"{srv.base_url}/rss.xml", "--kind", "feed")
    poll(db_path, "--all")
    busy = health(db_path)["interval_s"]
    poll(db_path, "--all")
    quiet = health(db_path)["interval_s"]
    assert quiet > busy
    cli(db_path, "source", "add", f"{srv.alias_url}/rss.xml", "--kind", "feed", "--every", "45m")
    poll(db_path, "--all")
    poll(db_path, "--all")
    assert health(db_path, 2)["interval_s"] == 45 * 60
