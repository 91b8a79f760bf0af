"""Reliability campaign, the daemon: kill -9 during alert dispatch (2), three days of downtime (7), and two
daemons plus a manual crawl of the blog the daemon is crawling (10). The real `rjwatch run` with
second-scale ticks, real Apprise to a local receiver that counts deliveries by idempotency key."""

from __future__ import annotations

import json
import random
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest

from helpers import REPO, q, relevant_articles, rows, wait_job_passes, wait_until
from receiver import Receiver
from reliability import (
    ALERTING,
    Daemon,
    PageGate,
    assert_consistent,
    assert_delivered_once,
    assert_stored_once,
    crawl,
    outbox_keys,
    record,
    rjwatch_cmd,
    run_measured,
    write_config,
)
from rjwatch.demo.site import NewsFeed, NewsItem, Post, build_blog

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

#: Daemon kills in scenario 2; each lands while a delivery is in flight at the receiver.
DISPATCH_KILLS = 3
#: How long the receiver holds each answer in scenario 2, so that a kill finds the daemon mid-send.
RECEIVER_DELAY_S = 1.0
#: The downtime of scenario 7.
DOWNTIME = timedelta(days=3)
#: Post pages the daemon's crawl fetches in scenario 10 before it is held (fewer than the blog has).
GATE_ALLOW = 5


def _article_pages(tmp_path, n: int, offset: int = 0) -> list[tuple[str, str]]:
    out = []
    for i, a in enumerate(relevant_articles(n + offset)[offset:]):
        page = tmp_path / f"art-{offset + i}.html"
        page.write_text(
            f"<html><head><title>{a['title']}</title></head><body><article>"
            + "".join(f"<p>{p}</p>" for p in a["text"].split("\n"))
            + "</article></body></html>"
        )
        out.append((str(page), f"https://wire{offset + i}.example.org/story.html"))
    return out


# --- 2 ------------------------------------------------------------------------------------------------
def test_2_kill_9_the_daemon_during_dispatch_loses_no_alert_and_repeats_at_most_one_per_kill(db_path, tmp_path):
    for page, url in _article_pages(tmp_path, 8):
        assert run_measured(rjwatch_cmd(db_path, "ingest", page, "--url", url)).code == 0
    keys = q(db_path, "SELECT count(*) FROM alerts WHERE status = 'pending'")
    assert keys >= DISPATCH_KILLS + 2
    with Receiver(delay=RECEIVER_DELAY_S) as rx:
        cfg = write_config(tmp_path / "rj.toml", rx.url, channel={"max_per_hour": 1000})
        for _ in range(DISPATCH_KILLS):
            d = Daemon(db_path, cfg).start()
            known = {r["key"] for r in rx.requests}
            # kill while an alert not interrupted before is in flight (the receiver holds its answer)
            assert wait_until(lambda: len({r["key"] for r in rx.requests} - known) == 1, timeout=60, step=0.05), (
                d.output
            )
            d.kill9()
        rx.delay = 0
        d = Daemon(db_path, cfg).start()
        try:
            assert wait_until(
                lambda: q(db_path, "SELECT count(*) FROM alerts WHERE status = 'pending'") == 0, timeout=60
            )
            assert wait_job_passes(db_path, "alerts", 2)  # a repeat would have been sent by now
        finally:
            assert d.stop() == 0
        lost = assert_delivered_once(db_path, rx, max_repeats=DISPATCH_KILLS)
        repeats = len(rx.delivered()) - keys
    assert_consistent(db_path)
    record(
        "2 kill -9 the daemon mid-dispatch",
        runs=DISPATCH_KILLS + 1,
        posts=8,
        faults=DISPATCH_KILLS,
        lost=lost,
        alerts=keys,
        repeats=repeats,
    )


# --- 7 ------------------------------------------------------------------------------------------------
def _shift_into_the_past(db_path, delta: timedelta) -> None:
    """Make the database look as if the daemon last ran `delta` ago (every stored schedule timestamp)."""
    from storage.db import connect, write_tx

    def back(value):
        if not value:
            return value
        return (datetime.fromisoformat(value) - delta).isoformat(timespec="seconds")

    db = connect(db_path)
    try:
        with write_tx(db):
            for table, cols in (
                ("source_health", ("last_poll", "last_success", "next_due")),
                ("runs", ("started_at", "finished_at")),
                ("crawl_state", ("last_full_at",)),
                ("alerts", ("created_at", "sent_at")),
                ("deliveries", ("updated_at",)),
            ):
                key = "source_id" if table in ("source_health", "crawl_state") else "rowid"
                for row in db.execute(f"SELECT {key}, {', '.join(cols)} FROM {table}").fetchall():
                    db.execute(
                        f"UPDATE {table} SET {', '.join(c + ' = ?' for c in cols)} WHERE {key} = ?",
                        [back(v) for v in row[1:]] + [row[0]],
                    )
            beat = json.loads(db.execute("SELECT value FROM meta WHERE key = 'heartbeat'").fetchone()[0])
            beat["at"] = back(beat["at"])
            db.execute("UPDATE meta SET value = ? WHERE key = 'heartbeat'", (json.dumps(beat),))
            last = (datetime.now(UTC) - delta).isoformat(timespec="seconds")
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('last_digest', ?) ON CONFLICT (key) DO UPDATE SET "
                "value = excluded.value",
                (last,),
            )
    finally:
        db.conn.close()


