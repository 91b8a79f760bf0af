"""Querying the corpus: search, copies, show, stats, export, saved searches and the Datasette view.

One small corpus is ingested through the real `rjwatch ingest` (an Atom feed written here, with
English, Japanese and Russian coverage, seed copies and an off-topic post) and queried through the
real CLI.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from html import escape
from pathlib import Path

import pytest

from helpers import datasette, http_get, run_cli

SEED_URL = "https://seedcopy.blogspot.com/2017/03/what-russia-wants.html"

ENTRIES = [
    # (key, published, title, paragraphs)
    (
        "talks",
        "2026-11-20T09:00:00Z",
        "Tokyo and Moscow resume talks on the Kuril Islands",
        [
            "Japanese and Russian diplomats met in Moscow on Thursday to restart talks on the Kuril Islands, "
            "the chain that Japan calls its Northern Territories.",
            "The foreign ministers said the peace treaty between Russia and Japan remains the goal, and that "
            "joint economic activity on the islands will continue next year.",
            "Officials in Tokyo described the Russia-Japan meeting as frank, while Moscow spoke of progress.",
        ],
    ),
    (
        "quota",
        "2026-11-10T09:00:00Z",
        "Kuril salmon quotas agreed for the new season",
        [
            "Japan and Russia agreed on fishing quotas for salmon in waters near the islands after talks in Tokyo.",
            "Russian and Japanese negotiators said the bilateral fisheries deal keeps catches at last year's level.",
        ],
    ),
    (
        "sapporo",
        "2026-11-05T09:00:00Z",
        "Notes from a week in Sapporo",
        [
            "Sapporo in autumn is quiet. Japan's north looks towards Russia across a narrow strait, and the "
            "relationship between the two countries is a topic in every conversation here.",
            "One fisherman told me that the Kuril question matters less to him than the price of fuel, though "
            "Russian patrol boats and Japanese boats still meet at sea.",
        ],
    ),
    (
        "ja2",
        "2026-10-02T03:00:00Z",
        "専門家が語る、これからの日露",
        [
            "専門家は経済協力の行方に注目している。",
        ],
    ),
    (
        "ja",
        "2026-10-01T03:00:00Z",
        "日本政府、ロシアとの協議再開を歓迎",
        [
            "日本政府は北方領土問題をめぐるロシアとの協議の再開を歓迎すると発表した。",
            "外務省によると、日露両国の外相は平和条約締結に向けた交渉を続けることで一致した。",
            "ロシア側は択捉島と国後島での共同経済活動についても前向きな姿勢を示した。",
        ],
    ),
    (
        "ru",
        "2026-09-15T08:00:00Z",
        "Япония и Россия обсудили будущее Курильских островов",
        [
            "Министры иностранных дел России и Японии встретились в Токио и обсудили мирный договор.",
            "Стороны говорили о совместной хозяйственной деятельности на Курильских островах и о визитах "
            "бывших жителей.",
            "Москва и Токио договорились продолжить переговоры в следующем году.",
        ],
    ),
    (
        "ramen",
        "2025-01-01T12:00:00Z",
        "Three ramen counters worth the queue",
        [
            "The first counter serves a clear shoyu broth with thin noodles and a soft egg.",
            "The second is known for miso ramen and a long queue at lunchtime, every day of the week.",
        ],
    ),
]


def _atom(entries: list[tuple[str, str, str, str]]) -> str:
    """An Atom feed: (id, published, title, html)."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        "<id>tag:example.org,2026:query-corpus</id><title>Query corpus</title>",
        "<updated>2026-11-21T00:00:00Z</updated>",
    ]
    for key, published, title, html in entries:
        url = key if key.startswith("http") else f"https://watch-{key}.blogspot.com/2026/11/{key}.html"
        out.append(
            f"<entry><id>tag:example.org,2026:{escape(key)}</id><title>{escape(title)}</title>"
            f'<link rel="alternate" type="text/html" href="{escape(url)}"/>'
            f"<published>{published}</published><updated>{published}</updated>"
            f'<content type="html">{escape(html)}</content></entry>'
        )
    out.append("</feed>")
    return "\n".join(out)


