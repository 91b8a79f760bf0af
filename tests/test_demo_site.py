"""The demo network (rjwatch.demo): pages, feeds, sitemaps and faults, served for real on loopback.

Pages are read back with the project's own extractor (`crawler.extract.extract_page`) and feeds
with its feed parser (`crawler.feeds.parse_feed`), so these tests also prove that what the demo
serves is what the crawler understands.
"""

from __future__ import annotations

import gzip
import http.client
import re
import struct
import threading
import time
import tracemalloc
import urllib.error
import urllib.request
import urllib.robotparser
import zlib
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import pytest

from crawler.extract import extract_page
from crawler.feeds import FeedError, parse_feed
from helpers import wait_until
from judge.identity import canonical_url
from rjwatch.demo import content, templates
from rjwatch.demo.network import demo_late_posts, demo_network
from rjwatch.demo.server import SiteServer, gzip_bomb_body, serve_network
from rjwatch.demo.site import Blog, Post, build_blog

pytestmark = pytest.mark.slow

#: Template family -> locale used for its test blog (covers every locale the demo knows).
FAMILY_LOCALES = {
    "simple": "en", "minima": "de", "watermark": "fr", "awesomeinc": "ru", "travel": "ja",
    "contempo": "en", "soho": "es", "notable": "en", "thirdparty": "en", "dynamicviews": "de",
}  # fmt: skip

#: Render-time budget per page of the 5,000-post blog (the target is a few ms; the margin is for
#: slow CI machines).
RENDER_BUDGET_SECONDS = 0.025


def fetch(url: str, headers: dict | None = None, timeout: float = 10):
    """(status, headers, body) for a GET, HTTP errors included; redirects are followed."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def raw(server: SiteServer, path: str, headers: dict | None = None, timeout: float = 10):
    """An http.client connection and response for `path` (nothing read yet)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    conn.request("GET", path, headers=headers or {})
    return conn, conn.getresponse()


def norm(text: str) -> str:
    return " ".join((text or "").split())


def first_sentence(post) -> str:
    return norm(templates.text_of(post.body_html)).split(". ")[0]


def local_date(blog: Blog, dt: datetime) -> str:
    return dt.astimezone(blog.tz).date().isoformat()


def all_feed_entries(url: str) -> list[dict]:
    entries, seen_urls = [], set()
    while url:
        assert url not in seen_urls, "next_url chain loops"
        seen_urls.add(url)
        status, headers, body = fetch(url)
        assert status == 200
        result = parse_feed(body, url)
        entries.extend(result.entries)
        url = result.next_url
    return entries


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def families():
    """One small served blog per template family."""
    blogs = [
        build_blog(f"fam-{name}", 12, template=name, locale=locale, seed=3) for name, locale in FAMILY_LOCALES.items()
    ]
    with serve_network(blogs) as servers:
        yield servers


@pytest.fixture(scope="module")
def demo():
    with serve_network(demo_network()) as servers:
        yield servers


@pytest.fixture(scope="module")
def big_blog():
    return build_blog("big", 5000, template="simple", locale="en", seed=7)


@pytest.fixture
def fresh():
    """A 60-post blog on its own server, for tests that mutate or inject faults."""
    blog = build_blog("fresh", 60, template="contempo", locale="en", seed=11)
    with SiteServer(blog) as server:
        yield blog, server


# ---------------------------------------------------------------------------------------------
# Pages


@pytest.mark.parametrize("family", list(FAMILY_LOCALES))
def test_item_page_extracts_in_every_template_family(families, family):
    server = families[f"fam-{family}"]
    blog = server.app
    post = blog.posts[3]
    status, headers, body = fetch(server.base_url + post.path)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    r = extract_page(body, server.base_url + post.path)
    assert r["page_type"] == "item"
    assert r["title"] == post.title
    assert r["blog_id"] == blog.blog_id
    assert r["post_id"] == post.post_id
    assert r["canonical_url"] == canonical_url(server.base_url + post.path)
    assert server.base_url + "/feeds/posts/default" in r["feed_urls"]
    if family == "dynamicviews":
        assert r["text"] is None and r["html"] is None and r["published"] is None
    else:
        assert r["published"][:10] == local_date(blog, post.published)
        assert first_sentence(post) in norm(r["text"])
        assert "Blog Archive" not in r["text"] and blog.author not in r["text"]


