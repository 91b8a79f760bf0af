"""`rjwatch demo` end to end, as a newcomer runs it: the real command in a subprocess (real demo network on
127.0.0.1, real daemon, real Scrapy crawls, real Apprise to the demo's webhook), then what it printed and
what it left in the database."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers import children, tuples, wait_until
from rjwatch.demo import content

pytestmark = pytest.mark.slow

#: The curated posts whose status the demo's summary is about (post ids from rjwatch/demo/content.py).
LATE_COPY, LATE_NEW = "1358024679135802468", "2468013579246801357"
SYNDICATED = ("6402958813377145720", "8178890446321205597")  # the English original and the German copy


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("RJWATCH_")}


def _demo(tmp_path: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "rjwatch", "demo", "--dir", str(tmp_path / "demo"), "--duration", "5s", *args]
    return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=timeout, env=_env())


def _network_listed(proc: subprocess.Popen, timeout: float = 180) -> str:
    """What a `demo --keep-running` printed up to its list of the network (the webhook comes last)."""
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "(the webhook)" in line:
            break
    return "".join(lines)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One full demo run, shared by the tests that read its output and its database."""
    tmp = tmp_path_factory.mktemp("demo")
    started = time.monotonic()
    result = _demo(tmp)
    return tmp, result, time.monotonic() - started


def test_the_demo_shows_the_product_working_and_says_what_to_try_next(finished):
    tmp, result, elapsed = finished
    out = result.stdout
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert elapsed < 90, elapsed
    # Progress as plain lines (stdout is not a terminal), in order.
    steps = [
        "demo network up on 127.0.0.1",
        "daemon started",
        "first collection done",
        "published on",
        "waiting for the daemon to find them",
        "daemon stopped (exit 0)",
        "Summary of demo/rjwatch.db",
    ]
    positions = [out.find(s) for s in steps]
    assert -1 not in positions and positions == sorted(positions), out
    assert "\x1b[" not in out  # no terminal control sequences when piped
    # The two posts published midway alert live, on the console, after they were published.
    published = out.find("published on")
    late_copy = "alert  [copy] From the archive: what Russia wanted from Japan in 2017"
    late_new = "alert  [new] Rusia y Japón cierran in extremis el acuerdo anual del salmón"
    assert out.find(late_copy) > published and out.find(late_new) > published, out
    assert out.count(late_copy) == 1 and out.count(late_new) == 1
    assert "Why: 100% of seed #1 found in it" in out
    assert out.count("webhook received [copy] From the archive") == 1
    # The summary.
    assert re.search(r"posts by status: copy 3, excerpt 2, new \d+, duplicate 1, off_topic \d+", out), out
    assert "the seed's spread: 3 copies and 2 excerpts" in out
    assert "syndicated duplicate:" in out
    assert "received 2 with 2 distinct idempotency keys" in out
    for cmd in ("search Kuril", "copies", "serve"):
        assert f"rjwatch --db demo/rjwatch.db {cmd}\n" in out