def test_7_after_three_days_down_each_job_catches_up_once_without_an_alert_flood(db_path, tmp_path, served):
    arts = relevant_articles(6)
    start = datetime(2024, 5, 1, tzinfo=UTC)
    feed = NewsFeed(
        "wire7",
        "Wire",
        items=[
            NewsItem(f"story-{i}", a["title"], start + timedelta(days=i), body_html=f"<p>{a['text']}</p>")
            for i, a in enumerate(arts[:3])
        ],
    )
    fsrv = served(feed)
    blog = build_blog("downtime", 15, template="simple", seed=107)
    bsrv = served(blog)
    for url, kind in ((f"{fsrv.base_url}/rss.xml", "feed"), (bsrv.base_url, "blogger")):
        assert run_measured(rjwatch_cmd(db_path, "source", "add", url, "--kind", kind)).code == 0
    with Receiver() as rx, Receiver() as digest_rx:
        cfg = write_config(
            tmp_path / "rj.toml",
            rx.url,
            poll_interval="1h",
            min_interval="1h",
            crawl_interval="1h",
            channel={"max_per_hour": 1000},
        )
        with open(cfg, "a") as fh:
            fh.write(f'\n[[alerts.channels]]\nname = "daily"\nurl = "{digest_rx.url}"\nmode = "digest"\n')
        d = Daemon(db_path, cfg).start()
        try:
            assert wait_until(
                lambda: (
                    q(db_path, "SELECT count(*) FROM runs WHERE kind = 'crawl' AND finish_reason = 'finished'") == 1
                    and q(db_path, "SELECT count(*) FROM posts") == 18
                ),
                timeout=90,
            ), d.output[-2000:]
            # the webhook has every alert (they stay pending for the daily digest, which has not run yet)
            assert wait_until(lambda: set(outbox_keys(db_path)) <= {r["key"] for r in rx.delivered()})
        finally:
            assert d.stop() == 0
        before = {
            "runs": q(db_path, "SELECT max(id) FROM runs"),
            "delivered": len(rx.delivered()),
            "digests": len(digest_rx.delivered()),
            "alerts": q(db_path, "SELECT max(id) FROM alerts"),
            "posts": q(db_path, "SELECT max(id) FROM posts"),
        }
        # three days pass: the daemon is down, the sites publish
        _shift_into_the_past(db_path, DOWNTIME)
        now = datetime.now(UTC).replace(microsecond=0)
        for i, a in enumerate(arts[3:5]):
            feed.publish(
                NewsItem(f"late-{i}", a["title"], now - timedelta(days=2 - i), body_html=f"<p>{a['text']}</p>")
            )
        blog.publish(
            Post(
                "7777777777777777777",
                arts[5]["title"],
                "",
                now - timedelta(days=1),
                body_html="".join(f"<p>{p}</p>" for p in arts[5]["text"].split("\n")),
            )
        )
        d = Daemon(db_path, cfg).start()
        try:
            assert wait_until(lambda: q(db_path, "SELECT count(*) FROM posts") == 21, timeout=90), d.output[-2000:]
            assert wait_until(lambda: set(outbox_keys(db_path)) <= {r["key"] for r in rx.delivered()})
            # several passes of every short job: nothing more may happen
            assert wait_job_passes(db_path, "poll", 3) and wait_job_passes(db_path, "alerts", 3)
        finally:
            assert d.stop() == 0
        new_runs = rows(db_path, "SELECT kind, source_id FROM runs WHERE id > ?", before["runs"])
        crawls = [r for r in new_runs if r["kind"] == "crawl"]
        polls = [r for r in new_runs if r["kind"] == "poll"]
        assert len(crawls) == 1, new_runs  # the blog's crawl caught up once
        assert len(polls) == 1, new_runs  # the feed, due for 3 days, was polled once
        assert len(digest_rx.delivered()) - before["digests"] == 1  # one catch-up digest, not three
        fresh = len(rx.delivered()) - before["delivered"]
        # no flood: the only new alerts are those of the posts published during the downtime
        new_alerts = rows(db_path, "SELECT kind, status FROM alerts WHERE id > ?", before["alerts"])
        alerting = q(
            db_path,
            "SELECT count(*) FROM posts WHERE id > ? AND status IN ('new', 'copy', 'excerpt') AND duplicate_of IS NULL",
            before["posts"],
        )
        assert 1 <= alerting <= 3
        assert all(a["kind"] in ALERTING and a["status"] in ("sent", "pending") for a in new_alerts), new_alerts
        assert len(new_alerts) == alerting and fresh == alerting, new_alerts
        _next_digest(db_path, cfg)  # what the daily channel still owes goes out with the next digest
        lost = assert_delivered_once(db_path, rx)
    lost += assert_stored_once(db_path, post_ids=[p.post_id for p in blog.posts])
    assert q(db_path, "SELECT count(*) FROM posts") == len(blog.posts) + len(feed.items)
    hb = json.loads(q(db_path, "SELECT value FROM meta WHERE key = 'heartbeat'"))
    assert datetime.fromisoformat(hb["at"]) > now - timedelta(minutes=1)
    assert_consistent(db_path)
    record(
        "7 three days of downtime",
        runs=2,
        posts=len(blog.posts) + len(feed.items),
        faults=1,
        lost=lost,
        catch_up_crawls=len(crawls),
        catch_up_polls=len(polls),
        alerts_after=fresh,
    )


