"""`rjwatch source show / enable / disable / remove` on a real database, with a news feed served on
127.0.0.1: what each command prints, what it changes in the database, what the next poll does, and
the one-line error for a source that does not exist."""

from __future__ import annotations

import json

import pytest

from helpers import health, news_feed, no_traceback, one_line_error, q, rows, run_cli
from reliability import assert_consistent, rjwatch_cmd, run_measured

#: Posts in the served feed (all relevant, so that they are stored).
FEED_POSTS = 3


def cli(db_path, *args: str):
    result = run_cli("--db", str(db_path), *args)
    no_traceback(result.stdout, result.stderr)
    return result


def ok(db_path, *args: str) -> str:
    result = cli(db_path, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def poll_all(db_path) -> dict:
    return json.loads(ok(db_path, "poll", "--all", "--format", "json"))


def state(db_path, source_id: int = 1) -> str:
    return q(db_path, "SELECT state FROM sources WHERE id = ?", source_id)


@pytest.fixture
def feed(db_path, served):
    """A served feed registered as source #1 (not polled yet); returns (server, feed URL)."""
    srv = served(news_feed(FEED_POSTS))
    url = f"{srv.base_url}/rss.xml"
    assert ok(db_path, "source", "add", url, "--kind", "feed") == f"source #1: feed {url}\n"
    return srv, url


def test_show_prints_a_feed_with_its_health_posts_and_runs(db_path, feed):
    srv, url = feed
    lines = ok(db_path, "source", "show", "1").splitlines()
    added = q(db_path, "SELECT added_at FROM sources WHERE id = 1")
    assert lines == [
        f"#1 feed [enabled] {url}",
        f'  added {added}; settings {{"full_text": "auto"}}',
        "  posts: 0",
        "  last poll -, last success -, next due now, interval - s",
        "  failures in a row: 0; last error: -",
        "  new posts per poll (smoothed): 0.00; validators: etag no, last-modified no",
    ]

    poll_all(db_path)
    out = ok(db_path, "source", "show", "1")
    h = health(db_path, 1)
    (run,) = rows(db_path, "SELECT * FROM runs WHERE source_id = 1")
    lines = out.splitlines()
    assert lines[0] == f"#1 feed [enabled] {url}"
    assert f"  posts: {FEED_POSTS}" in lines
    assert (
        f"  last poll {h['last_poll']}, last success {h['last_success']}, next due {h['next_due']}, "
        f"interval {h['interval_s']} s"
    ) in lines
    assert h["last_success"] and "  failures in a row: 0; last error: -" in lines
    assert any(
        ln.startswith("  new posts per poll (smoothed): ") and ln.endswith("validators: etag yes, last-modified yes")
        for ln in lines
    ), out
    assert lines[-1] == (
        f"  run #{run['id']} poll {run['started_at']} finished: 1 pages, {FEED_POSTS} items, "
        f'new {{"new": {FEED_POSTS}}}'
    )
    # the same source by its URL
    assert ok(db_path, "source", "show", url) == out


def test_show_prints_a_blog_with_its_crawl_progress(db_path):
    url = "https://rj-notes.blogspot.com/"
    added = ok(db_path, "source", "add", url, "--kind", "blogger", "--name", "Notes")
    assert added.splitlines()[0] == f"source #1: blogger {url}"  # (its posts feed comes next, as a feed source)
    lines = ok(db_path, "source", "show", url).splitlines()
    assert lines[0] == f"#1 blogger [enabled] {url}  (Notes)"
    assert "  posts: 0" in lines
    assert "  backfill complete: no; newest updated -; blog id -" in lines


def test_disable_stops_collecting_and_enable_resumes(db_path, feed):
    srv, url = feed
    assert ok(db_path, "source", "disable", "1") == f"source #1 disabled: {url}\n"
    assert state(db_path) == "disabled"
    assert ok(db_path, "source", "show", "1").startswith(f"#1 feed [disabled] {url}\n")

    assert poll_all(db_path)["polled"] == 0
    assert srv.log.total == 0  # the feed was not even fetched
    assert q(db_path, "SELECT count(*) FROM posts") == 0

    assert ok(db_path, "source", "enable", url) == f"source #1 enabled: {url}\n"
    assert state(db_path) == "enabled"
    assert poll_all(db_path)["polled"] == 1
    assert srv.log.total >= 1
    assert q(db_path, "SELECT count(*) FROM posts WHERE source_id = 1") == FEED_POSTS

    # disabling keeps what was collected
    ok(db_path, "source", "disable", url)
    assert q(db_path, "SELECT count(*) FROM posts WHERE source_id = 1") == FEED_POSTS
    assert_consistent(db_path)


def test_remove_forgets_the_source_and_keeps_its_posts(db_path, feed):
    srv, url = feed
    poll_all(db_path)
    assert q(db_path, "SELECT count(*) FROM posts WHERE source_id = 1") == FEED_POSTS
    assert health(db_path, 1)

    assert ok(db_path, "source", "remove", "1") == f"source #1 removed: {url}\n"
    assert q(db_path, "SELECT count(*) FROM sources") == 0
    assert q(db_path, "SELECT count(*) FROM source_health") == 0
    assert q(db_path, "SELECT count(*) FROM posts") == FEED_POSTS
    assert q(db_path, "SELECT count(*) FROM posts WHERE source_id IS NOT NULL") == 0  # no longer linked
    assert q(db_path, "SELECT count(*) FROM runs WHERE source_id IS NOT NULL") == 0
    assert ok(db_path, "source", "list") == ""
    one_line_error(cli(db_path, "source", "show", "1"), "no source 1")
    assert_consistent(db_path)

    fetched = srv.log.total
    assert poll_all(db_path)["polled"] == 0
    assert srv.log.total == fetched

    # registered again, the feed's posts are not stored twice
    again = ok(db_path, "source", "add", url, "--kind", "feed")
    assert again.startswith("source #") and again.endswith(f": feed {url}\n")
    assert poll_all(db_path)["polled"] == 1
    assert q(db_path, "SELECT count(*) FROM posts") == FEED_POSTS


@pytest.mark.parametrize("command", ["show", "enable", "disable", "remove"])
@pytest.mark.parametrize("ref", ["2", "https://nowhere.example.org/feed.xml", "99999999999999999999999"])
def test_an_unknown_source_is_a_one_line_error_and_changes_nothing(db_path, feed, command, ref):
    srv, url = feed
    ok(db_path, "source", "disable", "1")
    result = cli(db_path, "source", command, ref)
    assert result.exit_code == 1
    one_line_error(result, f"no source {ref}")
    assert result.stdout == ""
    assert rows(db_path, "SELECT id, url, state FROM sources") == [{"id": 1, "url": url, "state": "disabled"}]


def test_an_unknown_source_fails_the_process_in_one_line(db_path, feed):
    for command in ("show", "enable", "disable", "remove"):
        finished = run_measured(rjwatch_cmd(db_path, "source", command, "7"), timeout=60)
        assert finished.code == 1
        assert one_line_error(finished, "no source 7") == "rjwatch: error: no source 7"
    assert q(db_path, "SELECT count(*) FROM sources WHERE state = 'enabled'") == 1
