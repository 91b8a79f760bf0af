"""Plain helpers every test module shares: the paths of the test data, shared test data (the seed, a
relevant article, relevant fixture articles, a news feed, an RSS body), the CLI run in-process and the
checks for a clean one-line error, reads of a database file (a value, rows as dicts, rows as tuples, a
source's health), waiting on a condition with a deadline (a daemon job's passes, processes gone), free
local ports, and a disk filler.

Fixtures stay in conftest.py; everything here is an ordinary function a test module imports
(`from helpers import q, wait_until`), never `from conftest import`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

from click.testing import CliRunner

from judge.article import parse_text_article
from storage.db import connect

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
REPO = HERE.parent

#: Scrapy settings for test crawls that lift only the politeness delays, so the suite stays quick; the
#: per-site concurrency limit, the caps, the retries and the robots.txt rules stay as in production.
FAST = [
    arg
    for setting in (
        "DOWNLOAD_DELAY=0",
        "AUTOTHROTTLE_ENABLED=False",
        "RETRY_TIMES=2",
        "DOWNLOAD_TIMEOUT=5",
        "LOG_LEVEL=INFO",
    )
    for arg in ("-s", setting)
]
CORPUS = REPO.parent / "shared" / "corpus" / "blogger"
SEED_FILE = REPO / "rjwatch" / "data" / "seeds" / "000_2726ccec86287c13.txt"

#: Longest a test waits for a condition by default: far beyond what a loaded 2-core machine needs for
#: a subprocess to start and do one round, short enough that a hung test fails on its own.
WAIT_S = 40.0

#: How often a condition is checked while waiting: often enough not to add noticeable time, rarely
#: enough that the checking (often a database read) does not load the machine.
WAIT_STEP_S = 0.2

#: How often a daemon job's record is read while counting its passes: well under the shortest tick the
#: tests configure (1 s), so that consecutive passes are each seen.
JOB_STEP_S = 0.1


# --- test data -------------------------------------------------------------------------------------
#: The default topic's seed article, parsed as `rjwatch init` stores it.
SEED = parse_text_article(SEED_FILE.read_text("utf-8"))
#: A relevant article (a new post of the topic), as plain text.
ARTICLE = (
    "Japanese and Russian diplomats met in Moscow on Tuesday for a new round of peace treaty talks. "
    "The Kuril Islands, which Japan calls the Northern Territories, remain the main obstacle.\n"
    "Foreign Minister Sergey Lavrov said Russia was ready to discuss joint economic activity on the islands. "
    "His Japanese counterpart said Tokyo wanted progress on the territorial issue before any treaty.\n"
    "Fishing quotas around Shikotan and Habomai were also on the agenda, officials from both sides said. "
    "The next round of talks is expected in Tokyo in the autumn, according to the Japanese foreign ministry."
)


def item(url, text=ARTICLE, **kw):
    """A post as the ingest takes it (url, title, text, published)."""
    return {
        "url": url,
        "title": kw.pop("title", "Peace treaty talks resume in Moscow"),
        "text": text,
        "published": kw.pop("published", "2019-05-10T09:00:00+00:00"),
        **kw,
    }


def relevant_articles(n: int) -> list[dict]:
    """`n` distinct relevant articles (from the classification fixtures), as items."""
    paths = sorted((FIXTURES / "classify").glob("new__en_*.txt"))[:n]
    out = []
    for i, p in enumerate(paths):
        title, _, body = p.read_text("utf-8").partition("\n\n")
        out.append(item(f"https://s{i}.example.org/p", text=body, title=title.strip()))
    return out


def news_feed(n: int = 3, key: str = "wire", **kw):
    """A demo news feed of `n` relevant articles, one a day from 2024-05-01."""
    from rjwatch.demo.site import NewsFeed, NewsItem

    start = datetime(2024, 5, 1, tzinfo=UTC)
    items = [
        NewsItem(f"story-{i}", a["title"], start + timedelta(days=i), body_html=f"<p>{a['text']}</p>")
        for i, a in enumerate(relevant_articles(n))
    ]
    return NewsFeed(key, "Wire", items=items, **kw)


def rss(items: list[tuple[str, str, str]]) -> bytes:
    """An RSS 2.0 feed of (title, link, description) items."""
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
        f"<description>{escape(d)}</description></item>"
        for t, link, d in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>http://x.invalid/</link>'
        f"{body}</channel></rss>"
    ).encode()


# --- the CLI --------------------------------------------------------------------------------------
def run_cli(*args: str, input: str | bytes | None = None, env: dict | None = None):
    """Run the real CLI in-process (with these environment variables set, e.g. COLUMNS for the width
    of a table); returns click's Result (exit_code, stdout, stderr)."""
    from rjwatch.commands import main

    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False, env=env)


