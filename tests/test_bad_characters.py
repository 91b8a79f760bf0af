"""Bad characters and broken entries in real documents: one bad character reference never loses a feed,
a blog or an ingest run (17), and an entry that cannot be read is reported with counts, never dropped
silently (18).

Real `rjwatch ingest`, `rjwatch poll` and `rjwatch crawl` subprocesses against files and against feeds
and Blogger-style blogs served on 127.0.0.1; assertions on the stored rows, the source health and the
command's output. The documents are the fixture feeds in tests/fixtures/feeds/ (`rss20_surrogate_char_refs.xml`,
`rss20_one_entry_without_link.xml`) and a demo blog whose feed writes its emoji as surrogate references.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from helpers import FIXTURES, health, no_traceback, q, rows
from reliability import (
    StaticSite,
    assert_consistent,
    assert_stored_once,
    crawl,
    poll,
    record,
    rjwatch_cmd,
    run_measured,
)
from rjwatch.demo.site import build_blog

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

FEEDS = FIXTURES / "feeds"
SURROGATES = FEEDS / "rss20_surrogate_char_refs.xml"  # 9 entries, character references no parser takes
NO_LINK = FEEDS / "rss20_one_entry_without_link.xml"  # 10 entries, the 4th with neither link nor guid
GOOD_A = FEEDS / "rss20_content_encoded.xml"  # clean feeds around the bad one
GOOD_C = FEEDS / "blogger_atom_page2_last_no_next.xml"

EMOJI = "\U0001f600"


def entry_urls(path: Path) -> list[str]:
    expected = json.loads(path.with_name(path.name + ".expected.json").read_text("utf-8"))
    return [e["url"] for e in expected["entries"]]


def doubled(db_path: Path) -> int:
    """Posts stored more than once (by canonical URL)."""
    counts = Counter(r["canonical_url"] for r in rows(db_path, "SELECT canonical_url FROM posts"))
    return sum(n - 1 for n in counts.values() if n > 1)


def title_of(db_path: Path, url: str) -> str:
    return q(db_path, "SELECT title FROM posts WHERE canonical_url = ? OR url = ?", url, url)


def text_of(db_path: Path, url: str) -> str:
    return q(db_path, "SELECT text FROM posts WHERE canonical_url = ? OR url = ?", url, url)


# --- 17: bad character references ------------------------------------------------------------------
def test_17_ingest_of_three_feeds_stores_all_three_when_one_has_surrogate_references(db_path, tmp_path):
    files = []
    for name, src in (("a.xml", GOOD_A), ("b.xml", SURROGATES), ("c.xml", GOOD_C)):
        files.append(tmp_path / name)
        files[-1].write_bytes(src.read_bytes())
    res = run_measured(rjwatch_cmd(db_path, "ingest", *map(str, files)), timeout=120)
    no_traceback(res.stdout, res.stderr)
    # Nothing was lost: every entry of every file is stored, so the run succeeds ...
    assert res.code == 0, res.stderr[-2000:]
    urls = entry_urls(GOOD_A) + entry_urls(SURROGATES) + entry_urls(GOOD_C)
    lost = assert_stored_once(db_path, urls=urls)
    assert q(db_path, "SELECT count(*) FROM posts") == len(urls)
    # ... and the repair of b's references is reported, in one line that names the file.
    notes = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(notes) == 1, res.stderr
    assert "b.xml" in notes[0] and "character references" in notes[0], notes
    assert f"{len(urls)} post(s): {len(urls)} stored" in res.stdout and "0 failed" in res.stdout, res.stdout
    # A surrogate pair became the character it stands for, in titles and in bodies (escaped HTML, CDATA).
    b = entry_urls(SURROGATES)
    assert title_of(db_path, b[0]) == f"Fisheries talks resume in Moscow {EMOJI}"
    assert title_of(db_path, b[1]) == f"A ferry to Sakhalin, again {EMOJI}"
    assert text_of(db_path, b[2]).endswith(EMOJI) and text_of(db_path, b[3]).endswith(EMOJI)
    # A lone surrogate, zero and numbers beyond Unicode became U+FFFD; the text around them is intact.
    assert title_of(db_path, b[4]) == "Crab prices in Nemuro \ufffd"
    assert title_of(db_path, b[8]) == "Grave visits by boat \ufffd"
    assert "\ud83d" not in json.dumps(rows(db_path, "SELECT title, text FROM posts"))
    assert_consistent(db_path)
    record(
        "17 surrogate character references (ingest of three feeds)",
        runs=1,
        posts=len(urls),
        faults=9,
        lost=lost,
        doubled=doubled(db_path),
    )


def test_17_poll_stores_every_entry_of_a_feed_with_surrogate_references(db_path, served):
    site = StaticSite()
    site.put("/feed.xml", SURROGATES.read_bytes(), "application/rss+xml; charset=UTF-8")
    srv = served(site)
    url = f"{srv.base_url}/feed.xml"
    assert run_measured(rjwatch_cmd(db_path, "source", "add", url, "--kind", "feed")).code == 0
    runs = 0
    for _ in range(2):  # the second poll finds the same 9 entries: seen, not stored again
        res = poll(db_path)
        runs += 1
        no_traceback(res.stdout, res.stderr)
        assert res.code == 0, res.stderr[-2000:]
        out = json.loads(res.stdout)
        assert out["failed"] == 0, out
    assert out["seen"] == 9 and out["new_by_status"] == {}, out
    lost = assert_stored_once(db_path, urls=entry_urls(SURROGATES))
    assert q(db_path, "SELECT count(*) FROM posts") == 9
    assert title_of(db_path, entry_urls(SURROGATES)[0]).endswith(EMOJI)
    h = health(db_path)
    assert h["consecutive_failures"] == 0 and h["last_success"]
    assert "character references" in h["last_error"], h  # the repair is on record
    assert_consistent(db_path)
    record(
        "17 surrogate character references (poll)", runs=runs, posts=9, faults=9, lost=lost, doubled=doubled(db_path)
    )


class _BlogWrapper:
    """A demo blog served as it is, but for what a subclass's `render` changes in its answers."""

    def __init__(self, blog):
        self.__dict__["blog"] = blog

    def __getattr__(self, name):
        return getattr(self.blog, name)

    def __setattr__(self, name, value):
        setattr(self.blog, name, value)


