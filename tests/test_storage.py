"""The write path (storage.ingest) and the database around it, on real SQLite files."""

from __future__ import annotations

import json
import multiprocessing

import pytest

from helpers import ARTICLE, SEED, item
from storage.db import connect, write_tx
from storage.ingest import Ingestor
from storage.schema import migrate, migrations


def count(db, table, where="1"):
    return db.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]


def test_init_creates_schema_wal_seed_and_topic(db):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {
        "sources",
        "seeds",
        "posts",
        "posts_fts",
        "sightings",
        "runs",
        "alerts",
        "links",
        "revisions",
        "minhash",
        "lsh",
        "topics",
    } <= set(db.table_names())
    seed = next(db.query("SELECT * FROM seeds"))
    assert seed["id"] == 1 and seed["title"] == "What Russia Wants From Its Dialogue With Japan"
    assert seed["published"] == "2017-03-20"
    assert "No hay comentarios" not in seed["text"] and not seed["text"].startswith("lunes")
    assert count(db, "topics") == 1
    # Datasette finds the FTS table and the foreign keys.
    assert db["posts"].detect_fts() == "posts_fts"
    assert {fk.other_table for fk in db["sightings"].foreign_keys} >= {"posts", "sources", "runs"}


def test_migrations_are_idempotent(db):
    assert migrate(db) == []
    assert not migrations.pending(db)


def test_feed_entry_page_mobile_twin_and_cctld_alias_are_one_post(db):
    ing = Ingestor(db)
    ids = dict(blog_id="1234567", post_id="9876543210123456789")
    a = ing.ingest(
        item(
            "https://rjnotes.blogspot.com/2019/05/talks.html",
            seen_via="feed",
            seen_url="https://rjnotes.blogspot.com/feeds/posts/default",
            **ids,
        )
    )
    b = ing.ingest(item("https://rjnotes.blogspot.com/2019/05/talks.html?m=1", seen_via="page", **ids))
    c = ing.ingest(item("http://rjnotes.blogspot.mx/2019/05/talks.html", seen_via="page"))
    d = ing.ingest(
        item(
            "https://rjnotes.blogspot.com/2019/05/talks.html#comments",
            seen_via="page",
            text=ARTICLE + "\nNo comments:\nPost a Comment",
        )
    )
    assert a.action == "inserted" and {b.action, c.action, d.action} == {"seen"}
    assert a.post_id == b.post_id == c.post_id == d.post_id
    assert count(db, "posts") == 1
    vias = {(r["via"], r["url"]) for r in db.query("SELECT via, url FROM sightings")}
    assert ("feed", "https://rjnotes.blogspot.com/feeds/posts/default") in vias
    assert ("page", "http://rjnotes.blogspot.mx/2019/05/talks.html") in vias
    assert ("page", "https://rjnotes.blogspot.com/2019/05/talks.html?m=1") in vias


def test_same_post_id_reached_by_another_url_is_one_post(db):
    ing = Ingestor(db)
    ids = dict(blog_id="55", post_id="123")
    a = ing.ingest(item("https://planet.example.org/entry/abc", seen_via="feed", **ids))
    b = ing.ingest(item("https://rjnotes.blogspot.com/2019/05/talks.html", seen_via="page", **ids))
    assert a.post_id == b.post_id and b.action == "seen"


def test_same_content_on_same_site_under_new_url_is_one_post(db):
    ing = Ingestor(db)
    a = ing.ingest(item("https://news.example.org/feed-item?id=1", seen_via="feed"))
    b = ing.ingest(item("https://news.example.org/feed-item?id=2", seen_via="feed"))
    assert a.post_id == b.post_id and b.action == "seen"


def test_same_content_on_another_site_is_a_linked_duplicate(db):
    ing = Ingestor(db)
    a = ing.ingest(item("https://wire.example.org/story", published="2019-05-10T09:00:00+00:00"))
    b = ing.ingest(
        item(
            "https://mirror.example.net/story", published="2019-05-10T12:00:00+00:00", title="Moscow hosts treaty talks"
        )
    )
    assert a.status == "new" and b.status == "duplicate"
    assert db.execute("SELECT duplicate_of FROM posts WHERE id = ?", (b.post_id,)).fetchone()[0] == a.post_id


