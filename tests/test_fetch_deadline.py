"""A feed that dribbles its headers cannot hold a fetch, a poll pass or the daemon (13).

A raw TCP server on 127.0.0.1 answers the status line, then one header byte every DRIP_S for
DRIP_FOR_S: the read timeout restarts with every byte, so only a deadline that covers the headers
ends such a fetch. Checked with the HTTP client itself, a real `rjwatch poll` subprocess beside
healthy feeds, and a real daemon (`rjwatch run`) stopped with SIGTERM mid-fetch.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time

import pytest

from helpers import REPO, health, rss, wait_until
from reliability import StaticSite, record, rjwatch_cmd, run_measured

#: Pause between two header bytes: far below any read timeout used here.
DRIP_S = 0.2
#: How long the server keeps dribbling (then it closes): far beyond every deadline under test, so a
#: fetch that waits for the server is told apart from one that keeps its deadline.
DRIP_FOR_S = 90.0
#: Slack over a deadline for a loaded 2-core machine (thread start, the socket shutdown, scheduling).
SLACK_S = 3.0
#: Start-up of a `python -m rjwatch` subprocess on a loaded machine (imports, opening the database).
STARTUP_S = 15.0
#: A stopping daemon must be gone within this time even with a fetch dribbling.
STOP_BOUND_S = 15.0


class Dribbler:
    """Accepts connections, reads the request, then dribbles an endless header."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/feed.xml"
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.connections = 0
        self.active = 0
        self.closed_by_client = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn):
        with self.lock:
            self.connections += 1
            self.active += 1
        try:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            end = time.monotonic() + DRIP_FOR_S
            while time.monotonic() < end and not self.stopping.wait(DRIP_S):
                conn.sendall(b"a")
        except OSError:
            with self.lock:
                self.closed_by_client += 1
        finally:
            with self.lock:
                self.active -= 1
            conn.close()

    def close(self):
        self.stopping.set()
        self.sock.close()


@pytest.fixture
def dribbler():
    d = Dribbler()
    yield d
    d.close()


def healthy_feeds(served, n: int):
    site = StaticSite()
    for i in range(n):
        site.put(
            f"/f{i}.xml",
            rss([(f"Item {i}", f"http://feeds.invalid/{i}.html", "Japan and Russia")]),
            "application/rss+xml",
        )
    srv = served(site)
    return [f"{srv.base_url}/f{i}.xml" for i in range(n)]


def test_a_fetch_ends_within_its_deadline_while_headers_dribble(dribbler):
    from crawler.guard import allowed_sites
    from crawler.http import TOTAL_TIME_FACTOR, Cancel, FetchError, fetch

    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetch(dribbler.url, timeout=1.0, allowed=allowed_sites(dribbler.url))
    took = time.monotonic() - started
    assert str(info.value) == f"{dribbler.url}: timed out (no complete answer within {1.0 * TOTAL_TIME_FACTOR:g} s)"
    assert took < 1.0 * TOTAL_TIME_FACTOR + SLACK_S, took
    # a Cancel ends a fetch under way at once, long before its own deadline
    cancel = Cancel()
    timer = threading.Timer(0.5, cancel.cancel)
    timer.start()
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetch(dribbler.url, timeout=60.0, allowed=allowed_sites(dribbler.url), cancel=cancel)
    took = time.monotonic() - started
    timer.cancel()
    assert info.value.cancelled and "fetch cancelled" in str(info.value)
    assert took < 0.5 + SLACK_S, took
    assert wait_until(lambda: dribbler.active == 0, timeout=10)


@pytest.mark.reliability
@pytest.mark.slow
def test_13_a_dribbling_feed_holds_neither_the_poll_pass_nor_the_daemon(db_path, served, dribbler, tmp_path):
    healthy = healthy_feeds(served, 4)
    for url in [*healthy, dribbler.url]:
        assert run_measured(rjwatch_cmd(db_path, "source", "add", url, "--kind", "feed")).code == 0
    timeout = 3.0  # fetch_timeout: each fetch ends within 2 x 3 s
    cfg = tmp_path / "rjwatch.toml"
    cfg.write_text(f"fetch_timeout = {timeout}\n")
    started = time.monotonic()
    proc = subprocess.Popen(
        rjwatch_cmd(db_path, "poll", "--all", config=cfg),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # the healthy feeds are recorded while the dribbling one is still being answered
        assert wait_until(
            lambda: all(health(db_path, u).get("last_success") for u in healthy), timeout=STARTUP_S + 10, step=0.05
        )
        assert dribbler.active == 1
        out, err = proc.communicate(timeout=STARTUP_S + 2 * timeout + SLACK_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    took = time.monotonic() - started
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    assert took < STARTUP_S + 2 * timeout + SLACK_S, took
    slow = health(db_path, dribbler.url)
    assert slow["consecutive_failures"] == 1 and "timed out" in slow["last_error"], slow
    assert wait_until(lambda: dribbler.active == 0, timeout=10)

    # the daemon: SIGTERM while a fetch dribbles (with a deadline of minutes) ends it within seconds
    from receiver import Receiver
    from reliability import write_config

    due = f"http://127.0.0.1:{dribbler.port}/due.xml"  # a new source: due at once
    assert run_measured(rjwatch_cmd(db_path, "source", "add", due, "--kind", "feed")).code == 0
    before = dribbler.connections
    with Receiver() as rx:
        dcfg = write_config(tmp_path / "daemon.toml", rx.url, fetch_timeout=60.0, crawl_interval="1h")
        proc = subprocess.Popen(
            rjwatch_cmd(db_path, "run", config=dcfg),
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert wait_until(lambda: dribbler.active == 1 and dribbler.connections > before, timeout=60, step=0.05)
            stopped_at = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=STOP_BOUND_S + 30)
            stop_took = time.monotonic() - stopped_at
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err[-2000:]
    assert stop_took < STOP_BOUND_S, stop_took
    assert wait_until(lambda: dribbler.active == 0, timeout=10)  # its socket was shut, not left dribbling
    # a fetch cut off by the stop is not a failure of the source: it stays due
    assert not health(db_path, due).get("consecutive_failures") and not health(db_path, due).get("last_poll")
    record(
        "13 feed dribbling its headers",
        runs=2,
        posts=len(healthy),
        faults=2,
        lost=0,
        doubled=0,
        stop_seconds=round(stop_took, 1),
        pass_seconds=round(took, 1),
    )
