"""Re-checking stored copies (crawler.recheck): pages that disappear or change, on a real local site.

A small site on 127.0.0.1 serves a feed whose entry copies the seed, and the entry's page; the copy is
collected by a real `rjwatch poll`, then the page is taken down, edited or made to fail, and the real
`rjwatch recheck` (or the real daemon's `recheck` job) looks at it again. Alerts go through real Apprise
to the local webhook receiver.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crawler import schedule
from helpers import SEED, job_record, one_line_error, q, relevant_articles, rows, run_cli, wait_job_passes, wait_until
from receiver import Receiver
from reliability import Daemon, record, write_config
from storage.db import connect

#: Longest a hanging page holds its answer (far beyond the 1 s fetch timeout the tests set).
HANG_S = 20.0


class CopySite:
    """A site on 127.0.0.1: /feed.xml (one entry per post, its full text) and each post's page, whose
    answer the test changes: `pages[path] = text` (200), `gone[path] = 404|410`, `fail[path] = 503`,
    `hang` (a path whose answer never comes in time). Every request is recorded in `hits`."""

    def __init__(self, port: int = 0):
        self.pages: dict[str, tuple[str, str]] = {}
        self.gone: dict[str, int] = {}
        self.fail: dict[str, int] = {}
        self.hang: set[str] = set()
        self.hits: list[str] = []
        self.release = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.hits.append(self.path)
                path = self.path.split("?", 1)[0]
                if path == "/feed.xml":
                    return self._send(200, "application/rss+xml", site.feed())
                if path in site.hang:
                    site.release.wait(HANG_S)
                    return self._send(503, "text/plain", b"late")
                if path in site.fail:
                    return self._send(site.fail[path], "text/plain", b"server error")
                if path in site.gone:
                    return self._send(site.gone[path], "text/html", b"<html><body>Not found</body></html>")
                if path in site.pages:
                    title, text = site.pages[path]
                    return self._send(200, "text/html; charset=utf-8", page_html(title, text))
                return self._send(404, "text/plain", b"no such page")

            def _send(self, status, ctype, body: bytes):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>{escape(title)}</title><link>{self.base}{path}</link><guid>{self.base}{path}</guid>"
            f"<pubDate>Mon, 01 Dec 2026 09:00:00 GMT</pubDate>"
            f"<description>{escape(text[:200])}</description>"
            f"<content:encoded>{escape(paragraphs(text))}</content:encoded></item>"
            for path, (title, text) in self.feed_items.items()
        )
        return (
            f'<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Copies</title><link>{self.base}/</link>'
            f"{items}</channel></rss>"
        ).encode()

    def __enter__(self) -> CopySite:
        self.feed_items = dict(self.pages)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in text.split("\n") if p.strip())


def page_html(title: str, text: str) -> bytes:
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
        f"<body><header><nav><a href='/'>Home</a></nav></header><main><article><h1>{escape(title)}</h1>"
        f"{paragraphs(text)}</article></main><footer>© a blog</footer></body></html>"
    ).encode()


SEED_PARAGRAPHS = [p for p in SEED["text"].split("\n") if p.strip()]
OTHER = (
    "Local fishermen in Hokkaido told reporters that the new season had started late because of the weather. "
    "The prefecture plans to support the fleet with fuel subsidies until the spring, a spokesman said."
)


def collect_copy(db_path, site: CopySite, cfg=None, status: str = "copy") -> int:
    """Register the site's feed, poll it (the copy is stored), return the copy's post id."""
    extra = ["--config", str(cfg)] if cfg else []
    res = run_cli("--db", str(db_path), *extra, "source", "add", f"{site.base}/feed.xml", "--kind", "feed")
    assert res.exit_code == 0, res.output
    res = run_cli("--db", str(db_path), *extra, "poll", "--all")
    assert res.exit_code == 0, res.output
    found = rows(db_path, "SELECT id, status FROM posts WHERE url = ?", f"{site.base}/copy.html")
    assert found and found[0]["status"] == status, found
    return found[0]["id"]


def recheck(db_path, *args, cfg=None):
    extra = ["--config", str(cfg)] if cfg else []
    return run_cli("--db", str(db_path), *extra, "recheck", *args)


def fast_config(tmp_path, hook_url: str = "json://127.0.0.1:9/none", **extra):
    return write_config(tmp_path / "rj.toml", hook_url, fetch_timeout=1.0, **extra)


# --- the schedule (pure) ---------------------------------------------------------------------------
def test_schedule_daily_for_a_week_then_weekly_then_none_after_a_month():
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    day = timedelta(days=1)
    slots = schedule.recheck_slots(t0)
    assert [s - t0 for s in slots] == [day * n for n in (1, 2, 3, 4, 5, 6, 7, 14, 21, 28)]
    assert schedule.next_recheck(t0, None) == t0 + day
    assert not schedule.recheck_due(t0, None, t0 + day - timedelta(seconds=1))
    assert schedule.recheck_due(t0, None, t0 + day)
    # checked on day 3: due again on day 4, not before
    assert schedule.next_recheck(t0, t0 + 3 * day + timedelta(hours=1)) == t0 + 4 * day
    # after the daily week: weekly
    assert schedule.next_recheck(t0, t0 + 7 * day + timedelta(minutes=5)) == t0 + 14 * day
    assert not schedule.recheck_due(t0, t0 + 8 * day, t0 + 13 * day)
    # a daemon down for days: one check catches up, not one per missed slot
    assert schedule.recheck_due(t0, t0 + day, t0 + 10 * day)
    assert schedule.next_recheck(t0, t0 + 10 * day) == t0 + 14 * day
    # after a month: no more checks
    assert schedule.next_recheck(t0, t0 + 28 * day) is None
    assert not schedule.recheck_due(t0, t0 + 28 * day, t0 + 60 * day)
    assert schedule.archive_retry_wait(1, 3600) == 3600
    assert schedule.archive_retry_wait(3, 3600) == 4 * 3600
    assert schedule.archive_retry_wait(50, 3600) == schedule.ARCHIVE_MAX_RETRY_S


# --- removed, revised, small edits ------------------------------------------------------------------
@pytest.mark.slow
def test_a_removed_copy_is_marked_once_alerted_once_and_keeps_its_text(db_path, tmp_path):
    site = CopySite()
    site.pages["/copy.html"] = (SEED["title"], SEED["text"])
    with site, Receiver() as rx:
        cfg = fast_config(tmp_path, rx.url)
        pid = collect_copy(db_path, site, cfg)
        text_before = q(db_path, "SELECT text FROM posts WHERE id = ?", pid)

        res = recheck(db_path, "--all", cfg=cfg)
        assert res.exit_code == 0, res.output
        assert "checked 1, removed 0, revised 0, failed 0" in res.stdout
        assert q(db_path, "SELECT page_state FROM posts WHERE id = ?", pid) == "live"

        site.gone["/copy.html"] = 404
        for _ in range(3):  # checked again and again: still one removal, one alert
            res = recheck(db_path, "--all", cfg=cfg)
            assert res.exit_code == 0, res.output
        assert q(db_path, "SELECT page_state FROM posts WHERE id = ?", pid) == "removed"
        assert q(db_path, "SELECT text FROM posts WHERE id = ?", pid) == text_before
        assert q(db_path, "SELECT status FROM posts WHERE id = ?", pid) == "copy"
        assert q(db_path, "SELECT count(*) FROM alerts WHERE kind = 'copy_removed'") == 1
        # the evidence: the page as first kept, and the 404 answer that removed it, both still readable
        kept = rows(db_path, "SELECT reason, http_status FROM evidence WHERE post_id = ? ORDER BY id", pid)
        assert [(r["reason"], r["http_status"]) for r in kept][-2:] == [("first", 200), ("removed", 404)], kept
        first = run_cli("--db", str(db_path), "evidence", str(pid), "--record", str(len(kept) - 1), "--out", "-")
        assert first.exit_code == 0, first.output
        assert SEED_PARAGRAPHS[0][:60] in first.stdout

        # a daemon (started twice) delivers it once, through real Apprise
        for _ in range(2):
            d = Daemon(db_path, cfg).start()
            try:
                assert wait_job_passes(db_path, "alerts", 2)
            finally:
                assert d.stop() == 0
        removed = [r for r in rx.delivered() if r["payload"]["title"].startswith("[copy removed]")]
        assert len(removed) == 1, rx.delivered()
        assert "HTTP 404" in removed[0]["payload"]["message"]

        listed = run_cli("--db", str(db_path), "copies", "--removed", "--format", "json")
        assert listed.exit_code == 0, listed.output
        out = json.loads(listed.stdout)
        assert [r["id"] for r in out] == [pid] and out[0]["page"].startswith("removed 20")
        shown = run_cli("--db", str(db_path), "show", str(pid))
        assert "page:        removed" in shown.stdout and "404" in shown.stdout

        # the page comes back: live again; a second removal later alerts again, under a new key
        site.gone.clear()
        recheck(db_path, str(pid), cfg=cfg)
        assert q(db_path, "SELECT page_state FROM posts WHERE id = ?", pid) == "live"
        assert json.loads(run_cli("--db", str(db_path), "copies", "--removed", "--format", "json").stdout) == []
        site.gone["/copy.html"] = 410
        recheck(db_path, str(pid), cfg=cfg)
        keys = [r["key"] for r in rows(db_path, "SELECT key FROM alerts WHERE kind = 'copy_removed' ORDER BY id")]
        assert keys == [f"copy-removed-{pid}-1", f"copy-removed-{pid}-2"]


def test_a_substantially_edited_copy_is_revised_once_with_the_earlier_text_kept(db_path, tmp_path):
    site = CopySite()
    site.pages["/copy.html"] = (SEED["title"], SEED["text"])
    with site:
        cfg = fast_config(tmp_path)
        pid = collect_copy(db_path, site, cfg)
        original = q(db_path, "SELECT text FROM posts WHERE id = ?", pid)
        # the blogger cut the copied article down to its first paragraph and wrote about something else
        site.pages["/copy.html"] = (SEED["title"], SEED_PARAGRAPHS[0] + "\n" + OTHER)
        for _ in range(2):
            res = recheck(db_path, "--all", cfg=cfg)
            assert res.exit_code == 0, res.output
        assert q(db_path, "SELECT page_state FROM posts WHERE id = ?", pid) == "revised"
        assert q(db_path, "SELECT count(*) FROM revisions WHERE post_id = ?", pid) == 1
        assert q(db_path, "SELECT text FROM revisions WHERE post_id = ?", pid) == original
        assert q(db_path, "SELECT status FROM revisions WHERE post_id = ?", pid) == "copy"
        assert OTHER.split(".")[0] in q(db_path, "SELECT text FROM posts WHERE id = ?", pid)
        # both versions' pages are kept as WARC evidence
        kept = [r["reason"] for r in rows(db_path, "SELECT reason FROM evidence WHERE post_id = ? ORDER BY id", pid)]
        assert kept[-2:] == ["first", "revised"], kept
        now = run_cli("--db", str(db_path), "evidence", str(pid), "--record", str(len(kept)), "--out", "-")
        assert now.exit_code == 0 and OTHER.split(".")[0] in now.stdout, now.output
        alerts = rows(db_path, "SELECT key, payload FROM alerts WHERE kind = 'copy_revised'")
        assert [a["key"] for a in alerts] == [f"copy-revised-{pid}-2"]
        shown = run_cli("--db", str(db_path), "show", str(pid)).stdout
        assert "page:        revised" in shown and "r1 replaced" in shown


def test_an_excerpt_whose_seed_passage_is_cut_is_revised_though_most_text_stays(db_path, tmp_path):
    filler = "\n".join(a["text"] for a in relevant_articles(3))
    site = CopySite()
    site.pages["/copy.html"] = ("Notes on the talks", filler + "\n" + "\n".join(SEED_PARAGRAPHS[2:4]))
    with site:
        cfg = fast_config(tmp_path)
        pid = collect_copy(db_path, site, cfg, status="excerpt")
        site.pages["/copy.html"] = ("Notes on the talks", filler)  # ~93% of the text stays, not the seed's part
        res = recheck(db_path, "--all", cfg=cfg)
        assert res.exit_code == 0 and "revised 1" in res.stdout, res.output
    assert q(db_path, "SELECT page_state FROM posts WHERE id = ?", pid) == "revised"
    assert q(db_path, "SELECT status FROM revisions WHERE post_id = ?", pid) == "excerpt"
    assert q(db_path, "SELECT status FROM posts WHERE id = ?", pid) == "new"
    why = json.loads(q(db_path, "SELECT payload FROM alerts WHERE kind = 'copy_revised'"))["why"]
    assert why.startswith("the seed comparison now says new, not excerpt"), why


def test_a_small_edit_changes_nothing_but_the_check(db_path, tmp_path):
    site = CopySite()
    site.pages["/copy.html"] = (SEED["title"], SEED["text"])
    with site:
        cfg = fast_config(tmp_path)
        pid = collect_copy(db_path, site, cfg)
        text = q(db_path, "SELECT text FROM posts WHERE id = ?", pid)
        edited = SEED["text"].replace(SEED_PARAGRAPHS[-1], SEED_PARAGRAPHS[-1] + " (Updated.)", 1)
        site.pages["/copy.html"] = (SEED["title"], edited)
        res = recheck(db_path, "--all", cfg=cfg)
        assert res.exit_code == 0 and "revised 0" in res.stdout, res.output
        assert q(db_path, "SELECT text FROM posts WHERE id = ?", pid) == text
        assert q(db_path, "SELECT count(*) FROM revisions") == 0
        assert q(db_path, "SELECT count(*) FROM alerts WHERE kind LIKE 'copy_%'") == 0
        assert q(db_path, "SELECT count(*) FROM page_checks WHERE post_id = ?", pid) == 1


# --- failures never remove (reliability 34) ---------------------------------------------------------
@pytest.mark.reliability
@pytest.mark.slow
def test_5xx_and_timeouts_are_failed_checks_and_never_remove(db_path, tmp_path):
    site = CopySite()
    site.pages["/copy.html"] = (SEED["title"], SEED["text"])
    with site:
        cfg = fast_config(tmp_path)
        pid = collect_copy(db_path, site, cfg)
        faults = 0
        for fault in ("503", "500", "hang"):
            site.fail.clear()
            site.hang.clear()
            if fault == "hang":
                site.hang.add("/copy.html")
            else:
                site.fail["/copy.html"] = int(fault)
            res = recheck(db_path, str(pid), cfg=cfg)
            faults += 1
            assert res.exit_code != 0 and "failed 1" in res.stdout, (fault, res.output)
            assert q(db_path, "SELECT page_state FROM posts WHERE id = ?", pid) is None, fault
        site.release.set()
        port = site.httpd.server_address[1]
    # the whole site is down (connection refused): a failed check too
    res = recheck(db_path, str(pid), cfg=cfg)
    faults += 1
    assert res.exit_code != 0 and "failed 1" in res.stdout, res.output
    assert q(db_path, "SELECT page_state FROM posts WHERE id = ?", pid) is None
    checks = rows(db_path, "SELECT outcome, http_status, detail FROM page_checks WHERE post_id = ? ORDER BY id", pid)
    assert [c["outcome"] for c in checks] == ["failed"] * 4
    assert [c["http_status"] for c in checks] == [503, 500, None, None]
    assert "timed out" in checks[2]["detail"] and "refused" in checks[3]["detail"]
    back = CopySite(port)
    back.pages["/copy.html"] = (SEED["title"], SEED["text"])
    with back:
        res = recheck(db_path, str(pid), cfg=cfg)  # the next check succeeds
        assert res.exit_code == 0 and "failed 0" in res.stdout, res.output
    assert q(db_path, "SELECT page_state FROM posts WHERE id = ?", pid) == "live"
    assert q(db_path, "SELECT count(*) FROM alerts WHERE kind LIKE 'copy_%'") == 0
    assert q(db_path, "SELECT count(*) FROM revisions") == 0
    record(
        "34 copy re-check: 5xx, timeouts and refused connections never mark a copy removed",
        runs=5,
        posts=1,
        faults=faults,
        lost=0,
        doubled=0,
    )


# --- the daemon's job ------------------------------------------------------------------------------
def backdate(db_path, post_id: int, days: int) -> None:
    """Test set-up: the post was first seen `days` ago (its first checks are due)."""
    db = connect(db_path)
    then = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
    db.execute("UPDATE posts SET first_seen = ? WHERE id = ?", (then, post_id))
    db.conn.close()


@pytest.mark.slow
def test_the_daemon_checks_the_copies_that_are_due_once_per_slot(db_path, tmp_path):
    site = CopySite()
    site.pages["/copy.html"] = (SEED["title"], SEED["text"])
    site.pages["/fresh.html"] = (SEED["title"] + " (again)", SEED["text"] + "\n" + OTHER)
    with site, Receiver() as rx:
        cfg = fast_config(tmp_path, rx.url, recheck_tick="1s")
        pid = collect_copy(db_path, site, cfg)
        fresh = q(db_path, "SELECT id FROM posts WHERE url = ?", f"{site.base}/fresh.html")
        assert q(db_path, "SELECT status FROM posts WHERE id = ?", fresh) == "copy"
        backdate(db_path, pid, days=2)  # due (its day-1 check); the fresh copy is not due for a day
        site.gone["/copy.html"] = 404
        site.gone["/fresh.html"] = 404  # a check of the fresh copy would find it gone: none must happen
        d = Daemon(db_path, cfg).start()
        try:
            assert wait_until(lambda: any("[copy removed]" in r["payload"]["title"] for r in rx.delivered()))
            assert wait_job_passes(db_path, "recheck", 3)  # later passes find nothing due
        finally:
            assert d.stop() == 0
        assert q(db_path, "SELECT count(*) FROM page_checks WHERE post_id = ?", pid) == 1
        assert q(db_path, "SELECT count(*) FROM page_checks WHERE post_id = ?", fresh) == 0
        assert site.hits.count("/copy.html") == 1 and "/fresh.html" not in site.hits
        assert q(db_path, "SELECT page_state FROM posts WHERE id = ?", fresh) is None
        next_check = q(db_path, "SELECT next_check FROM page_checks WHERE post_id = ?", pid)
        assert datetime.fromisoformat(next_check) > datetime.now(UTC)  # the day-3 slot
        removed = [r for r in rx.delivered() if "[copy removed]" in r["payload"]["title"]]
        assert len(removed) == 1
        assert job_record(db_path, "recheck")["outcome"] == "ok"


#: Longest a stopping daemon may take while a re-check waits on a silent page: far below the 60 s the
#: fetch itself could last (30 s timeout, twice), so only a fetch ended by the stop passes.
STOP_WITHIN_S = 20


@pytest.mark.slow
def test_a_stopping_daemon_ends_a_hanging_check_and_records_nothing(db_path, tmp_path):
    site = CopySite()
    site.pages["/copy.html"] = (SEED["title"], SEED["text"])
    with site, Receiver() as rx:
        cfg = write_config(tmp_path / "rj.toml", rx.url, recheck_tick="1s", fetch_timeout=30.0)
        pid = collect_copy(db_path, site, cfg)
        backdate(db_path, pid, days=2)
        site.hang.add("/copy.html")
        d = Daemon(db_path, cfg).start()
        try:
            assert wait_until(lambda: "/copy.html" in site.hits)  # the check is waiting on the page
        finally:
            started = time.monotonic()
            assert d.stop() == 0
        assert time.monotonic() - started < STOP_WITHIN_S
        assert q(db_path, "SELECT count(*) FROM page_checks") == 0  # cut short by the stop: still due
        assert q(db_path, "SELECT page_state FROM posts WHERE id = ?", pid) is None


# --- the web archive (reliability 35) ----------------------------------------------------------------
class FakeArchive:
    """A web archive's save endpoint on 127.0.0.1: records every request; fails the first `fail_first`
    with 503, then answers 200 with a Content-Location naming the snapshot."""

    def __init__(self, fail_first: int = 1):
        self.requests: list[str] = []
        archive = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                archive.requests.append(self.path)
                failed = len(archive.requests) <= fail_first
                self.send_response(503 if failed else 200)
                if not failed:
                    self.send_header("Content-Location", "/web/20261205000000/" + self.path.split("/save/", 1)[-1])
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def save_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/save/"

    def __enter__(self) -> FakeArchive:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.reliability
@pytest.mark.slow
def test_archive_submit_retries_a_failing_endpoint_and_submits_each_copy_once(db_path, tmp_path):
    site = CopySite()
    site.pages["/copy.html"] = (SEED["title"], SEED["text"])
    with site, FakeArchive(fail_first=1) as archive:
        cfg = fast_config(tmp_path, archive_submit_url=archive.save_url, archive_retry="1s")
        pid = collect_copy(db_path, site, cfg)
        res = recheck(db_path, cfg=cfg)
        assert res.exit_code == 0 and "archived 0, archive failed 1" in res.stdout, res.output
        sub = rows(db_path, "SELECT * FROM archive_submissions WHERE post_id = ?", pid)[0]
        assert sub["archived_at"] is None and sub["http_status"] == 503 and sub["next_attempt_at"]
        runs = 1

        def archived() -> bool:
            nonlocal runs
            runs += 1
            return "archived 1" in recheck(db_path, cfg=cfg).stdout

        assert wait_until(archived)  # once the back-off has passed, the retry goes through
        for _ in range(2):  # accepted: never submitted again
            assert "archived 0, archive failed 0" in recheck(db_path, cfg=cfg).stdout
            runs += 1
        sub = rows(db_path, "SELECT * FROM archive_submissions WHERE post_id = ?", pid)[0]
        assert sub["archived_at"] and sub["http_status"] == 200 and sub["attempts"] == 2
        assert sub["location"] == f"/web/20261205000000/{site.base}/copy.html"
        assert archive.requests == [f"/save/{site.base}/copy.html"] * 2
        shown = run_cli("--db", str(db_path), "show", str(pid)).stdout
        assert "web archive: archived" in shown
    record(
        "35 web-archive submit: an endpoint failing first, then accepting, gets each copy once",
        runs=runs,
        posts=1,
        faults=1,
        lost=0,
        doubled=len(archive.requests) - 2,
    )


def test_archive_submit_is_off_by_default(db_path, tmp_path):
    site = CopySite()
    site.pages["/copy.html"] = (SEED["title"], SEED["text"])
    with site:
        cfg = fast_config(tmp_path)
        collect_copy(db_path, site, cfg)
        res = recheck(db_path, cfg=cfg)
        assert res.exit_code == 0 and "archived" not in res.stdout, res.output
    assert q(db_path, "SELECT count(*) FROM archive_submissions") == 0


def test_bad_recheck_input_is_one_line_error(db_path, tmp_path):
    res = run_cli("--db", str(db_path), "recheck", "999")
    one_line_error(res, "no post #999")
    bad = tmp_path / "bad.toml"
    bad.write_text('archive_submit_url = "ftp://example.org/save/"\nrecheck_statuses = ["copy"]\n')
    one_line_error(run_cli("--db", str(db_path), "--config", str(bad), "recheck"), "archive_submit_url")
    bad.write_text('recheck_statuses = ["copy", "copies"]\n')
    one_line_error(run_cli("--db", str(db_path), "--config", str(bad), "recheck"), "recheck_statuses")


def test_a_copy_on_a_private_address_is_refused_before_any_connection(db_path):
    from storage.ingest import ingest

    db = connect(db_path)
    # a copy stored from a file (no source): its URL points into a private network
    out = ingest(db, {"url": "http://10.20.30.40/copy.html", "title": SEED["title"], "text": SEED["text"]})
    db.conn.close()
    assert out.status == "copy"
    res = recheck(db_path, str(out.post_id))
    assert res.exit_code != 0 and "failed 1" in res.stdout, res.output
    check = rows(db_path, "SELECT outcome, http_status, detail FROM page_checks")[0]
    assert check["outcome"] == "failed" and check["http_status"] is None
    assert "private, loopback or link-local address" in check["detail"]
    assert q(db_path, "SELECT page_state FROM posts WHERE id = ?", out.post_id) is None
