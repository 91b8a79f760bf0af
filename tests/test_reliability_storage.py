"""Reliability campaign, the database under pressure: every writer at once for a minute (3), a full disk and a
read-only database (4), and a feed republished with new entry ids (8). Real subprocesses on one SQLite
file; each scenario ends with the shared invariants of tests/reliability.py."""

from __future__ import annotations

import json
import os
import random
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpers import fill_disk, q, relevant_articles
from receiver import Receiver
from reliability import (
    FAST,
    StaticSite,
    assert_consistent,
    assert_delivered_once,
    assert_stored_once,
    poll,
    record,
    rjwatch_cmd,
    run_measured,
)
from rjwatch.demo.site import NewsFeed, NewsItem, build_blog
from scheduler.alerts import Channel, dispatch
from storage.db import connect

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

#: How long every writer and reader hits the database at once in scenario 3.
STRESS_SECONDS = float(os.environ.get("RJWATCH_STRESS_SECONDS", "60"))
#: Size of the small filesystem of scenario 4: room for the initialised database and its WAL, not more.


_WORDS = (
    "river harbour winter market railway museum garden concert bakery library orchard bridge festival "
    "mountain village lantern ferry glacier meadow workshop canal quarry vineyard lighthouse"
).split()


def _unique_page(n: int, who: str) -> str:
    rng = random.Random(f"{who}-{n}")
    paras = ["<p>" + " ".join(rng.choice(_WORDS) for _ in range(60)) + f" {who} {n}.</p>" for _ in range(4)]
    return f"<html><head><title>{who} note {n}</title></head><body><article>{''.join(paras)}</article></body></html>"


