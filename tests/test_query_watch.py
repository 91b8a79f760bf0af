"""Watching a topic beyond known sources, end to end: `rjwatch source add --query` in four languages
against a fake Google News on 127.0.0.1 whose opaque links redirect to publisher sites on
127.0.0.2-6; a real `rjwatch poll`, `rjwatch recheck`, `copies`, `show` and `evidence`, real SQLite
and real WARC files read back with warcio.

What it checks is the issue's "done when": posts identified by the publisher's URL, judged on the
publisher's full text, one story from two publishers stored as one duplicate group, a copy of the
seed kept as WARC evidence, and that evidence surviving the copy's removal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from helpers import SEED, q, relevant_articles, rows, run_cli
from rjwatch.demo.engines import GoogleNews, Publisher, Story
from rjwatch.demo.server import SiteServer

QUERY = 'Kuril OR "Northern Territories"'
LANGS = ("en", "ru", "ja", "es")
#: The publishers' loopback addresses: trusted in the test config, as a user lists an intranet mirror.
HOSTS = ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6")
#: A closing line only the publishers' pages carry (never the feed's teaser): proof of full text.
PAGE_ONLY = "The ministers agreed to meet again before the end of the year."

RU = (
    "Глава МИД России принял в Москве японского коллегу: речь шла о мирном договоре и южных Курилах.\n\n"
    "Япония предложила расширить совместную хозяйственную деятельность на островах, Россия ответила, "
    "что суверенитет над Курилами не обсуждается.\n\n"
    "Переговоры о мирном договоре между Россией и Японией продолжатся весной в Токио."
)
JA = (
    "ロシアを訪問した日本の外相は、平和条約締結交渉と北方領土での共同経済活動について協議した。\n\n"
    "ロシア側は千島列島の主権は議題ではないと述べ、日本側は四島の帰属問題の解決を求めた。\n\n"
    "日露両政府は春に東京で次の協議を行うことで一致した。"
)
ES = (
    "El canciller japonés viajó a Moscú para hablar con su homólogo ruso del tratado de paz y de las Kuriles.\n\n"
    "Japón propuso ampliar la actividad económica conjunta en las islas; Rusia recordó que la soberanía "
    "rusa sobre las Kuriles no está en discusión.\n\n"
    "Las conversaciones entre Rusia y Japón seguirán en primavera en Tokio."
)


@pytest.fixture
def web():
    """Five publishers (two English, Russian, Japanese, Spanish) and the engine, each on its own address."""
    pubs = [
        Publisher("Wire Review", "en"),
        Publisher("Pacific Desk", "en"),
        Publisher("Вести дня", "ru"),
        Publisher("東方日報", "ja"),
        Publisher("Diario Austral", "es"),
    ]
    servers = [SiteServer(app, host=h).start() for app, h in zip(pubs, HOSTS)]
    engine = GoogleNews(link_form="articles", mode="redirect")
    engine_srv = SiteServer(engine).start()
    yield pubs, servers, engine, engine_srv
    for srv in [*servers, engine_srv]:
        srv.stop()


def publish(pubs, servers, engine) -> dict[str, str]:
    """The coverage the engine lists, by language; returns the publisher URLs of the roles tests check."""
    (wire, wire_srv), (desk, desk_srv), (ru, ru_srv), (ja, ja_srv), (es, es_srv) = zip(pubs, servers)
    start = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    urls = {}

    def story(pub, srv, title, body, when, lang, role):
        path = pub.add(title, body, when)
        url = srv.base_url + path
        urls[role] = url
        teaser = body.split("\n")[0][:90] + " ..."
        engine.add(Story(title, pub.name, url, teaser, when, lang))

    arts = relevant_articles(2)
    story(wire, wire_srv, arts[0]["title"], arts[0]["text"] + "\n\n" + PAGE_ONLY, start, "en", "original")
    # the same wire story, republished a day later by a second publisher: one duplicate group
    story(
        desk, desk_srv, arts[0]["title"] + " (wire)", arts[0]["text"] + "\n\n" + PAGE_ONLY,
        start + timedelta(days=1), "en", "republished",
    )  # fmt: skip
    story(
        wire,
        wire_srv,
        arts[1]["title"],
        arts[1]["text"] + "\n\n" + PAGE_ONLY,
        start - timedelta(hours=2),
        "en",
        "other",
    )
    # a copy of the seed on a publisher nobody registered
    story(desk, desk_srv, SEED["title"], SEED["text"].replace("\n", "\n\n"), start - timedelta(hours=3), "en", "copy")
    story(ru, ru_srv, "Россия и Япония продолжат переговоры о мирном договоре", RU, start, "ru", "ru")
    story(ja, ja_srv, "日露外相が平和条約交渉", JA, start, "ja", "ja")
    story(es, es_srv, "Rusia y Japón seguirán negociando el tratado de paz", ES, start, "es", "es")
    return urls


def config(tmp_path, engine_base: str) -> str:
    path = tmp_path / "rjwatch.toml"
    path.write_text(
        f"trusted_hosts = {json.dumps(list(HOSTS))}\nfetch_timeout = 10\n\n"
        f'[query_engines]\ngoogle-news = "{engine_base}"\n',
        encoding="utf-8",
    )
    return str(path)


def cli(db_path, cfg, *args):
    result = run_cli("--db", str(db_path), "--config", cfg, *args)
    assert "Traceback" not in result.output, result.output
    return result


def ok(db_path, cfg, *args) -> str:
    result = cli(db_path, cfg, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def warc_ids(folder) -> set[str]:
    out = set()
    for day in sorted(folder.glob("rjwatch-*.warc.gz")):
        with open(day, "rb") as fh:
            out |= {r.rec_headers.get_header("WARC-Record-ID") for r in ArchiveIterator(fh) if r.rec_type == "response"}
    return out


@pytest.mark.slow
def test_a_query_in_four_languages_yields_publisher_identified_full_text_deduplicated_posts(db_path, tmp_path, web):
    pubs, servers, engine, engine_srv = web
    urls = publish(pubs, servers, engine)
    cfg = config(tmp_path, engine_srv.base_url)

    ok(db_path, cfg, "source", "add", "--query", QUERY, "--engine", "google-news", "--lang", ",".join(LANGS))
    listed = json.loads(ok(db_path, cfg, "source", "list", "--kind", "query", "--format", "json"))
    assert sorted(s["kind"] for s in listed) == sorted(f"query (google-news, {lang})" for lang in LANGS)

    summary = json.loads(ok(db_path, cfg, "poll", "--all", "--format", "json"))
    assert (summary["polled"], summary["failed"]) == (4, 0), summary

    posts = rows(db_path, "SELECT id, url, status, duplicate_of, lang, text, summary_only FROM posts ORDER BY id")
    by_url = {p["url"]: p for p in posts}
    # every story once, under its publisher's URL: none under the engine's links
    assert sorted(by_url) == sorted(urls.values())
    assert not [p for p in posts if urlsplit(p["url"]).netloc == engine_srv.netloc]
    # the feed's links are kept beside them
    feed_links = rows(db_path, "SELECT post_id, url FROM sightings WHERE via = 'query'")
    assert {s["post_id"] for s in feed_links} == {p["id"] for p in posts}
    assert all("/rss/articles/" in s["url"] for s in feed_links)
    # judged on the publishers' full text, not the teasers
    assert not [p["url"] for p in posts if p["summary_only"]]
    for role in ("original", "republished", "other"):
        assert PAGE_ONLY in by_url[urls[role]]["text"], role
    assert "Токио" in by_url[urls["ru"]]["text"] and "東京" in by_url[urls["ja"]]["text"]
    assert "Tokio" in by_url[urls["es"]]["text"]
    assert {by_url[urls[lang]]["lang"] for lang in ("ru", "ja", "es")} == {"ru", "ja", "es"}
    for lang in ("ru", "ja", "es", "other", "original"):
        assert by_url[urls[lang]]["status"] == "new", (lang, by_url[urls[lang]])
    # the same story from two publishers: one group, the later one pointing at the earlier
    original, republished = by_url[urls["original"]], by_url[urls["republished"]]
    assert republished["status"] == "duplicate" and republished["duplicate_of"] == original["id"]
    # the seed's copy on an unregistered publisher
    copy = by_url[urls["copy"]]
    assert copy["status"] == "copy"
    # politeness: each publisher page fetched once, robots.txt asked first
    for srv in servers:
        paths = [r.path for r in srv.log.records()]
        assert paths and paths[0] == "/robots.txt", paths
        pages = [p for p in paths if p.startswith("/news/")]
        assert len(pages) == len(set(pages)), paths
        assert srv.log.peak_in_flight <= 1

    # evidence: the copy's publisher page, as a WARC record the day's file holds
    ev = rows(db_path, "SELECT * FROM evidence WHERE post_id = ?", copy["id"])
    assert [(e["url"], e["http_status"], e["reason"]) for e in ev] == [(urls["copy"], 200, "first")]
    assert ev[0]["record_id"] in warc_ids(tmp_path / "evidence")
    assert ev[0]["record_id"] in ok(db_path, cfg, "show", str(copy["id"]))
    # every kept post's evidence is its publisher's page, not the engine's feed
    for p in posts:
        if p["status"] in ("new", "copy"):
            kept = rows(db_path, "SELECT url FROM evidence WHERE post_id = ?", p["id"])
            assert [e["url"] for e in kept] == [p["url"]], (p["url"], kept)

    # the copy disappears: removed, one alert, the earlier page still there to show
    desk = pubs[1]
    desk.remove(urlsplit(urls["copy"]).path)
    for _ in range(2):
        assert "removed" in ok(db_path, cfg, "recheck", "--all")
    assert q(db_path, "SELECT page_state FROM posts WHERE id = ?", copy["id"]) == "removed"
    assert q(db_path, "SELECT count(*) FROM alerts WHERE kind = 'copy_removed'") == 1
    removed = json.loads(ok(db_path, cfg, "copies", "--removed", "--format", "json"))
    assert [r["id"] for r in removed] == [copy["id"]]
    ev = rows(db_path, "SELECT reason, http_status, record_id FROM evidence WHERE post_id = ? ORDER BY id", copy["id"])
    assert [(e["reason"], e["http_status"]) for e in ev] == [("first", 200), ("removed", 404)]
    assert {e["record_id"] for e in ev} <= warc_ids(tmp_path / "evidence")
    page = cli(db_path, cfg, "evidence", str(copy["id"]), "--record", "1", "--out", "-")
    assert page.exit_code == 0 and SEED["text"].split("\n")[0][:80] in page.stdout
