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
    assert lines[0] == f"#1 feed [enabled] {url}  (Wire)"  # the feed's title names a source added without --name
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

    assert ok(db_path, "source", "remove", "1") == (
        f"source #1 removed: {url}; its {FEED_POSTS} post(s) stay, without a source, until the URL is added again\n"
    )
    assert q(db_path, "SELECT count(*) FROM sources") == 0
    assert q(db_path, "SELECT count(*) FROM source_health") == 0
    assert q(db_path, "SELECT count(*) FROM posts") == FEED_POSTS
    assert q(db_path, "SELECT count(*) FROM posts WHERE source_id IS NOT NULL") == 0  # no longer linked
    assert q(db_path, "SELECT count(*) FROM runs WHERE source_id IS NOT NULL") == 0
    assert ok(db_path, "source", "list", "--no-headers") == ""
    one_line_error(cli(db_path, "source", "show", "1"), "no source 1")
    assert_consistent(db_path)

    fetched = srv.log.total
    assert poll_all(db_path)["polled"] == 0
    assert srv.log.total == fetched

    # registered again, the source finds its posts again, and they are not stored twice
    again = ok(db_path, "source", "add", url, "--kind", "feed")
    sid = q(db_path, "SELECT id FROM sources")
    assert again == f"source #{sid}: feed {url} ({FEED_POSTS} post(s) it had before its removal linked again)\n"
    assert q(db_path, "SELECT count(*) FROM posts WHERE source_id = ?", sid) == FEED_POSTS
    assert f"  posts: {FEED_POSTS}" in ok(db_path, "source", "show", url).splitlines()
    assert poll_all(db_path)["polled"] == 1
    assert q(db_path, "SELECT count(*) FROM posts") == FEED_POSTS
    assert q(db_path, "SELECT count(*) FROM posts WHERE source_id = ?", sid) == FEED_POSTS
    assert q(db_path, "SELECT count(*) FROM removed_source_posts") == 0
    assert_consistent(db_path)


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


# --- source set, and `source add` of a known source ---------------------------------------------
def settings_of(db_path, source_id: int = 1) -> dict:
    return json.loads(q(db_path, "SELECT settings FROM sources WHERE id = ?", source_id))


def test_set_changes_a_feed_says_what_changed_and_the_next_poll_follows_it(db_path, feed):
    srv, url = feed
    out = ok(db_path, "source", "set", "1", "--every", "30m", "--full-text", "never", "--name", "Wire")
    assert out.splitlines() == [
        f"source #1 feed {url}:",
        "  name: - -> Wire",
        "  every: default -> 30m",
        "  full_text: auto -> never",
    ]
    assert settings_of(db_path) == {"full_text": "never", "every": 1800.0}
    assert q(db_path, "SELECT name FROM sources WHERE id = 1") == "Wire"
    assert ok(db_path, "source", "set", url, "--every", "30m") == f"source #1 feed {url}: nothing changed\n"

    poll_all(db_path)
    assert health(db_path, 1)["interval_s"] == 1800  # the fixed interval, not the adaptive one
    assert q(db_path, "SELECT count(*) FROM posts WHERE source_id = 1") == FEED_POSTS

    # back to adaptive polling, the name removed
    out = ok(db_path, "source", "set", "1", "--every", "auto", "--name", "")
    assert out.splitlines() == [f"source #1 feed {url}:", "  name: Wire -> -", "  every: 30m -> default"]
    assert settings_of(db_path) == {"full_text": "never"}
    assert q(db_path, "SELECT name FROM sources WHERE id = 1") is None
    assert ok(db_path, "source", "set", "1", "--name", "") == f"source #1 feed {url}: nothing changed\n"


def test_set_a_blog_query_and_its_crawl_interval(db_path):
    url = "https://rj-notes.blogspot.com/"
    ok(db_path, "source", "add", url, "--kind", "blogger")
    out = ok(db_path, "source", "set", "1", "--query", "Kuril  islands", "--every", "12h")
    assert out.splitlines() == [f"source #1 blogger {url}:", "  every: default -> 12h", "  query: - -> Kuril islands"]
    assert settings_of(db_path) == {"every": 43200.0, "query": "Kuril islands"}
    assert ok(db_path, "source", "set", "1", "--query", "").splitlines()[1] == "  query: Kuril islands -> -"
    assert settings_of(db_path) == {"every": 43200.0}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["7", "--every", "1h"], ["no source 7"]),
        (["1", "--every", "0"], ["--every", "positive"]),
        (["1", "--every", "soon"], ["every", "not a duration"]),
        (["1", "--every", "nan"], ["every", "finite"]),
        (["1", "--query", "Kuril"], ["--query", "blogger", "feed source"]),
        (["1", "--full-text", "sometimes"], ["--full-text", "sometimes"]),
        (["1"], ["nothing to change", "--every"]),
    ],
)
def test_set_with_a_bad_value_is_a_one_line_error_and_changes_nothing(db_path, feed, args, words):
    before = rows(db_path, "SELECT * FROM sources")
    result = cli(db_path, "source", "set", *args)
    one_line_error(result, *words)
    assert result.stdout == ""
    assert rows(db_path, "SELECT * FROM sources") == before