@pytest.mark.parametrize("family", ["simple", "contempo", "minima"])
def test_mobile_rendering_keeps_m1_on_links_and_drops_it_from_canonical(families, family):
    server = families[f"fam-{family}"]
    post = server.app.posts[5]
    url = server.alias_url + post.path + "?m=1"  # also a second host name for the same blog
    status, _, body = fetch(url)
    assert status == 200
    page = body.decode()
    assert "'isMobile': true" in page
    r = extract_page(body, url)
    assert r["canonical_url"] == canonical_url(server.base_url + post.path)
    assert first_sentence(post) in norm(r["text"])
    internal = re.findall(r"<a [^>]*href=['\"](" + re.escape(server.alias_url) + r"[^'\"]*)", page)
    internal = [u for u in internal if "/feeds/" not in u]
    assert internal and all("m=1" in u for u in internal)


def test_localised_date_headers(demo):
    checks = {
        "cuaderno-es": ("de marzo de 2017", "/2017/03/"),
        "dnevnik-ru": ("2018 г.", "/2018/09/"),
        "mado-ja": ("2019年8月25日日曜日", "/2019/08/"),
        "ledger-en": ("Tuesday, March 21, 2017", "/2017/03/"),
    }
    for key, (expected, month) in checks.items():
        server = demo[key]
        post = next(p for p in server.app.posts if p.path.startswith(month))
        status, _, body = fetch(server.base_url + post.path)
        assert status == 200
        assert expected in body.decode(), key
        r = extract_page(body, server.base_url + post.path)
        assert r["published"][:10] == local_date(server.app, post.published)


def test_archives_home_and_pager(families):
    server = families["fam-simple"]
    blog = server.app
    post = blog.posts[4]
    month = post.path[:9]
    status, _, body = fetch(server.base_url + month)
    assert status == 200
    r = extract_page(body, server.base_url + month)
    assert r["page_type"] == "archive"
    expected = [p.post_id for p in blog.posts if p.path.startswith(month)]
    assert [p["post_id"] for p in r["posts"]] == expected
    status, _, body = fetch(server.base_url + post.path[:6])
    assert status == 200 and extract_page(body)["page_type"] == "archive"

    status, _, body = fetch(server.base_url + "/")
    home = body.decode()
    r = extract_page(body, server.base_url + "/")
    assert r["page_type"] == "index" and len(r["posts"]) == blog.home_max_results
    older = re.search(r"class='blog-pager-older-link' href='([^']+)'", home).group(1)
    assert urlsplit(older).path == "/search" and "updated-max=" in older

    status, _, body = fetch(server.base_url + post.path)
    page = body.decode()
    assert f"href='{server.base_url}{blog.posts[3].path}' id='Blog1_blog-pager-newer-link'" in page
    assert f"href='{server.base_url}{blog.posts[5].path}' id='Blog1_blog-pager-older-link'" in page
    assert f"{server.base_url}/search/label/" in page
    assert fetch(server.base_url + "/2017/13/")[0] == 404
    assert fetch(server.base_url + "/no/such/page")[0] == 404


def test_search_and_label_pages_work(families):
    server = families["fam-simple"]
    blog = server.app
    label = blog.posts[0].labels[0]
    status, _, body = fetch(server.base_url + "/search/label/" + quote(label))
    assert status == 200
    listed = {p["post_id"] for p in extract_page(body)["posts"]}
    assert listed and listed <= {p.post_id for p in blog.posts if label in p.labels}
    word = blog.posts[0].title.split()[-1]
    status, _, body = fetch(server.base_url + "/search?q=" + quote(word))
    assert status == 200 and extract_page(body)["posts"]