def test_an_edited_post_keeps_its_revision_history(db):
    ing = Ingestor(db)
    url = "https://rjnotes.blogspot.com/2019/05/talks.html"
    a = ing.ingest(item(url, updated="2019-05-10T09:00:00+00:00"))
    same = ing.ingest(item(url, updated="2019-05-10T09:00:00+00:00", text=ARTICLE + " Update: talks extended."))
    assert same.action == "seen"  # not newer: nothing changes
    b = ing.ingest(item(url, updated="2019-05-11T09:00:00+00:00", text=ARTICLE + " Update: talks extended."))
    assert b.action == "updated" and b.post_id == a.post_id
    post = next(db.query("SELECT text, revision FROM posts"))
    assert post["revision"] == 2 and post["text"].endswith("Update: talks extended.")
    rev = next(db.query("SELECT revision, text FROM revisions"))
    assert rev["revision"] == 1 and "Update" not in rev["text"]
    # The FTS index follows the edit.
    assert count(db, "posts_fts", "posts_fts MATCH 'extended'") == 1


def test_summary_then_full_text_replaces_the_summary(db):
    ing = Ingestor(db)
    url = "https://rjnotes.blogspot.com/2019/05/talks.html"
    ing.ingest(item(url, text=ARTICLE[:200], summary_only=True, seen_via="feed"))
    full = ing.ingest(item(url, seen_via="page"))
    assert full.action == "updated"
    assert next(db.query("SELECT summary_only FROM posts"))["summary_only"] == 0


def test_batch_skips_bad_posts_and_keeps_the_rest(db):
    ing = Ingestor(db)
    result = ing.ingest_many(
        [
            item("https://a.example.org/1"),
            {"url": "ftp://a.example.org/2", "text": "x"},
            {"url": "https://a.example.org/3", "text": "   "},
            {"text": "no url at all"},
            {"url": "https://a.example.org/4", "text": "binary\x00junk"},
            item("https://b.example.org/5", text=SEED["text"], title=SEED["title"]),
        ]
    )
    assert [o.action for o in result.outcomes] == ["inserted", "error", "error", "error", "error", "inserted"]
    assert all(o.error for o in result.errors)
    assert count(db, "posts") == 2
    assert result.by_status() == {"new": 1, "copy": 1}


def test_alert_outbox_row_is_written_with_the_post(db):
    ing = Ingestor(db)
    out = ing.ingest(item("https://a.example.org/1"))
    alert = next(db.query("SELECT * FROM alerts"))
    assert alert["post_id"] == out.post_id and alert["status"] == "pending" and alert["kind"] == "new"
    payload = json.loads(alert["payload"])
    assert payload["url"] == "https://a.example.org/1" and "kuril" in " ".join(payload["why"]["terms"])
    off = ing.ingest(item("https://a.example.org/2", text="A recipe for ramen with pork broth. " * 20, title="Ramen"))
    assert off.status == "off_topic"
    assert count(db, "alerts") == 1


def test_silent_ingest_stores_but_suppresses_alerts(db):
    out = Ingestor(db).ingest(item("https://a.example.org/1"), silent=True)
    assert next(db.query("SELECT status FROM alerts WHERE post_id = ?", [out.post_id]))["status"] == "suppressed"


def test_links_are_stored(db):
    html = (
        "<p>" + ARTICLE + ' See <a href="https://mid.example.ru/statement">the statement</a> and '
        '<a href="/2019/04/earlier.html">our earlier post</a>.</p>'
    )
    out = Ingestor(db).ingest({"url": "https://rjnotes.blogspot.com/2019/05/talks.html", "html": html})
    links = {r["url"] for r in db.query("SELECT url FROM links WHERE post_id = ?", [out.post_id])}
    assert links == {"https://mid.example.ru/statement", "https://rjnotes.blogspot.com/2019/04/earlier.html"}


