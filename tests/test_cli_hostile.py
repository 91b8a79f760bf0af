"""Hostile input at the command line: control characters in collected titles (21), a NaN interval and
other bookkeeping errors in a poll pass (22), and numbers, dates, paths, settings and search queries
that used to end in a traceback or a minute of work (23). Every command runs for real (a subprocess,
or click's runner where no traceback could hide), on real SQLite files and feeds served on 127.0.0.1."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import time
from pathlib import Path

import pytest

from helpers import fill_disk, one_line_error, q, rows, run_cli
from reliability import StaticSite, record, rjwatch_cmd, run_measured
from scheduler.alerts import Channel, dispatch
from storage.db import connect

pytestmark = pytest.mark.reliability

#: A row id one digit longer than SQLite's largest INTEGER (2**63 - 1 has 19 digits).
HUGE = "9" * 20
#: Characters that must never reach a terminal from collected text: CR, the bidi overrides and
#: isolates, LRM/RLM/ALM, ESC, BEL, backspace, and C1 controls (CSI, NEL).
FORBIDDEN = "\r\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\x1b\x07\x08\x9b\x85"
#: Size of the small filesystem for the full-disk and read-only cases (as in scenario 4).


def _rss(base: str, items: list[tuple[str, str, str]]) -> bytes:
    body = "".join(
        f"<item><title>{title}</title><link>{base}/{slug}.html</link><guid>{base}/{slug}</guid>"
        f"<pubDate>Mon, 01 Apr 2024 10:00:00 GMT</pubDate><description><![CDATA[{text}]]></description></item>"
        for slug, title, text in items
    )
    return (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Feed</title>"
        f"<link>{base}/</link>{body}</channel></rss>"
    ).encode()


_TEXT = (
    "Tokyo and Moscow resumed talks on the Kuril Islands this week, and both foreign ministers said "
    "the peace treaty question stays open while the fishing quotas are settled first. "
) * 3


_OTHER_TEXT = (
    "Japanese and Russian officials met in Sakhalin to discuss energy projects, sanctions and the "
    "future of Sakhalin-2 gas deliveries to Japan; Moscow asked Tokyo to keep buying LNG. "
) * 3


# --- 21 -----------------------------------------------------------------------------------------------
def test_21_control_and_bidi_characters_in_a_collected_title_never_reach_the_terminal(db_path, served, capfd):
    """A feed entry's title carries a right-to-left override and other invisible controls; the feed's
    name in a subscription list (OPML) carries a carriage return, which moves the cursor back so that
    what follows overwrites the line before it. Imported and polled for real, then shown by every
    printer: no raw control character reaches stdout."""
    site = StaticSite()
    srv = served(site)
    hostile = "Kuril talks \u202egpj.exe\u202c \u2066x\u2069 \u200f\u061c\u200e end"
    site.put("/feed.xml", _rss(srv.base_url, [("hostile", hostile, _TEXT)]), "application/rss+xml")
    opml = Path(db_path).parent / "subscriptions.opml"
    opml.write_text(
        f"<?xml version='1.0'?><opml version='2.0'><head><title>x</title></head><body>"
        f"<outline type='rss' text='Feed&#13;NEW  all is well \u202e' xmlUrl='{srv.base_url}/feed.xml'/>"
        "</body></opml>",
        encoding="utf-8",
    )
    db = str(db_path)
    assert run_cli("--db", db, "source", "import", str(opml)).exit_code == 0
    res = run_cli("--db", db, "poll", "--all")
    assert res.exit_code == 0, res.output
    # the attack really is in the database: a bidi override in the title, a CR in the source's name
    assert "\u202e" in q(db_path, "SELECT title FROM posts")
    assert "\r" in q(db_path, "SELECT name FROM sources")
    # older versions kept a CR in titles too; such a database is shown as safely
    conn = connect(db_path)
    with conn.conn:
        conn.execute("UPDATE posts SET title = replace(title, 'talks', 'talks' || char(13) || 'COPY 1.00')")
    conn.conn.close()

    post_id = str(q(db_path, "SELECT id FROM posts"))
    outputs = {}
    for fmt in ("text", "json"):
        outputs[f"show {fmt}"] = run_cli("--db", db, "show", post_id, "--format", fmt)
    wide = {"COLUMNS": "250"}  # a terminal wide enough for a title on one line of the table
    for fmt in ("table", "tsv", "json", "jsonl", "csv"):
        outputs[f"posts {fmt}"] = run_cli("--db", db, "posts", "--format", fmt, env=wide)
        outputs[f"search {fmt}"] = run_cli("--db", db, "search", "Kuril", "--format", fmt, env=wide)
    for fmt in ("table", "tsv", "json"):
        outputs[f"source list {fmt}"] = run_cli("--db", db, "source", "list", "--format", fmt)
        outputs[f"runs {fmt}"] = run_cli("--db", db, "runs", "--format", fmt)
    page = Path(db_path).parent / "page.html"
    page.write_text(f"<html><head><title>{hostile}</title></head><body><article><p>{_TEXT}</p></article></body></html>")
    for fmt in ("text", "json"):
        outputs[f"classify {fmt}"] = run_cli("--db", db, "classify", str(page), "--format", fmt)
    for name, res in outputs.items():
        assert res.exit_code == 0, (name, res.output[-2000:])
        text = res.stdout
        if name.endswith("csv"):  # CSV ends its records with CRLF by definition: look inside the cells
            text = "\n".join("\t".join(row) for row in csv.reader(io.StringIO(text)))
        bad = sorted({f"U+{ord(c):04X}" for c in text if c in FORBIDDEN})
        assert not bad, (name, bad, text[:500])
        assert "Kuril talks" in text or name.startswith(("classify", "source", "runs")), (name, text[:500])
    # the console alert channel prints through the same sanitiser: a second hostile entry, polled, alerted
    site.put(
        "/feed.xml",
        _rss(
            srv.base_url,
            [("hostile", hostile, _TEXT), ("second", hostile.replace("talks", "talks again"), _OTHER_TEXT)],
        ),
        "application/rss+xml",
    )
    assert run_cli("--db", db, "poll", "--all").exit_code == 0
    conn = connect(db_path)
    try:
        assert (
            conn.execute(
                "SELECT count(*) FROM alerts WHERE kind IN ('new', 'copy', 'excerpt') AND status = 'pending'"
            ).fetchone()[0]
            == 1
        )
        capfd.readouterr()
        dispatch(conn, [Channel("console", "console")])
        printed = capfd.readouterr().err
    finally:
        conn.conn.close()
    assert "Kuril talks again" in printed, printed
    assert not sorted({f"U+{ord(c):04X}" for c in printed if c in FORBIDDEN}), printed
    # the title is one line in `show`: the status line is not overwritten or split
    first = outputs["show text"].stdout.splitlines()[0]
    assert first.startswith(f"#{post_id}") and "Kuril talks" in first and "end" in first, first
    record("21 control and bidi characters in a title", runs=len(outputs) + 3, posts=2, faults=2, lost=0, doubled=0)


# --- 22 -----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_22_one_sources_bad_bookkeeping_does_not_end_the_poll_pass(db_path, served):
    """An older version stored `--every nan` as NaN (and `infs` as Infinity) in a source's settings, and
    a hand-edited database holds a word where a number belongs. A poll pass still records every other
    source, the NaN source gets a usable interval, and the broken one is a failure in its own health."""
    site = StaticSite()
    srv = served(site)
    names = ["nan", "inf", "broken"] + [f"good{i}" for i in range(4)]
    for n in names:
        site.put(f"/{n}.xml", _rss(srv.base_url, [(f"{n}-1", f"Kuril note {n}", _TEXT + n)]), "application/rss+xml")
    db = str(db_path)
    ids = {}
    for n in names:
        res = run_cli("--db", db, "source", "add", f"{srv.base_url}/{n}.xml", "--kind", "feed")
        assert res.exit_code == 0, res.output
        ids[n] = q(db_path, "SELECT id FROM sources WHERE url = ?", f"{srv.base_url}/{n}.xml")
    assert (
        run_cli("--db", db, "source", "add", f"{srv.base_url}/x.xml", "--kind", "feed", "--every", "nan").exit_code != 0
    )  # refused now; an older database may still hold one
    conn = connect(db_path)
    with conn.conn:
        conn.execute("UPDATE sources SET settings = ? WHERE id = ?", ('{"every": NaN}', ids["nan"]))
        conn.execute("UPDATE sources SET settings = ? WHERE id = ?", ('{"every": Infinity}', ids["inf"]))
        conn.execute(
            "INSERT INTO source_health (source_id, new_item_rate, polls) VALUES (?, 'lots', 3)", (ids["broken"],)
        )
    conn.conn.close()

    res = run_measured(rjwatch_cmd(db_path, "poll", "--format", "json"), timeout=120)
    assert res.code == 0, res.stderr[-3000:]
    assert "Traceback" not in res.stdout
    summary = json.loads(res.stdout)
    assert summary["polled"] == len(names)
    assert summary["failed"] == 1, summary
    stored = {r["url"] for r in rows(db_path, "SELECT url FROM posts")}
    for n in names:
        if n != "broken":
            assert f"{srv.base_url}/{n}-1.html" in stored, n
    health = {r["source_id"]: r for r in rows(db_path, "SELECT * FROM source_health")}
    for n in ("nan", "inf"):
        h = health[ids[n]]
        assert h["last_success"] and h["next_due"] and 0 < h["interval_s"] < 1e7, h
    broken = health[ids["broken"]]
    assert broken["consecutive_failures"] == 1 and "ValueError" in broken["last_error"], broken
    assert broken["next_due"], broken
    assert q(db_path, "SELECT count(*) FROM runs WHERE kind = 'poll' AND finish_reason = 'finished'") == 1
    # the next pass goes through as well (the failing source is due again later, the others are not due)
    again = run_measured(rjwatch_cmd(db_path, "poll", "--all"), timeout=120)
    assert again.code == 0 and "Traceback" not in again.stderr, again.stderr[-2000:]
    assert q(db_path, "SELECT count(*) FROM posts") == len(names) - 1  # nothing doubled
    record(
        "22 NaN interval and a bookkeeping error in one source",
        runs=2,
        posts=len(names) - 1,
        faults=3,
        lost=0,
        doubled=0,
    )


# --- 23 -----------------------------------------------------------------------------------------------
BAD_ARGS = {
    "show: 20-digit id": (["show", HUGE], "POST_ID"),
    "posts --limit: 20 digits": (["posts", "--limit", HUGE], "--limit"),
    "posts --offset: 20 digits": (["posts", "--offset", HUGE], "--offset"),
    "alerts retry: 20-digit id": (["alerts", "retry", HUGE], "ALERT_ID"),
    "alerts --limit: 20 digits": (["alerts", "--limit", HUGE], "--limit"),
    "runs --limit: 20 digits": (["runs", "--limit", HUGE], "--limit"),
    "search --limit: 20 digits": (["search", "Kuril", "--limit", HUGE], "--limit"),
    "search --seed: 20 digits": (["search", "Kuril", "--seed", HUGE], "--seed"),
    "copies --seed: 20 digits": (["copies", "--seed", HUGE], "--seed"),
    "source show: 20-digit id": (["source", "show", HUGE], "no source"),
    "source disable: 20-digit id": (["source", "disable", HUGE], "no source"),
    "poll --source: 20-digit id": (["poll", "--source", HUGE], "no source"),
    "search --until 99999999d": (["search", "Kuril", "--until", "99999999d"], "--until"),
    "search --since past the year 9999": (["search", "Kuril", "--since", "9999-12-31T23:59:59-14:00"], "--since"),
    "export --since 99999999w": (["export", "--since", "99999999w"], "--since"),
    "search --min-relevance nan": (["search", "Kuril", "--min-relevance", "nan"], "--min-relevance"),
    "export --output into a missing folder": (["export", "--output", "{tmp}/missing/posts.jsonl"], "does not exist"),
    "export --output /proc/version": (["export", "--output", "/proc/version"], "/proc/version"),
    "stats --plot into a missing folder": (["stats", "--plot", "{tmp}/missing/plot.png"], "does not exist"),
    "stats --plot with an unknown extension": (["stats", "--plot", "{tmp}/plot.foo"], "unknown image type"),
    "source add --every nan": (
        ["source", "add", "http://127.0.0.1:9/a.xml", "--kind", "feed", "--every", "nan"],
        "--every",
    ),
    "source add --every infs": (
        ["source", "add", "http://127.0.0.1:9/b.xml", "--kind", "feed", "--every", "infs"],
        "--every",
    ),
    "source add --every 1e400s": (
        ["source", "add", "http://127.0.0.1:9/c.xml", "--kind", "feed", "--every", "1e400s"],
        "--every",
    ),
}


@pytest.fixture
def stored_db(db_path):
    """A database with one stored post (so that exports and plots have something to write)."""
    page = db_path.parent / "post.html"
    page.write_text(
        f"<html><head><title>Kuril talks</title></head><body><article><p>{_TEXT}</p></article></body></html>"
    )
    res = run_cli("--db", str(db_path), "ingest", str(page), "--url", "https://news.example.org/kuril.html")
    assert res.exit_code == 0, res.output
    return db_path


@pytest.mark.parametrize("case", list(BAD_ARGS))
def test_23_a_bad_number_date_or_path_is_a_one_line_error(stored_db, case):
    args, words = BAD_ARGS[case]
    args = [a.replace("{tmp}", str(stored_db.parent)) for a in args]
    before = Path("/proc/version").read_text()
    res = run_measured(rjwatch_cmd(stored_db, *args), timeout=60)
    one_line_error(res, words)
    assert Path("/proc/version").read_text() == before
    assert not list(stored_db.parent.glob("*.part")) and not (stored_db.parent / "plot.foo").exists()
    assert q(stored_db, "SELECT count(*) FROM sources") == 0  # nothing half-registered
    record(f"23 bad argument: {case}", runs=1, posts=1, faults=1, lost=0, doubled=0)


BAD_SETTINGS = {
    "digest_time": ('digest_time = "25:99"', "digest_time"),
    "timezone": ('timezone = "Mars/Olympus_Mons"', "timezone"),
    "poll_tick": ('poll_tick = "nans"', "poll_tick"),
    "poll_interval 1e400s": ('poll_interval = "1e400s"', "poll_interval"),
    "poll_workers": ("poll_workers = -5", "poll_workers"),
    "max_bytes": ("max_bytes = -1", "max_bytes"),
    "batch_size": ("batch_size = 0", "batch_size"),
    "max_per_hour": ('[[alerts.channels]]\nname = "team"\nurl = "console"\nmax_per_hour = "lots"', "max_per_hour"),
    "rule.sources": (
        '[[alerts.channels]]\nname = "team"\nurl = "console"\n[alerts.channels.rule]\nsources = ["three"]',
        "rule.sources",
    ),
    "rule.min_relevance": (
        '[[alerts.channels]]\nname = "team"\nurl = "console"\n[alerts.channels.rule]\nmin_relevance = "high"',
        "rule.min_relevance",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BAD_SETTINGS))
def test_23_rjwatch_run_refuses_a_bad_setting_in_one_line(db_path, case):
    """`rjwatch run` with a nonsense setting stops at once with the setting's name (it used to crash
    with a traceback, or to run with a negative worker count or an interval of NaN)."""
    text, words = BAD_SETTINGS[case]
    cfg = db_path.parent / "bad.toml"
    cfg.write_text(text + "\n")
    res = run_measured(rjwatch_cmd(db_path, "run", config=cfg), timeout=60)
    one_line_error(res, words)
    assert q(db_path, "SELECT count(*) FROM meta WHERE key = 'heartbeat'") == 0  # the daemon never started
    record(f"23 bad setting: {case}", runs=1, posts=0, faults=1, lost=0, doubled=0)


def test_23_settings_docs_name_every_range():
    """docs/settings.md shows what each setting accepts (it is generated from the same table)."""
    from rjwatch.settings import SETTINGS, markdown_table

    doc = markdown_table()
    for s in SETTINGS:
        if s.check is not None:
            assert f"| `{s.name}` | " in doc and s.check.allowed in doc


def test_23_a_query_of_thousands_of_terms_is_refused_quickly_and_repeats_count_once(stored_db):
    many = " ".join(f"w{i}" for i in range(5000))
    started = time.monotonic()
    res = run_measured(rjwatch_cmd(stored_db, "search", many), timeout=60)
    took = time.monotonic() - started
    line = one_line_error(res, "5,000 terms", "at most 64")
    assert took < 30, took  # process start included; the refusal itself takes milliseconds
    # 3,000 copies of one word are one term: answered, and quickly (it took 22 s before)
    started = time.monotonic()
    repeated = run_measured(
        rjwatch_cmd(stored_db, "search", " ".join(["kuril"] * 3000), "--format", "json"), timeout=60
    )
    took_repeated = time.monotonic() - started
    assert repeated.code == 0, repeated.stderr[-2000:]
    assert [r["url"] for r in json.loads(repeated.stdout)] == ["https://news.example.org/kuril.html"]
    assert took_repeated < 30, took_repeated
    # the same for OR branches and case variants
    from storage.search import plan

    assert plan("Kuril kuril KURIL AND kuril").fts == "Kuril"
    assert plan("abe OR Abe OR putin OR abe").fts == "(abe) OR (putin)"
    assert plan("abe putin OR putin abe").fts == "abe putin"
    record(
        "23 a query of 5,000 terms",
        runs=2,
        posts=1,
        faults=2,
        lost=0,
        doubled=0,
        refused_s=round(took, 2),
        repeated_s=round(took_repeated, 2),
        message=line,
    )


# --- 23: full disk and read-only mount ---------------------------------------------------------------
@pytest.mark.slow
def test_23_init_on_a_full_disk_leaves_no_empty_database_and_works_once_there_is_room(small_fs):
    db = small_fs / "rj.db"
    filler = fill_disk(small_fs)
    res = run_measured(rjwatch_cmd(db, "init"), timeout=60)
    one_line_error(res, "disk is full")
    assert sorted(p.name for p in small_fs.iterdir()) == ["filler"]  # no 0-byte or half-made database
    # a daemon on the full disk says so in one line as well
    one_line_error(run_measured(rjwatch_cmd(db, "run"), timeout=60), "disk is full")
    filler.unlink()
    again = run_measured(rjwatch_cmd(db, "init"), timeout=60)
    assert again.code == 0, again.stderr[-2000:]
    assert q(db, "SELECT count(*) FROM seeds") >= 1
    record("23 init on a full disk", runs=3, posts=0, faults=2, lost=0, doubled=0)


_CRASHING_WRITER = """
import os, signal, sys
from storage.db import connect, write_tx
db = connect(sys.argv[1])
with write_tx(db):
    db.execute("INSERT INTO meta (key, value) VALUES ('crashed-writer', 'yes')")
os.kill(os.getpid(), signal.SIGKILL)  # dies holding the WAL: its -wal and -shm files stay behind
"""


@pytest.mark.slow
def test_23_the_daemon_on_a_read_only_mount_is_a_one_line_error(small_fs):
    """The mount turns read-only; once cleanly (SQLite itself refuses) and once after a writer was
    killed, whose WAL files let the database open, so that the daemon's lock file is the first thing
    that cannot be written (that used to be a traceback)."""
    db = small_fs / "rj.db"
    assert run_measured(rjwatch_cmd(db, "init"), timeout=60).code == 0
    for crashed in (False, True):
        if crashed:
            import sys

            subprocess.run([sys.executable, "-c", _CRASHING_WRITER, str(db)], capture_output=True)
            assert (small_fs / "rj.db-wal").exists()
        subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
        try:
            res = run_measured(rjwatch_cmd(db, "run"), timeout=60)
            one_line_error(res, "read-only")
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(small_fs)], check=True)
    assert q(db, "SELECT value FROM meta WHERE key = 'crashed-writer'") == "yes"  # nothing lost meanwhile
    record("23 the daemon on a read-only mount", runs=2, posts=0, faults=2, lost=0, doubled=0)
