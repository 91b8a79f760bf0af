"""What the list commands print, on a database collected from the demo network: two of its blogs and
its news site served on 127.0.0.1 (http only, as in the demo), registered with `rjwatch source add`,
polled with `rjwatch poll` and crawled with real Scrapy crawls (`rjwatch crawl`), every command run as
a user runs it (a subprocess).

Piped output has a header line (`--no-headers` drops it) and the same columns in every format unless
`--columns` names others; posts link to the URL they were fetched from and list newest published
first; times are local and short on a terminal and full ISO 8601 in machine formats; relevance has
one rounding rule; runs print no raw `{}`; backfill alerts have titles; and the blogs a crawl read
show the posts it collected and their name.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import urllib.request
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from helpers import FAST, REPO, free_port, wait_until
from judge.precision import RELEVANCE_DECIMALS_MACHINE, RELEVANCE_DECIMALS_TERMINAL
from rjwatch.commands.alerts import ALERT_COLUMNS
from rjwatch.commands.collect import RUN_COLUMNS
from rjwatch.commands.query import COPIES_COLUMNS, POSTS_COLUMNS, SEARCH_COLUMNS
from rjwatch.commands.saved import SAVED_COLUMNS
from rjwatch.commands.sources import SOURCE_COLUMNS
from rjwatch.demo.network import demo_network
from rjwatch.demo.server import SiteServer

pytestmark = pytest.mark.slow

#: The demo sites collected: two blogs (each a crawl source and a feed source) and the news site.
BLOGS = ("ledger-en", "cuaderno-es")
NEWS = "wire"
#: A time zone far from UTC, so that a terminal's local times cannot be mistaken for UTC ones.
LOCAL_TZ = "Asia/Tokyo"
#: A terminal wide enough for the longest tables on one line per row.
WIDE = "400"
#: Every list command, with the columns it prints by default.
LISTS = {
    "posts": (["posts"], POSTS_COLUMNS),
    "search": (["search", "Russia"], SEARCH_COLUMNS),
    "copies": (["copies"], COPIES_COLUMNS),
    "runs": (["runs"], RUN_COLUMNS),
    "alerts": (["alerts"], ALERT_COLUMNS),
    "source list": (["source", "list"], SOURCE_COLUMNS),
    "saved list": (["saved", "list"], SAVED_COLUMNS),
}
MACHINE = ("tsv", "csv", "json", "jsonl")


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RJWATCH_")}
    env.update(extra)
    return env


def rj(db, *args: str, timeout: float = 180, **env: str) -> subprocess.CompletedProcess:
    """The real CLI in a subprocess (stdout a pipe, as when piped into another tool)."""
    return subprocess.run(
        [sys.executable, "-m", "rjwatch", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=_env(**env),
    )


def ok(db, *args: str, **env: str) -> str:
    res = rj(db, *args, **env)
    assert res.returncode == 0 and "Traceback" not in res.stderr, (args, res.stderr[-3000:])
    return res.stdout


def table(db, *args: str) -> str:
    """A command's terminal table (a wide terminal in LOCAL_TZ)."""
    return ok(db, *args, "--format", "table", COLUMNS=WIDE, TZ=LOCAL_TZ)


def header_of_table(text: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith("┃"))
    return [cell.strip() for cell in line.strip("┃").split("┃")]


def parsed(text: str, fmt: str) -> tuple[list[str], list[dict]]:
    """(columns, rows) of a command's output in a machine format."""
    if fmt == "json":
        data = json.loads(text)
        return (list(data[0]) if data else []), data
    if fmt == "jsonl":
        data = [json.loads(line) for line in text.splitlines()]
        return (list(data[0]) if data else []), data
    reader = csv.reader(io.StringIO(text), delimiter="\t" if fmt == "tsv" else ",")
    header, *body = list(reader)
    return header, [dict(zip(header, row)) for row in body]


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """The database: feeds polled first (so their sources store the posts, as in the demo), then
    each blog crawled; a saved search. Returns (db path, {site key: base URL})."""
    tmp = tmp_path_factory.mktemp("lists")
    db = tmp / "rj.db"
    network = demo_network()
    servers = [SiteServer(network[key]).start() for key in (*BLOGS, NEWS)]
    try:
        urls = dict(zip((*BLOGS, NEWS), (s.base_url for s in servers)))
        ok(db, "init")
        for key in BLOGS:
            ok(db, "source", "add", urls[key] + "/", "--kind", "blogger")
        ok(db, "source", "add", urls[NEWS] + "/rss.xml", "--kind", "feed")
        ok(db, "poll", "--all")
        for key in BLOGS:
            ok(db, "crawl", "--source", urls[key] + "/", *FAST)
        ok(db, "saved", "add", "kurils", "Kuril*", "--min-relevance", "0.5")
        yield db, urls
    finally:
        for s in servers:
            s.stop()