def test_robots_txt_disallows_search(families):
    server = families["fam-simple"]
    status, _, body = fetch(server.base_url + "/robots.txt")
    text = body.decode()
    assert status == 200 and "User-agent: Mediapartners-Google" in text
    assert f"Sitemap: {server.base_url}/sitemap.xml" in text
    rp = urllib.robotparser.RobotFileParser()
    rp.parse(text.splitlines())
    assert not rp.can_fetch("rjwatch", server.base_url + "/search/label/notes")
    assert not rp.can_fetch("rjwatch", server.base_url + "/search?updated-max=2020-01-01T00:00:00Z")
    assert rp.can_fetch("rjwatch", server.base_url + server.app.posts[0].path)


# ---------------------------------------------------------------------------------------------
# Feeds


def test_feed_pagination_caps_max_results_and_covers_every_post(fresh):
    blog, server = fresh
    url = server.base_url + "/feeds/posts/default?max-results=500"
    status, _, body = fetch(url)
    first = parse_feed(body, url)
    assert first.is_blogger and first.blog_id == blog.blog_id
    assert first.total_results == 60 and first.items_per_page == 25 and len(first.entries) == 25
    assert "start-index=26" in first.next_url and "max-results=25" in first.next_url
    entries = all_feed_entries(url)
    ids = [e["post_id"] for e in entries]
    assert len(ids) == len(set(ids)) == 60
    assert set(ids) == {p.post_id for p in blog.posts}
    assert [e["url"] for e in entries[:3]] == [server.base_url + p.path for p in blog.posts[:3]]
    assert entries[0]["html"] == blog.posts[0].body_html and not entries[0]["summary_only"]


def test_feed_published_min_and_orderby_updated(fresh):
    blog, server = fresh
    pivot = blog.posts[20].published
    iso = quote(pivot.isoformat())
    entries = all_feed_entries(f"{server.base_url}/feeds/posts/default?published-min={iso}")
    assert {e["post_id"] for e in entries} == {p.post_id for p in blog.posts if p.published >= pivot}

    by_updated = sorted(blog.posts, key=lambda p: p.updated, reverse=True)
    cut = by_updated[10].updated
    iso = quote(cut.isoformat())
    entries = all_feed_entries(f"{server.base_url}/feeds/posts/default?orderby=updated&updated-min={iso}")
    assert [e["post_id"] for e in entries] == [p.post_id for p in by_updated if p.updated >= cut]
    # Without orderby=updated, Blogger ignores updated-min.
    status, _, body = fetch(f"{server.base_url}/feeds/posts/default?updated-min={iso}")
    assert parse_feed(body).total_results == 60


def test_summary_label_and_rss_feeds(fresh):
    blog, server = fresh
    url = server.base_url + "/feeds/posts/summary"
    result = parse_feed(fetch(url)[2], url)
    entry = result.entries[0]
    assert entry["summary_only"]
    assert re.search(r'#more">[^<]+</a>$', entry["html"])
    assert len(templates.text_of(entry["html"])) < 400

    label = blog.posts[0].labels[0]
    expected = [p.post_id for p in blog.posts if label in p.labels]
    entries = all_feed_entries(f"{server.base_url}/feeds/posts/default/-/{quote(label)}")
    assert [e["post_id"] for e in entries] == expected
    assert all(label in e["labels"] for e in entries)

    url = server.base_url + "/feeds/posts/default?alt=rss"
    status, headers, body = fetch(url)
    assert headers["Content-Type"].startswith("application/rss+xml")
    rss = parse_feed(body, url)
    assert rss.version == "rss20" and rss.total_results == 60
    assert rss.entries[0]["url"] == server.base_url + blog.posts[0].path
    assert rss.entries[0]["post_id"] == blog.posts[0].post_id
    assert rss.next_url and "start-index=26" in rss.next_url and "alt=rss" in rss.next_url


