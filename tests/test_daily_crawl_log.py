"""What `rjwatch crawl` prints: a progress line, errors in one line each and the summary by default;
Scrapy's log with -v or --log-level; the daemon's log keeps every crawl's Scrapy log in full.

Real `rjwatch crawl` subprocesses against demo blogs on 127.0.0.1 (a terminal is a real pty), and a
real daemon.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

import pytest

from helpers import REPO, free_port, q, wait_until
from reliability import Daemon, rjwatch_cmd, write_config
from rjwatch.demo.site import build_blog

#: Politeness delays lifted (and no LOG_LEVEL: that would ask for Scrapy's log).
QUICK = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0"]
#: Posts of the demo blog.
POSTS = 4
#: Longest a test crawl may take on a loaded machine.
CRAWL_TIMEOUT_S = 120


def crawl(db_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        rjwatch_cmd(db_path, "crawl", *args), capture_output=True, text=True, timeout=CRAWL_TIMEOUT_S, cwd=REPO
    )


@pytest.fixture
def blog(served):
    return served(build_blog("quiet", POSTS, template="simple", seed=7)).base_url


@pytest.mark.slow
def test_a_crawl_prints_its_summary_and_no_scrapy_log_by_default(db_path, blog):
    done = crawl(db_path, "--add", "--source", blog, *QUICK)
    assert done.returncode == 0, done.stderr[-3000:]
    (line,) = done.stdout.splitlines()
    assert line.startswith("run #1 ") and ": finished, " in line and f", {POSTS} items " in line
    assert done.stderr == ""  # a short crawl to a pipe: not even a progress line
    assert q(db_path, "SELECT count(*) FROM sightings") >= POSTS


@pytest.mark.slow
def test_verbose_and_log_level_show_scrapys_log(db_path, blog):
    verbose = crawl(db_path, "--add", "--source", blog, "--full", "-v", *QUICK)
    assert verbose.returncode == 0, verbose.stderr[-3000:]
    assert "[scrapy.core.engine] INFO: Spider opened" in verbose.stderr
    assert "[scrapy.core.engine] INFO: Spider closed (finished)" in verbose.stderr
    assert len(verbose.stdout.splitlines()) == 1

    warnings_only = crawl(db_path, "--source", blog, "--full", "--log-level", "warning", *QUICK)
    assert warnings_only.returncode == 0, warnings_only.stderr[-3000:]
    assert " INFO: " not in warnings_only.stderr
    # a LOG_LEVEL given as a Scrapy setting asks for the log too (as before)
    scrapy_set = crawl(db_path, "--source", blog, *QUICK, "-s", "LOG_LEVEL=INFO")
    assert "[scrapy.core.engine] INFO: Spider opened" in scrapy_set.stderr


@pytest.mark.slow
def test_a_failing_crawl_still_says_why_in_one_line(db_path):
    down = f"http://127.0.0.1:{free_port()}/"
    done = crawl(db_path, "--add", "--source", down, *QUICK)
    assert done.returncode == 1
    (line,) = done.stdout.splitlines()
    assert "FAILED: every request failed: connection refused" in line, line
    assert "Traceback" not in done.stderr
    errors = done.stderr.splitlines()
    assert errors and all(e.startswith("rjwatch: crawl error: ") for e in errors), done.stderr
    assert any("Connection was refused" in e for e in errors)


def read_pty(master: int, proc: subprocess.Popen, timeout: float) -> bytes:
    """Everything written to the terminal until the process ends."""
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    return out


@pytest.mark.slow
def test_on_a_terminal_a_progress_line_is_drawn_then_erased(db_path, blog):
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        rjwatch_cmd(db_path, "crawl", "--add", "--source", blog, *QUICK),
        stdout=subprocess.PIPE,
        stderr=slave,
        cwd=REPO,
    )
    os.close(slave)
    try:
        screen = read_pty(master, proc, CRAWL_TIMEOUT_S).decode("utf-8", "replace")
        out, _ = proc.communicate(timeout=CRAWL_TIMEOUT_S)
    finally:
        os.close(master)
    assert proc.returncode == 0, screen[-3000:]
    assert "\rcrawling 1 blog: " in screen.replace("\x1b[K", "")
    assert f"pages fetched, {POSTS} posts read" in screen
    assert screen.endswith("\r\x1b[K")  # erased: the summary takes its place
    assert "[scrapy" not in screen
    assert len(out.decode().splitlines()) == 1


@pytest.mark.slow
def test_the_daemon_log_keeps_the_crawls_scrapy_log(db_path, blog, tmp_path):
    from helpers import run_cli

    assert run_cli("--db", str(db_path), "source", "add", blog, "--kind", "blogger").exit_code == 0
    cfg = write_config(tmp_path / "rj.toml", "console", crawl_interval="1h")
    d = Daemon(db_path, cfg).start()
    try:
        assert wait_until(
            lambda: q(db_path, "SELECT count(*) FROM runs WHERE kind = 'crawl' AND finish_reason = 'finished'") == 1,
            timeout=CRAWL_TIMEOUT_S,
        ), d.output
    finally:
        assert d.stop() == 0
    assert " INFO crawl.1: [scrapy.core.engine] Spider opened" in d.output, d.output[-3000:]
    assert " INFO crawl.1: [scrapy.core.engine] Spider closed (finished)" in d.output
    assert "'downloader/request_count':" in d.output  # the continuation lines of a record too
