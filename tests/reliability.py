"""Shared pieces of the reliability campaign: the invariants every fault scenario ends with, the real
processes it drives (crawls, polls, the daemon), a static site for hand-made hostile answers, and the
figures each scenario records.

The invariants (checked after the fault is gone and the next run has finished):

- every fixture post is stored exactly once (`assert_stored_once`);
- every alert the outbox holds for delivery reaches the webhook receiver exactly once, counted by its
  idempotency key (`assert_delivered_once`; a scenario may allow a bounded number of repeats);
- `PRAGMA integrity_check` is ok and the derived tables agree with `posts` (`assert_consistent`).

With $RJWATCH_RELIABILITY_REPORT set to a file, each scenario appends one JSON line (scenario, runs,
posts, faults injected, lost); `bench/reliability_report.py` turns the lines into a table.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from helpers import FAST, REPO, q, rows
from storage.db import connect

#: Statuses whose posts alert (the same list as scheduler.alerts.POST_KINDS).
ALERTING = ("new", "copy", "excerpt")

REPORT_ENV = "RJWATCH_RELIABILITY_REPORT"


# --- figures ----------------------------------------------------------------------------------------
def record(scenario: str, *, runs: int, posts: int, faults: int, lost: int, **extra) -> None:
    """Append this scenario's figures to the report file, when one is asked for."""
    target = os.environ.get(REPORT_ENV)
    if not target:
        return
    line = {"scenario": scenario, "runs": runs, "posts": posts, "faults": faults, "lost": lost, **extra}
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")


# --- the database -----------------------------------------------------------------------------------
def assert_stored_once(db_path: Path, post_ids=(), urls=()) -> int:
    """Every expected post (by Blogger post id, or by URL for feeds and files) is one row, exactly once.

    Returns the number lost (always 0 when the assertions pass; it is what the report records).
    """
    lost = 0
    if post_ids:
        got = Counter(r["post_id"] for r in rows(db_path, "SELECT post_id FROM posts WHERE post_id IS NOT NULL"))
        missing = [p for p in post_ids if got[p] == 0]
        doubled = {p: n for p, n in got.items() if n > 1}
        assert not doubled, f"stored more than once: {doubled}"
        assert not missing, f"{len(missing)} of {len(post_ids)} posts lost: {missing[:5]}"
        lost += len(missing)
    if urls:
        stored = Counter()
        for r in rows(db_path, "SELECT DISTINCT s.post_id, s.url FROM sightings s"):
            stored[r["url"]] += 1
        canon = Counter(r["canonical_url"] for r in rows(db_path, "SELECT canonical_url FROM posts"))
        missing = [u for u in urls if not stored[u] and not canon[u]]
        assert not missing, f"{len(missing)} of {len(urls)} posts lost: {missing[:5]}"
        doubled = {u: n for u, n in canon.items() if n > 1}
        assert not doubled, f"stored more than once: {doubled}"
        lost += len(missing)
    return lost


def assert_consistent(db_path: Path) -> None:
    """SQLite's own check, plus the derived rows every stored post must have (nothing half-written)."""
    assert q(db_path, "PRAGMA integrity_check") == "ok"
    db = connect(db_path)
    try:
        assert not db.execute("PRAGMA foreign_key_check").fetchall()
        n_posts = db.execute("SELECT count(*) FROM posts").fetchone()[0]
        # a MinHash exists only for texts long enough to have one; never without its LSH keys
        assert (
            db.execute(
                "SELECT count(*) FROM minhash m WHERE NOT EXISTS (SELECT 1 FROM lsh l "
                "WHERE l.post_id = m.post_id) AND NOT EXISTS (SELECT 1 FROM lsh_recent r "
                "WHERE r.post_id = m.post_id)"
            ).fetchone()[0]
            == 0
        ), "a MinHash without its LSH keys"
        assert db.execute("SELECT count(*) FROM posts_fts").fetchone()[0] == n_posts, "posts and FTS disagree"
        assert (
            db.execute(
                "SELECT count(*) FROM posts p WHERE NOT EXISTS (SELECT 1 FROM sightings s WHERE s.post_id = p.id)"
            ).fetchone()[0]
            == 0
        ), "a post without a sighting"
        db.execute("INSERT INTO posts_fts(posts_fts, rank) VALUES ('integrity-check', 1)")
        unalerted = db.execute(
            "SELECT count(*) FROM posts p WHERE p.status IN ('new', 'copy', 'excerpt') AND p.duplicate_of IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.post_id = p.id)"
        ).fetchone()[0]
        assert unalerted == 0, f"{unalerted} alerting post(s) without an outbox row"
    finally:
        db.conn.close()


def outbox_keys(db_path: Path) -> list[str]:
    """Keys of every alert that is due for delivery (suppressed ones, e.g. backfill posts, are not)."""
    return [r["key"] for r in rows(db_path, "SELECT key FROM alerts WHERE status != 'suppressed' ORDER BY id")]


def assert_delivered_once(db_path: Path, receiver, *, max_repeats: int = 0) -> int:
    """Every deliverable outbox alert reached the receiver exactly once (by X-Rjwatch-Key); at most
    `max_repeats` keys may have arrived twice (a crash between sending and recording). Returns the
    number of alerts lost."""
    got = Counter(r["key"] for r in receiver.delivered())
    keys = outbox_keys(db_path)
    missing = [k for k in keys if got[k] == 0]
    unknown = [k for k in got if k not in set(keys)]
    repeats = {k: n for k, n in got.items() if n > 1}
    assert not missing, f"{len(missing)} alert(s) never delivered: {missing[:5]}"
    assert not unknown, f"deliveries with unknown keys: {unknown[:5]}"
    assert all(n <= 2 for n in repeats.values()), repeats
    assert len(repeats) <= max_repeats, f"repeated deliveries: {repeats}"
    assert q(db_path, "SELECT count(*) FROM alerts WHERE status = 'pending'") == 0
    return len(missing)