def _next_digest(db_path, cfg) -> None:
    from rjwatch.settings import load
    from scheduler.alerts import channels_from_config, send_digest
    from storage.db import connect

    db = connect(db_path)
    try:
        send_digest(db, channels_from_config(load(cfg)))
    finally:
        db.conn.close()


# --- 10 -----------------------------------------------------------------------------------------------
def test_10_two_daemons_and_a_manual_crawl_during_the_daemons_crawl_never_overlap(db_path, tmp_path, served):
    blog = build_blog("contended", 50, template="simple", feed_enabled=False, seed=110)
    # The daemon's first crawl stores a few posts, then waits at the gate until the manual crawl has
    # tried the blog: however long the manual crawl takes to start, the daemon's crawl still holds it.
    gate = PageGate(blog, allow=GATE_ALLOW)
    srv = served(blog)
    srv.faults.slow("*.html", delay=0.1)
    assert run_measured(rjwatch_cmd(db_path, "source", "add", srv.base_url, "--kind", "blogger")).code == 0
    cfg = write_config(tmp_path / "rj.toml", "console", crawl_interval="2s")
    first = Daemon(db_path, cfg).start()
    try:
        assert wait_until(lambda: q(db_path, "SELECT count(*) FROM meta WHERE key = 'heartbeat'") == 1), first.output
        second = subprocess.run(Daemon(db_path, cfg).cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and "already using" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        assert wait_until(
            lambda: (
                gate.held >= 1
                and q(db_path, "SELECT count(*) FROM runs WHERE kind = 'crawl' AND finished_at IS NULL") == 1
            ),
            timeout=90,
        ), first.output
        manual = crawl(db_path, srv.base_url, "--full")
        gate.open()
        assert manual.code == 0, manual.stderr[-2000:]
        assert "being crawled by another process" in manual.stderr
        assert wait_until(
            lambda: q(db_path, "SELECT count(*) FROM runs WHERE kind = 'crawl' AND finish_reason = 'finished'") >= 2,
            timeout=120,
        )
    finally:
        gate.open()
        assert first.stop() == 0
    again = crawl(db_path, srv.base_url)  # the lock went with the daemon's crawl
    assert again.code == 0 and "run #" in again.stdout, again.stderr[-2000:]
    runs = rows(db_path, "SELECT started_at, finished_at FROM runs WHERE kind = 'crawl' ORDER BY id")
    for a, b in zip(runs, runs[1:]):
        assert a["finished_at"] is not None and b["started_at"] >= a["finished_at"], runs
    lost = assert_stored_once(db_path, post_ids=[p.post_id for p in blog.posts])
    assert_consistent(db_path)
    record("10 two daemons, a manual crawl alongside", runs=len(runs) + 2, posts=len(blog.posts), faults=2, lost=lost)


#: Stops of the daemon while its reload and heartbeat jobs run many times a second.
STOPS = 8


@pytest.mark.reliability
@pytest.mark.slow
def test_36_a_stop_while_jobs_ask_the_scheduler_for_its_jobs_ends_the_daemon(db_path, tmp_path):
    # Reload and heartbeat ask APScheduler for its jobs; with a 0.02 s tick they run ~50 times a
    # second, so a SIGTERM lands while one of them does. Shutting the scheduler down while such a job
    # runs used to hang the daemon for good (the shutdown holds the job-store lock the job waits for).
    cfg = write_config(tmp_path / "rj.toml", "json://127.0.0.1:9/unused", poll_tick="0.02s", alert_tick="0.02s")
    rng = random.Random(36)
    exits = []
    for _ in range(STOPS):
        d = Daemon(db_path, cfg).start()
        try:
            assert wait_job_passes(db_path, "reload", 3)
            time.sleep(rng.uniform(0, 0.2))  # the fault: a stop at a random moment of the job stream
        finally:
            try:
                exits.append(d.stop(timeout=30))
            except subprocess.TimeoutExpired:
                d.kill9()
                exits.append("hung")
    assert exits == [0] * STOPS, d.output[-2000:]
    beat = json.loads(q(db_path, "SELECT value FROM meta WHERE key = 'heartbeat'"))
    assert beat.get("stopped")  # the last one recorded its stop
    record("36 a stop while jobs ask the scheduler for its jobs", runs=STOPS, posts=0, faults=STOPS, lost=0, doubled=0)