def test_add_of_a_known_source_with_other_options_says_how_to_change_them(db_path, feed):
    srv, url = feed
    out = ok(db_path, "source", "add", url, "--kind", "feed", "--full-text", "--every", "15m", "--name", "Wire")
    hint = "rjwatch source set 1 --name Wire --every 15m --full-text always"
    assert out == (
        f"source #1: feed {url} [already registered, with name -, every default, full_text auto; to change: {hint}]\n"
    )
    assert settings_of(db_path) == {"full_text": "auto"}  # nothing changed behind the user's back
    # the printed command does it
    ok(db_path, *hint.split()[1:])
    assert settings_of(db_path) == {"full_text": "always", "every": 900.0}
    assert ok(db_path, "source", "add", url, "--kind", "feed", "--full-text") == (
        f"source #1: feed {url} [already registered]\n"
    )
    assert q(db_path, "SELECT count(*) FROM sources") == 1


@pytest.mark.parametrize("bad", ["notaurl", "ftp://example.org/feed", "http://"])
def test_add_of_a_bad_url_names_the_argument_not_an_option(db_path, bad):
    result = cli(db_path, "source", "add", bad)
    line = one_line_error(result, "URL", "http(s)")
    assert "--url" not in line
    assert q(db_path, "SELECT count(*) FROM sources") == 0


def test_the_config_sources_entry_changes_an_existing_source_once_per_edit(db_path, feed, tmp_path):
    srv, url = feed
    config = tmp_path / "rjwatch.toml"

    def init_with(entry: str) -> str:
        config.write_text(f'[[sources]]\nurl = "{url}"\nkind = "feed"\n{entry}', encoding="utf-8")
        return ok(db_path, "--config", str(config), "init")

    out = init_with('every = "20m"\nfull_text = "never"\nname = "Wire"\n')
    assert f"source #1 {url}: name - -> Wire, every default -> 20m, full_text auto -> never" in out.splitlines()
    assert settings_of(db_path) == {"full_text": "never", "every": 1200.0}
    assert q(db_path, "SELECT name FROM sources WHERE id = 1") == "Wire"

    # a `source set` since is not undone by the same entry (the daemon registers it again every minute)
    ok(db_path, "source", "set", "1", "--every", "1h")
    out = init_with('every = "20m"\nfull_text = "never"\nname = "Wire"\n')
    assert settings_of(db_path)["every"] == 3600.0
    assert "->" not in out
    # an edited entry applies
    out = init_with('every = "45m"\nfull_text = "never"\nname = "Wire"\n')
    assert f"source #1 {url}: every 1h -> 45m" in out.splitlines()
    assert settings_of(db_path)["every"] == 2700.0

    # a bad value is one line naming the entry, and changes nothing
    config.write_text(f'[[sources]]\nurl = "{url}"\nkind = "feed"\nfull_text = "sometimes"\n', encoding="utf-8")
    one_line_error(cli(db_path, "--config", str(config), "init"), "[[sources]] #1", "full_text", "sometimes")
    assert settings_of(db_path)["full_text"] == "never"


@pytest.mark.slow
def test_a_blogs_query_set_with_source_set_drives_its_crawls(db_path, served):
    import subprocess

    from helpers import REPO
    from rjwatch.demo.site import build_blog

    srv = served(build_blog("asked", 4, template="simple", seed=5))
    ok(db_path, "source", "add", srv.base_url, "--kind", "blogger")
    ok(db_path, "source", "set", "1", "--query", "Kuril")
    quick = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0"]
    done = subprocess.run(
        rjwatch_cmd(db_path, "crawl", "--source", "1", *quick), capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = rows(db_path, "SELECT stats FROM runs WHERE kind = 'crawl'")
    assert json.loads(run["stats"])["mode"] == "query"
    asked = [r.path for r in srv.log.records() if "Kuril" in r.path]
    assert asked, [r.path for r in srv.log.records()]