def _html(paragraphs: list[str]) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in paragraphs)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A database holding the corpus; tests only read it (those that write take a copy)."""
    import os

    tmp = tmp_path_factory.mktemp("query")
    old = os.getcwd()
    os.chdir(tmp)
    try:
        db = tmp / "rj.db"
        assert run_cli("--db", str(db), "init").exit_code == 0
        seed_text = sqlite3.connect(db).execute("SELECT text FROM seeds WHERE id = 1").fetchone()[0]
        seed_paras = [p for p in seed_text.split("\n") if p.strip()]
        entries = [(k, pub, title, _html(paras)) for k, pub, title, paras in ENTRIES]
        entries.append(
            (
                SEED_URL,
                "2017-03-21T10:00:00Z",
                "What Russia Wants From Its Dialogue With Japan",
                _html(seed_paras + ["Editor's note: reposted for readers who follow the islands dispute."]),
            )
        )
        entries.append(
            (
                "https://excerpts.blogspot.com/2017/04/quoted.html",
                "2017-04-02T10:00:00Z",
                "A long article worth quoting",
                _html(
                    ["I read a long piece about Russia and Japan this week and want to quote its opening."]
                    + seed_paras[:3]
                    + [
                        "My own view is that the Kuril talks will take years, whatever the summits say.",
                        "Still, the conversation between Tokyo and Moscow is better than silence.",
                    ]
                ),
            )
        )
        feed = tmp / "corpus.atom"
        feed.write_text(_atom(entries), "utf-8")
        result = run_cli("--db", str(db), "ingest", str(feed))
        assert result.exit_code == 0, result.output
        # A post whose title carries terminal escape codes (stored through the one write path).
        from storage.db import connect
        from storage.ingest import ingest

        added = run_cli("--db", str(db), "source", "add", "https://hostile.blogspot.com/", "--kind", "blogger")
        assert added.exit_code == 0, added.output
        conn = connect(db)
        source_id = conn.execute("SELECT id FROM sources WHERE url LIKE '%hostile%'").fetchone()[0]
        ingest(
            conn,
            {
                "url": "https://hostile.blogspot.com/p/x.html",
                "source_id": source_id,
                "title": "\x1b[31mKURIL\x1b[0m talks \x1b]0;owned\x07in Tokyo",
                "text": "Russia and Japan held talks on the Kuril Islands and "
                "the peace treaty in Tokyo. Moscow and Tokyo agreed to meet again.",
                "seen_via": "cli",
            },
        )
        conn.conn.close()
        return db
    finally:
        os.chdir(old)


def ids_of(db: Path, *args: str) -> list[int]:
    result = run_cli("--db", str(db), "search", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return [r["id"] for r in json.loads(result.output)]


def copy_of(corpus: Path, tmp_path: Path) -> Path:
    """A private copy of the corpus (through the backup API: the WAL holds recent commits)."""
    dst = tmp_path / "rj.db"
    with sqlite3.connect(corpus) as src, sqlite3.connect(dst) as out:
        src.backup(out)
    return dst


def post_id(db: Path, url_part: str) -> int:
    row = sqlite3.connect(db).execute("SELECT id FROM posts WHERE url LIKE ?", [f"%{url_part}%"]).fetchone()
    assert row, url_part
    return row[0]


# --- search -------------------------------------------------------------------------------------
def test_search_finds_words_newest_first_with_highlighted_snippets(corpus):
    result = run_cli("--db", str(corpus), "search", "Kuril", "--format", "json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    ids = [h["id"] for h in hits]
    assert post_id(corpus, "watch-talks") in ids and post_id(corpus, "watch-sapporo") in ids
    assert ids == sorted(ids, reverse=True)  # newest collected first
    talks = next(h for h in hits if h["id"] == post_id(corpus, "watch-talks"))
    assert "**Kuril**" in talks["snippet"]
    assert post_id(corpus, "watch-ramen") not in ids


def test_fts_syntax_works_phrases_boolean_prefix_near_and_columns(corpus):
    talks, quota, sapporo = (post_id(corpus, k) for k in ("watch-talks", "watch-quota", "watch-sapporo"))
    assert ids_of(corpus, '"Kuril Islands"') and quota not in ids_of(corpus, '"Kuril Islands"')
    assert set(ids_of(corpus, "salmon OR Sapporo")) == {quota, sapporo}
    assert sapporo not in ids_of(corpus, "Kuril NOT Sapporo")
    assert talks in ids_of(corpus, "Kuri*")
    assert ids_of(corpus, "NEAR(fisherman Kuril, 5)") == [sapporo]
    assert ids_of(corpus, "NEAR(fisherman salmon, 2)") == []
    assert quota in ids_of(corpus, "title:salmon") and ids_of(corpus, "title:fisherman") == []
    # Punctuation inside a word searches the words it holds instead of failing to parse.
    assert talks in ids_of(corpus, "Russia-Japan")


def test_japanese_terms_are_found_inside_sentences(corpus):
    ja = post_id(corpus, "watch-ja.")
    # 北方領土 sits in the middle of a sentence: a unicode61 index alone would not find it.
    assert ids_of(corpus, "北方領土") == [ja]
    assert ids_of(corpus, "択捉島") == [ja]
    ja2 = post_id(corpus, "watch-ja2")
    # Two characters, below the trigram size: spelled out from the index vocabulary, also where the
    # term ends a title (ja2) and so starts no trigram of real text.
    assert ids_of(corpus, "日露") == [ja, ja2]
    assert ids_of(corpus, "日露 外相") == [ja]
    assert ids_of(corpus, "択") == [ja]
    assert ids_of(corpus, "露 OR 専門") == [ja, ja2]
    assert ids_of(corpus, "韓国") == []
    assert ids_of(corpus, "北方領土 ramen") == []
    result = run_cli("--db", str(corpus), "search", "北方領土", "--format", "jsonl")
    assert "**北方領土**" in json.loads(result.output.splitlines()[0])["snippet"]


def test_short_cjk_terms_with_too_many_trigrams_fall_back_to_a_scan(corpus, monkeypatch):
    import storage.search

    spelled = ids_of(corpus, "日露")
    monkeypatch.setattr(storage.search, "MAX_SPELLED_TRIGRAMS", 1)
    assert ids_of(corpus, "日露") == spelled
    assert ids_of(corpus, "日露 外相") == [post_id(corpus, "watch-ja.")]


def test_russian_inflections_are_found_with_a_prefix(corpus):
    ru = post_id(corpus, "watch-ru")
    assert ids_of(corpus, "Курил*") == [ru]  # Курильских
    assert ids_of(corpus, "курильских") == [ru]  # case folded
    assert ids_of(corpus, "Курилы") == []  # no stemming: the prefix is how to ask for forms


def test_filters_narrow_the_results(corpus):
    talks, quota, sapporo, ja, ru = (
        post_id(corpus, k) for k in ("watch-talks", "watch-quota", "watch-sapporo", "watch-ja.", "watch-ru")
    )
    assert set(ids_of(corpus, "Japan OR 日本 OR Япония", "--lang", "ja", "--lang", "ru")) == {ja, ru}
    in_nov = set(ids_of(corpus, "Japan", "--since", "2026-11-01", "--until", "2026-11-15"))
    assert in_nov == {quota, sapporo}
    assert ids_of(corpus, "Kuril", "--source", "https://hostile.blogspot.com/") == [post_id(corpus, "hostile")]
    unknown = run_cli("--db", str(corpus), "search", "Kuril", "--source", "https://nowhere.blogspot.com/")
    assert unknown.exit_code == 1 and "no source" in unknown.output
    copies = ids_of(corpus, "Russia", "--seed", "1")
    assert post_id(corpus, "seedcopy") in copies and talks not in copies
    assert set(ids_of(corpus, "Kuril", "--status", "copy")) == {post_id(corpus, "seedcopy")}
    every = ids_of(corpus, "Japan")
    high = ids_of(corpus, "Japan", "--min-relevance", "0.99")
    assert set(high) < set(every)


def test_relative_dates_and_bad_dates(corpus):
    assert ids_of(corpus, "Kuril", "--since", "1d") == [post_id(corpus, "hostile")]  # undated: first seen today
    result = run_cli("--db", str(corpus), "search", "Kuril", "--since", "last tuesday-ish")
    assert result.exit_code == 2 and "is not a date" in result.output


def test_rank_weights_the_title_above_the_body(corpus):
    quota, sapporo = post_id(corpus, "watch-quota"), post_id(corpus, "watch-sapporo")
    ranked = ids_of(corpus, "salmon OR fisherman", "--rank")
    assert ranked == [quota, sapporo]  # salmon is in a title, fisherman only in a body
    newest = ids_of(corpus, "salmon OR fisherman")
    assert newest == sorted(newest, reverse=True)


def test_limit_offset_and_output_formats(corpus):
    every = ids_of(corpus, "Japan")
    assert ids_of(corpus, "Japan", "--limit", "2") == every[:2]
    assert ids_of(corpus, "Japan", "--limit", "2", "--offset", "2") == every[2:4]
    out = run_cli("--db", str(corpus), "search", "Japan", "--format", "csv").output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [int(r["id"]) for r in rows] == every and "snippet" in rows[0]
    tsv = run_cli("--db", str(corpus), "search", "Japan").output  # not a TTY: a header line, then plain lines
    header, *lines = tsv.splitlines()
    assert header.split("\t") == list(csv.DictReader(io.StringIO(out)).fieldnames)
    assert [int(line.split("\t")[0]) for line in lines] == every
    assert all(line.count("\t") == header.count("\t") for line in lines)


@pytest.mark.parametrize(
    "query, problem",
    [
        ('"Kuril islands', "unbalanced double quote"),
        ("(Kuril OR Abe", "unbalanced parenthesis"),
        ("Kuril)", "unbalanced parenthesis"),
        ("AND Kuril", "operator AND needs a term before it"),
        ("Kuril OR", "operator OR needs a term after it"),
        ("Kuril AND OR Abe", "operator OR needs a term before it"),
        ("author:Abe", "unknown column 'author'"),
        ("* ? -", "no words"),
        ("日露 NOT 首脳", "only be combined with AND or OR"),
    ],
)
def test_malformed_queries_get_a_one_line_error_naming_the_problem(corpus, query, problem):
    result = run_cli("--db", str(corpus), "search", query)
    assert result.exit_code == 1
    assert problem in result.output, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_query_text_never_reaches_sql(corpus):
    before = sqlite3.connect(corpus).execute("SELECT count(*) FROM posts").fetchone()[0]
    for q in ["'; DROP TABLE posts; --", 'x" OR 1=1 --"', "Kuril') UNION SELECT sql FROM sqlite_master --"]:
        result = run_cli("--db", str(corpus), "search", q, "--format", "json")
        assert result.exit_code in (0, 1) and "Traceback" not in result.output
        if result.exit_code == 0:
            assert json.loads(result.output) == []
    assert sqlite3.connect(corpus).execute("SELECT count(*) FROM posts").fetchone()[0] == before


def test_escape_codes_in_titles_never_reach_the_terminal(corpus):
    for fmt in ("table", "tsv", "json", "csv"):
        out = run_cli("--db", str(corpus), "search", "KURIL", "--format", fmt).output
        assert "\x1b" not in out and "\x07" not in out
        assert "KURIL" in out


# --- copies -------------------------------------------------------------------------------------
def test_copies_is_a_timeline_with_what_changed_against_the_seed(corpus):
    result = run_cli("--db", str(corpus), "copies", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    by_url = {r["url"]: r for r in rows}
    copy, excerpt = by_url[SEED_URL], by_url["https://excerpts.blogspot.com/2017/04/quoted.html"]
    assert copy["status"] == "copy" and copy["containment"] > 0.9 and copy["seed"] == 1
    assert copy["changes"].startswith("12 ¶ kept") and "1 added: “Editor's note" in copy["changes"]
    assert excerpt["status"] == "excerpt" and "3 ¶ kept, 9 removed, 3 added" in excerpt["changes"]
    assert [r["first_seen"] for r in rows] == sorted(r["first_seen"] for r in rows)
    assert copy["published"].startswith("2017-03-21") and copy["blog"] == "seedcopy.blogspot.com"
    csv_out = run_cli("--db", str(corpus), "copies", "--format", "csv").output
    assert len(list(csv.DictReader(io.StringIO(csv_out)))) == len(rows)


def test_copies_of_an_unknown_seed_is_an_error(corpus):
    result = run_cli("--db", str(corpus), "copies", "--seed", "99")
    assert result.exit_code == 1 and "no seed #99" in result.output


# --- show ---------------------------------------------------------------------------------------
def test_show_prints_revisions_with_a_diff(corpus, tmp_path):
    db = copy_of(corpus, tmp_path)
    edited = [(k, pub, title, _html(paras)) for k, pub, title, paras in ENTRIES if k == "talks"]
    k, pub, title, _ = edited[0]
    paras = ENTRIES[0][3][:2] + ["Correction: the talks were held in Moscow, not in Tokyo as first reported."]
    feed = tmp_path / "edit.atom"
    feed.write_text(
        _atom([(k, pub, title, _html(paras))]).replace(
            f"<updated>{pub}</updated>", "<updated>2026-11-21T10:00:00Z</updated>"
        ),
        "utf-8",
    )
    assert run_cli("--db", str(db), "ingest", str(feed)).exit_code == 0
    result = run_cli("--db", str(db), "show", str(post_id(db, "watch-talks")))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "revisions (1 earlier)" in out
    assert "--- r1" in out and "+++ r2 (current)" in out
    assert "-Officials in Tokyo described" in out and "+Correction: the talks were held in Moscow" in out
    assert "sightings (" in out and "relevance" in out


# --- saved searches -----------------------------------------------------------------------------
def test_saved_searches_add_list_run_remove(corpus, tmp_path):
    db = copy_of(corpus, tmp_path)
    assert (
        run_cli(
            "--db", str(db), "saved", "add", "islands", "Kuril* OR 北方領土 OR Курил*", "--lang", "en", "--lang", "ja"
        ).exit_code
        == 0
    )
    listed = json.loads(run_cli("--db", str(db), "saved", "list", "--format", "json").output)
    assert listed[0]["name"] == "islands" and listed[0]["filters"] == {"lang": ["en", "ja"]}
    ran = json.loads(run_cli("--db", str(db), "saved", "run", "islands", "--format", "json").output)
    assert post_id(db, "watch-ja.") in [r["id"] for r in ran]
    assert post_id(db, "watch-ru") not in [r["id"] for r in ran]  # the saved language filter holds
    dup = run_cli("--db", str(db), "saved", "add", "islands", "x")
    assert dup.exit_code == 1 and "exists already" in dup.output
    bad = run_cli("--db", str(db), "saved", "add", "broken", '"open phrase')
    assert bad.exit_code == 1 and "unbalanced double quote" in bad.output
    assert run_cli("--db", str(db), "saved", "remove", "islands").exit_code == 0
    missing = run_cli("--db", str(db), "saved", "run", "islands")
    assert missing.exit_code == 1 and "no saved search named 'islands'" in missing.output


def test_an_alert_rule_naming_a_saved_search_applies_its_filters(corpus, tmp_path):
    from scheduler.alerts import Rule
    from storage.db import connect

    db_path = copy_of(corpus, tmp_path)
    assert (
        run_cli("--db", str(db_path), "saved", "add", "ja-islands", "北方領土 OR Kuril*", "--lang", "ja").exit_code == 0
    )
    db = connect(db_path)
    rule = Rule(query="ja-islands")
    ja, talks = post_id(db_path, "watch-ja."), post_id(db_path, "watch-talks")
    assert rule.matches(db, {"kind": "new", "post_id": ja, "payload": {"lang": "ja"}})
    assert not rule.matches(db, {"kind": "new", "post_id": talks, "payload": {"lang": "en"}})


# --- stats --------------------------------------------------------------------------------------
def test_stats_counts_and_health(corpus):
    result = run_cli("--db", str(corpus), "stats", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    total = sqlite3.connect(corpus).execute("SELECT count(*) FROM posts").fetchone()[0]
    assert data["total"] == total == sum(r["posts"] for r in data["by_status"])
    statuses = {r["status"]: r["posts"] for r in data["by_status"]}
    assert statuses["copy"] == 1 and statuses["excerpt"] == 1 and statuses["off_topic"] >= 1
    assert {"en", "ja", "ru"} <= {r["lang"] for r in data["by_lang"]}
    assert any(r["day"] == "2026-11-20" for r in data["by_day"])
    assert sum(r["new"] for r in data["top_new_sources"]) == statuses["new"]
    assert "runs" in data and "sources" in data and "failing" in data
    text = run_cli("--db", str(corpus), "stats", "--since", "2026-11-01").output
    assert "by status:" in text and "status\tposts" in text


def test_stats_plot_draws_a_png(corpus, tmp_path):
    png = tmp_path / "coverage.png"
    result = run_cli("--db", str(corpus), "stats", "--plot", str(png))
    assert result.exit_code == 0, result.output
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


@pytest.mark.parametrize(
    "args, extra",
    [
        (["stats", "--plot", "x.png"], "plot"),
        (["export", "--format", "parquet", "-o", "x.parquet"], "parquet"),
        (["serve", "--datasette", "--port", "1"], "serve"),
        (["serve", "--port", "1"], "desk"),
    ],
)
def test_a_missing_optional_extra_is_named_with_how_to_install_it(corpus, tmp_path, args, extra):
    blocked = {"plot": "matplotlib", "parquet": "pyarrow", "serve": "datasette", "desk": "starlette"}[extra]
    code = (
        f"import sys; sys.modules[{blocked!r}] = None; sys.modules[{blocked + '.parquet'!r}] = None\n"
        f"from rjwatch.commands import main\nmain({['--db', str(corpus), *args]!r})"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 1
    assert f"pip install 'rjwatch[{extra}]'" in proc.stderr and "Traceback" not in proc.stderr
    assert not list(tmp_path.iterdir())  # nothing half-written


# --- export -------------------------------------------------------------------------------------
def test_export_jsonl_carries_provenance(corpus, tmp_path):
    result = run_cli("--db", str(corpus), "export")
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.output.splitlines()]
    total = sqlite3.connect(corpus).execute("SELECT count(*) FROM posts").fetchone()[0]
    assert len(rows) == total and [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    copy = next(r for r in rows if r["url"] == SEED_URL)
    assert copy["status"] == "copy" and copy["evidence"]["seed"] == 1 and copy["seed_similarity"]["1"]
    assert {"url", "via", "first_seen", "times"} <= set(copy["sightings"][0])
    assert copy["text"] and copy["matched_terms"]


def test_export_filters_csv_and_parquet(corpus, tmp_path):
    result = run_cli(
        "--db", str(corpus), "export", "--query", "Kuril*", "--status", "new", "--format", "csv", "--no-text"
    )
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert rows and all(r["status"] == "new" for r in rows) and "text" not in rows[0]
    assert json.loads(rows[0]["sightings"])[0]["via"] == "feed"
    out = tmp_path / "all.parquet"
    result = run_cli("--db", str(corpus), "export", "--format", "parquet", "-o", str(out))
    assert result.exit_code == 0, result.output
    import pyarrow.parquet as pq

    table = pq.read_table(out)
    assert table.num_rows == sqlite3.connect(corpus).execute("SELECT count(*) FROM posts").fetchone()[0]
    assert table.schema.field("id").type == "int64" and "sightings" in table.column_names
    bad = run_cli("--db", str(corpus), "export", "--query", '"open')
    assert bad.exit_code == 1 and "unbalanced double quote" in bad.output


# --- the schema and the Datasette view ----------------------------------------------------------
def test_schema_is_datasette_friendly_without_our_metadata(corpus):
    from datasette.utils import detect_fts

    conn = sqlite3.connect(corpus)
    assert detect_fts(conn, "posts") == "posts_fts"
    fks = {(r[2], r[3]) for r in conn.execute("PRAGMA foreign_key_list(sightings)")}
    assert ("posts", "post_id") in fks and ("sources", "source_id") in fks


def test_upgrading_an_older_database_indexes_its_japanese_posts(corpus, tmp_path):
    db = copy_of(corpus, tmp_path)
    conn = sqlite3.connect(db)
    conn.executescript("""
        DROP TRIGGER posts_cjk_ai; DROP TRIGGER posts_cjk_ad; DROP TRIGGER posts_cjk_au;
        DROP TABLE posts_cjk_vocab; DROP TABLE posts_cjk; DROP INDEX posts_first_seen; ALTER TABLE posts DROP COLUMN cjk;
        DELETE FROM _sqlite_migrations WHERE name = '005_cjk_search';""")
    conn.close()
    assert ids_of(db, "北方領土") == [post_id(db, "watch-ja.")]


_get = http_get


@pytest.mark.slow
def test_serve_opens_the_corpus_read_only_in_datasette(corpus):
    with datasette(corpus) as base:
        status, home = _get(base + "/")
        assert status == 200 and "rjwatch corpus" in home
        status, page = _get(base + "/rj")
        assert status == 200 and "Latest new coverage" in page and "Copies of the seed" in page
        status, body = _get(base + "/rj/copies_of_the_seed.json?_shape=array")
        rows = json.loads(body)
        assert status == 200 and {r["url"] for r in rows} >= {SEED_URL}
        assert next(r for r in rows if r["url"] == SEED_URL)["containment"] > 0.9
        status, body = _get(base + "/rj/posts.json?_search=salmon&_shape=array&_col=title")
        assert status == 200 and [r["title"] for r in json.loads(body)] == [
            "Kuril salmon quotas agreed for the new season"
        ]
        status, body = _get(base + "/rj/alerts_sent_today.json?_shape=array")
        assert status == 200 and json.loads(body) == []
        status, body = _get(base + "/-/metadata.json")
        assert "fts_table" in body
        # Read-only: a writing query is refused and the file is unchanged.
        before = sqlite3.connect(corpus).execute("SELECT count(*) FROM posts").fetchone()[0]
        status, _ = _get(base + "/rj.json?sql=" + urllib.request.quote("DELETE FROM posts"))
        assert status >= 400
        assert sqlite3.connect(corpus).execute("SELECT count(*) FROM posts").fetchone()[0] == before


def test_chinese_and_korean_terms_are_found_inside_sentences(db_path):
    zh = db_path.parent / "zh.txt"
    zh.write_text(
        "俄方驱逐日本外交官\n\n俄罗斯外交部宣布驱逐一名日本外交官，以回应日方此前的驱逐决定。日本外务省对此提出强烈抗议。\n",
        "utf-8",
    )
    ko = db_path.parent / "ko.txt"
    ko.write_text(
        "러시아, 일본 외교관 추방\n\n러시아 외무부는 일본 외교관을 추방한다고 밝혔다. 일본 정부는 이에 강력히 항의했으며 "
        "북방영토 문제도 언급했다.\n",
        "utf-8",
    )
    for path, url in ((zh, "https://zh.example/1"), (ko, "https://ko.example/1")):
        assert run_cli("--db", str(db_path), "ingest", str(path), "--url", url).exit_code == 0

    def urls(query: str) -> list[str]:
        out = run_cli("--db", str(db_path), "search", query, "--format", "json")
        assert out.exit_code == 0, out.output
        return sorted(r["url"] for r in json.loads(out.output))

    # mid-sentence, three characters and more (trigram index) and two (spelled out)
    assert urls("外交官") == ["https://zh.example/1"]
    assert urls("驱逐") == ["https://zh.example/1"]
    assert urls("日方") == ["https://zh.example/1"]
    assert urls("북방영토") == ["https://ko.example/1"]
    assert urls("외교관") == ["https://ko.example/1"]
    assert urls("항의") == ["https://ko.example/1"]
    assert urls("抗议 OR 항의") == ["https://ko.example/1", "https://zh.example/1"]
    assert urls("韓国") == []