def test_summary_mode_and_disabled_feeds():
    blog = build_blog("modes", 5, template="simple", seed=2, feed_mode="summary")
    with SiteServer(blog) as server:
        url = server.base_url + "/feeds/posts/default"
        assert all(e["summary_only"] for e in parse_feed(fetch(url)[2], url).entries)
        url = server.base_url + "/feeds/posts/full"
        assert not any(e["summary_only"] for e in parse_feed(fetch(url)[2], url).entries)
        blog.feed_enabled = False
        assert fetch(server.base_url + "/feeds/posts/default")[0] == 404
        page = fetch(server.base_url + blog.posts[0].path)[2].decode()
        assert "application/atom+xml" not in page


def test_conditional_get(fresh):
    blog, server = fresh
    url = server.base_url + "/feeds/posts/default"
    status, headers, _ = fetch(url)
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert status == 200 and etag and last_modified
    assert fetch(url, {"If-None-Match": etag})[0] == 304
    assert fetch(url, {"If-Modified-Since": last_modified})[0] == 304
    conn, resp = raw(server, "/feeds/posts/default", {"If-None-Match": etag})
    assert resp.status == 304 and resp.read() == b"" and resp.getheader("ETag") == etag
    conn.close()
    blog.ignore_validators = True
    try:
        assert fetch(url, {"If-None-Match": etag})[0] == 200
    finally:
        blog.ignore_validators = False
    blog.edit(blog.posts[-1].post_id, "<p>Corrected.</p>")
    status, headers, _ = fetch(url, {"If-None-Match": etag, "If-Modified-Since": last_modified})
    assert status == 200 and headers["ETag"] != etag


def test_publish_and_edit_at_runtime(fresh):
    blog, server = fresh
    when = datetime.now(UTC).replace(microsecond=0)
    post = blog.publish(
        Post(
            post_id="1234567890123456789",
            title="Fresh off the press",
            slug="",
            published=when,
            author="Tester",
            labels=["news"],
            body_html="<p>Brand new words about the harbour.</p>",
        )
    )
    assert post.path == when.astimezone(blog.tz).strftime("/%Y/%m/") + "fresh-off-press.html"
    url = server.base_url + "/feeds/posts/default"
    result = parse_feed(fetch(url)[2], url)
    assert result.entries[0]["post_id"] == post.post_id and result.total_results == 61
    assert fetch(server.base_url + post.path)[0] == 200

    later = when + timedelta(minutes=5)
    old = blog.posts[30]
    blog.edit(old.post_id, "<p>Edited body text.</p>", updated=later)
    url = server.base_url + "/feeds/posts/default?orderby=updated&max-results=2"
    entry = parse_feed(fetch(url)[2], url).entries[0]
    assert entry["post_id"] == old.post_id and entry["html"] == "<p>Edited body text.</p>"
    assert datetime.fromisoformat(entry["updated"]) == later
    page = fetch(server.base_url + old.path)[2]
    assert "Edited body text." in extract_page(page)["text"]


def test_sitemap_lists_every_post(big_blog):
    with SiteServer(big_blog) as server:
        status, _, body = fetch(server.base_url + "/sitemap.xml")
        pages = re.findall(r"<loc>([^<]+)</loc>", body.decode())
        assert status == 200 and len(pages) == 10
        urls = []
        for page in pages:
            status, headers, body = fetch(page)
            assert status == 200 and headers["Content-Type"].startswith("application/xml")
            found = re.findall(r"<loc>([^<]+)</loc>", body.decode())
            assert len(found) <= 500
            urls.extend(found)
        assert len(urls) == len(set(urls)) == 5000
        assert set(urls) == {server.base_url + p.path for p in big_blog.posts}
        assert fetch(server.base_url + "/sitemap.xml?page=11")[0] == 404


