"""The analyst's desk (`rjwatch serve`) in a real browser: Chromium driven by Playwright against the
real server started as a subprocess on a real database. A review click lands in the marks table and
the page shows it; search finds CJK text with highlights; a candidate is approved and a source
disabled; a post whose title and text carry scripts and event handlers runs none of them; a POST
without the CSRF token is refused; reading every page writes nothing; a token, when set, is asked on
every request. Screenshots of every page are kept in tests/artifacts/desk (or $RJWATCH_SCREENSHOTS).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from helpers import HERE, SEED, item, q, relevant_articles, rows, run_cli, wait_until
from storage import saved
from storage.db import connect
from storage.ingest import Ingestor
from storage.search import Filters
from storage.sources import add_candidate_evidence, add_source

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(os.environ.get("RJWATCH_SCREENSHOTS") or HERE / "artifacts" / "desk")
#: Longest a page or a click may take on a loaded 2-core machine.
PAGE_TIMEOUT_MS = 30_000

XSS_TITLE = '<script>window.__pwned="title"</script><img src=x onerror="window.__pwned=\'img\'">'
XSS_TEXT = (
    "Japan and Russia discussed the Kuril Islands peace treaty in Tokyo today.\n"
    '<script>window.__pwned="text"</script><svg onload="window.__pwned=\'svg\'"></svg> '
    '<a href="javascript:window.__pwned=1" onclick="window.__pwned=\'click\'">Kuril link</a>'
)
JA_TEXT = (
    "北方領土問題について、日本とロシアの外交官が東京で会談した。平和条約交渉は続いている。"
    "北方領土の返還が最大の焦点であり、両国の立場の隔たりは大きい。"
)

#: Posts that name the topic only in passing: relevance just above the threshold, for the review queue.
NEAR = [
    (
        "Trade fair in Tokyo",
        "Tokyo hosted a trade fair this week. A Russian delegation attended and discussed fishing near Hokkaido.",
    ),
    (
        "Energy prices",
        "The Japanese prime minister spoke about energy prices. Russia was mentioned once as a gas supplier to Japan.",
    ),
]


def _free_port() -> int:
    from helpers import free_port

    return free_port()


def _build(db_path: Path) -> dict:
    """A corpus with new coverage, a copy and an excerpt of the seed, Japanese coverage, an
    off-topic post, a hostile post, a feed source and a discovery candidate."""
    db = connect(db_path)
    try:
        ing = Ingestor(db, alerts=True)
        days = iter(
            f"2024-0{m}-{d:02d}T09:00:00+00:00"
            for m, d in [(3, 2), (3, 20), (4, 4), (4, 9), (4, 28), (5, 6), (5, 7), (5, 9), (5, 10), (5, 11)]
        )
        ids = {"new": [ing.ingest({**a, "published": next(days)}).post_id for a in relevant_articles(3)]}
        paras = SEED["text"].split("\n")
        ids["copy"] = ing.ingest(
            item(
                "https://copycat.blogspot.com/2024/05/x.html",
                text=SEED["text"],
                title="Copied: " + SEED["title"],
                published=next(days),
            )
        ).post_id
        half = "\n".join(paras[: len(paras) // 2])
        ids["excerpt"] = ing.ingest(
            item(
                "https://excerpt.blogspot.com/2024/05/y.html",
                text=half + "\nMy own comment on this matter, with quite a few words of its own.",
                title="An excerpt with a comment",
                published=next(days),
            )
        ).post_id
        ids["ja"] = ing.ingest(
            item("https://ja.example.jp/a", text=JA_TEXT, title="北方領土の交渉", published=next(days))
        ).post_id
        ids["xss"] = ing.ingest(
            item("https://evil.example.org/x", text=XSS_TEXT, title=XSS_TITLE, published=next(days))
        ).post_id
        ids["off"] = ing.ingest(
            item(
                "https://cooking.example.org/x",
                text="Pancakes: flour, eggs and milk; fry in butter.",
                title="Pancakes",
                published=next(days),
            )
        ).post_id
        ids["near"] = [
            ing.ingest(item(f"https://near{i}.example.org/p", text=t, title=title, published=next(days))).post_id
            for i, (title, t) in enumerate(NEAR)
        ]
        ids["feed"], _ = add_source(db, "https://news.example.org/rss.xml", "feed", name="Example news")
        ids["candidate"], _ = add_source(db, "https://found.blogspot.com/", "blogger", state="candidate")
        add_candidate_evidence(db, ids["candidate"], [(ids["new"][0], "https://found.blogspot.com/2024/01/p.html")])
        saved.add(db, "treaty-copies", "treaty", Filters(status=("copy",)))
    finally:
        db.conn.close()
    return ids


def _start(db_path: Path, port: int, env: dict | None = None, *args: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rjwatch",
            "--db",
            str(db_path),
            "serve",
            "--port",
            str(port),
            "--analyst",
            "tester",
            *args,
        ],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def up() -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/static/desk.css", timeout=2).close()
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    if not wait_until(up):
        proc.kill()
        raise AssertionError(f"the desk did not start: {proc.communicate()[0]}")
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("desk")
    db_path = tmp / "rj.db"
    res = run_cli("--db", str(db_path), "init")
    assert res.exit_code == 0, res.output
    ids = _build(db_path)
    port = _free_port()
    proc = _start(db_path, port)
    yield {"db": db_path, "url": f"http://127.0.0.1:{port}", "ids": ids}
    _stop(proc)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(PAGE_TIMEOUT_MS)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.errors = errors
    yield pg
    context.close()


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _post(url: str, data: dict, headers: dict | None = None) -> int:
    req = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode(), headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _dump(db_path: Path) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_every_page_renders_and_reading_writes_nothing(desk, page):
    before = _dump(desk["db"])
    ids = desk["ids"]
    pages = {
        "today": "/?since=3650d",
        "spread": "/spread",
        "review": "/review",
        "post": f"/post/{ids['excerpt']}",
        "post_copy": f"/post/{ids['copy']}",
        "search": "/search?q=" + urllib.parse.quote("peace treaty"),
        "sources": "/sources",
        "charts": "/charts",
    }
    for name, path in pages.items():
        resp = page.goto(desk["url"] + path)
        assert resp.status == 200, (name, resp.status)
        assert "'unsafe-inline'" not in resp.headers["content-security-policy"]
        shot(page, name)
    assert page.errors == []
    page.goto(desk["url"] + "/?since=3650d")
    assert page.locator(".counts").inner_text().split()[0] == str(q(desk["db"], "SELECT count(*) FROM posts"))
    assert page.locator(f"a[href='/post/{ids['copy']}']").count() == 1
    page.goto(desk["url"] + "/spread")
    timeline = page.locator("ol.timeline").inner_text()
    assert "Copied:" in timeline and "An excerpt with a comment" in timeline and "kept" in timeline
    page.goto(desk["url"] + f"/post/{ids['excerpt']}")
    assert page.locator("pre.diff .del").count() > 0  # the paragraphs it left out of the seed
    assert page.locator("a.ext").first.get_attribute("href") == "https://excerpt.blogspot.com/2024/05/y.html"
    page.goto(desk["url"] + "/charts")
    assert page.locator("svg.chart rect").count() > 0
    assert "one bar per week" in page.locator("p.hint").inner_text()  # two months of posts
    page.goto(desk["url"] + "/charts?from=2024-05-01&to=2024-05-31")
    assert "one bar per day" in page.locator("p.hint").inner_text()
    shot(page, "charts_days")
    page.goto(desk["url"] + "/charts?from=2020-01-01&to=2024-12-31")
    assert "one bar per month" in page.locator("p.hint").inner_text()
    page.goto(desk["url"] + "/?since=99999999999d")
    assert "since" in page.locator("p.error").inner_text()
    assert _dump(desk["db"]) == before


def test_review_click_and_keyboard_write_marks_through_storage(desk, page):
    ids = desk["ids"]
    page.goto(desk["url"] + "/review")
    near = page.locator("section", has=page.locator("h2", has_text="Near the threshold")).locator("a.title")
    assert sorted(a.get_attribute("href") for a in near.all()) == sorted(f"/post/{i}" for i in ids["near"])
    item_ = page.locator("li.item", has=page.locator(f"a[href='/post/{ids['new'][1]}']")).first
    item_.locator("input[name=note]").fill("a sports result")
    item_.locator("button[value=off_topic]").click()
    page.wait_for_url(re.compile(r"/review\?done="))
    assert "→ off_topic" in page.locator(".notice").inner_text()
    assert rows(desk["db"], "SELECT post_id, status, note, by FROM marks") == [
        {"post_id": ids["new"][1], "status": "off_topic", "note": "a sports result", "by": "tester"}
    ]
    assert q(desk["db"], "SELECT status FROM posts WHERE id = ?", ids["new"][1]) == "off_topic"
    assert "a sports result" in page.locator("table.marks").inner_text()
    shot(page, "review_marked")

    # Keyboard: j moves to the next item, c marks it a copy.
    page.goto(desk["url"] + "/review")
    first = page.locator("li.item.current")
    assert first.count() == 1
    page.keyboard.press("j")
    target = page.locator("li.item.current a.title").get_attribute("href")
    page.keyboard.press("c")
    page.wait_for_url(re.compile(r"/review\?done="))
    marked = int(target.rsplit("/", 1)[1])
    assert q(desk["db"], "SELECT status FROM marks WHERE post_id = ? ORDER BY id DESC LIMIT 1", marked) == "copy"

    # Duplicate of ... on the post page; the page then shows the analyst's verdict.
    page.goto(desk["url"] + f"/post/{ids['new'][2]}")
    page.locator("form.mark input[name=duplicate_of]").fill(str(ids["new"][0]))
    page.locator("form.mark button[value=duplicate]").click()
    page.wait_for_url(re.compile(rf"/post/{ids['new'][2]}\?done="))
    assert "analyst: duplicate" in page.locator("dl.facts").inner_text()
    assert q(desk["db"], "SELECT duplicate_of FROM posts WHERE id = ?", ids["new"][2]) == ids["new"][0]

    # A mark storage refuses (a post a duplicate of itself) is a clear error, nothing written.
    n = q(desk["db"], "SELECT count(*) FROM marks")
    page.goto(desk["url"] + f"/post/{ids['ja']}")
    page.locator("form.mark input[name=duplicate_of]").fill(str(ids["ja"]))
    page.locator("form.mark button[value=duplicate]").click()
    assert "cannot be a duplicate of itself" in page.locator("p.error").inner_text()
    assert q(desk["db"], "SELECT count(*) FROM marks") == n
    assert page.errors == []


def test_search_finds_cjk_with_highlights(desk, page):
    page.goto(desk["url"] + "/search")
    page.locator("form.search input[name=q]").fill("北方領土")
    page.locator("form.search button").click()
    page.wait_for_url(re.compile(r"/search\?q="))
    results = page.locator("ol.results li")
    assert results.count() == 1
    assert "北方領土の交渉" in results.first.inner_text()
    assert page.locator("ol.results mark").first.inner_text() == "北方領土"
    shot(page, "search_cjk")
    page.goto(desk["url"] + "/search?q=" + urllib.parse.quote('"unbalanced'))
    assert "double quote" in page.locator("p.error").inner_text()
    page.goto(desk["url"] + "/search?q=treaty&status=copy")
    assert page.locator("ol.results li").count() == 1
    page.goto(desk["url"] + "/search?q=treaty&lang=ja,ru")
    assert page.locator("ol.results li").count() == 0
    # A saved search runs with its filters, and its Atom feed is linked.
    page.goto(desk["url"] + "/search")
    page.locator("section.saved a", has_text="treaty-copies").click()
    assert [r.get_attribute("href") for r in page.locator("ol.results a.title").all()] == [
        f"/post/{desk['ids']['copy']}"
    ]
    assert page.locator("link[rel=alternate][href='/feeds/saved/treaty-copies.atom']").count() == 1


def test_sources_approve_disable_and_add(desk, page):
    ids = desk["ids"]
    page.goto(desk["url"] + "/sources")
    page.locator(f"#candidate-{ids['candidate']} button[value=approve]").click()
    page.wait_for_url(re.compile(r"/sources\?done="))
    assert q(desk["db"], "SELECT state FROM sources WHERE id = ?", ids["candidate"]) == "enabled"
    page.locator(f"#source-{ids['feed']} button[value=disable]").click()
    page.wait_for_url(re.compile(r"/sources\?done="))
    assert q(desk["db"], "SELECT state FROM sources WHERE id = ?", ids["feed"]) == "disabled"
    assert page.locator(f"#source-{ids['feed']} td.state").inner_text() == "disabled"

    page.locator("form.add input[name=url]").fill("https://another.blogspot.com/2024/01/post.html")
    page.locator("form.add select[name=kind]").select_option("blogger")
    page.locator("form.add button").click()
    page.wait_for_url(re.compile(r"/sources\?done="))
    assert q(desk["db"], "SELECT count(*) FROM sources WHERE url LIKE 'https://another.blogspot.com/%'") == 2
    shot(page, "sources_after")

    n = q(desk["db"], "SELECT count(*) FROM sources")
    page.locator("form.add input[name=url]").evaluate("e => e.type = 'text'")
    page.locator("form.add input[name=url]").fill("ftp://example.org/feed")
    page.locator("form.add select[name=kind]").select_option("feed")
    page.locator("form.add button").click()
    assert "http" in page.locator("p.error").inner_text()
    assert q(desk["db"], "SELECT count(*) FROM sources") == n


def test_collected_scripts_never_run(desk, page):
    ids = desk["ids"]
    for path in ("/?since=3650d", f"/post/{ids['xss']}", "/review", "/search?q=Kuril", "/spread"):
        page.goto(desk["url"] + path)
        assert page.evaluate("typeof window.__pwned") == "undefined", path
    page.goto(desk["url"] + f"/post/{ids['xss']}")
    assert XSS_TITLE in page.locator("h1").inner_text()  # shown as text
    for link in page.locator(".text a").all():
        link.click()  # none exists: the post's markup is text, not links
    assert page.evaluate("typeof window.__pwned") == "undefined"
    shot(page, "post_hostile")
    assert page.errors == []


def test_writes_need_the_csrf_token_and_the_same_origin(desk, page):
    ids = desk["ids"]
    before = _dump(desk["db"])
    url = desk["url"]
    form = {"post_id": ids["off"], "status": "new", "next": "/review"}
    assert _post(url + "/mark", form) == 403
    assert _post(url + "/mark", {**form, "csrf": "guess"}, {"Cookie": "rjdesk_csrf=other"}) == 403
    assert _post(url + f"/sources/{ids['feed']}/state", {"action": "enable"}) == 403
    assert _post(url + "/sources/add", {"url": "https://x.example.org/feed", "kind": "feed"}) == 403
    # The right token from another site's page (Origin) is refused too.
    token = {"csrf": "t" * 43}
    cookie = {"Cookie": f"rjdesk_csrf={'t' * 43}", "Origin": "https://evil.example"}
    assert _post(url + "/mark", {**form, **token}, cookie) == 403
    # GET on a write address does nothing.
    assert urllib.request.urlopen(url + "/review?post_id=1&status=new", timeout=10).status == 200
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url + "/mark?" + urllib.parse.urlencode({**form, **token}), timeout=10)
    assert err.value.code == 405
    assert _dump(desk["db"]) == before
    # With the cookie and the field equal, from the desk itself, it is written.
    _post(url + "/mark", {**form, **token}, {"Cookie": f"rjdesk_csrf={'t' * 43}"})
    assert q(desk["db"], "SELECT count(*) FROM marks WHERE post_id = ?", ids["off"]) == 1
    assert q(desk["db"], "SELECT status FROM posts WHERE id = ?", ids["off"]) == "new"


def test_another_site_name_pointed_at_loopback_is_refused(desk):
    req = urllib.request.Request(desk["url"] + "/review", headers={"Host": "rebound.example.com"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 400
    localhost = desk["url"].replace("127.0.0.1", "localhost")
    assert urllib.request.urlopen(localhost + "/", timeout=10).status == 200


def test_feeds_are_served_and_linked(desk, page):
    import feedparser

    from helpers import rows

    resp = page.goto(desk["url"] + "/")
    assert resp.status == 200
    links = page.locator("link[rel=alternate][type='application/atom+xml']")
    hrefs = sorted(links.nth(i).get_attribute("href") for i in range(links.count()))
    assert [h.rsplit("/", 1)[-1] for h in hrefs] == ["copies.atom", "new.atom"]
    want = {
        "new.atom": {r["title"] for r in rows(desk["db"], "SELECT title FROM posts WHERE status = 'new'")},
        "copies.atom": {
            r["title"] for r in rows(desk["db"], "SELECT title FROM posts WHERE status IN ('copy', 'excerpt')")
        },
    }
    for href in hrefs:
        url = href if href.startswith("http") else desk["url"] + href
        with urllib.request.urlopen(url, timeout=20) as r:
            assert r.headers["content-type"].startswith("application/atom+xml")
            parsed = feedparser.parse(r.read())
        assert not parsed.bozo, parsed.bozo_exception
        name = href.rsplit("/", 1)[-1]
        assert want[name] and {e.title for e in parsed.entries} == want[name], name
        assert len({e.id for e in parsed.entries}) == len(parsed.entries)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(desk["url"] + "/feeds/saved/no-such-search.atom", timeout=20)
    assert err.value.code == 404


def test_a_token_is_asked_on_every_request(tmp_path, browser):
    db_path = tmp_path / "rj.db"
    assert run_cli("--db", str(db_path), "init").exit_code == 0
    secret = "s3cret-token-for-the-desk-0123456789"
    # Opening the desk beyond loopback without a token is refused before it listens.
    res = subprocess.run(
        [sys.executable, "-m", "rjwatch", "--db", str(db_path), "serve", "--host", "0.0.0.0", "--port", "1"],
        env={k: v for k, v in os.environ.items() if k != "RJWATCH_DESK_TOKEN"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode != 0 and "RJWATCH_DESK_TOKEN" in res.stderr + res.stdout
    assert "Traceback" not in res.stderr
    port = _free_port()
    proc = _start(db_path, port, {"RJWATCH_DESK_TOKEN": secret})
    try:
        base = f"http://127.0.0.1:{port}"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(base + "/", timeout=10)
        assert err.value.code == 401
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(
                urllib.request.Request(base + "/", headers={"Authorization": "Bearer nope"}), timeout=10
            )
        assert err.value.code == 401
        ok = urllib.request.urlopen(urllib.request.Request(base + "/", headers={"Authorization": f"Bearer {secret}"}))
        assert ok.status == 200
        context = browser.new_context()
        pg = context.new_page()
        pg.goto(f"{base}/?token={secret}")
        assert pg.url == base + "/" and pg.locator("h1").count() == 1
        pg.goto(base + "/sources")
        assert pg.locator("h1").inner_text() == "Sources"
        context.close()
    finally:
        _stop(proc)
    out = proc.stdout.read()
    assert secret not in out and "token" in out