class EmojiAsSurrogates(_BlogWrapper):
    """A demo blog whose feed writes emoji the way some CMSs do: as two surrogate character references
    (and, in other titles, a lone surrogate, a number beyond Unicode and zero)."""

    REFS = ("&#55357;&#56832;", "&#xD83D;&#xDE00;", "&#55357;", "&#1114112;", "&#0;")

    def render(self, path_with_query: str, host: str, request_headers=None):
        status, headers, body = self.blog.render(path_with_query, host, request_headers)
        if path_with_query.startswith("/feeds/") and status == 200:
            for post, ref in zip(self.blog.posts, self.REFS):
                title = post.title.replace("&", "&amp;").replace("<", "&lt;").encode()
                assert b">" + title + b"<" in body, "the demo feed writes titles as plain text"
                body = body.replace(b">" + title + b"<", b">" + title + b" " + ref.encode() + b"<", 1)
        return status, headers, body


def test_17_crawl_of_a_blogger_feed_with_surrogate_references_stores_every_post(db_path, served):
    blog = build_blog("emoji-cms", 10, template="simple", seed=171)
    srv = served(EmojiAsSurrogates(blog))
    res = crawl(db_path, srv.base_url)
    no_traceback(res.stdout, res.stderr)
    assert res.code == 0, res.stderr[-2000:]
    lost = assert_stored_once(db_path, post_ids=[p.post_id for p in blog.posts])
    assert q(db_path, "SELECT count(*) FROM posts") == 10
    titles = {r["post_id"]: r["title"] for r in rows(db_path, "SELECT post_id, title FROM posts")}
    first, second, lone = blog.posts[0], blog.posts[1], blog.posts[2]
    assert titles[first.post_id] == f"{first.title} {EMOJI}"
    assert titles[second.post_id] == f"{second.title} {EMOJI}"
    assert titles[lone.post_id] == f"{lone.title} \ufffd"
    # every post came in full with the feed: no page had to be fetched to make up for it
    assert not [r.path for r in srv.log.records() if r.path.endswith(".html")]
    assert_consistent(db_path)
    record(
        "17 surrogate character references (Blogger crawl)",
        runs=1,
        posts=10,
        faults=5,
        lost=lost,
        doubled=doubled(db_path),
    )


