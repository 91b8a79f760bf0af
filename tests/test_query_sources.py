"""Query sources: `rjwatch source add --query --engine --lang`, Google Alerts feed URLs, `source list`
showing them, and the `query_engines` setting pointing the engines at a fake served on 127.0.0.1.

The URL building is tested as pure functions (crawler.query_feeds); everything else runs the real
CLI on a real database, and the polls fetch a fake engine (a tiny threaded HTTP server of this file)
whose request log shows what was asked for.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from crawler import query_feeds as qf
from helpers import FIXTURES, no_traceback, one_line_error, q, rows, run_cli

QUERY = 'Kuril OR "Northern Territories"'
LANGS = ("en", "ru", "ja", "es")
#: Items per language in the fake engine's feeds.
ITEMS = 2
#: Ids of a Google Alerts feed as Google writes them: the user id keeps its leading zero.
ALERT_USER, ALERT_ID = "04175468913983673025", "1234567890123456789"
#: A sentence only the publisher's page has (the feed gives a teaser): stored text shows the page was read.
PAGE_ONLY = "The full article continues with details only the publisher's page carries."


# --- the URLs, as pure functions ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "lang, tail",
    [
        ("en", "hl=en-US&gl=US&ceid=US:en"),
        ("ru", "hl=ru&gl=RU&ceid=RU:ru"),
        ("ja", "hl=ja&gl=JP&ceid=JP:ja"),
        ("es", "hl=es&gl=ES&ceid=ES:es"),
        ("zh", "hl=zh-CN&gl=CN&ceid=CN:zh-Hans"),
    ],
)
def test_google_news_url_has_one_edition_per_language(lang, tail):
    url = qf.query_feed_url("google-news", QUERY, lang)
    assert url == "https://news.google.com/rss/search?q=Kuril+OR+%22Northern+Territories%22&" + tail
    hl, gl, ceid = (parse_qs(urlsplit(url).query)[k][0] for k in ("hl", "gl", "ceid"))
    assert ceid.split(":")[0] == gl and hl.split("-")[0] == lang.split("-")[0]


def test_bing_news_url_and_a_base_url_for_a_mirror():
    assert qf.query_feed_url("bing-news", "Kuril", "ja") == (
        "https://www.bing.com/news/search?q=Kuril&format=rss&setlang=ja&cc=JP&mkt=ja-jp"
    )
    assert qf.query_feed_url("google-news", "Курилы", "ru", "http://127.0.0.1:8080/").startswith(
        "http://127.0.0.1:8080/rss/search?q=%D0%9A%D1%83%D1%80%D0%B8%D0%BB%D1%8B&hl=ru"
    )
    for engine in qf.QUERY_ENGINES:
        for lang in qf.LANGUAGES[engine]:
            assert lang in qf.LANGUAGES[qf.GOOGLE_NEWS] and lang in qf.LANGUAGES[qf.BING_NEWS]


def test_google_alerts_urls_are_recognised_with_string_ids():
    for host in ("www.google.com", "www.google.co.uk", "www.google.de", "www.google.co.jp", "www.google.com.au"):
        assert qf.google_alerts_ids(f"https://{host}/alerts/feeds/{ALERT_USER}/{ALERT_ID}") == (ALERT_USER, ALERT_ID)
    for url in (
        f"https://evil.example/alerts/feeds/{ALERT_USER}/{ALERT_ID}",
        f"https://www.google.com.evil.example/alerts/feeds/{ALERT_USER}/{ALERT_ID}",
        f"https://www.google.com/alerts/feeds/{ALERT_USER}/x{ALERT_ID}",
        f"https://www.google.com/alerts/feeds/{ALERT_USER}",
        f"https://www.google.com:8443/alerts/feeds/{ALERT_USER}/{ALERT_ID}",
        "https://news.google.com/rss/search?q=x",
        "not a url",
    ):
        assert qf.google_alerts_ids(url) is None, url
    # under a configured base (a mirror, a local fake): its host, port and scheme only
    base = "http://127.0.0.1:5555"
    assert qf.google_alerts_ids(f"{base}/alerts/feeds/1/2", base) == ("1", "2")
    assert qf.google_alerts_ids("http://127.0.0.1:5556/alerts/feeds/1/2", base) is None


@pytest.mark.parametrize(
    "engine, query, lang, words",
    [
        ("yahoo", "x", "en", ("unknown engine", "yahoo")),
        ("google-news", "   ", "en", ("--query", "empty")),
        ("google-news", "x", "xx", ("--lang", "xx", "not supported")),
        ("bing-news", "x", "en,", None),
        ("google-news", "a\x00b", "en", ("control",)),
        ("google-news", "k" * (qf.MAX_QUERY_CHARS + 1), "en", ("--query", str(qf.MAX_QUERY_CHARS))),
    ],
)
def test_bad_query_parts_are_one_line_errors(engine, query, lang, words):
    if words is None:
        assert qf.parse_langs(engine, lang) == ["en"]
        return
    with pytest.raises(qf.QueryError) as err:
        qf.query_feed_url(engine, query, lang)
    for w in words:
        assert w in str(err.value) and "\n" not in str(err.value)


# --- the CLI on a real database ------------------------------------------------------------------------
def cli(db_path, *args: str, env: dict | None = None):
    result = run_cli("--db", str(db_path), *args, env=env)
    no_traceback(result.stdout, result.stderr)
    return result


def ok(db_path, *args: str, env: dict | None = None) -> str:
    result = cli(db_path, *args, env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_four_languages_give_four_query_sources_and_adding_again_changes_nothing(db_path):
    out = ok(db_path, "source", "add", "--query", QUERY, "--engine", "google-news", "--lang", ",".join(LANGS))
    srcs = rows(db_path, "SELECT id, url, kind, name, settings FROM sources ORDER BY id")
    assert [s["url"] for s in srcs] == [qf.query_feed_url("google-news", QUERY, lang) for lang in LANGS]
    assert out.splitlines() == [f"source #{s['id']}: feed {s['url']}" for s in srcs]
    for s, lang in zip(srcs, LANGS):
        assert s["kind"] == "feed"
        assert s["name"] == f'Google News: Kuril OR "Northern Territories" ({lang})'
        assert json.loads(s["settings"]) == {
            "query": {"engine": "google-news", "q": QUERY, "lang": lang},
            "full_text": "always",
            "every": qf.MIN_EVERY_S["google-news"],
        }
    # the same query, engine and language again: nothing new (the source key), one line each
    again = ok(db_path, "source", "add", "--query", f"  {QUERY} ", "--lang", "ru,en")
    assert again.splitlines() == [
        f"source #{srcs[1]['id']}: feed {srcs[1]['url']} [already registered]",
        f"source #{srcs[0]['id']}: feed {srcs[0]['url']} [already registered]",
    ]
    assert q(db_path, "SELECT count(*) FROM sources") == 4
    # Bing: its own URL and interval; a longer --every is taken
    ok(db_path, "source", "add", "--query", "Kuril", "--engine", "bing-news", "--lang", "ja", "--every", "2h")
    bing = rows(db_path, "SELECT url, settings FROM sources WHERE id = 5")[0]
    assert bing["url"] == "https://www.bing.com/news/search?q=Kuril&format=rss&setlang=ja&cc=JP&mkt=ja-jp"
    assert json.loads(bing["settings"])["every"] == 7200
    # `source set` holds a query source to its engine's interval too
    one_line_error(cli(db_path, "source", "set", "5", "--every", "10m"), "--every", "hour")
    assert json.loads(q(db_path, "SELECT settings FROM sources WHERE id = 5"))["every"] == 7200
    ok(db_path, "source", "set", "5", "--every", "3h")
    assert json.loads(q(db_path, "SELECT settings FROM sources WHERE id = 5"))["every"] == 3 * 3600
    ok(db_path, "source", "set", "5", "--every", "auto")  # not adaptive (down to min_interval): the engine's own
    assert json.loads(q(db_path, "SELECT settings FROM sources WHERE id = 5"))["every"] == qf.MIN_EVERY_S["bing-news"]


def test_source_list_shows_query_sources_in_every_format(db_path):
    ok(db_path, "source", "add", "--query", "Kuril", "--lang", "en,ru")
    ok(db_path, "source", "add", f"https://www.google.co.uk/alerts/feeds/{ALERT_USER}/{ALERT_ID}", "--kind", "feed")
    listed = json.loads(ok(db_path, "source", "list", "--format", "json"))
    assert [r["kind"] for r in listed] == [
        "query (google-news, en)",
        "query (google-news, ru)",
        "query (google-alerts)",
    ]
    for fmt, sep in (("csv", ","), ("tsv", "\t")):
        table = list(csv.DictReader(io.StringIO(ok(db_path, "source", "list", "--format", fmt)), delimiter=sep))
        assert [r["kind"] for r in table] == [r["kind"] for r in listed], fmt
    text = ok(db_path, "source", "list", "--format", "table", "--columns", "id,kind", env={"COLUMNS": "200"})
    assert "query (google-news, ru)" in text and "query (google-alerts)" in text
    # --kind query: only them; --kind feed still lists them (a query source is a feed)
    ok(db_path, "source", "add", "https://news.example.org/rss.xml", "--kind", "feed")
    assert [r["id"] for r in json.loads(ok(db_path, "source", "list", "--kind", "query", "--format", "json"))] == [
        1,
        2,
        3,
    ]
    feeds = json.loads(ok(db_path, "source", "list", "--kind", "feed", "--format", "json"))
    assert [r["kind"] for r in feeds][-1] == "feed" and len(feeds) == 4


def test_a_google_alerts_url_is_a_query_source_with_its_ids_as_strings(db_path):
    url = f"https://www.google.com/alerts/feeds/{ALERT_USER}/{ALERT_ID}"
    ok(db_path, "source", "add", url, "--kind", "feed")
    src = rows(db_path, "SELECT url, kind, settings FROM sources")[0]
    assert (src["url"], src["kind"]) == (url, "feed")
    assert json.loads(src["settings"]) == {
        "query": {"engine": "google-alerts", "q": None, "lang": None},
        "full_text": "always",
        "every": qf.MIN_EVERY_S["google-alerts"],
    }
    assert ALERT_USER in src["url"]  # the leading zero is kept


def test_a_google_alerts_feed_in_an_opml_file_is_imported_as_a_query_source(db_path, tmp_path):
    alert = f"https://www.google.com/alerts/feeds/{ALERT_USER}/{ALERT_ID}"
    opml = tmp_path / "subscriptions.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>'
        f'<outline type="rss" text="Alert" xmlUrl="{alert}"/>'
        '<outline type="rss" text="News" xmlUrl="https://news.example.org/rss.xml"/></body></opml>'
    )
    ok(db_path, "source", "import", str(opml))
    settings = {r["url"]: json.loads(r["settings"]) for r in rows(db_path, "SELECT url, settings FROM sources")}
    assert settings[alert]["query"] == {"engine": "google-alerts", "q": None, "lang": None}
    assert "query" not in settings["https://news.example.org/rss.xml"]
    listed = ok(db_path, "source", "list", "--kind", "query", "--format", "json")
    assert [s["url"] for s in json.loads(listed)] == [alert]


@pytest.mark.parametrize(
    "args, words",
    [
        (("--query", "Kuril", "--engine", "yahoo"), ("unknown engine", "yahoo")),
        (("--query", "  ", "--lang", "en"), ("--query", "empty")),
        (("--query", "Kuril", "--lang", "en,xx"), ("--lang", "xx", "not supported")),
        (("--query", "Kuril", "--every", "5m"), ("--every", "30 minutes")),
        (("--query", "Kuril", "--every", "soon"), ("--every",)),
        (("--engine", "bing-news"), ("--query",)),
        (("https://news.example.org/rss.xml", "--query", "Kuril"), ("not both",)),
        (("--query", "Kuril", "--kind", "blogger"), ("--kind blogger",)),
        ((f"https://www.google.com/alerts/feeds/{ALERT_USER}/{ALERT_ID}", "--every", "10m"), ("--every", "hour")),
        ((), ("URL", "--query")),
    ],
)
def test_bad_query_source_input_is_one_line_and_writes_nothing(db_path, args, words):
    one_line_error(cli(db_path, "source", "add", *args), *words)
    assert q(db_path, "SELECT count(*) FROM sources") == 0


# --- polling a fake engine on 127.0.0.1 -------------------------------------------------------------
def articles(n: int) -> list[dict]:
    """`n` distinct relevant articles in several languages (the `new` classification fixtures)."""
    out = []
    for path in sorted((FIXTURES / "classify").glob("new__*.txt"))[:n]:
        title, _, body = path.read_text("utf-8").partition("\n\n")
        out.append({"title": title.strip(), "text": body.strip()})
    assert len(out) == n
    return out


class FakeEngine:
    """A Google News / Bing News / Google Alerts stand-in: RSS (Atom for Alerts) of ITEMS teasers per
    query and language, linking to publisher pages on the same server; every request is logged."""

    def __init__(self):
        self.log: list[str] = []
        self.articles = articles(len(LANGS) * ITEMS + ITEMS)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.log.append(self.path)
                status, ctype, body = fake.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def page_url(self, k: int) -> str:
        # the publishers' pages are on another host than the engine (its links on its own host are
        # redirector links, resolved by fetching); `localhost` names the same server
        return f"{self.base.replace('127.0.0.1', 'localhost')}/pub/story-{k}.html"

    def answer(self, target: str) -> tuple[int, str, bytes]:
        parts = urlsplit(target)
        args = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path.startswith("/pub/story-"):
            a = self.articles[int(parts.path.split("-")[1].split(".")[0])]
            paras = "".join(f"<p>{escape(p)}</p>" for p in a["text"].split("\n") if p.strip())
            html = (
                f"<html><head><title>{escape(a['title'])}</title></head><body><article><h1>{escape(a['title'])}"
                f"</h1>{paras}<p>{PAGE_ONLY}</p></article></body></html>"
            )
            return 200, "text/html; charset=utf-8", html.encode()
        if parts.path == "/rss/search":
            lang = args["ceid"].split(":")[1]
        elif parts.path == "/news/search":
            lang = args["setlang"]
        elif parts.path.startswith("/alerts/feeds/"):
            return 200, "text/xml; charset=UTF-8", self.alerts_feed()
        else:
            return 404, "text/plain", b"not found\n"
        first = LANGS.index(lang) * ITEMS
        items = "".join(
            f"<item><title>{escape(self.articles[k]['title'])} - Publisher {k}</title>"
            f"<link>{self.page_url(k)}</link><guid isPermaLink='false'>CBMi{k}</guid>"
            f"<pubDate>Mon, 06 May 2024 0{k % 10}:00:00 GMT</pubDate>"
            f"<description>{escape(self.articles[k]['text'][:120])}...</description>"
            f"<source url='{self.base}'>Publisher {k}</source></item>"
            for k in range(first, first + ITEMS)
        )
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><generator>NFE/5.0</generator>'
            f"<title>{escape(args.get('q', ''))} - Google News</title><link>{self.base}/</link>"
            f"<description>Google News</description>{items}</channel></rss>"
        )
        return 200, "application/rss+xml; charset=UTF-8", body.encode()

    def alerts_feed(self) -> bytes:
        first = len(LANGS) * ITEMS
        entries = "".join(
            f"<entry><id>tag:google.com,2013:googlealerts/feed:{9000 + k}</id>"
            f'<title type="html">{escape(self.articles[k]["title"])}</title>'
            f'<link href="{self.page_url(k)}"></link><published>2024-05-06T09:00:00Z</published>'
            f"<updated>2024-05-06T09:00:00Z</updated>"
            f'<content type="html">{escape(self.articles[k]["text"][:120])}&amp;nbsp;...</content>'
            f"<author><name></name></author></entry>"
            for k in range(first, first + ITEMS)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<id>tag:google.com,2005:reader/user/{ALERT_USER}/state/com.google/alerts/{ALERT_ID}</id>"
            f"<title>Google Alert - kuril</title><updated>2024-05-06T09:00:00Z</updated>{entries}</feed>"
        ).encode()


@pytest.fixture
def engine():
    fake = FakeEngine()
    yield fake
    fake.stop()


def test_poll_asks_the_configured_engine_for_each_language_and_stores_the_pages(db_path, engine):
    env = {
        "RJWATCH_QUERY_ENGINES": f"google-news={engine.base},bing-news={engine.base}",
        "RJWATCH_TRUSTED_HOSTS": "localhost",
    }
    ok(db_path, "source", "add", "--query", QUERY, "--lang", ",".join(LANGS), env=env)
    assert engine.log == []  # adding fetches nothing
    summary = json.loads(ok(db_path, "poll", "--format", "json", env=env))
    assert (summary["polled"], summary["failed"]) == (len(LANGS), 0), summary
    asked = [parse_qs(urlsplit(p).query) for p in engine.log if p.startswith("/rss/search")]
    assert sorted((a["q"][0], a["hl"][0], a["gl"][0], a["ceid"][0]) for a in asked) == sorted(
        [
            (QUERY, "en-US", "US", "US:en"),
            (QUERY, "ru", "RU", "RU:ru"),
            (QUERY, "ja", "JP", "JP:ja"),
            (QUERY, "es", "ES", "ES:es"),
        ]
    )
    # every item stored once, under its page's URL, from the page's full text (full_text: always)
    stored = rows(db_path, "SELECT url, source_id, text FROM posts ORDER BY url")
    assert sorted(p["url"] for p in stored) == sorted(engine.page_url(k) for k in range(len(LANGS) * ITEMS))
    assert all(PAGE_ONLY in p["text"] for p in stored)
    assert sorted(p for p in engine.log if p.startswith("/pub/")) == sorted(
        f"/pub/story-{k}.html" for k in range(len(LANGS) * ITEMS)
    )
    # the next poll waits for the engine's interval: nothing is due
    assert json.loads(ok(db_path, "poll", "--format", "json", env=env))["polled"] == 0


def test_a_google_alerts_feed_at_the_configured_base_is_recognised_without_a_fetch_and_polled(db_path, engine):
    env = {"RJWATCH_QUERY_ENGINES": f"google-alerts={engine.base}", "RJWATCH_TRUSTED_HOSTS": "localhost"}
    url = f"{engine.base}/alerts/feeds/{ALERT_USER}/{ALERT_ID}"
    assert ok(db_path, "source", "add", url, env=env) == f"source #1: feed {url}\n"
    assert engine.log == []  # recognised by its address: not fetched to detect its kind
    assert json.loads(q(db_path, "SELECT settings FROM sources"))["query"] == {
        "engine": "google-alerts",
        "q": None,
        "lang": None,
    }
    ok(db_path, "poll", env=env)
    first = len(LANGS) * ITEMS
    assert sorted(r[0] for r in [(p["url"],) for p in rows(db_path, "SELECT url FROM posts")]) == sorted(
        engine.page_url(k) for k in range(first, first + ITEMS)
    )
    assert q(db_path, "SELECT name FROM sources") == "Google Alert - kuril"  # named by its feed
    assert json.loads(ok(db_path, "source", "list", "--format", "json", env=env))[0]["kind"] == "query (google-alerts)"


def test_bad_query_engines_setting_is_one_line(db_path):
    for value, words in (("yahoo=http://127.0.0.1:1", ("query_engines", "yahoo")), ("google-news", ("query_engines",))):
        one_line_error(cli(db_path, "source", "add", "--query", "Kuril", env={"RJWATCH_QUERY_ENGINES": value}), *words)
    one_line_error(
        cli(
            db_path,
            "source",
            "add",
            "--query",
            "Kuril",
            env={"RJWATCH_QUERY_ENGINES": "google-news=ftp://127.0.0.1/"},
        ),
        "query_engines",
        "http(s)",
    )
    assert q(db_path, "SELECT count(*) FROM sources") == 0


def test_bing_news_query_polls_the_demo_engine_in_each_language(db_path, served):
    """The demo's Bing News fake (rjwatch.demo.engines) picks the language by market: each language's
    feed lists that language's stories, and every item's page is fetched (through the engine's
    redirector to the publisher, a trusted local site)."""
    from rjwatch.demo.engines import BingNews, Publisher, Story

    texts = articles(len(LANGS))
    publisher = Publisher("Local paper")
    pub = served(publisher)
    stories = []
    for lang, a in zip(LANGS, texts):
        path = publisher.add(a["title"], a["text"].replace("\n", "\n\n"))
        stories.append(Story(a["title"], "Local paper", f"{pub.base_url}{path}", a["text"][:100], lang=lang))
    bing = served(BingNews(stories))
    env = {"RJWATCH_QUERY_ENGINES": f"bing-news={bing.base_url}", "RJWATCH_TRUSTED_HOSTS": pub.netloc}
    ok(db_path, "source", "add", "--query", QUERY, "--engine", "bing-news", "--lang", ",".join(LANGS), env=env)
    summary = json.loads(ok(db_path, "poll", "--format", "json", env=env))
    assert (summary["polled"], summary["failed"]) == (len(LANGS), 0), summary
    feeds = [parse_qs(urlsplit(r.path).query) for r in bing.log.records() if r.path.startswith("/news/search")]
    assert sorted(f["mkt"][0] for f in feeds) == ["en-us", "es-es", "ja-jp", "ru-ru"]
    assert all(f["q"] == [QUERY] and f["format"] == ["rss"] for f in feeds)
    # one post per language, read from the publisher's page
    assert q(db_path, "SELECT count(*) FROM posts") == len(LANGS)
    assert sorted(r.path for r in pub.log.records() if r.path.startswith("/news/")) == sorted(
        urlsplit(s.url).path for s in stories
    )