def test_the_demo_database_stays_behind_with_every_post_once_and_each_late_alert_once(finished):
    tmp, result, _ = finished
    assert result.returncode == 0, result.stdout + result.stderr
    db = tmp / "demo" / "rjwatch.db"
    status = dict(tuples(db, "SELECT coalesce(post_id, canonical_url), status FROM posts"))  # news: no Blogger id
    curated = sum(len(content.posts_for(b["key"])) for b in content.BLOGS) + len(content.news_items()) + 2
    assert len(status) == curated == tuples(db, "SELECT count(*) FROM posts")[0][0]  # each post stored once
    assert status[LATE_COPY] == "copy" and status[LATE_NEW] == "new"
    assert sorted(status[p] for p in SYNDICATED) == ["duplicate", "new"]
    assert sorted(s for s in status.values() if s in ("copy", "excerpt")) == ["copy"] * 3 + ["excerpt"] * 2
    # Each late post: one alert, delivered once on each channel; the first collection alerted per source only.
    late = tuples(
        db,
        "SELECT a.kind, a.status, a.key, (SELECT group_concat(d.channel || ':' || d.status, ' ') FROM "
        "deliveries d WHERE d.alert_id = a.id) FROM alerts a JOIN posts p ON p.id = a.post_id WHERE "
        "p.post_id IN (?, ?) ORDER BY a.kind",
        LATE_COPY,
        LATE_NEW,
    )
    assert [(k, s, d) for k, s, _, d in late] == [
        ("copy", "sent", "console:sent webhook:sent"),
        ("new", "sent", "console:sent webhook:sent"),
    ]
    sent_posts = tuples(db, "SELECT count(*) FROM alerts WHERE post_id IS NOT NULL AND status = 'sent'")[0][0]
    assert sent_posts == 2
    assert tuples(db, "SELECT count(*) FROM alerts WHERE status IN ('pending', 'failed')")[0][0] == 0
    # The webhook got exactly those two, by idempotency key.
    hook = [json.loads(line) for line in (tmp / "demo" / "webhook.jsonl").read_text("utf-8").splitlines()]
    assert sorted(h["key"] for h in hook) == sorted(key for _, _, key, _ in late)
    assert tuples(db, "PRAGMA integrity_check")[0][0] == "ok"
    # Stopping the demo stopped the daemon cleanly: no traceback, no run it failed or left dying.
    log = (tmp / "demo" / "daemon.log").read_text("utf-8")
    assert "Traceback" not in log and "KeyboardInterrupt" not in log, log[-3000:]
    assert (
        tuples(db, "SELECT count(*) FROM runs WHERE finish_reason IS NULL OR finish_reason IN ('failed', 'died')")[0][0]
        == 0
    ), tuples(db, "SELECT id, kind, finish_reason, stats FROM runs")
    assert not list((tmp / "demo").glob("*.lock"))
    # The newcomer can query it with the ordinary commands.
    posts = subprocess.run(
        [sys.executable, "-m", "rjwatch", "--db", str(db), "posts", "--status", "copy", "--format", "json"],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
    )
    assert posts.returncode == 0 and len(json.loads(posts.stdout)) == 3