def _writer(path, start, n, errors):
    try:
        database = connect(path)
        ing = Ingestor(database)
        for i in range(start, start + n):
            ing.ingest(
                item(
                    f"https://w{start}.example.org/{i}",
                    text=f"Post number {i}. " + ARTICLE.replace("Tuesday", f"day {i}"),
                )
            )
    except Exception as exc:  # report to the parent
        errors.put(repr(exc))


def test_concurrent_writers_never_fail_with_database_locked(db_path):
    errors = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_writer, args=(str(db_path), k * 1000, 25, errors)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert errors.empty(), errors.get()
    database = connect(db_path)
    assert count(database, "posts") == 100
    assert database.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_near_duplicates_are_found_before_and_after_the_lsh_merge(db):
    from storage import lsh

    ing = Ingestor(db)
    ing.ingest(item("https://wire.example.org/a"))
    assert count(db, "lsh_recent") == 16 and count(db, "lsh") == 0
    assert lsh.merge_recent(db.conn, 0) == 16  # as happens once LSH_RECENT_MAX_ROWS have gathered
    assert count(db, "lsh_recent") == 0 and count(db, "lsh") == 16
    edited = ARTICLE.replace("on Tuesday", "on Wednesday")
    b = ing.ingest(item("https://other.example.net/b", text=edited, title="Talks resume"))
    ing.ingest(item("https://third.example.com/c", text=edited + " More to follow.", title="Talks"))
    rows = dict(db.execute("SELECT url, duplicate_of FROM posts").fetchall())
    original = db.execute("SELECT id FROM posts WHERE url = 'https://wire.example.org/a'").fetchone()[0]
    assert rows["https://other.example.net/b"] == original  # found through `lsh`
    assert rows["https://third.example.com/c"] == original  # through both tables
    assert b.status == "duplicate"
    assert count(db, "lsh_recent") == 32


def test_failed_transaction_leaves_nothing_half_written(db):
    ing = Ingestor(db)
    with pytest.raises(RuntimeError):
        with write_tx(db):
            ing._store(ing.analyze(item("https://a.example.org/1")), item("https://a.example.org/1"), silent=False)
            raise RuntimeError("power cut")
    for table in ("posts", "sightings", "alerts", "lsh", "lsh_recent", "minhash", "links"):
        assert count(db, table) == 0, table


def test_read_only_database_gives_a_clear_error(db_path, tmp_path):
    import os
    import stat

    from storage.db import DatabaseError

    if os.geteuid() == 0:
        # root ignores file modes; open read-only explicitly instead
        database = connect(db_path, readonly=True)
    else:
        os.chmod(db_path, stat.S_IRUSR)
        database = connect(db_path)
    with pytest.raises(DatabaseError, match="read-only|readonly"):
        Ingestor(database).ingest(item("https://a.example.org/1"))


def test_stream_with_worker_processes_stores_the_same_as_inline(tmp_path):
    from click.testing import CliRunner

    from rjwatch.commands import main

    posts = [
        item(f"https://s{i}.example.org/p", text=f"Report {i}. " + ARTICLE.replace("Tuesday", f"day {i}"))
        for i in range(40)
    ]
    posts += [
        item("https://copy.example.org/seed", text=SEED["text"], title=SEED["title"]),
        {"url": "https://bad.example.org/x", "text": ""},
    ]
    results = {}
    for workers in (0, 2):
        path = tmp_path / f"w{workers}.db"
        assert CliRunner().invoke(main, ["--db", str(path), "init"]).exit_code == 0
        database = connect(path)
        outcomes = [
            o for r in Ingestor(database).ingest_stream(posts, batch_size=16, workers=workers) for o in r.outcomes
        ]
        results[workers] = [(o.url, o.action, o.status) for o in outcomes]
        assert count(database, "posts") == 41
    assert results[0] == results[2]
    assert results[2][-1][1] == "error" and results[2][-2][2] == "copy"