# --- 3 ------------------------------------------------------------------------------------------------
def test_3_crawler_poller_and_four_cli_clients_at_once_lose_nothing(db_path, served, tmp_path):
    blog = build_blog("busy", 60, template="simple", feed_enabled=False, seed=103)
    bsrv = served(blog)
    arts = relevant_articles(12)
    start = datetime(2024, 5, 1, tzinfo=UTC)
    feed = NewsFeed(
        "busywire",
        "Busy wire",
        items=[NewsItem("story-0", arts[0]["title"], start, body_html=f"<p>{arts[0]['text']}</p>")],
    )
    fsrv = served(feed)
    assert run_measured(rjwatch_cmd(db_path, "source", "add", f"{fsrv.base_url}/rss.xml", "--kind", "feed")).code == 0
    deadline = time.monotonic() + STRESS_SECONDS
    results: list[tuple[str, subprocess.CompletedProcess]] = []
    ingested: list[str] = []
    lock = threading.Lock()

    def run(name: str, cmd: list[str]) -> subprocess.CompletedProcess:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=Path(__file__).parent.parent)
        with lock:
            results.append((name, res))
        return res

    def crawler():
        while time.monotonic() < deadline:
            run(
                "crawl",
                rjwatch_cmd(
                    db_path, "crawl", "--add", "--source", bsrv.base_url, "--full", *FAST, "-s", "RJWATCH_BATCH_SIZE=5"
                ),
            )

    def poller():
        n = 1
        while time.monotonic() < deadline:
            if n < len(arts):
                feed.publish(
                    NewsItem(
                        f"story-{n}", arts[n]["title"], start + timedelta(days=n), body_html=f"<p>{arts[n]['text']}</p>"
                    )
                )
                n += 1
            run("poll", rjwatch_cmd(db_path, "poll", "--all"))

    def writer(who: str):
        n = 0
        while time.monotonic() < deadline:
            page = tmp_path / f"{who}-{n}.html"
            page.write_text(_unique_page(n, who))
            url = f"https://{who}.example.org/notes/{n}.html"
            if run(who, rjwatch_cmd(db_path, "ingest", str(page), "--url", url)).returncode == 0:
                with lock:
                    ingested.append(url)
            n += 1

    def reader(who: str):
        commands = [
            ["posts", "--format", "json"],
            ["status", "--format", "json"],
            ["runs", "--format", "json"],
            ["source", "list", "--format", "json"],
            ["alerts", "--format", "json"],
        ]
        n = 0
        while time.monotonic() < deadline:
            run(who, rjwatch_cmd(db_path, *commands[n % len(commands)]))
            n += 1

    threads = [
        threading.Thread(target=crawler),
        threading.Thread(target=poller),
        threading.Thread(target=writer, args=("writer-a",)),
        threading.Thread(target=writer, args=("writer-b",)),
        threading.Thread(target=reader, args=("reader-a",)),
        threading.Thread(target=reader, args=("reader-b",)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    failures = [(name, r.returncode, r.stderr[-800:]) for name, r in results if r.returncode != 0]
    locked = [(name, r.stderr[-800:]) for name, r in results if "locked" in (r.stdout + r.stderr).lower()]
    assert not locked, locked
    assert not failures, failures
    by_kind = {name: sum(1 for n, _ in results if n == name) for name in {n for n, _ in results}}
    assert all(by_kind.get(k, 0) >= 1 for k in ("crawl", "poll", "writer-a", "writer-b", "reader-a", "reader-b"))
    lost = assert_stored_once(db_path, post_ids=[p.post_id for p in blog.posts])
    lost += assert_stored_once(db_path, urls=ingested)
    lost += assert_stored_once(db_path, urls=[f"{fsrv.base_url}/news/{i.slug}.html" for i in feed.items])
    assert_consistent(db_path)
    record(
        "3 everything at once",
        runs=len(results),
        posts=len(blog.posts) + len(ingested) + len(feed.items),
        faults=0,
        lost=lost,
        seconds=STRESS_SECONDS,
        processes=by_kind,
    )


# --- 4 ------------------------------------------------------------------------------------------------
def _one_line_error(res, words: str) -> None:
    assert res.code != 0
    assert "Traceback" not in res.stderr + res.stdout, res.stderr[-3000:]
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.startswith("rjwatch: error")]
    assert lines and words in lines[-1], res.stderr[-2000:]


def _posts_on_disk(mnt: Path) -> list[Path]:
    pages = []
    for i, a in enumerate(relevant_articles(6)):
        page = mnt.parent / f"article-{i}.html"
        page.write_text(
            f"<html><head><title>{a['title']}</title></head><body><article>"
            + "".join(f"<p>{p}</p>" for p in a["text"].split("\n"))
            + "</article></body></html>"
        )
        pages.append(page)
    return pages


def test_4_a_full_disk_fails_loudly_keeps_no_partial_state_and_the_next_run_recovers(small_fs, served):
    db = small_fs / "rj.db"
    assert run_measured(rjwatch_cmd(db, "init")).code == 0
    blog = build_blog("fulldisk", 30, template="simple", seed=104)
    srv = served(blog)
    pages = _posts_on_disk(small_fs)
    urls = [f"https://full.example.org/{p.stem}.html" for p in pages]
    before = q(db, "SELECT count(*) FROM posts")
    filler = fill_disk(small_fs)
    faults = 0
    for page, url in zip(pages, urls):
        res = run_measured(rjwatch_cmd(db, "ingest", str(page), "--url", url))
        _one_line_error(res, "disk is full")
        faults += 1
    res = run_measured(rjwatch_cmd(db, "crawl", "--add", "--source", srv.base_url, *FAST))
    assert res.code != 0 and "Traceback" not in res.stdout
    assert "disk is full" in res.stderr + res.stdout, res.stderr[-2000:]
    faults += 1
    filler.unlink()
    assert q(db, "SELECT count(*) FROM posts") == before  # nothing half-written
    assert q(db, "SELECT count(*) FROM runs WHERE finished_at IS NULL") == 0
    for page, url in zip(pages, urls):
        assert run_measured(rjwatch_cmd(db, "ingest", str(page), "--url", url)).code == 0
    again = run_measured(rjwatch_cmd(db, "crawl", "--add", "--source", srv.base_url, *FAST))
    assert again.code == 0, again.stderr[-2000:]
    lost = assert_stored_once(db, urls=urls)
    lost += assert_stored_once(db, post_ids=[p.post_id for p in blog.posts])
    assert_consistent(db)
    record("4 disk full", runs=2 * len(pages) + 2, posts=len(pages) + len(blog.posts), faults=faults, lost=lost)


def test_4_a_read_only_database_fails_loudly_and_the_next_run_recovers(small_fs):
    db = small_fs / "rj.db"
    assert run_measured(rjwatch_cmd(db, "init")).code == 0
    pages = _posts_on_disk(small_fs)
    urls = [f"https://ro.example.org/{p.stem}.html" for p in pages]
    assert run_measured(rjwatch_cmd(db, "ingest", str(pages[0]), "--url", urls[0])).code == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    try:
        res = run_measured(rjwatch_cmd(db, "ingest", str(pages[1]), "--url", urls[1]))
        _one_line_error(res, "read-only")
        reader = run_measured(rjwatch_cmd(db, "posts", "--format", "json"))
        assert reader.code == 0 or "read-only" in reader.stderr, reader.stderr[-2000:]
        assert "Traceback" not in reader.stderr
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_fs)], check=True)
    for page, url in zip(pages[1:], urls[1:]):
        assert run_measured(rjwatch_cmd(db, "ingest", str(page), "--url", url)).code == 0
    lost = assert_stored_once(db, urls=urls)
    assert_consistent(db)
    record("4 read-only database", runs=len(pages) + 2, posts=len(pages), faults=2, lost=lost)