def test_the_demo_never_replaces_another_database_and_bad_options_fail_in_one_line(tmp_path):
    real = tmp_path / "mine.db"
    sqlite3.connect(real).execute("CREATE TABLE precious (x)").connection.commit()
    result = subprocess.run(
        [sys.executable, "-m", "rjwatch", "--db", str(real), "demo", "--dir", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
    )
    assert result.returncode == 1
    assert result.stderr.startswith("rjwatch: error: ") and "is not a demo database" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert tuples(real, "SELECT name FROM sqlite_master") == [("precious",)]

    bad = subprocess.run(
        [sys.executable, "-m", "rjwatch", "demo", "--duration", "soon"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
    )
    assert bad.returncode != 0 and "not a duration" in bad.stderr and "Traceback" not in bad.stderr

    import socket

    with socket.socket() as taken:  # a port of the range the network asks for is in use
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        first = taken.getsockname()[1] - 2
        busy = subprocess.run(
            [sys.executable, "-m", "rjwatch", "demo", "--dir", str(tmp_path / "d"), "--port", str(first)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(),
        )
    assert busy.returncode == 1 and "Address already in use" in busy.stderr and "Traceback" not in busy.stderr
    assert len(busy.stderr.strip().splitlines()) == 1


def test_keep_running_leaves_the_network_and_the_daemon_up_until_interrupted(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "rjwatch",
        "demo",
        "--dir",
        str(tmp_path / "demo"),
        "--duration",
        "3s",
        "--keep-running",
    ]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        out = _network_listed(proc)
        assert "press Ctrl-C to stop them" in out, out + proc.stderr.read() if proc.poll() is not None else out
        url = re.search(r"(http://127\.0\.0\.1:\d+)/  ledger-en", out).group(1)
        with urllib.request.urlopen(url + "/feeds/posts/default", timeout=10) as resp:
            assert b"From the archive" in resp.read()  # the late post is still served
        db = tmp_path / "demo" / "rjwatch.db"
        beat = json.loads(tuples(db, "SELECT value FROM meta WHERE key = 'heartbeat'")[0][0])
        os.kill(beat["pid"], 0)  # the daemon is alive
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, rest + err
    assert "stopped (daemon exit 0)" in rest
    with pytest.raises(ProcessLookupError):
        os.kill(beat["pid"], 0)


def _crawl_children(pid: int) -> list[int]:
    """The `rjwatch crawl` processes the daemon `pid` has started (Linux /proc)."""
    found = []
    for kid in children(pid):
        try:
            if b"crawl" in Path(f"/proc/{kid}/cmdline").read_bytes().split(b"\0"):
                found.append(kid)
        except OSError:
            pass
    return found


@pytest.mark.reliability
def test_25_stopping_the_demo_as_a_crawl_round_starts_leaves_no_failed_run_and_no_traceback(tmp_path):
    from reliability import record

    cmd = [
        sys.executable,
        "-m",
        "rjwatch",
        "demo",
        "--dir",
        str(tmp_path / "demo"),
        "--duration",
        "3s",
        "--keep-running",
    ]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    db = tmp_path / "demo" / "rjwatch.db"
    try:
        out = _network_listed(proc)
        assert "press Ctrl-C to stop them" in out, out
        daemon = json.loads(tuples(db, "SELECT value FROM meta WHERE key = 'heartbeat'")[0][0])["pid"]
        # The next crawl round (every 20 s in the demo): stop the demo the moment its first crawl starts.
        assert wait_until(lambda: _crawl_children(daemon), timeout=120, step=0.01), "no crawl round started"
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, rest + err
    assert "stopped (daemon exit 0)" in rest and "Traceback" not in rest + err
    log = (tmp_path / "demo" / "daemon.log").read_text("utf-8")
    assert "Traceback" not in log and "KeyboardInterrupt" not in log, log[-3000:]
    assert " WARNING " not in log and " ERROR " not in log, log[-3000:]
    bad = tuples(
        db,
        "SELECT id, finish_reason, stats FROM runs WHERE finish_reason IS NULL OR finish_reason IN ('failed', 'died')",
    )
    assert not bad, bad
    assert not list((tmp_path / "demo").glob("*.lock"))
    crawls = tuples(db, "SELECT count(*) FROM runs WHERE kind = 'crawl'")[0][0]
    doubled = tuples(db, "SELECT count(*) - count(DISTINCT coalesce(post_id, canonical_url)) FROM posts")[0][0]
    record(
        "25 demo stopped as a crawl round starts",
        runs=crawls,
        posts=tuples(db, "SELECT count(*) FROM posts")[0][0],
        faults=1,
        lost=0,
        doubled=doubled,
    )


#: Every demo post's status, post by post (the fisheries and sanctions stories are relations coverage; a
#: recipe, a volleyball result, fireworks and a walk in Tokyo are not).
DEMO_STATUSES = {
    "ロシアが平和条約交渉を中断 根室の人たちの声": "new",
    "ビザなし交流で国後島へ 三日間の記録": "new",
    "東京・谷中を歩く 坂と路地と猫の町": "off_topic",
    "Moscow walks away from peace treaty talks with Tokyo": "new",
    "Salmon quota talks end late again": "new",
    "Russia beat Japan in four sets, and it was closer than it sounds": "off_topic",
    "Singapore: Abe and Putin go back to 1956": "new",
    "What Russia wants from its dialogue with Japan (repost, with notes)": "copy",
    "Tag der Nördlichen Territorien: Tokio hält an den Kurilen fest": "new",
    "Russia suspends treaty negotiations, blames Japanese sanctions": "duplicate",
    "What Russia Wants From Its Dialogue With Japan": "copy",
    "Безвизовым обменам с Японией пришёл конец": "new",
    "Рыбаки Хоккайдо остались без соглашения 1998 года": "new",
    "Пельмени по-семейному: рецепт моей бабушки": "off_topic",
    "Путин предложил Абэ подписать мирный договор без предварительных условий": "new",
    "Sumida River fireworks draw a record crowd": "off_topic",
    "Tokyo widens its export blacklist for Russian companies": "new",
    "Hokkaido kelp crews wait on Moscow as the season nears": "new",
    "Sanciones, gas y pescado: el año en que Tokio y Moscú dejaron de hablarse": "new",
    "Abe en Moscú: otra cumbre sin fecha para el tratado de paz": "new",
    "Lo que Rusia espera del diálogo con Japón, en dos párrafos": "excerpt",
    "(02) What Russia Wants From Its Dialogue With Japan": "excerpt",
    "Rusia y Japón cierran in extremis el acuerdo anual del salmón": "new",
    "From the archive: what Russia wanted from Japan in 2017": "copy",
}


def test_every_demo_post_gets_the_status_it_should(finished):
    tmp, result, _ = finished
    assert result.returncode == 0, result.stdout + result.stderr
    got = dict(tuples(tmp / "demo" / "rjwatch.db", "SELECT title, status FROM posts"))
    wrong = {t: (got.get(t), want) for t, want in DEMO_STATUSES.items() if got.get(t) != want}
    assert not wrong, wrong
    assert set(got) == set(DEMO_STATUSES)