def test_big_blog_renders_any_page_in_a_few_ms(big_blog):
    post = big_blog.posts[2500]
    label = post.labels[0]
    paths = [
        post.path, post.path + "?m=1", "/", post.path[:9], "/feeds/posts/default",
        "/feeds/posts/default?start-index=4900&max-results=25", "/feeds/posts/summary?alt=rss",
        "/feeds/posts/default?orderby=updated&updated-min=2023-01-01T00:00:00Z",
        f"/feeds/posts/default/-/{label}", "/sitemap.xml?page=7", "/robots.txt", "/nope.html",
    ]  # fmt: skip
    for path in paths:
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            status, _, body = big_blog.render(path, "127.0.0.1:8080")
            timings.append(time.perf_counter() - started)
        assert status in (200, 404) and body
        assert sorted(timings)[2] < RENDER_BUDGET_SECONDS, (path, timings)


# ---------------------------------------------------------------------------------------------
# The curated demo network


def test_demo_network_content(demo):
    assert {s.app.template for s in demo.values() if hasattr(s.app, "template")} == {
        "simple",
        "soho",
        "awesomeinc",
        "travel",
        "dynamicviews",
    }
    paragraphs = [norm(p) for p in content.seed_paragraphs()]

    ledger = demo["ledger-en"]
    repost = next(p for p in ledger.app.posts if "Reposts" in p.labels)
    r = extract_page(fetch(ledger.base_url + repost.path)[2])
    assert all(p in norm(r["text"]) for p in paragraphs) and "My notes." in r["text"]

    # The German copy lives on a Dynamic Views blog: only its feed carries the text.
    de = demo["presseschau-de"]
    url = de.base_url + "/feeds/posts/default?max-results=25"
    heading = content.seed_blocks()[1]
    copy = next(e for e in parse_feed(fetch(url)[2], url).entries if e["title"] == heading)
    assert content.SEED_FLAG in copy["html"] and content.SEED_FLAG_MOJIBAKE not in copy["html"]
    assert "Shikotan, Habomai" in copy["html"]

    es = demo["cuaderno-es"]
    truncated = next(p for p in es.app.posts if p.title.startswith("(02)"))
    text = norm(extract_page(fetch(es.base_url + truncated.path)[2])["text"])
    assert text.endswith("Leer más »") and paragraphs[0] in text and paragraphs[-1] not in text
    excerpt = next(p for p in es.app.posts if "<blockquote>" in p.body_html)
    assert excerpt.body_html.count("<p>The issue of") + excerpt.body_html.count("<p>Russian Foreign") == 2

    en_copy = next(p for p in ledger.app.posts if p.post_id == "6402958813377145720")
    de_copy = next(p for p in de.app.posts if p.post_id == "8178890446321205597")
    assert en_copy.title != de_copy.title
    en_paras = re.findall(r"<p>(.*?)</p>", en_copy.body_html)
    de_paras = re.findall(r"<p>(.*?)</p>", de_copy.body_html)
    assert len(en_paras) == len(de_paras) and sum(a != b for a, b in zip(en_paras, de_paras)) == 1

    for blog in (s.app for s in demo.values() if hasattr(s.app, "template")):
        for post in blog.posts:
            assert 2017 <= post.published.year <= 2024
            if paragraphs[1] in norm(templates.text_of(post.body_html)):
                continue  # seed copies are as long as the seed (plus commentary)
            words = len(templates.text_of(post.body_html).split())
            chars = len(templates.text_of(post.body_html))
            assert (150 <= words <= 600) or (post.lang == "ja" and chars >= 300), (post.title, words)

    wire = demo["wire"]
    status, _, body = fetch(wire.base_url + "/rss.xml")
    rss = parse_feed(body, wire.base_url + "/rss.xml")
    assert status == 200 and len(rss.entries) == 3
    page = extract_page(fetch(rss.entries[0]["url"])[2], rss.entries[0]["url"])
    assert page["title"] == rss.entries[0]["title"] and len(page["text"]) > 500


