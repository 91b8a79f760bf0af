"""`rjwatch serve --datasette`: what an analyst meets in Datasette. Internal tables are hidden, the posts read one
line each in the `posts_list` view (title, status, relevance, published, language, source, URL; newest
published first), long cells are cut in the HTML pages, and the search box finds 北方領土 in the middle
of a Japanese sentence (through the trigram index).

A real `rjwatch serve --datasette` process on 127.0.0.1 is queried over HTTP (the JSON API and the HTML pages),
over a database filled through the real write path.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from helpers import datasette, http_get, run_cli

SOURCE = "https://watchblog.blogspot.com/"
JA_TEXT = (
    "日本政府は北方領土問題をめぐるロシアとの協議の再開を歓迎すると発表した。"
    "外務省によると、日露両国の外相は平和条約締結に向けた交渉を続けることで一致した。"
    "ロシア側は択捉島と国後島での共同経済活動についても前向きな姿勢を示した。"
)
LONG_TEXT = " ".join(
    [
        "Japanese and Russian diplomats met in Moscow to restart talks on the Kuril Islands, the chain that "
        "Japan calls its Northern Territories.",
        "The foreign ministers said the peace treaty between Russia and Japan remains the goal, and that joint "
        "economic activity on the islands will continue next year.",
        "Officials in Tokyo described the Russia-Japan meeting as frank, while Moscow spoke of progress on "
        "fishing quotas for salmon near the islands.",
    ]
)
POSTS = [
    # (key, published, title, text)
    ("ja", "2025-03-01T03:00:00+00:00", "日本政府、ロシアとの協議再開を歓迎", JA_TEXT),
    ("talks", "2026-11-20T09:00:00+00:00", "Tokyo and Moscow resume talks on the Kuril Islands", LONG_TEXT),
    (
        "ramen",
        "2024-01-01T12:00:00+00:00",
        "Three ramen counters worth the queue",
        "The first counter serves a clear shoyu broth with thin noodles and a soft egg. The second is known "
        "for miso ramen and a long queue at lunchtime, every day of the week.",
    ),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from storage.db import connect
    from storage.ingest import ingest_many

    path = tmp_path_factory.mktemp("serve") / "rj.db"
    assert run_cli("--db", str(path), "init").exit_code == 0
    assert run_cli("--db", str(path), "source", "add", SOURCE, "--kind", "blogger").exit_code == 0
    db = connect(path)
    try:
        source_id = db.execute("SELECT id FROM sources WHERE url = ?", [SOURCE]).fetchone()[0]
        ingest_many(
            db,
            [
                {
                    "url": f"http://watchblog.blogspot.com/2026/11/{key}.html",
                    "source_id": source_id,
                    "title": title,
                    "text": text,
                    "published": published,
                }
                for key, published, title, text in POSTS
            ],
        )
    finally:
        db.conn.close()
    return path


_get = http_get


@pytest.fixture(scope="module")
def server(corpus):
    with datasette(corpus) as base:
        yield base + "/" + corpus.stem


def _json(url: str):
    status, body = _get(url)
    assert status == 200, body[:500]
    return json.loads(body)


def test_every_table_is_described_or_internal(db_path):
    """A new table must be given a description for analysts or be listed as internal (hidden)."""
    from rjwatch.browse import INTERNAL_TABLES, TABLES

    con = sqlite3.connect(db_path)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    shadow = {
        n for n in names for fts in ("posts_fts", "posts_cjk") if n.startswith(fts + "_") and n != "posts_cjk_vocab"
    }
    unclassified = names - shadow - set(TABLES) - set(INTERNAL_TABLES)
    assert not unclassified, (
        f"describe these in rjwatch/browse.py TABLES or list them in INTERNAL_TABLES: {unclassified}"
    )
    assert not set(TABLES) & set(INTERNAL_TABLES)
    assert {"lsh_recent", "minhash"} <= set(INTERNAL_TABLES) and "posts_list" in names


@pytest.mark.slow
def test_internal_tables_are_hidden_and_posts_read_one_line_each(server, corpus):
    db = _json(server + ".json")
    hidden = {t["name"] for t in db["tables"] if t["hidden"]}
    shown = {t["name"] for t in db["tables"] if not t["hidden"]}
    assert {"lsh", "lsh_recent", "minhash", "meta", "_sqlite_migrations", "alert_channels"} <= hidden
    assert {"posts", "sources", "sightings", "alerts"} <= shown and not {"lsh_recent", "minhash"} & shown
    assert "posts_list" in {v["name"] for v in db["views"]}
    front = _json(server.rsplit("/", 1)[0] + "/.json")
    listed = {t["name"] for d in front.values() for t in d["tables_and_views_truncated"]}
    assert listed and not listed & hidden

    page = _json(server + "/posts_list.json")
    assert page["columns"] == [
        "title",
        "status",
        "analyst",
        "relevance",
        "published",
        "language",
        "source",
        "url",
        "id",
    ]
    rows = [dict(zip(page["columns"], r)) for r in page["rows"]]
    assert [r["published"][:4] for r in rows] == ["2026", "2025", "2024"]  # newest published first
    talks = rows[0]
    assert talks["source"] == SOURCE and talks["url"] == "http://watchblog.blogspot.com/2026/11/talks.html"
    assert talks["relevance"] == round(talks["relevance"], 2) and talks["language"] == "en"
    assert set(page["facet_results"]) >= {"status", "language"}


@pytest.mark.slow
def test_long_cells_are_cut_in_the_html_but_whole_in_json(server):
    status, html = _get(server + "/posts?_sort_desc=published&_size=1")
    assert status == 200 and LONG_TEXT[:100] in html and LONG_TEXT not in html
    rows = _json(server + "/posts.json?_sort_desc=published&_size=1&_shape=array")
    assert rows[0]["text"] == LONG_TEXT


@pytest.mark.slow
def test_the_search_box_finds_japanese_inside_a_sentence(server):
    term = urllib.parse.quote("北方領土")
    for table in ("posts", "posts_list"):
        rows = _json(f"{server}/{table}.json?_search={term}&_shape=array")
        assert [r["title"] for r in rows] == ["日本政府、ロシアとの協議再開を歓迎"], table
        status, html = _get(f"{server}/{table}?_search={term}")
        assert status == 200 and "日本政府、ロシアとの協議再開を歓迎" in html
    # Words in spaced scripts still use the default index, and an explicit index is left alone.
    rows = _json(f"{server}/posts_list.json?_search=salmon&_shape=array")
    assert [r["title"] for r in rows] == ["Tokyo and Moscow resume talks on the Kuril Islands"]
    rows = _json(f"{server}/posts.json?_search={term}&_fts_table=posts_fts&_shape=array")
    assert rows == []