def no_traceback(*outputs: str) -> None:
    """No output of a run shows a Python traceback."""
    for out in outputs:
        assert "Traceback" not in out, out[-3000:]


def one_line_error(res, *words: str) -> str:
    """A non-zero exit, no traceback, and one error line that names the problem (every word in it).

    `res` is click's Result or a finished subprocess (with `code` or `exit_code`, `stdout`, `stderr`)."""
    code = getattr(res, "exit_code", getattr(res, "code", getattr(res, "returncode", None)))
    out, err = res.stdout, res.stderr
    assert code not in (0, None), (code, out[-2000:], err[-2000:])
    assert "Traceback" not in out + err, err[-3000:]
    lines = [ln for ln in err.splitlines() if ln.startswith(("rjwatch: error:", "Error:"))]
    assert len(lines) == 1, err[-2000:]
    for w in words:
        assert w.lower() in lines[0].lower(), (w, lines[0])
    return lines[0]


# --- reading a database file --------------------------------------------------------------------------
def q(db_path: Path, sql: str, *params):
    """The first column of the first row (a count, one value)."""
    db = connect(db_path)
    try:
        return db.execute(sql, params).fetchone()[0]
    finally:
        db.conn.close()


def rows(db_path: Path, sql: str, *params) -> list[dict]:
    """Every row, as dicts by column name."""
    db = connect(db_path)
    try:
        return list(db.query(sql, params))
    finally:
        db.conn.close()


def tuples(db_path: Path, sql: str, *params) -> list[tuple]:
    """Every row, as tuples (to unpack or compare with literal tuples)."""
    db = connect(db_path)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.conn.close()


def health(db_path: Path, source: int | str = 1) -> dict:
    """A source's health row (by id, or by its URL as registered, then with `url`); {} while it has none."""
    column = "s.id" if isinstance(source, int) else "s.url"
    found = rows(
        db_path,
        f"SELECT s.url, h.* FROM sources s JOIN source_health h ON h.source_id = s.id WHERE {column} = ?",
        source,
    )
    return found[0] if found else {}


# --- waiting and ports -----------------------------------------------------------------------------
def wait_until(cond, timeout: float = WAIT_S, step: float = WAIT_STEP_S) -> bool:
    """Check `cond()` until it is true (True) or `timeout` seconds have passed (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return False


def job_record(db_path: Path, job: str) -> dict | None:
    """The daemon's record of its job's last pass (`meta` job:NAME: started, finished, outcome), if any."""
    found = rows(db_path, "SELECT value FROM meta WHERE key = ?", f"job:{job}")
    return json.loads(found[0]["value"]) if found else None


def wait_job_passes(db_path: Path, job: str, passes: int = 2, timeout: float = WAIT_S) -> bool:
    """Wait until the running daemon has finished `passes` more passes of `job` (its record changed that
    often): whatever that job would still do wrongly (send again, poll again) has then had its chance."""
    seen = [job_record(db_path, job)]

    def more() -> bool:
        now = job_record(db_path, job)
        if now != seen[-1]:
            seen.append(now)
        return len(seen) > passes

    return wait_until(more, timeout=timeout, step=JOB_STEP_S)


def children(pid: int) -> list[int]:
    """The child processes of `pid` (Linux /proc)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def descendants(pid: int) -> list[int]:
    """Children, grandchildren, ... of `pid` (Linux /proc)."""
    out, todo = [], children(pid)
    while todo:
        kid = todo.pop()
        out.append(kid)
        todo += children(kid)
    return out


def gone(pid: int) -> bool:
    """No process `pid` any more (a zombie not reaped yet counts as still there)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def free_port() -> int:
    """A 127.0.0.1 port where nothing listens (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the disk ---------------------------------------------------------------------------------------
def fill_disk(folder: Path) -> Path:
    """Write zeros into `folder` until its filesystem is full; returns the filler file."""
    filler = folder / "filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    return filler


def http_get(url: str) -> tuple[int, str]:
    """(status, body) of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


@contextmanager
def datasette(db: Path) -> Iterator[str]:
    """`rjwatch serve --datasette` on a free loopback port, as a subprocess; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rjwatch", "--db", str(db), "serve", "--datasette", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            http_get(base + "/")
            return True
        except OSError:
            assert proc.poll() is None, proc.stdout.read()
            return False

    try:
        assert wait_until(up, timeout=60, step=0.3), "server did not start"
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)