def test_17_a_saved_page_with_surrogate_references_keeps_its_emoji(db_path, tmp_path):
    body = "".join(
        f"<p>{line} &#55357;&#56832;</p>"
        for line in (
            "Japanese and Russian negotiators met again over salmon quotas off Hokkaido.",
            "The ferry between Wakkanai and Korsakov is back on the timetable after six years.",
            "Former residents of the southern Kurils asked for visa-free exchanges again &#55357; &#1114112;.",
        )
    )
    page = tmp_path / "post.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>Notes &#xD83D;&#xDE00;</title>"
        "<link rel='canonical' href='https://emoji-notes.blogspot.com/2024/05/notes.html'></head><body>"
        f"<div class='post hentry'><h3 class='post-title entry-title'>Notes &#xD83D;&#xDE00;</h3>"
        f"<div class='post-body entry-content'>{body}</div></div></body></html>",
        encoding="utf-8",
    )
    res = run_measured(rjwatch_cmd(db_path, "ingest", str(page)), timeout=60)
    no_traceback(res.stdout, res.stderr)
    assert res.code == 0, res.stderr[-2000:]
    url = "https://emoji-notes.blogspot.com/2024/05/notes.html"
    assert title_of(db_path, url) == f"Notes {EMOJI}"
    text = text_of(db_path, url)
    assert text.count(EMOJI) == 3 and "\ufffd\ufffd" not in text, text
    record(
        "17 surrogate character references (saved page)", runs=1, posts=1, faults=3, lost=0, doubled=doubled(db_path)
    )


# --- 18: entries lost to errors are reported ----------------------------------------------------------
def test_18_ingest_reports_an_entry_without_link_with_counts_and_fails(db_path, tmp_path):
    feed = tmp_path / "feed.xml"
    feed.write_bytes(NO_LINK.read_bytes())
    res = run_measured(rjwatch_cmd(db_path, "ingest", str(feed)), timeout=60)
    no_traceback(res.stdout, res.stderr)
    assert res.code == 1, (res.stdout, res.stderr)
    assert f"{feed}: 10 entries in the document, 9 parsed: entry 4 has no link or id" in res.stderr, res.stderr
    assert "9 stored" in res.stdout and "1 failed" in res.stdout, res.stdout
    lost = assert_stored_once(db_path, urls=entry_urls(NO_LINK))
    assert q(db_path, "SELECT count(*) FROM posts") == 9
    # the same through --format json: the problem is listed and counted
    again = run_measured(rjwatch_cmd(db_path, "ingest", str(feed), "--format", "json"), timeout=60)
    assert again.code == 1
    out = json.loads(again.stdout)
    assert out["errors"] == 1 and out["seen"] == 9, out
    assert any("entry 4 has no link or id" in p for p in out["problems"]), out
    assert doubled(db_path) == 0
    record("18 a feed entry without link (ingest)", runs=2, posts=9, faults=1, lost=lost, doubled=doubled(db_path))


def test_18_ingest_reports_a_blogger_export_post_without_link_or_id(db_path, tmp_path):
    data = (FEEDS / "blogger_export_posts_drafts_pages_comments.xml").read_bytes()
    expected = json.loads((FEEDS / "blogger_export_posts_drafts_pages_comments.xml.expected.json").read_text("utf-8"))
    kept, broken = expected["entries"][0], expected["entries"][1]
    # the second published post loses its alternate link and its Blogger id
    broken_id = f"tag:blogger.com,1999:blog-{broken['blog_id']}.post-{broken['post_id']}".encode()
    assert data.count(broken_id) == 1 and data.count(broken["url"].encode()) >= 1
    data = data.replace(broken_id, b"urn:x-lost:1").replace(broken["url"].encode(), b"/relative.html")
    export = tmp_path / "export.xml"
    export.write_bytes(data)
    res = run_measured(rjwatch_cmd(db_path, "ingest", str(export)), timeout=60)
    no_traceback(res.stdout, res.stderr)
    assert res.code == 1, (res.stdout, res.stderr)
    assert f"{export}: 2 published posts in the export, 1 parsed: entry" in res.stderr, res.stderr
    assert "has no link or id" in res.stderr
    lost = assert_stored_once(db_path, urls=[kept["url"]])
    assert q(db_path, "SELECT count(*) FROM posts") == 1
    record(
        "18 a Blogger export post without link or id (ingest)",
        runs=1,
        posts=1,
        faults=1,
        lost=lost,
        doubled=doubled(db_path),
    )