# --- 8 ------------------------------------------------------------------------------------------------
def _rss(base: str, arts: list[dict], guid: str, link_suffix: str = "") -> bytes:
    items = "".join(
        f"<item><title>{a['title']}</title><link>{base}/story-{i}.html{link_suffix}</link>"
        f"<guid isPermaLink='false'>{guid}-{i}</guid><pubDate>Mon, 0{i + 1} Apr 2024 10:00:00 GMT</pubDate>"
        f"<description><![CDATA[{a['text']}]]></description></item>"
        for i, a in enumerate(arts)
    )
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>Republisher</title><link>{base}/</link>"
        f"{items}</channel></rss>"
    ).encode()


def _atom(base: str, arts: list[dict], prefix: str) -> bytes:
    entries = "".join(
        f"<entry><title>{a['title']}</title><link rel='alternate' href='{base}/a/{i}.html'/>"
        f"<id>urn:uuid:{prefix}-{i}</id><updated>2024-04-0{i + 1}T10:00:00Z</updated>"
        f"<content type='html'><![CDATA[{a['text']}]]></content></entry>"
        for i, a in enumerate(arts)
    )
    return (
        f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'><title>A</title>"
        f"<id>urn:feed</id><updated>2024-04-09T10:00:00Z</updated>{entries}</feed>"
    ).encode()


def test_8_a_feed_republished_with_new_entry_ids_adds_no_rows_and_no_alerts(db_path, served):
    arts = relevant_articles(4)
    site = StaticSite()
    srv = served(site)
    base = srv.base_url
    site.put("/rss.xml", _rss(base, arts, "first"), "application/rss+xml")
    site.put("/atom.xml", _atom(base, arts[:3], "first"), "application/atom+xml")
    for path in ("/rss.xml", "/atom.xml"):
        assert run_measured(rjwatch_cmd(db_path, "source", "add", base + path, "--kind", "feed")).code == 0
    # the sources are not new any more: a first silent collection, then a story that alerts
    assert poll(db_path).code == 0
    rounds = [("second", ""), ("third", "?utm_source=rss"), ("fourth", "#comments")]
    with Receiver() as rx:
        channels = [Channel("hook", rx.url, max_per_hour=1000)]
        dispatch(db_path_db := connect(db_path), channels)
        n_posts, n_alerts = q(db_path, "SELECT count(*) FROM posts"), q(db_path, "SELECT count(*) FROM alerts")
        for guid, suffix in rounds:
            site.put("/rss.xml", _rss(base, arts, guid, suffix), "application/rss+xml")
            site.put("/atom.xml", _atom(base, arts[:3], guid), "application/atom+xml")
            res = poll(db_path)
            assert res.code == 0 and json.loads(res.stdout)["failed"] == 0
            dispatch(db_path_db, channels)
        assert q(db_path, "SELECT count(*) FROM posts") == n_posts == 4
        assert q(db_path, "SELECT count(*) FROM alerts") == n_alerts
        lost = assert_delivered_once(db_path, rx)
        db_path_db.conn.close()
    lost += assert_stored_once(db_path, urls=[f"{base}/story-{i}.html" for i in range(4)])
    assert_consistent(db_path)
    record("8 new entry ids", runs=len(rounds) + 1, posts=4, faults=2 * len(rounds), lost=lost)
