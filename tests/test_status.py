"""`rjwatch status` and `rjwatch runs` tell the truth after stops and kills: a real `rjwatch run` daemon
and real `rjwatch crawl` subprocesses against a blog on 127.0.0.1, stopped with SIGTERM or killed with
SIGKILL; what the commands print is read back with the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from datetime import UTC
from pathlib import Path

import pytest

from helpers import REPO, children, q, wait_until
from reliability import FAST, Daemon, PageGate, record, rjwatch_cmd, run_measured, write_config
from rjwatch.demo.site import build_blog

#: Delay of each blog page: crawls take a few seconds.
PAGE_DELAY_S = 0.1
#: Post pages a crawl fetches before the gate holds it (the blog has more), so that it is surely still
#: running when the test acts on it.
GATE_ALLOW = 3


def cli(db_path: Path, *args: str) -> str:
    result = run_measured(rjwatch_cmd(db_path, *args), timeout=60)
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def daemon_line(db_path: Path) -> str:
    return next(line for line in cli(db_path, "status").splitlines() if line.startswith("daemon:"))


def job_lines(db_path: Path) -> dict[str, str]:
    out = {}
    for line in cli(db_path, "status").splitlines():
        if line.startswith("job "):
            name, _, rest = line[4:].partition(": ")
            out[name] = rest
    return out


def runs_json(db_path: Path) -> list[dict]:
    """Crawl runs as `rjwatch runs` lists them, newest first."""
    return [r for r in json.loads(cli(db_path, "runs", "--format", "json")) if r["kind"] == "crawl"]


def locks(db_path: Path) -> list[str]:
    return sorted(p.name for p in db_path.parent.glob(db_path.name + ".*lock"))


def add_slow_blog(db_path: Path, served, key: str, n: int = 40):
    blog = build_blog(key, n, template="simple", feed_enabled=False, seed=124)
    srv = served(blog)
    srv.faults.slow("*.html", delay=PAGE_DELAY_S)
    assert run_measured(rjwatch_cmd(db_path, "source", "add", srv.base_url, "--kind", "blogger")).code == 0
    return blog, srv, q(db_path, "SELECT id FROM sources WHERE kind = 'blogger'")


def crawling_held(db_path: Path, gate: PageGate) -> bool:
    """A crawl run is open and waits at the gate."""
    return (
        gate.held >= 1
        and q(db_path, "SELECT count(*) FROM runs WHERE kind = 'crawl' AND finish_reason IS NULL AND pid IS NOT NULL")
        == 1
    )


# --- 24 -----------------------------------------------------------------------------------------------
@pytest.mark.reliability
@pytest.mark.slow
def test_24_status_says_not_running_after_a_stop_or_a_kill_and_the_lock_file_goes(db_path, tmp_path):
    cfg = write_config(tmp_path / "rj.toml", "console")
    d = Daemon(db_path, cfg).start()
    try:
        assert wait_until(lambda: q(db_path, "SELECT count(*) FROM meta WHERE key = 'heartbeat'") == 1), d.output
        assert daemon_line(db_path).startswith("daemon: running, heartbeat ")
        assert f"(pid {d.proc.pid})" in daemon_line(db_path)
        assert locks(db_path) == [db_path.name + ".daemon.lock"]
        jobs = job_lines(db_path)
        assert "last never" not in jobs["heartbeat"], jobs
    finally:
        assert d.stop() == 0, d.output
    assert "Traceback" not in d.output, d.output
    line = daemon_line(db_path)
    assert line.startswith("daemon: not running (last seen ") and line.endswith(f"pid {d.proc.pid} gone)"), line
    assert locks(db_path) == []  # a clean exit leaves no lock file behind
    st = json.loads(cli(db_path, "status", "--format", "json"))
    assert st["daemon"]["running"] is False and st["daemon"]["pid"] == d.proc.pid

    # kill -9: no chance to record the stop; the pid being gone says it
    d = Daemon(db_path, cfg).start()  # starts although a lock file of a dead daemon may be there
    assert wait_until(
        lambda: json.loads(q(db_path, "SELECT value FROM meta WHERE key = 'heartbeat'"))["pid"] == d.proc.pid
    ), d.output
    assert daemon_line(db_path).startswith("daemon: running")
    d.kill9()
    line = daemon_line(db_path)
    assert line.startswith("daemon: not running (last seen ") and line.endswith(f"pid {d.proc.pid} gone)"), line
    d = Daemon(db_path, cfg).start()  # the stale lock file does not stop the next daemon
    try:
        assert wait_until(
            lambda: json.loads(q(db_path, "SELECT value FROM meta WHERE key = 'heartbeat'"))["pid"] == d.proc.pid
        ), d.output
    finally:
        assert d.stop() == 0, d.output
    assert locks(db_path) == []
    record("24 status after a stop and a kill -9 of the daemon", runs=3, posts=0, faults=2, lost=0, doubled=0)


@pytest.mark.reliability
@pytest.mark.slow
def test_24_a_killed_crawl_shows_died_in_runs_and_status_agrees(db_path, tmp_path, served):
    blog, srv, sid = add_slow_blog(db_path, served, "killed-crawl")
    # A manual crawl killed with SIGKILL: nobody is left to close its run.
    proc = subprocess.Popen(
        rjwatch_cmd(db_path, "crawl", "--source", srv.base_url, *FAST),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert wait_until(lambda: q(db_path, "SELECT count(*) FROM runs WHERE kind = 'crawl'") == 1, timeout=60, step=0.05)
    proc.kill()
    proc.wait()
    run = runs_json(db_path)[0]
    assert run["finish_reason"] == "died" and run["finished_at"], run
    assert q(db_path, "SELECT pid FROM runs WHERE id = ?", run["id"]) == proc.pid

    # The daemon's crawl child killed with SIGKILL: the run says died, and so does the job in `status`.
    gate = PageGate(srv.app, allow=GATE_ALLOW)
    cfg = write_config(tmp_path / "rj.toml", "console")
    d = Daemon(db_path, cfg).start()
    try:
        assert wait_until(lambda: crawling_held(db_path, gate), timeout=90, step=0.05), d.output
        child = q(db_path, "SELECT pid FROM runs WHERE kind = 'crawl' AND finish_reason IS NULL")
        running = q(db_path, "SELECT id FROM runs WHERE kind = 'crawl' AND finish_reason IS NULL")
        assert job_lines(db_path)[f"crawl:{sid}"].endswith(f"; running (run #{running})"), job_lines(db_path)
        os.kill(child, signal.SIGKILL)
        assert wait_until(
            lambda: q(db_path, "SELECT count(*) FROM runs WHERE kind = 'crawl' AND finish_reason IS NULL") == 0,
            timeout=30,
        ), d.output
        assert wait_until(
            lambda: (
                json.loads(q(db_path, "SELECT value FROM meta WHERE key = ?", f"job:crawl:{sid}") or "{}").get(
                    "outcome"
                )
                is not None
            ),
            timeout=30,
        )
        latest = runs_json(db_path)[0]
        assert latest["finish_reason"] == "died", latest
        job = job_lines(db_path)[f"crawl:{sid}"]
        assert job.endswith(" died"), job
        st = json.loads(cli(db_path, "status", "--format", "json"))
        assert st["jobs"][f"crawl:{sid}"]["outcome"] == "died" and st["jobs"][f"crawl:{sid}"]["run"] == latest["id"]
    finally:
        gate.open()
        assert d.stop() == 0, d.output
    assert not [r for r in runs_json(db_path) if r["finish_reason"] is None]
    assert locks(db_path) == []
    record(
        "24 kill -9 of a crawl, runs and status agree",
        runs=len(runs_json(db_path)),
        posts=len(blog.posts),
        faults=2,
        lost=0,
        doubled=0,
    )


# --- 25 -----------------------------------------------------------------------------------------------
@pytest.mark.reliability
@pytest.mark.slow
def test_25_stopping_the_daemon_as_a_crawl_starts_is_clean(db_path, tmp_path, served):
    blog, srv, sid = add_slow_blog(db_path, served, "stopped-early")
    cfg = write_config(tmp_path / "rj.toml", "console", crawl_interval="1s")
    stops = 0
    for moment in ("starting", "crawling"):
        gate = PageGate(srv.app, allow=GATE_ALLOW)
        d = Daemon(db_path, cfg).start()
        try:
            # the crawl child appears: stop the daemon at once (Python still starting up) or mid-walk
            assert wait_until(lambda: children(d.proc.pid), timeout=90, step=0.01), d.output
            if moment == "crawling":
                assert wait_until(lambda: crawling_held(db_path, gate), timeout=90, step=0.05), d.output
        finally:
            d.proc.send_signal(signal.SIGTERM)  # one signal: a clean stop (a second one would force it)
            gate.open()  # the stopping crawl's held page is answered
            d.wait(60)
        assert d.proc.returncode == 0, d.output
        stops += 1
        assert "Traceback" not in d.output and "KeyboardInterrupt" not in d.output, d.output
        assert "WARNING" not in d.output and "ERROR" not in d.output, d.output
        assert locks(db_path) == [], moment
        reasons = [r["finish_reason"] for r in runs_json(db_path)]
        assert all(r in ("finished", "shutdown") for r in reasons), (moment, reasons)
        st = json.loads(cli(db_path, "status", "--format", "json"))
        job = st["jobs"].get(f"crawl:{sid}", {})
        assert job.get("outcome") in (None, "ok", "shutdown", "stopped before it began"), job
    assert q(db_path, "SELECT count(*) FROM runs WHERE finish_reason = 'shutdown'") >= 1
    # and the next crawl still collects everything
    srv.faults.clear()
    final = run_measured(rjwatch_cmd(db_path, "crawl", "--source", srv.base_url, *FAST), timeout=240)
    assert final.code == 0, final.stderr[-2000:]
    stored = q(db_path, "SELECT count(DISTINCT post_id) FROM posts WHERE source_id = ?", sid)
    doubled = q(db_path, "SELECT count(*) - count(DISTINCT post_id) FROM posts WHERE source_id = ?", sid)
    assert doubled == 0
    record(
        "25 daemon stopped as a crawl starts",
        runs=len(runs_json(db_path)),
        posts=len(blog.posts),
        faults=stops,
        lost=len(blog.posts) - stored,
        doubled=doubled,
    )


@pytest.mark.parametrize(
    "age_s, started, running, why",
    [
        (1, "own", True, None),
        (3600, "own", False, "silent for more than"),  # a hung daemon: its heartbeat stopped
        (1, "other", False, "gone"),  # the pid now names another process
    ],
)
def test_a_stale_heartbeat_or_a_reused_pid_is_not_a_running_daemon(age_s, started, running, why):
    from datetime import datetime, timedelta

    from scheduler.daemon import daemon_state
    from storage.pidlock import process_start

    own = process_start(os.getpid())
    beat = {
        "at": (datetime.now(UTC) - timedelta(seconds=age_s)).isoformat(timespec="seconds"),
        "pid": os.getpid(),
        "pid_started": own if started == "own" else str(int(own) + 1),
        "tick_s": 1,
    }
    state = daemon_state(beat)
    assert state["running"] is running, state
    assert why is None or why in state["why"], state
