"""The daemon (`rjwatch run`) as a real subprocess: real APScheduler with short ticks, real Apprise to a
local webhook receiver, real feeds and blogs on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime

import pytest

from helpers import REPO, descendants, gone, news_feed, q, relevant_articles, run_cli, wait_job_passes, wait_until
from receiver import Receiver
from reliability import Daemon, write_config
from rjwatch.demo.site import NewsItem, build_blog
from storage.db import connect

pytestmark = pytest.mark.slow

SECRET = "hunter2-s3cret-token"


#: The crawl interval these tests give the daemon (a blog is crawled again within seconds).
CRAWL_EVERY = "3s"


def test_new_post_is_delivered_once_and_a_restart_sends_nothing_again(db_path, tmp_path, served):
    feed = news_feed(2)
    srv = served(feed)
    with Receiver(fail_first=1) as rx:
        cfg = write_config(tmp_path / "rj.toml", rx.url, crawl_interval=CRAWL_EVERY)
        run_cli("--db", str(db_path), "source", "add", f"{srv.base_url}/rss.xml", "--kind", "feed")
        run_cli("--db", str(db_path), "--config", str(cfg), "poll", "--all")  # the silent first collection
        d = Daemon(db_path, cfg).start()
        try:
            assert wait_until(lambda: len(rx.delivered()) >= 1)  # the backfill summary
            art = relevant_articles(3)[2]
            feed.publish(
                NewsItem(
                    "fresh", art["title"], datetime.now(UTC).replace(microsecond=0), body_html=f"<p>{art['text']}</p>"
                )
            )
            assert wait_until(
                lambda: any(
                    "[new]" in r["payload"]["title"] or "[copy]" in r["payload"]["title"] for r in rx.delivered()
                )
            )
            assert wait_job_passes(db_path, "alerts", 2)  # a second sending would have happened by now
        finally:
            assert d.stop() == 0
        delivered = len(rx.delivered())
        keys = [r["key"] for r in rx.delivered()]
        assert len(keys) == len(set(keys))
        again = Daemon(db_path, cfg).start()
        assert wait_job_passes(db_path, "alerts", 3)  # the restarted daemon's dispatch has run, more than once
        assert again.stop() == 0
        assert len(rx.delivered()) == delivered
    status = run_cli("--db", str(db_path), "status", "--format", "json")
    st = json.loads(status.stdout)
    assert st["heartbeat"]["age_s"] < 30 and "poll" in st["jobs"] and "alerts" in st["jobs"]


def test_second_daemon_refuses_and_sigterm_exits_quickly(db_path, tmp_path):
    cfg = write_config(tmp_path / "rj.toml", "console", crawl_interval=CRAWL_EVERY)
    first = Daemon(db_path, cfg).start()
    try:
        assert wait_until(lambda: q(db_path, "SELECT count(*) FROM meta WHERE key = 'heartbeat'") == 1)
        second = subprocess.run(Daemon(db_path, cfg).cmd, cwd=REPO, capture_output=True, text=True, timeout=30)
        assert second.returncode == 1 and "already using" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        started = time.monotonic()
        assert first.stop() == 0
        assert time.monotonic() - started < 10


def test_a_new_source_backfill_sends_one_summary_not_a_flood(db_path, tmp_path, served):
    blog = build_blog("big", 40, template="simple", seed=41)
    srv = served(blog)
    run_cli("--db", str(db_path), "source", "add", f"{srv.base_url}/feeds/posts/default", "--kind", "feed")
    with Receiver() as rx:
        d = Daemon(db_path, write_config(tmp_path / "rj.toml", rx.url, crawl_interval=CRAWL_EVERY)).start()
        try:
            assert wait_until(lambda: q(db_path, "SELECT count(*) FROM posts") >= 25)
            assert wait_until(lambda: len(rx.delivered()) >= 1)
            # further polls and dispatches have run: a flood would have started
            assert wait_job_passes(db_path, "poll", 2) and wait_job_passes(db_path, "alerts", 2)
        finally:
            d.stop()
        titles = [r["payload"]["title"] for r in rx.delivered()]
    assert len(titles) == 1 and titles[0].startswith("[backfill]")


def test_secrets_in_channel_urls_never_appear_in_output(db_path, tmp_path, served):
    srv = served(news_feed(2))
    run_cli("--db", str(db_path), "source", "add", f"{srv.base_url}/rss.xml", "--kind", "feed")
    run_cli("--db", str(db_path), "poll", "--all")
    with Receiver(fail_first=1000) as rx:
        url = rx.url.replace("json://", f"json://user:{SECRET}@")
        cfg = write_config(tmp_path / "rj.toml", url, crawl_interval=CRAWL_EVERY)
        d = Daemon(db_path, cfg).start()
        try:
            assert wait_until(lambda: len(rx.requests) >= 2)
        finally:
            d.stop()
    outputs = [d.output]
    for args in (
        ["status"],
        ["alerts"],
        ["alerts", "--format", "json"],
        ["--config", str(cfg), "alerts", "test"],
        ["--config", str(cfg), "settings"],
    ):
        r = run_cli("--db", str(db_path), *args)
        outputs.append(r.output)
    assert "delivery failed" in "".join(outputs)
    assert not any(SECRET in o for o in outputs)


def test_kill_9_mid_crawl_loses_no_post_and_no_alert(db_path, tmp_path, served):
    blog = build_blog("slowblog", 60, template="simple", feed_enabled=False, seed=43)
    srv = served(blog)
    srv.faults.slow("*.html", delay=0.1)
    run_cli("--db", str(db_path), "source", "add", srv.base_url, "--kind", "blogger")
    with Receiver() as rx:
        cfg = write_config(tmp_path / "rj.toml", rx.url, crawl_interval="1h")
        d = Daemon(db_path, cfg).start()
        assert wait_until(lambda: q(db_path, "SELECT count(*) FROM posts") >= 5)
        kids = descendants(d.proc.pid)
        d.kill9()  # kill -9: the crawl child gets SIGTERM through PR_SET_PDEATHSIG and stops
        assert wait_until(lambda: all(gone(pid) for pid in kids), timeout=60)
        partial = q(db_path, "SELECT count(*) FROM posts")
        assert partial < 60
        d2 = Daemon(db_path, cfg).start()
        try:
            assert wait_until(lambda: q(db_path, "SELECT count(*) FROM posts") == 60, timeout=120)
            assert wait_until(lambda: len(rx.delivered()) >= 1)
            assert wait_job_passes(db_path, "alerts", 2)  # a second sending would have happened by now
        finally:
            d2.stop()
        keys = [r["key"] for r in rx.delivered()]
    assert len(keys) == len(set(keys))
    assert q(db_path, "SELECT count(DISTINCT post_id) FROM posts") == 60
    assert q(db_path, "SELECT count(*) FROM alerts WHERE status = 'pending'") == 0
    assert q(db_path, "PRAGMA integrity_check") == "ok"


def test_a_crawl_slower_than_its_interval_never_overlaps_itself(db_path, tmp_path, served):
    blog = build_blog("sluggish", 30, template="simple", feed_enabled=False, seed=47)
    srv = served(blog)
    srv.faults.slow("*.html", delay=0.15)
    run_cli("--db", str(db_path), "source", "add", srv.base_url, "--kind", "blogger")
    d = Daemon(
        db_path,
        write_config(
            tmp_path / "rj.toml",
            "console",
            crawl_interval="1s",
            crawl_settings=["DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False"],
        ),
    ).start()
    try:
        assert wait_until(
            lambda: q(db_path, "SELECT count(*) FROM runs WHERE kind = 'crawl' AND finished_at IS NOT NULL") >= 2,
            timeout=120,
        )
    finally:
        d.stop()
    db = connect(db_path)
    runs = list(db.query("SELECT started_at, finished_at, stats FROM runs WHERE kind = 'crawl' ORDER BY id"))
    for a, b in zip(runs, runs[1:]):
        assert a["finished_at"] is not None and b["started_at"] >= a["finished_at"]
    assert json.loads(runs[0]["stats"])["exit_code"] == 0  # the subprocess's exit code lands in runs


def test_jobs_running_in_many_threads_at_once_never_trip_over_each_other(db_path, tmp_path, served):
    import threading

    from rjwatch.settings import load
    from scheduler.daemon import Daemon

    srv = served(news_feed(3))
    run_cli("--db", str(db_path), "source", "add", f"{srv.base_url}/rss.xml", "--kind", "feed")
    cfg = load(write_config(tmp_path / "rj.toml", "console", crawl_interval=CRAWL_EVERY))
    daemon = Daemon(db_path, cfg)
    daemon.setup()
    jobs = [daemon.heartbeat, daemon.poll, daemon.dispatch, daemon.reload, daemon.housekeeping]
    errors = []

    def worker(job):
        for _ in range(15):
            try:
                job()
            except Exception as exc:  # heartbeat raises; the others record their errors in meta
                errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    db = connect(db_path)
    outcomes = {
        k: json.loads(v)["outcome"] for k, v in db.execute("SELECT key, value FROM meta WHERE key LIKE 'job:%'")
    }
    assert outcomes and all(o == "ok" for o in outcomes.values()), outcomes