# --- processes --------------------------------------------------------------------------------------
@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float
    timed_out: bool = False


def rjwatch_cmd(db_path: Path, *args: str, config: Path | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "rjwatch", "--db", str(db_path)]
    if config is not None:
        cmd += ["--config", str(config)]
    return cmd + list(args)


def run_measured(cmd: list[str], timeout: float = 120, env: dict | None = None, tmp: Path | None = None) -> Finished:
    """Run a command to its end (killing it after `timeout`), with its wall time and peak memory."""
    import tempfile

    folder = Path(tmp or tempfile.gettempdir())
    out_path, err_path = folder / f"out-{os.getpid()}-{time.monotonic_ns()}", folder / f"err-{time.monotonic_ns()}"
    started = time.monotonic()
    with open(out_path, "w+b") as out, open(err_path, "w+b") as err:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=err, env=env)
        timer = threading.Timer(timeout, lambda: proc.poll() is None and proc.kill())
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        result = Finished(
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            seconds,
            usage.ru_maxrss / 1024,
            timed_out=seconds >= timeout,
        )
    out_path.unlink(missing_ok=True)
    err_path.unlink(missing_ok=True)
    return result


def crawl(db_path: Path, source: str, *extra: str, timeout: float = 150) -> Finished:
    return run_measured(rjwatch_cmd(db_path, "crawl", "--add", "--source", source, *FAST, *extra), timeout=timeout)


def poll(db_path: Path, *extra: str, timeout: float = 120, env: dict | None = None) -> Finished:
    return run_measured(rjwatch_cmd(db_path, "poll", "--all", "--format", "json", *extra), timeout=timeout, env=env)


def kill9_after(cmd: list[str], seconds: float) -> int:
    """Start `cmd`, SIGKILL it after `seconds` (or let it finish first); returns its exit code."""
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    return proc.wait()


def write_config(path: Path, hook_url: str, **extra) -> Path:
    """A daemon config with second-scale ticks and one webhook channel."""
    values = {
        "poll_tick": "1s",
        "alert_tick": "1s",
        "alert_retry": "1s",
        "min_interval": "1s",
        "poll_interval": "1s",
        "crawl_interval": "1h",
        "crawl_settings": ["DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False"],
        **extra,
    }
    channel = values.pop("channel", {})
    lines = [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    lines += ["", "[[alerts.channels]]", 'name = "hook"', f'url = "{hook_url}"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in channel.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


class Daemon:
    """`rjwatch run` as a real subprocess. Its stdout and stderr are read as they come (the daemon logs
    every crawl's Scrapy log: an unread pipe would fill up and block it)."""

    def __init__(self, db_path: Path, config: Path):
        self.cmd = rjwatch_cmd(db_path, "run", config=config)
        self.proc: subprocess.Popen | None = None
        self.output = ""
        self._chunks: list[str] = []
        self._readers: list[threading.Thread] = []

    def start(self) -> Daemon:
        self.proc = subprocess.Popen(self.cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._chunks = []
        self._readers = [
            threading.Thread(target=self._drain, args=(stream,), daemon=True)
            for stream in (self.proc.stdout, self.proc.stderr)
        ]
        for t in self._readers:
            t.start()
        return self

    def _drain(self, stream) -> None:
        for line in stream:
            self._chunks.append(line)

    def wait(self, timeout: float) -> None:
        """Wait for the daemon to exit (after a signal sent by the test); its output lands in `output`."""
        self.proc.wait(timeout=timeout)
        for t in self._readers:
            t.join(timeout)
        self.output += "".join(self._chunks)
        self._chunks = []

    def stop(self, timeout: float = 40) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.wait(timeout)
        return self.proc.returncode

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.wait(30)


# --- holding a crawl at a known point --------------------------------------------------------------------
#: Longest a gated page answer waits for the gate to open: a test that fails before opening it must not
#: leave server threads blocked for good.
GATE_MAX_S = 120.0


class PageGate:
    """Lets the first `allow` answers of a site's pages matching `pattern` through, then holds the next
    ones until `open()`: a crawl of that site is then surely still running (and holding its locks) for
    as long as the test needs, however slow the machine. `held` counts the answers waiting."""

    def __init__(self, app, pattern: str = "*.html", allow: int = 0):
        import fnmatch

        self.opened = threading.Event()
        self.lock = threading.Lock()
        self.passed = 0
        self.held = 0
        inner = app.render

        def render(path_with_query: str, host: str, request_headers=None):
            if fnmatch.fnmatchcase(path_with_query.split("?", 1)[0], pattern) and not self.opened.is_set():
                with self.lock:
                    self.passed += 1
                    hold = self.passed > allow
                    self.held += hold
                if hold:
                    self.opened.wait(GATE_MAX_S)
            return inner(path_with_query, host, request_headers)

        app.render = render

    def open(self) -> None:
        self.opened.set()


# --- a site of hand-made answers ----------------------------------------------------------------------
@dataclass
class StaticSite:
    """Serves fixed answers by path (for bodies the demo blogs cannot produce: raw bytes, hostile XML)."""

    pages: dict = field(default_factory=dict)  # path -> (content type, body bytes)
    key: str = "static"

    def put(self, path: str, body: bytes, content_type: str = "text/html; charset=UTF-8") -> None:
        self.pages[path] = (content_type, body)

    def render(self, path_with_query: str, host: str, request_headers=None):
        path = path_with_query.split("?", 1)[0]
        if path not in self.pages:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        ctype, body = self.pages[path]
        return 200, {"Content-Type": ctype}, body
