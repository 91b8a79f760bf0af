"""Learned URLs never reach private addresses, whichever client fetches them (11), and trust is per site (12).

The poller, `--full-text`, `poll --backfill`, `ingest URL`, `classify URL`, `seed add URL`,
`source add --kind auto` and real `rjwatch crawl` subprocesses against feeds and blogs served on
127.0.0.1, with a second local server standing for an internal service: it counts every request and
must see none. Redirects to 10.0.0.1 and 169.254.169.254 must be refused from the address alone,
before any connection (the error names the refused URL; a connection would end in another error).
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

import pytest

from helpers import health, no_traceback, q, relevant_articles, rss, run_cli
from reliability import FAST, assert_consistent, assert_stored_once, crawl, poll, record, rjwatch_cmd, run_measured
from rjwatch.demo.site import Post, build_blog

MARKER = "INTERNAL-SERVICE-SECRET-7f3a"
REFUSED = "private, loopback or link-local address"


class Routes:
    """A site of fixed answers by path: pages and redirects (the path's query is ignored)."""

    key = "routes"

    def __init__(self):
        self.pages: dict[str, tuple[int, dict, bytes]] = {}

    def put(self, path: str, body: bytes | str, content_type: str = "text/html; charset=UTF-8") -> None:
        data = body.encode() if isinstance(body, str) else body
        self.pages[path] = (200, {"Content-Type": content_type}, data)

    def redirect(self, path: str, location: str, code: int = 302) -> None:
        self.pages[path] = (code, {"Location": location, "Content-Type": "text/html"}, b"")

    def render(self, path_with_query: str, host: str, request_headers=None):
        path = path_with_query.split("?", 1)[0]
        return self.pages.get(path, (404, {"Content-Type": "text/plain"}, b"not found"))


def article_page(title: str, text: str, extra: str = "") -> str:
    paras = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n") if p.strip())
    return (
        f"<!DOCTYPE html><html><head><title>{escape(title)}</title></head><body><article>"
        f"<h1>{escape(title)}</h1>{paras}{extra}</article></body></html>"
    )


def internal_service(served):
    """A local service that must never be reached: every path is a page carrying MARKER."""
    app = Routes()
    art = relevant_articles(3)[2]
    page = article_page(art["title"], art["text"] + "\n" + MARKER)
    for path in (
        "/",
        "/feed.xml",
        "/page2.xml",
        "/secret.html",
        "/latest/meta-data/",
        "/2024/01/x.html",
        "/sitemap.xml",
    ):
        app.put(path, page)
    return served(app)


def atom(entries: list[tuple[str, str, str]], next_url: str | None = None) -> bytes:
    nxt = f'<link rel="next" href="{escape(next_url)}"/>' if next_url else ""
    body = "".join(
        f'<entry><id>{escape(link)}</id><title>{escape(t)}</title><link rel="alternate" '
        f'href="{escape(link)}"/><updated>2024-06-01T00:00:00Z</updated>'
        f'<content type="html">{escape(c)}</content></entry>'
        for t, link, c in entries
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><id>urn:x</id>'
        f"<title>T</title><updated>2024-06-01T00:00:00Z</updated>{nxt}{body}</feed>"
    ).encode()


def leaked(db_path) -> int:
    return (
        q(db_path, "SELECT count(*) FROM posts WHERE text LIKE ? OR title LIKE ?", f"%{MARKER}%", f"%{MARKER}%")
        + q(db_path, "SELECT count(*) FROM alerts WHERE payload LIKE ?", f"%{MARKER}%")
        + q(db_path, "SELECT count(*) FROM posts_fts WHERE posts_fts MATCH ?", f'"{MARKER}"')
    )


# --- 11 ---------------------------------------------------------------------------------------------
@pytest.mark.reliability
@pytest.mark.slow
def test_11_the_poller_never_follows_a_feed_to_a_private_address(db_path, served):
    internal = internal_service(served)
    app = Routes()
    site = served(app)
    base = site.base_url
    a1, a2, _ = relevant_articles(3)
    redirects = {
        "/to-port.xml": (f"{internal.base_url}/feed.xml", 301),
        "/to-localhost.xml": (f"http://localhost:{internal.port}/feed.xml", 308),
        "/to-intranet.xml": ("http://10.0.0.1/feed.xml", 302),
        "/to-metadata.xml": ("http://169.254.169.254/latest/meta-data/", 301),
    }
    for path, (location, code) in redirects.items():
        app.redirect(path, location, code)
    # a paged feed whose rel=next leads to the internal service
    app.put(
        "/paged.xml",
        atom([(a1["title"], f"{base}/2024/06/paged.html", a1["text"])], next_url=f"{internal.base_url}/page2.xml"),
        "application/atom+xml",
    )
    # a summary feed fetched with --full-text: its entry page on the feed's own site redirects inside
    app.put("/summary.xml", rss([("Quiet", f"{base}/2024/01/quiet.html", "Japan and Russia")]), "application/rss+xml")
    app.put("/2024/01/quiet.html", article_page("Quiet", a2["text"]))
    for path in [*redirects, "/paged.xml"]:
        assert run_measured(rjwatch_cmd(db_path, "source", "add", base + path, "--kind", "feed")).code == 0
    assert (
        run_measured(rjwatch_cmd(db_path, "source", "add", base + "/summary.xml", "--kind", "feed", "--full-text")).code
        == 0
    )

    first = poll(db_path, timeout=60)
    assert first.code == 0, first.stderr[-2000:]
    no_traceback(first.stdout, first.stderr)
    # the full-text feed gets a new entry (alerting: the source's first poll is over) whose page redirects
    app.put(
        "/summary.xml",
        rss(
            [
                ("Quiet", f"{base}/2024/01/quiet.html", "Japan and Russia"),
                ("Leak", f"{base}/2024/02/leak.html", "Japan and Russia talks"),
            ]
        ),
        "application/rss+xml",
    )
    app.redirect("/2024/02/leak.html", f"{internal.base_url}/secret.html", 302)
    second = poll(db_path, timeout=60)
    assert second.code == 0, second.stderr[-2000:]
    backfill = run_measured(rjwatch_cmd(db_path, "poll", "--source", base + "/paged.xml", "--backfill"))
    assert backfill.code == 0, backfill.stderr[-2000:]
    no_traceback(second.stdout, second.stderr, backfill.stdout, backfill.stderr)

    assert internal.log.total == 0, [(r.host, r.path) for r in internal.log.records()]
    for path, (location, _) in redirects.items():
        h = health(db_path, base + path)  # the source did not move, and the failure is in its health
        assert h["consecutive_failures"] == 2 and h["moved_from"] is None, h
        assert h["last_error"] == f"not fetching {location}: {REFUSED}", h
    assert leaked(db_path) == 0
    assert q(db_path, "SELECT count(*) FROM posts WHERE url LIKE '%/2024/01/quiet.html'") == 1
    assert q(db_path, "SELECT count(*) FROM posts WHERE url LIKE '%/2024/06/paged.html'") == 1
    assert_consistent(db_path)
    record("11 poller redirect to a private address", runs=3, posts=3, faults=len(redirects) + 2, lost=0, doubled=0)


def test_a_redirect_hop_is_refused_before_any_connection():
    """The guard decides from the address: no socket is opened for 10.0.0.1 or 169.254.169.254."""
    import socket as socket_module

    from crawler.http import FetchError, fetch

    opened = []
    real = socket_module.socket

    class Spy(real):
        def connect(self, address):
            opened.append(address)
            raise AssertionError("connect() called")

    socket_module.socket = Spy
    try:
        for url in (
            "http://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fe80::1]/",
            "http://localhost:9/",
            "http://0.0.0.0:9/",
            "http://2130706433:9/",
        ):
            with pytest.raises(FetchError) as info:
                fetch(url, timeout=1)
            assert str(info.value) == f"not fetching {url}: {REFUSED}"
    finally:
        socket_module.socket = real
    assert opened == []


# --- 11 ---------------------------------------------------------------------------------------------
@pytest.mark.reliability
@pytest.mark.slow
def test_11_a_url_the_user_typed_works_but_its_redirects_are_checked(db_path, served, tmp_path):
    blog = build_blog("typed", 3, template="simple", seed=112)
    bsrv = served(blog)
    a1, a2, _ = relevant_articles(3)
    app = Routes()
    site = served(app)
    app.put("/article.html", article_page(a1["title"], a1["text"]))
    app.put("/seed.html", article_page(a2["title"], a2["text"]))
    post_url = f"{bsrv.base_url}{blog.posts[0].path}"
    for path in ("/r-ingest", "/r-classify", "/r-seed", "/r-source"):
        app.redirect(path, post_url, 302)
    db = str(db_path)
    # what the user typed works on loopback: the page, and a redirect within its own site
    app.redirect("/moved.html", f"{site.base_url}/article.html", 301)
    ok = run_cli("--db", db, "ingest", f"{site.base_url}/moved.html")
    assert ok.exit_code == 0, ok.output
    assert run_cli("--db", db, "classify", f"{site.base_url}/article.html").exit_code == 0
    seeded = run_cli("--db", db, "seed", "add", f"{site.base_url}/seed.html")
    assert seeded.exit_code == 0, seeded.output
    assert run_cli("--db", db, "ingest", post_url).exit_code == 0  # the blog's own port, typed
    assert bsrv.log.total == 1
    bsrv.reset_log()
    # ...but a redirect from it to another local service is refused, with one line and no traceback
    for args in (
        ["ingest", f"{site.base_url}/r-ingest"],
        ["classify", f"{site.base_url}/r-classify"],
        ["seed", "add", f"{site.base_url}/r-seed"],
        ["source", "add", f"{site.base_url}/r-source"],
    ):
        res = run_measured(rjwatch_cmd(db_path, *args))
        assert res.code != 0, (args, res.stdout)
        assert f"not fetching {post_url}: {REFUSED}" in res.stderr, (args, res.stderr)
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr
        no_traceback(res.stderr)
    assert bsrv.log.total == 0, [(r.host, r.path) for r in bsrv.log.records()]
    assert q(db_path, "SELECT count(*) FROM sources") == 0
    assert q(db_path, "SELECT count(*) FROM seeds") == 2
    # a host listed in `trusted_hosts` may be reached on every port
    cfg = tmp_path / "trusted.toml"
    cfg.write_text('trusted_hosts = ["127.0.0.1"]\n')
    res = run_measured(rjwatch_cmd(db_path, "ingest", f"{site.base_url}/r-ingest", config=cfg))
    assert res.code == 0, res.stderr
    assert bsrv.log.total == 1
    assert_stored_once(db_path, urls=[f"{site.base_url}/article.html"])
    assert_consistent(db_path)
    record("11 user-typed URL redirecting to a private address", runs=13, posts=3, faults=4, lost=0, doubled=0)


# --- 12 ---------------------------------------------------------------------------------------------
class WithRedirects:
    """A demo blog with some of its paths answering a redirect instead."""

    def __init__(self, blog, redirects: dict[str, str]):
        self.blog = blog
        self.redirects = redirects

    def __getattr__(self, name):
        return getattr(self.blog, name)

    def __setattr__(self, name, value):
        if name in ("blog", "redirects"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.blog, name, value)

    def render(self, path_with_query: str, host: str, request_headers=None):
        path = path_with_query.split("?", 1)[0]
        if path in self.redirects:
            return 301, {"Location": self.redirects[path], "Content-Type": "text/html"}, b""
        return self.blog.render(path_with_query, host, request_headers)


@pytest.mark.reliability
@pytest.mark.slow
def test_12_a_crawled_blog_cannot_lead_to_another_port_of_its_host(db_path, served, tmp_path):
    internal = internal_service(served)
    other = f"{internal.base_url}"
    art = relevant_articles(1)[0]
    blog = build_blog("porty", 8, template="simple", seed=113)
    links = (
        f'<p>See <a href="{other}/2024/01/x.html">this</a> and <a href="{other}/">the home</a> and '
        f'<a href="http://localhost:{internal.port}/2024/01/x.html">that</a>.</p>'
    )
    blog.publish(
        Post(
            "8888888888888888888",
            art["title"],
            "",
            datetime(2024, 6, 1, tzinfo=UTC),
            body_html="".join(f"<p>{p}</p>" for p in art["text"].split("\n")) + links,
        )
    )
    srv = served(WithRedirects(blog, {"/sitemap.xml": f"{other}/sitemap.xml"}))
    first = crawl(db_path, srv.base_url + "/", "--full")
    assert first.code == 0, first.stderr[-2000:]
    assert internal.log.total == 0, [(r.host, r.path) for r in internal.log.records()]
    assert srv.log.count("/sitemap.xml") == 1  # the redirect was answered, its target refused
    lost = assert_stored_once(db_path, post_ids=[p.post_id for p in blog.posts])
    assert leaked(db_path) == 0
    # discovery from the stored links, with a source registered without a port on the same host: it
    # trusts port 80 of 127.0.0.1 only, not the other service linked from the post
    add = run_measured(rjwatch_cmd(db_path, "source", "add", "http://127.0.0.1/feed.xml", "--kind", "feed"))
    assert add.code == 0, add.stderr
    discover = run_measured(rjwatch_cmd(db_path, "source", "discover", *FAST))
    assert discover.code == 0, discover.stderr[-2000:]
    assert internal.log.total == 0, [(r.host, r.path) for r in internal.log.records()]
    # "host" in trusted_hosts trusts every port of it: only then is the other port reached
    cfg = tmp_path / "trusted.toml"
    cfg.write_text('trusted_hosts = ["127.0.0.1"]\n')
    again = run_measured(
        rjwatch_cmd(db_path, "crawl", "--source", srv.base_url + "/", "--full", *FAST, config=cfg), timeout=150
    )
    assert again.code == 0, again.stderr[-2000:]
    assert internal.log.count("/sitemap.xml") == 1, [(r.host, r.path) for r in internal.log.records()]
    assert_consistent(db_path)
    record(
        "12 crawl and discovery reaching another port of a source's host",
        runs=3,
        posts=len(blog.posts),
        faults=4,
        lost=lost,
        doubled=0,
    )


def test_a_source_without_a_port_trusts_only_its_default_port():
    from crawler.guard import allowed_sites, site_key, unsafe_reason
    from crawler.spiders.blogger import BloggerSpider

    assert site_key("http://Blog.Example.org/") == "blog.example.org:80"
    assert site_key("https://blog.example.org") == "blog.example.org:443"
    assert site_key("http://[::1]:8000/x") == "[::1]:8000"
    assert site_key("ftp://x/") is None
    spider = BloggerSpider(url="http://127.0.0.1/")
    assert spider.trusted_hosts == {"127.0.0.1:80"}
    assert unsafe_reason("http://127.0.0.1/2024/01/a.html", spider.trusted_hosts) is None
    assert unsafe_reason("http://127.0.0.1:80/x", spider.trusted_hosts) is None
    assert unsafe_reason("http://127.0.0.1:6379/", spider.trusted_hosts) == REFUSED
    assert unsafe_reason("https://127.0.0.1/", spider.trusted_hosts) == REFUSED  # port 443: another service
    # a bare host trusts every port only when the user lists it in `trusted_hosts`
    assert unsafe_reason("http://127.0.0.1:6379/", allowed_sites(trusted_hosts=["127.0.0.1"])) is None
    assert unsafe_reason("http://127.0.0.1:6379/", allowed_sites(trusted_hosts=["127.0.0.1:8000"])) == REFUSED
    assert unsafe_reason("http://localhost:6379/", allowed_sites("http://localhost/")) == REFUSED


def test_a_name_that_turns_private_after_the_check_is_not_connected_to(served, monkeypatch):
    """DNS rebinding: the name's first answer is public, the next one loopback. The client connects
    only to an address it checked, so the second answer is refused, not connected to. A spy on
    connect() refuses every non-loopback address, so no packet leaves whatever the code does."""
    import socket as socket_module

    from crawler.http import FetchError, fetch

    internal = internal_service(served)
    real_gai, real_socket = socket_module.getaddrinfo, socket_module.socket
    answers = []

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.example.org":
            return real_gai(host, port, *args, **kwargs)
        ip = "93.184.215.14" if not answers else "127.0.0.1"
        answers.append(ip)
        return [(socket_module.AF_INET, socket_module.SOCK_STREAM, 6, "", (ip, port or 80))]

    class LoopbackOnly(real_socket):
        def connect(self, address):
            if not str(address[0]).startswith("127."):
                raise AssertionError(f"connect() to {address[0]}")
            return super().connect(address)

    monkeypatch.setattr(socket_module, "getaddrinfo", rebinding)
    monkeypatch.setattr(socket_module, "socket", LoopbackOnly)
    url = f"http://rebind.example.org:{internal.port}/secret.html"
    with pytest.raises(FetchError) as info:
        fetch(url, timeout=2)
    assert str(info.value) == f"not fetching {url}: {REFUSED}"
    assert answers[-1] == "127.0.0.1"
    assert internal.log.total == 0