def test_every_list_pipes_with_a_header_and_the_same_columns_in_every_format(collected):
    db, _ = collected
    for name, (args, columns) in LISTS.items():
        piped = ok(db, *args)  # no --format: stdout is a pipe, so TSV
        assert piped == ok(db, *args, "--format", "tsv"), name
        assert piped.splitlines()[0].split("\t") == list(columns), name
        assert ok(db, *args, "--no-headers") == "".join(piped.splitlines(keepends=True)[1:]), name
        as_csv = ok(db, *args, "--format", "csv")
        assert ok(db, *args, "--format", "csv", "--no-headers") == as_csv[as_csv.index("\n") + 1 :], name
        counts = set()
        for fmt in MACHINE:
            cols, rows = parsed(ok(db, *args, "--format", fmt), fmt)
            assert rows, (name, fmt)  # the collected database has rows in every list
            assert cols == list(columns) and all(list(r) == list(columns) for r in rows), (name, fmt)
            counts.add(len(rows))
        assert len(counts) == 1, (name, counts)
        shown = table(db, *args)
        if name != "search":  # search shows each match as a card on a terminal (title, snippet, link)
            assert header_of_table(shown) == list(columns), name
        no_header = ok(db, *args, "--format", "table", "--no-headers", COLUMNS=WIDE)
        assert not any(line.startswith("┃") for line in no_header.splitlines()), name


def test_columns_chooses_and_orders_in_every_format_and_an_unknown_one_is_refused_in_one_line(collected):
    db, _ = collected
    for fmt in MACHINE:
        cols, rows = parsed(ok(db, "posts", "--columns", "url,id,author", "--format", fmt), fmt)
        assert cols == ["url", "id", "author"] and rows, fmt
    assert header_of_table(table(db, "search", "Russia", "--columns", "id,url")) == ["id", "url"]
    res = rj(db, "posts", "--columns", "id,colour")
    assert res.returncode == 2 and res.stdout == "" and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1 and "colour" in res.stderr
    for column in POSTS_COLUMNS:  # the message lists the valid columns
        assert column in res.stderr


def test_posts_link_to_the_url_they_were_fetched_from_and_keep_the_canonical_one_apart(collected):
    db, urls = collected
    _, rows = parsed(ok(db, "posts", "--format", "json"), "json")
    assert rows and all(r["url"].startswith("http://127.0.0.1:") for r in rows)
    assert all(r["canonical_url"].startswith("https://") for r in rows)  # the identity, rewritten to https
    for r in rows:  # every link opens (the demo sites answer on http only)
        with urllib.request.urlopen(r["url"], timeout=10) as resp:
            assert resp.status == 200, r["url"]
    _, hits = parsed(ok(db, "search", "Russia", "--format", "json"), "json")
    assert hits and all(h["url"].startswith("http://127.0.0.1:") for h in hits)


def test_posts_list_newest_published_first_and_sort_by_collection_or_relevance(collected):
    db, _ = collected

    def listed(*args: str) -> list[dict]:
        return parsed(ok(db, "posts", "--columns", "id,published,relevance", "--format", "json", *args), "json")[1]

    by_default = listed()
    published = [datetime.fromisoformat(r["published"]) for r in by_default]
    assert published == sorted(published, reverse=True)
    assert listed("--sort", "published") == by_default
    ids = [r["id"] for r in listed("--sort", "collected")]
    assert ids == sorted(ids, reverse=True) and ids != [r["id"] for r in by_default]  # not the same order
    scores = [r["relevance"] for r in listed("--sort", "relevance")]
    assert scores == sorted(scores, reverse=True)
    assert "newest publication date first" in ok(db, "posts", "--help")


def test_times_are_local_and_short_on_a_terminal_and_full_iso_8601_in_machine_formats(collected):
    db, _ = collected
    tokyo = ZoneInfo(LOCAL_TZ)
    for name, column in (("posts", "published"), ("copies", "first_seen"), ("runs", "started_at")):
        args = LISTS[name][0]
        _, rows = parsed(ok(db, *args, "--format", "tsv"), "tsv")
        _, json_rows = parsed(ok(db, *args, "--format", "json"), "json")
        stored = rows[0][column]
        assert json_rows[0][column] == stored
        moment = datetime.fromisoformat(stored)
        assert moment.tzinfo is not None and moment.utcoffset() is not None, stored  # full ISO 8601, with its offset
        shown = table(db, *args, "--columns", f"id,{column}")
        local = moment.astimezone(tokyo)
        expect = local.strftime("%Y-%m-%d") if column == "published" else local.strftime("%Y-%m-%d %H:%M")
        assert f"│ {expect} " in shown or f"│ {expect}│" in shown, (name, expect, shown)
        assert "+00:00" not in shown and not re.search(r"\d{2}:\d{2}:\d{2}", shown), (name, shown)
    # search's cards show the local date of publication
    _, hits = parsed(ok(db, "search", "Russia", "--format", "json"), "json")
    card = table(db, "search", "Russia")
    assert datetime.fromisoformat(hits[0]["published"]).astimezone(tokyo).strftime("%Y-%m-%d") in card