def test_18_poll_records_lost_entries_in_the_source_health(db_path, served):
    site = StaticSite()
    site.put("/digest.xml", NO_LINK.read_bytes(), "application/rss+xml; charset=UTF-8")
    srv = served(site)
    assert run_measured(rjwatch_cmd(db_path, "source", "add", f"{srv.base_url}/digest.xml", "--kind", "feed")).code == 0
    res = run_measured(rjwatch_cmd(db_path, "poll", "--all"), timeout=120)
    no_traceback(res.stdout, res.stderr)
    assert res.code == 0, res.stderr[-2000:]
    assert "10 entries in the document, 9 parsed: entry 4 has no link or id" in res.stderr, res.stderr
    lost = assert_stored_once(db_path, urls=entry_urls(NO_LINK))
    assert q(db_path, "SELECT count(*) FROM posts") == 9
    h = health(db_path)
    assert h["last_error"].startswith("10 entries in the document, 9 parsed: entry 4 has no link or id"), h
    assert h["consecutive_failures"] == 0
    listed = json.loads(run_measured(rjwatch_cmd(db_path, "source", "list", "--format", "json")).stdout)
    assert "entry 4 has no link or id" in listed[0]["last_error"], listed
    record("18 a feed entry without link (poll)", runs=1, posts=9, faults=1, lost=lost, doubled=doubled(db_path))


class FeedLosesAnEntry(_BlogWrapper):
    """A demo blog whose feed entry for one post has neither id nor links: it cannot become a post."""

    def __init__(self, blog, post):
        super().__init__(blog)
        self.__dict__["tag"] = f"<id>tag:blogger.com,1999:blog-{blog.blog_id}.post-{post.post_id}</id>".encode()

    def render(self, path_with_query: str, host: str, request_headers=None):
        status, headers, body = self.blog.render(path_with_query, host, request_headers)
        if path_with_query.startswith("/feeds/") and status == 200 and self.tag in body:
            start = body.rindex(b"<entry>", 0, body.index(self.tag))
            end = body.index(b"</entry>", start)
            entry = re.sub(rb"<id>[^<]*</id>|<link [^>]*/>", b"", body[start:end])
            body = body[:start] + entry + body[end:]
        return status, headers, body


def test_18_crawl_counts_a_feed_entry_it_could_not_read_and_collects_the_post_from_its_page(db_path, served):
    blog = build_blog("lossy-feed", 10, template="simple", seed=181)
    newest = max(blog.posts, key=lambda p: p.published)  # the feed's first entry
    srv = served(FeedLosesAnEntry(blog, newest))
    res = crawl(db_path, srv.base_url)
    no_traceback(res.stdout, res.stderr)
    assert res.code == 0, res.stderr[-2000:]
    assert "10 entries in the document, 9 parsed: entry 1 has no link or id" in res.stderr, res.stderr[-3000:]
    stats = json.loads(q(db_path, "SELECT stats FROM runs ORDER BY id DESC LIMIT 1"))
    assert stats["dropped"].get("feed_entries") == 1, stats
    # the post the feed lost is collected from its own page, found by the HTML walk
    lost = assert_stored_once(db_path, post_ids=[p.post_id for p in blog.posts])
    assert srv.log.count(path=newest.path) >= 1
    # the lost entry did not shift the feed's paging: one page holds all ten, and it was read once
    assert [r.path for r in srv.log.records() if r.path.startswith("/feeds/")] == [
        "/feeds/posts/default?max-results=100&start-index=1"
    ]
    assert_consistent(db_path)
    record(
        "18 a feed entry without link or id (Blogger crawl)",
        runs=1,
        posts=10,
        faults=1,
        lost=lost,
        doubled=doubled(db_path),
    )