def _big_batch(n, tag):
    posts = [
        item(
            f"https://{tag}{i}.example.org/p", text=f"Report {i} from {tag}. " + ARTICLE.replace("Tuesday", f"day {i}")
        )
        for i in range(n)
    ]
    posts += [
        item(f"https://{tag}-copy.example.org/seed", text=SEED["text"], title=SEED["title"]),
        {"url": f"https://{tag}-bad.example.org/x", "text": ""},
    ]
    return posts


def test_batch_through_an_analysis_pool_stores_the_same_as_inline(tmp_path):
    from click.testing import CliRunner

    from rjwatch.commands import main
    from storage.ingest import POOL_MIN_ITEMS, AnalysisPool

    posts = _big_batch(POOL_MIN_ITEMS, "b")
    rows = {}
    with AnalysisPool(2) as pool:
        for name, with_pool in (("inline", None), ("pool", pool)):
            path = tmp_path / f"{name}.db"
            assert CliRunner().invoke(main, ["--db", str(path), "init"]).exit_code == 0
            database = connect(path)
            result = Ingestor(database, pool=with_pool).ingest_many(posts)
            assert result.count("inserted") == len(posts) - 1 and len(result.errors) == 1
            rows[name] = database.execute(
                "SELECT url, status, lang, relevance, duplicate_of, content_hash FROM posts ORDER BY id"
            ).fetchall()
        assert pool.started
    assert rows["inline"] == rows["pool"]
    assert {r[1] for r in rows["pool"]} == {"copy", "new", "duplicate"}


def test_a_killed_analysis_worker_loses_no_post(db):
    import os
    import signal

    from storage.ingest import POOL_MIN_ITEMS, AnalysisPool

    with AnalysisPool(2) as pool:
        ing = Ingestor(db, pool=pool)
        assert ing.ingest_many(_big_batch(POOL_MIN_ITEMS, "first")).count("inserted") == POOL_MIN_ITEMS + 1
        for pid in list(pool._executor._processes):  # the workers' pids, to kill them as an OOM killer would
            os.kill(pid, signal.SIGKILL)
        second = ing.ingest_many(_big_batch(POOL_MIN_ITEMS, "second"))
        assert second.count("inserted") == POOL_MIN_ITEMS + 1
        assert not pool.started  # the broken pool was closed and this batch analysed in-process
        third = ing.ingest_many(_big_batch(POOL_MIN_ITEMS, "third"))  # a fresh pool takes over
        assert third.count("inserted") == POOL_MIN_ITEMS + 1 and pool.started
    assert count(db, "posts") == 3 * (POOL_MIN_ITEMS + 1)


def test_storage_and_judge_import_neither_crawler_nor_scheduler():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for folder in ("storage", "judge"):
        for path in (root / folder).glob("*.py"):
            tree = ast.parse(path.read_text("utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for name in names:
                    assert name.split(".")[0] not in ("crawler", "scheduler", "rjwatch"), f"{path.name} imports {name}"


def test_ids_learned_later_are_filled_in(db):
    ing = Ingestor(db)
    url = "https://rjnotes.blogspot.com/2019/05/talks.html"
    first = ing.ingest(item(url, seen_via="feed"))
    again = ing.ingest(item(url + "?m=1", seen_via="page", blog_id="42", post_id="4242"))
    assert again.action == "seen" and again.post_id == first.post_id
    row = next(db.query("SELECT blog_id, post_id FROM posts"))
    assert (row["blog_id"], row["post_id"]) == ("42", "4242")
    # and from then on the ids alone find it, unchanged, without redoing the text work
    third = ing.ingest(item("https://planet.example.org/copy", blog_id="42", post_id="4242"))
    assert (
        third.action == "seen"
        and ing.known_unchanged(item("https://x.example.org/", blog_id="42", post_id="4242")) == first.post_id
    )