def test_demo_late_posts_show_up_in_feeds():
    net = demo_network()
    late = demo_late_posts(datetime(2025, 1, 15, 12, 0, tzinfo=UTC))
    assert len(late) == 2
    with serve_network(net) as servers:
        for key, post in late:
            net.blogs[key].publish(post)
            url = servers[key].base_url + "/feeds/posts/default"
            assert parse_feed(fetch(url)[2], url).entries[0]["post_id"] == post.post_id
        seed_copy = late[0][1]
        assert all(norm(p) in norm(templates.text_of(seed_copy.body_html)) for p in content.seed_paragraphs())


# ---------------------------------------------------------------------------------------------
# Server: loopback only, log, concurrency


def test_server_binds_only_to_loopback():
    blog = build_blog("lo", 2, seed=1)
    for host in ("0.0.0.0", "192.168.1.10", "example.com", "", "::"):
        with pytest.raises(ValueError):
            SiteServer(blog, host=host)
    with SiteServer(blog, host="localhost") as server:
        assert server.host == "127.0.0.1"
        assert fetch(server.base_url + "/")[0] == 200


def test_request_log_and_peak_concurrency(fresh):
    blog, server = fresh
    server.reset_log()
    fetch(server.base_url + "/robots.txt", {"User-Agent": "rjwatch-test/1.0"})
    assert server.log.wait_for(1)
    rec = server.requests[-1]
    assert (rec.method, rec.path, rec.status) == ("GET", "/robots.txt", 200)
    assert rec.user_agent == "rjwatch-test/1.0"
    assert rec.host == f"127.0.0.1:{server.port}" and rec.bytes > 50

    server.reset_log()
    server.faults.slow("/slow/*", delay=0.6)
    barrier = threading.Barrier(3)
    statuses = []

    def worker(i):
        barrier.wait()
        statuses.append(fetch(f"{server.base_url}/slow/{i}")[0])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [404, 404, 404]  # slow, then answered normally (no such page)
    assert server.log.wait_for(3)
    assert server.peak_in_flight == 3 and server.log.in_flight == 0
    assert server.log.count(path="/slow/*") == 3 and all(r.duration >= 0.55 for r in server.requests)


# ---------------------------------------------------------------------------------------------
# Faults


def test_rate_limit_and_burst_503(fresh):
    blog, server = fresh
    server.faults.rate_limit("/feeds/*", first=2, retry_after=7)
    url = server.base_url + "/feeds/posts/default"
    results = [fetch(url) for _ in range(3)]
    assert [r[0] for r in results] == [429, 429, 200]
    assert results[0][1]["Retry-After"] == "7"
    assert fetch(url + "?start-index=26")[0] == 429  # each URL gets its own first K
    server.faults.clear()

    server.faults.rate_limit("*", every=3, retry_after=1)
    assert [fetch(server.base_url + "/robots.txt")[0] for _ in range(6)] == [200, 200, 429, 200, 200, 429]
    server.faults.clear()

    server.faults.burst_503(2, retry_after=3)
    results = [fetch(server.base_url + "/") for _ in range(3)]
    assert [r[0] for r in results] == [503, 503, 200] and results[0][1]["Retry-After"] == "3"
    assert server.faults.active() == []