def test_relevance_has_one_rounding_rule_everywhere_export_included(collected):
    db, _ = collected
    machine = re.compile(rf"^\d\.\d{{1,{RELEVANCE_DECIMALS_MACHINE}}}$|^[01]$|^[01]\.0$")
    for fmt in MACHINE:
        for args in (["posts"], ["search", "Russia"]):
            _, rows = parsed(ok(db, *args, "--format", fmt), fmt)
            assert all(machine.match(str(r["relevance"])) for r in rows), (args, fmt, [r["relevance"] for r in rows])
    exported = list(csv.DictReader(io.StringIO(ok(db, "export", "--format", "csv", "--no-text"))))
    assert exported and all(machine.match(r["relevance"]) for r in exported), [r["relevance"] for r in exported]
    for line in ok(db, "export", "--format", "jsonl", "--no-text").splitlines():
        assert machine.match(str(json.loads(line)["relevance"]))
    shown = table(db, "posts", "--columns", "id,relevance")
    cells = [c.strip() for line in shown.splitlines() if line.startswith("│") for c in line.strip("│").split("│")][1::2]
    assert cells and all(re.fullmatch(rf"\d\.\d{{{RELEVANCE_DECIMALS_TERMINAL}}}", c) for c in cells), cells


def test_runs_print_no_raw_braces_and_backfill_alerts_have_titles(collected):
    db, _ = collected
    for fmt in ("tsv", "csv", "table"):
        out = ok(db, "runs", "--format", fmt, COLUMNS=WIDE)
        assert "{}" not in out, (fmt, out)
    _, alerts = parsed(ok(db, "alerts", "--format", "json"), "json")
    backfills = [a for a in alerts if a["kind"] == "backfill"]
    assert backfills and all(a["title"] for a in alerts), alerts
    assert all(re.search(r"\d+ posts collected", a["title"]) for a in backfills), backfills
    assert not any(a["title"].startswith("[") for a in alerts)  # the kind has its own column


def test_source_list_shows_name_posts_collected_last_success_and_next_run_of_crawled_blogs(collected):
    db, urls = collected
    _, sources = parsed(ok(db, "source", "list", "--format", "json"), "json")
    _, posts = parsed(ok(db, "posts", "--columns", "id,url", "--format", "json"), "json")
    network = demo_network()
    for key in BLOGS:
        blog = next(s for s in sources if s["kind"] == "blogger" and s["url"] == urls[key] + "/")
        feed = next(s for s in sources if s["kind"] == "feed" and s["url"].startswith(urls[key]))
        on_the_blog = sum(1 for p in posts if p["url"].startswith(urls[key]))
        # the feed's poll stored the posts first; the crawl read them again: both collected them
        assert blog["posts"] == feed["posts"] == on_the_blog > 0, (blog, feed)
        assert blog["name"] == feed["name"] == network[key].title  # the feed's title
        for s in (blog, feed):
            assert s["last_success"] and s["next_run"] and not s["last_error"], s
            assert datetime.fromisoformat(s["next_run"]) > datetime.fromisoformat(s["last_success"])
    news = next(s for s in sources if s["url"] == urls[NEWS] + "/rss.xml")
    assert news["name"] and news["posts"] > 0


def test_the_web_view_links_to_fetched_urls_newest_published_first(collected):
    db, _ = collected
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rjwatch", "--db", str(db), "serve", "--datasette", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(),
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            try:
                urllib.request.urlopen(base + "/", timeout=5).close()
                return True
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                return False

        assert wait_until(up, timeout=60, step=0.3), "server did not start"
        with urllib.request.urlopen(f"{base}/{db.stem}/latest_new_coverage.json?_shape=array", timeout=10) as r:
            rows = json.loads(r.read())
        assert rows and all(r["url"].startswith("http://127.0.0.1:") for r in rows)
        assert all(r["canonical_url"].startswith("https://") for r in rows)
        published = [datetime.fromisoformat(r["published"]) for r in rows]
        assert published == sorted(published, reverse=True)
        assert all(round(r["relevance"], RELEVANCE_DECIMALS_TERMINAL) == r["relevance"] for r in rows)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
