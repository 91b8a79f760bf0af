"""Links of search-engine and alert feeds: real `rjwatch poll` against the fake engines of
rjwatch.demo.engines on 127.0.0.1, whose links lead (offline-readable, or by redirects) to publisher
sites on 127.0.0.2-4; hostile redirectors (loops, private addresses, script-only and hanging pages).

Assertions are on stored rows (posts, sightings), on the requests each server saw, on the source's
health and on what `rjwatch show` prints."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from crawler.feeds import engine_of, parse_feed
from helpers import health, q, relevant_articles, rows, run_cli, wait_until
from judge.identity import canonical_url
from reliability import record
from rjwatch.demo.engines import BingNews, GoogleAlerts, GoogleNews, Publisher, Story
from rjwatch.demo.server import SiteServer

#: The publishers' loopback addresses (trusted in the test config, as a user would list a mirror).
PUBLISHER_HOSTS = ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")

RU_TEXT = (
    "Министры иностранных дел России и Японии обсудили в Москве мирный договор и Курильские острова.\n\n"
    "Стороны договорились продолжить консультации о совместной хозяйственной деятельности на островах."
)
ES_TEXT = (
    "Los ministros de Exteriores de Rusia y Japón hablaron en Moscú del tratado de paz y de las islas Kuriles.\n\n"
    "Ambas partes acordaron seguir negociando la actividad económica conjunta en las islas."
)
JA_TEXT = (
    "日本とロシアの外相はモスクワで平和条約と北方領土問題について協議した。\n\n"
    "両国は北方四島での共同経済活動について協議を続けることで合意した。"
)


@pytest.fixture
def publishers():
    """Four publisher sites (en, ru, ja, es) on their own loopback addresses."""
    apps = [Publisher("Wire EN", "en"), Publisher("Вести", "ru"), Publisher("日報", "ja"), Publisher("El Diario", "es")]
    servers = [SiteServer(app, host=h).start() for app, h in zip(apps, PUBLISHER_HOSTS)]
    yield list(zip(apps, servers))
    for s in servers:
        s.stop()


@pytest.fixture
def engine_server():
    started = []

    def start(app) -> SiteServer:
        srv = SiteServer(app).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


def config(tmp_path, **extra) -> str:
    lines = [f"trusted_hosts = {json.dumps(list(PUBLISHER_HOSTS))}"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    path = tmp_path / "rjwatch.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def cli(db_path, cfg, *args):
    return run_cli("--db", str(db_path), "--config", cfg, *args)


def poll(db_path, cfg) -> dict:
    result = cli(db_path, cfg, "poll", "--all", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return json.loads(result.stdout)


def stories(publishers, n_en: int = 3) -> list[Story]:
    """Stories of the four publishers: `n_en` English articles, one Russian, one Japanese, one Spanish."""
    out = []
    start = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    (en, en_srv), (ru, ru_srv), (ja, ja_srv), (es, es_srv) = publishers
    for i, art in enumerate(relevant_articles(n_en)):
        when = start - timedelta(hours=i)
        title = f"{art['title']} - talks resume"  # a dash inside the headline itself
        path = en.add(title, art["text"].replace("\n", "\n\n"), when)
        out.append(Story(title, en.name, f"{en_srv.base_url}{path}?id={i}", art["text"][:200], when, "en"))
    when = start - timedelta(hours=10)
    path = ru.add("Россия и Япония обсудили мирный договор", RU_TEXT, when)
    out.append(
        Story("Россия и Япония обсудили мирный договор", ru.name, ru_srv.base_url + path, RU_TEXT[:120], when, "ru")
    )
    path = ja.add("日露外相会談", JA_TEXT, when)
    out.append(Story("日露外相会談", ja.name, ja_srv.base_url + path, JA_TEXT[:60], when, "ja"))
    path = es.add("Rusia y Japón hablan del tratado de paz", ES_TEXT, when)
    out.append(
        Story("Rusia y Japón hablan del tratado de paz", es.name, es_srv.base_url + path, ES_TEXT[:90], when, "es")
    )
    return out


def add_feed(db_path, cfg, url) -> None:
    result = cli(db_path, cfg, "source", "add", url, "--kind", "feed")
    assert result.exit_code == 0, result.output


def posts(db_path) -> list[dict]:
    return rows(db_path, "SELECT id, url, canonical_url, title FROM posts ORDER BY id")


def query_sightings(db_path) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for r in rows(db_path, "SELECT post_id, url FROM sightings WHERE via = 'query' ORDER BY id"):
        out.setdefault(r["post_id"], []).append(r["url"])
    return out


def test_google_news_and_bing_items_are_stored_under_the_publishers_urls(db_path, tmp_path, publishers, engine_server):
    cfg = config(tmp_path)
    all_stories = stories(publishers)
    modes = {all_stories[1].url: "meta", all_stories[2].url: "chain"}  # a meta refresh, a two-hop chain
    gnews = engine_server(GoogleNews(all_stories, modes=modes))
    bing = engine_server(BingNews(all_stories))
    for lang, cc in (("en", "US"), ("ru", "RU"), ("ja", "JP"), ("es", "ES")):
        add_feed(db_path, cfg, f"{gnews.base_url}/rss/search?q=Kuril&hl={lang}&gl={cc}&ceid={cc}:{lang}")
        add_feed(db_path, cfg, f"{bing.base_url}/news/search?q=Kuril&format=rss&setmkt={lang}-{cc.lower()}")
    poll(db_path, cfg)

    stored = posts(db_path)
    # every story once (Google News and Bing list the same ones), under the publisher's canonical URL
    assert sorted(p["canonical_url"] for p in stored) == sorted(canonical_url(s.url) for s in all_stories)
    assert all(s.url in {p["url"] for p in stored} for s in all_stories)
    # Google News' " - Publisher" suffix is gone, the headline's own dash is kept
    assert {p["title"] for p in stored} == {s.title for s in all_stories}
    # both feed links are kept beside the publisher's URL
    links = query_sightings(db_path)
    assert all(len(links[p["id"]]) == 2 for p in stored)
    assert all(any("/rss/articles/" in u for u in links[p["id"]]) for p in stored)
    assert all(any("/news/apiclick.aspx" in u for u in links[p["id"]]) for p in stored)

    # the redirector was asked once per Google News item (the chain takes two hops)
    def asked() -> list[str]:
        return [r.path for r in gnews.requests if "/articles/" in r.path]

    # (a request is logged just after its answer is sent: wait for the log to hold them all)
    assert wait_until(lambda: len(asked()) >= len(all_stories) + 1, timeout=10)
    assert len(asked()) == len(set(asked())) == len(all_stories) + 1
    assert gnews.peak_in_flight <= 3  # 2 feed fetches per host (the poller's limit) + 1 resolution
    for srv in (gnews, bing):
        assert all(not r.path.startswith("/news/apiclick") for r in srv.requests)  # Bing: read offline
    for sid in range(1, 9):
        assert health(db_path, sid)["last_error"] is None
    out = cli(db_path, cfg, "show", str(stored[0]["id"])).output
    assert "feed link:" in out and "/rss/articles/" in out and "not resolved" not in out

    before = asked()
    poll(db_path, cfg)  # again: nothing stored twice, and resolved links are not asked again
    assert q(db_path, "SELECT count(*) FROM posts") == len(all_stories)
    assert asked() == before


def test_a_google_alerts_feed_is_recognised_by_its_content(db_path, tmp_path, publishers, engine_server):
    cfg = config(tmp_path)
    all_stories = stories(publishers)
    app = GoogleAlerts(all_stories, query="Kuril talks")
    srv = engine_server(app)
    add_feed(db_path, cfg, srv.base_url + app.path)
    result = parse_feed(app.render(app.path, srv.netloc)[2], srv.base_url + app.path)
    assert engine_of(result) == "google-alerts"
    poll(db_path, cfg)
    stored = posts(db_path)
    assert sorted(p["url"] for p in stored) == sorted(s.url for s in all_stories)  # ?id= kept, decoded
    assert all("<b>" not in p["title"] for p in stored)
    assert not [r for r in srv.requests if r.path.startswith("/url")]  # unwrapped offline
    assert all(len(v) == 1 and "/url?" in v[0] for v in query_sightings(db_path).values())


def _hostile_poll(db_path, cfg, gnews_app, engine_server, expected_posts: int):
    srv = engine_server(gnews_app)
    add_feed(db_path, cfg, f"{srv.base_url}/rss/search?q=Kuril&hl=en-US&gl=US&ceid=US:en")
    started = time.monotonic()
    poll(db_path, cfg)
    elapsed = time.monotonic() - started
    assert q(db_path, "SELECT count(*) FROM posts") == expected_posts  # nothing lost
    poll(db_path, cfg)
    assert q(db_path, "SELECT count(*) FROM posts") == expected_posts  # nothing doubled
    return srv, elapsed


def _unresolved(db_path) -> list[dict]:
    return rows(
        db_path,
        "SELECT p.id, p.url FROM posts p JOIN sightings g ON g.post_id = p.id AND g.url = p.url WHERE g.via = 'query'",
    )


@pytest.mark.reliability
@pytest.mark.slow
def test_a_redirect_loop_leaves_the_feed_link_flagged(db_path, tmp_path, publishers, engine_server):
    cfg = config(tmp_path)
    all_stories = stories(publishers, n_en=3)[:3]
    looping = all_stories[1]
    app = GoogleNews(all_stories, modes={looping.url: "loop"})
    srv, _ = _hostile_poll(db_path, cfg, app, engine_server, len(all_stories))
    bad = _unresolved(db_path)
    assert len(bad) == 1 and "/rss/articles/" in bad[0]["url"]
    assert sorted(p["url"] for p in posts(db_path) if p["id"] != bad[0]["id"]) == sorted(
        s.url for s in all_stories if s is not looping
    )
    line = health(db_path)["last_error"]
    assert line.startswith("1 of 3 links could not be resolved to the publisher") and "loop" in line
    out = cli(db_path, cfg, "show", str(bad[0]["id"])).output
    assert "feed link:" in out and "(not resolved to the publisher)" in out
    record("28 query feed: redirector loops", runs=2, posts=len(all_stories), faults=1, lost=0, doubled=0)


@pytest.mark.reliability
@pytest.mark.slow
def test_a_redirect_to_a_private_address_is_refused_without_connecting(db_path, tmp_path, publishers, engine_server):
    cfg = config(tmp_path)
    internal = SiteServer(Publisher("internal service"), host="127.0.0.9").start()  # NOT trusted
    try:
        good = stories(publishers, n_en=1)[:1]
        when = good[0].published
        hostile = [
            Story("Metadata", "X", "http://169.254.169.254/latest/meta-data/", "a", when - timedelta(hours=1)),
            Story("Intranet", "Y", "http://10.255.255.1/admin", "b", when - timedelta(hours=2)),
            Story("Loopback", "Z", f"{internal.base_url}/secret", "c", when - timedelta(hours=3)),
        ]
        app = GoogleNews(good + hostile)
        _hostile_poll(db_path, cfg, app, engine_server, 4)
        assert internal.peak_in_flight == 0 and internal.log.count() == 0  # never contacted (counted on entry)
        urls = {p["url"] for p in posts(db_path)}
        assert good[0].url in urls and not any(h.url in urls for h in hostile)
        assert len(_unresolved(db_path)) == 3
        line = health(db_path)["last_error"]
        assert line.startswith("3 of 4 links could not be resolved") and "private, loopback or link-local" in line
        # an alert link that names a private address in its `url=` is read offline and refused alike
        alerts = GoogleAlerts(hostile, query="Metadata")
        alerts_srv = SiteServer(alerts).start()
        try:
            add_feed(db_path, cfg, alerts_srv.base_url + alerts.path)
            poll(db_path, cfg)
        finally:
            alerts_srv.stop()
        assert internal.peak_in_flight == 0 and internal.log.count() == 0
        assert q(db_path, "SELECT count(*) FROM posts") == 7 and len(_unresolved(db_path)) == 6
        assert not any(h.url in {p["url"] for p in posts(db_path)} for h in hostile)
        line = health(db_path, 2)["last_error"]
        assert line.startswith("3 of 3 links could not be resolved") and "169.254.169.254" in line
    finally:
        internal.stop()
    record("29 query feed: redirector points at private addresses", runs=3, posts=7, faults=6, lost=0, doubled=0)


@pytest.mark.reliability
@pytest.mark.slow
def test_a_redirector_that_never_resolves_ends_in_bounded_time(db_path, tmp_path, publishers):
    cfg = config(tmp_path, fetch_timeout=1.0)
    all_stories = stories(publishers, n_en=3)[:3]
    script_only, hanging = all_stories[1], all_stories[2]  # the hanging one is the oldest: listed last
    app = GoogleNews(all_stories, modes={script_only.url: "js"})
    token = app.redirector.register(hanging.url)  # the token the feed lists for it
    engine = SiteServer(app).start()
    try:
        engine.faults.hang(f"/rss/articles/{token}")
        add_feed(db_path, cfg, f"{engine.base_url}/rss/search?q=Kuril&hl=en-US&gl=US&ceid=US:en")
        started = time.monotonic()
        poll(db_path, cfg)
        elapsed = time.monotonic() - started
        assert elapsed < 20  # the hang costs one fetch deadline (2 x fetch_timeout), not more
        assert q(db_path, "SELECT count(*) FROM posts") == 3  # nothing lost
        poll(db_path, cfg)
        assert q(db_path, "SELECT count(*) FROM posts") == 3  # nothing doubled
    finally:
        engine.stop()
    urls = {p["url"] for p in posts(db_path)}
    assert all_stories[0].url in urls and script_only.url not in urls and hanging.url not in urls
    assert len(_unresolved(db_path)) == 2
    line = health(db_path)["last_error"]
    assert line.startswith("2 of 3 links could not be resolved to the publisher")
    assert "serves them through script" in line and "did not answer in time" in line
    record("30 query feed: redirector never resolves", runs=2, posts=3, faults=2, lost=0, doubled=0)


@pytest.mark.reliability
@pytest.mark.slow
def test_a_link_resolved_on_a_later_poll_moves_its_post_instead_of_doubling_it(db_path, tmp_path, publishers):
    cfg = config(tmp_path)
    all_stories = stories(publishers, n_en=2)[:2]
    late = all_stories[1]
    app = GoogleNews(all_stories)
    token = app.redirector.register(late.url)
    engine = SiteServer(app).start()
    try:
        engine.faults.status(f"/rss/articles/{token}", 503, times=1)  # the redirector fails once
        add_feed(db_path, cfg, f"{engine.base_url}/rss/search?q=Kuril&hl=en-US&gl=US&ceid=US:en")
        poll(db_path, cfg)
        first = {p["url"]: p["id"] for p in posts(db_path)}
        assert late.url not in first and len(first) == 2
        [(feed_link, post_id)] = [(u, i) for u, i in first.items() if "/rss/articles/" in u]
        assert "answered HTTP 503" in health(db_path)["last_error"]
        poll(db_path, cfg)
    finally:
        engine.stop()
    second = {p["url"]: p["id"] for p in posts(db_path)}
    assert second[late.url] == post_id and len(second) == 2  # the same post, now under the publisher's URL
    assert query_sightings(db_path)[post_id] == [feed_link]
    assert health(db_path)["last_error"] is None
    record("30 query feed: redirector fails once, resolves later", runs=2, posts=2, faults=1, lost=0, doubled=0)


def test_links_beyond_the_per_poll_cap_are_resolved_on_the_next_poll(monkeypatch, publishers):
    import crawler.resolve as resolve
    from crawler.config import FetchSettings
    from crawler.guard import allowed_sites

    monkeypatch.setattr(resolve, "MAX_RESOLUTIONS_PER_POLL", 2)
    all_stories = stories(publishers, n_en=3)[:4]
    app = GoogleNews(all_stories)
    with SiteServer(app) as srv:
        links = [app.link(s, srv.netloc) for s in all_stories]
        allowed = allowed_sites(srv.base_url, trusted_hosts=PUBLISHER_HOSTS)
        resolver = resolve.Resolver(FetchSettings("rjwatch-test", 5.0, 1_000_000, 5))
        first = [{"url": link} for link in links]
        line = resolver.resolve_entries(first, allowed=allowed, engine_host=srv.netloc)
        assert [e["url"] for e in first[:2]] == [s.url for s in all_stories[:2]]
        assert all(e["url"] == e["feed_link"] and "more than 2 links" in e["unresolved"] for e in first[2:])
        assert line == "2 of 4 links could not be resolved to the publisher (more than 2 links to resolve in one poll)"
        second = [{"url": link} for link in links]  # the next poll: the first two are remembered
        assert resolver.resolve_entries(second, allowed=allowed, engine_host=srv.netloc) is None
        assert [e["url"] for e in second] == [s.url for s in all_stories]
        assert srv.log.wait_for(4) and srv.log.count() == 4  # each link asked once


def test_a_redirector_answering_by_script_is_left_alone_after_a_few_links(db_path, tmp_path, publishers):
    from crawler.resolve import SCRIPT_ONLY_GIVE_UP

    cfg = config(tmp_path)
    all_stories = stories(publishers, n_en=4)  # 7 stories, all behind script-only pages (news.google.com now)
    app = GoogleNews(all_stories, mode="js")
    engine = SiteServer(app).start()
    try:
        add_feed(db_path, cfg, f"{engine.base_url}/rss/search?q=Kuril&hl=en-US&gl=US&ceid=US:en")
        poll(db_path, cfg)
        asked = [r.path for r in engine.log.records() if "/articles/" in r.path]
    finally:
        engine.stop()
    en = [s for s in all_stories if s.lang == "en"]
    assert len(asked) == SCRIPT_ONLY_GIVE_UP < len(en)  # then no more requests for the same answer
    assert q(db_path, "SELECT count(*) FROM posts") == len(en)  # every item kept, under its feed link
    assert len(_unresolved(db_path)) == len(en)
    line = health(db_path)["last_error"]
    assert line.startswith(f"{len(en)} of {len(en)} links could not be resolved"), line
    assert "not asked again for a while" in line