def test_slow_and_drip(fresh):
    blog, server = fresh
    server.faults.slow("/robots.txt", delay=0.3)
    started = time.monotonic()
    assert fetch(server.base_url + "/robots.txt")[0] == 200
    assert time.monotonic() - started >= 0.28
    server.faults.clear()

    expected = blog.render("/robots.txt", f"127.0.0.1:{server.port}")[2]
    server.faults.drip("/robots.txt", chunk=16, pause=0.03)
    started = time.monotonic()
    status, _, body = fetch(server.base_url + "/robots.txt")
    elapsed = time.monotonic() - started
    assert status == 200 and body == expected
    assert elapsed >= 0.03 * (len(body) // 16 - 1) * 0.9


def test_truncate_and_broken_chunked(fresh):
    blog, server = fresh
    server.faults.truncate("/", keep=0.3)
    conn, resp = raw(server, "/")
    announced = int(resp.getheader("Content-Length"))
    with pytest.raises(http.client.IncompleteRead) as info:
        resp.read()
    assert len(info.value.partial) < announced
    conn.close()
    server.faults.clear()

    server.faults.broken_chunked("/")
    conn, resp = raw(server, "/")
    assert resp.getheader("Transfer-Encoding") == "chunked"
    with pytest.raises(http.client.HTTPException):
        resp.read()
    conn.close()


def test_redirect_loop_cycles(fresh):
    blog, server = fresh
    server.faults.redirect_loop("/loop.html", length=3)
    path, visited = "/loop.html", []
    for _ in range(6):
        conn, resp = raw(server, path)
        assert resp.status == 302
        resp.read()
        conn.close()
        visited.append(path)
        location = urlsplit(resp.getheader("Location"))
        path = location.path + (f"?{location.query}" if location.query else "")
    assert visited == ["/loop.html", "/loop.html?loop=1", "/loop.html?loop=2"] * 2
    assert fetch(server.base_url + "/loop.html")[0] == 302  # urllib gives up on the loop


def test_status_and_html_instead_of_feed(fresh):
    blog, server = fresh
    server.faults.status(blog.posts[0].path, 410)
    server.faults.status("/boom", 500, times=1)
    assert fetch(server.base_url + blog.posts[0].path)[0] == 410
    assert fetch(server.base_url + "/boom")[0] == 500
    assert fetch(server.base_url + "/boom")[0] == 404  # fired its one time

    server.faults.html_instead_of_feed("/feeds/*")
    status, headers, body = fetch(server.base_url + "/feeds/posts/default")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    with pytest.raises(FeedError):
        parse_feed(body, server.base_url + "/feeds/posts/default")


def test_huge_page_streams_without_buffering(fresh):
    blog, server = fresh
    size = 50 * 1024 * 1024
    server.faults.huge("/huge.html", size=size)
    server.faults.huge("/huge-nolength.html", size=5 * 1024 * 1024, content_length=False)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        conn, resp = raw(server, "/huge.html", timeout=30)
        assert int(resp.getheader("Content-Length")) == size
        total = 0
        while chunk := resp.read(256 * 1024):
            total += len(chunk)
        conn.close()
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    assert total == size
    assert peak < 4 * 1024 * 1024, peak

    conn, resp = raw(server, "/huge-nolength.html")
    assert resp.getheader("Content-Length") is None
    body = resp.read()
    conn.close()
    assert len(body) == 5 * 1024 * 1024 and body.rstrip().endswith(b"</html>")


def test_gzip_bomb(fresh):
    blog, server = fresh
    server.faults.gzip_bomb("/bomb.html")
    conn, resp = raw(server, "/bomb.html", {"Accept-Encoding": "gzip"})
    assert resp.getheader("Content-Encoding") == "gzip"
    body = resp.read()
    conn.close()
    assert len(body) < 2 * 1024 * 1024
    assert struct.unpack("<I", body[-4:])[0] == 1024**3  # ISIZE: 1 GiB inflated
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = inflater.decompress(body[: 64 * 1024], 32 * 1024 * 1024)
    assert len(out) == 32 * 1024 * 1024 and not out.strip(b"\0") and inflater.unconsumed_tail
    small = gzip_bomb_body(3 * 1024 * 1024)
    assert gzip.decompress(small) == bytes(3 * 1024 * 1024)


def test_hang_does_not_block_stop():
    blog = build_blog("hang", 3, seed=5)
    server = SiteServer(blog).start()
    server.faults.hang("/hang")
    server.faults.drip("/", chunk=1, pause=0.5)
    errors = []

    def client(path):
        try:
            conn, resp = raw(server, path, timeout=20)
            resp.read()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(p,)) for p in ("/hang", "/")]
    for t in threads:
        t.start()
    assert wait_until(lambda: server.log.in_flight >= 2, timeout=5, step=0.02)
    assert server.log.in_flight == 2
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 1.0
    for t in threads:
        t.join(5)
        assert not t.is_alive()
    assert len(errors) == 2
    with pytest.raises(OSError):
        raw(server, "/", timeout=2)
