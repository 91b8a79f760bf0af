"""WARC evidence: the raw responses of kept posts, in one gzip WARC file per day beside the database.

Real `rjwatch poll` of a feed served on 127.0.0.1 (teasers whose pages are fetched, a full entry whose
evidence is the feed response itself, an off-topic teaser), a real Scrapy crawl of a demo blog, and
real writer processes appending to one day file at once or killed mid-append. The files are read with
warcio's ArchiveIterator and must hold exactly the records `rjwatch show` names.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import urllib.request
import zlib
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers import ARTICLE, FAST, REPO, one_line_error, q, relevant_articles, rows, run_cli, wait_until
from reliability import record
from rjwatch.demo.site import Post, build_blog
from storage import evidence as ev

TEASER_A = "Tokyo summoned the Russian ambassador on Monday after the drills, and Moscow answered with …"
PAGE_A = (
    b"<html><head><title>Japan protests Russian drills on the disputed islands</title></head><body>"
    b"<article><h1>Japan protests Russian drills on the disputed islands</h1>"
    b"<p>Tokyo summoned the Russian ambassador on Monday after the drills, and Moscow answered with a "
    b"statement of its own.</p><p>Japan's foreign ministry said the exercises on Kunashir and Iturup were "
    b"unacceptable and lodged a formal protest over the Northern Territories.</p><p>Russia's foreign "
    b"ministry rejected the protest and said the islands are Russian territory under the post-war "
    b"settlement; the peace treaty talks remain frozen.</p></article></body></html>"
)
TEASER_B = "Our grandmother's recipe for a slow pork broth needs patience, bones and …"


class _Site(BaseHTTPRequestHandler):
    """A feed of three entries: a teaser of the topic (its page is fetched), a full entry of the topic
    (the feed is its evidence) and an off-topic teaser (kept as off_topic: no evidence)."""

    sent: dict[str, bytes] = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        base = f"http://127.0.0.1:{self.server.server_port}"
        if self.path == "/feed.xml":
            body = (
                f"<?xml version='1.0'?><rss version='2.0'><channel><title>Wire</title><link>{base}/</link>"
                f"<item><title>Japan and Russia trade words</title><link>{base}/a.html</link>"
                f"<guid>{base}/a.html</guid><description>{TEASER_A}</description></item>"
                f"<item><title>Peace treaty talks resume in Moscow</title><link>{base}/full.html</link>"
                f"<guid>{base}/full.html</guid><description>{ARTICLE}</description></item>"
                f"<item><title>Pork broth</title><link>{base}/b.html</link><guid>{base}/b.html</guid>"
                f"<description>{TEASER_B}</description></item></channel></rss>"
            ).encode()
            ctype = "application/rss+xml"
        elif self.path == "/a.html":
            body, ctype = PAGE_A, "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        type(self).sent[self.path] = body
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("X-Served-By", "evidence-test")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def site():
    _Site.sent = {}
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    srv.server_close()


def cli(db_path, *args):
    return run_cli("--db", str(db_path), *args)


def polled(db_path, site) -> dict[str, dict]:
    assert cli(db_path, "source", "add", f"{site}/feed.xml", "--kind", "feed").exit_code == 0
    res = cli(db_path, "poll", "--all")
    assert res.exit_code == 0, res.output
    return {r["url"].rsplit("/", 1)[1]: r for r in rows(db_path, "SELECT id, url, status FROM posts")}


def warc_records(path: Path) -> list[dict]:
    """Every record of a WARC file as warcio's reader sees it (offset, type, id, digests, payload)."""
    from warcio.archiveiterator import ArchiveIterator

    out = []
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        for rec in it:
            payload = rec.raw_stream.read()
            out.append(
                {
                    "offset": it.get_record_offset(),
                    "type": rec.rec_type,
                    "id": rec.rec_headers.get_header("WARC-Record-ID"),
                    "uri": rec.rec_headers.get_header("WARC-Target-URI"),
                    "payload_digest": rec.rec_headers.get_header("WARC-Payload-Digest"),
                    "block_digest": rec.rec_headers.get_header("WARC-Block-Digest"),
                    "sha256": hashlib.sha256(payload).hexdigest(),
                    "length": rec.rec_headers.get_header("Content-Length"),
                }
            )
            out[-1]["member_length"] = it.get_record_length()
    return out


def gzip_members(path: Path, *, whole: bool = True) -> int:
    """How many complete gzip members the file holds; `whole`: and that nothing follows the last one
    (else: -1 when something does, a cut-off member)."""
    data, n = path.read_bytes(), 0
    while data:
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            d.decompress(data)
        except zlib.error:
            assert not whole, f"{path}: a damaged gzip member"
            return -1
        if not d.eof:
            assert not whole, f"{path}: an incomplete gzip member at the end"
            return -1
        data, n = d.unused_data, n + 1
    return n


def test_a_poll_keeps_the_responses_of_kept_posts_as_warc_records(db_path, site, tmp_path):
    posts = polled(db_path, site)
    assert posts["a.html"]["status"] == "new" and posts["full.html"]["status"] == "new"
    assert posts["b.html"]["status"] == "off_topic"
    day = tmp_path / "evidence" / f"rjwatch-{datetime.now(UTC):%Y-%m-%d}.warc.gz"
    assert day.exists()
    found = warc_records(day)
    assert found[0]["type"] == "warcinfo" and found[0]["offset"] == 0
    responses = {r["id"]: r for r in found if r["type"] == "response"}
    assert len(found) == 1 + len(responses) and gzip_members(day) == len(found)
    named = rows(db_path, "SELECT * FROM evidence ORDER BY id")
    # exactly the records `show` names: the page of a.html, and the feed response (full.html's evidence)
    assert {r["record_id"] for r in named} == set(responses)
    assert {r["post_id"] for r in named} == {posts["a.html"]["id"], posts["full.html"]["id"]}
    for row in named:
        rec = responses[row["record_id"]]
        assert row["warc_file"] == f"evidence/{day.name}"
        assert (row["offset"], row["length"]) == (rec["offset"], rec["member_length"])
        assert (row["sha256"], row["payload_digest"], row["block_digest"]) == (
            rec["sha256"],
            rec["payload_digest"],
            rec["block_digest"],
        )
        assert row["http_status"] == 200 and row["reason"] == "first" and row["url"] == rec["uri"]
    page = next(r for r in named if r["post_id"] == posts["a.html"]["id"])
    assert page["sha256"] == hashlib.sha256(_Site.sent["/a.html"]).hexdigest()
    feed = next(r for r in named if r["post_id"] == posts["full.html"]["id"])
    assert feed["url"].endswith("/feed.xml") and feed["sha256"] == hashlib.sha256(_Site.sent["/feed.xml"]).hexdigest()

    shown = cli(db_path, "show", str(posts["a.html"]["id"]))
    assert shown.exit_code == 0
    line = next(ln for ln in shown.stdout.splitlines() if ln.strip().startswith("evidence:"))
    assert f"evidence/{day.name} offset {page['offset']}" in line and page["record_id"] in line
    assert f"sha256 {page['sha256'][:12]}" in line and "HTTP 200" in line
    as_json = json.loads(cli(db_path, "show", str(posts["a.html"]["id"]), "--format", "json").stdout)
    assert [r["record_id"] for r in as_json["evidence_records"]] == [page["record_id"]]
    off = cli(db_path, "show", str(posts["b.html"]["id"]))
    assert "evidence:" not in off.stdout

    out = tmp_path / "out"
    res = cli(db_path, "evidence", str(posts["a.html"]["id"]), "--out", str(out))
    assert res.exit_code == 0, res.output
    pid = posts["a.html"]["id"]
    assert (out / f"post-{pid}-1.html").read_bytes() == _Site.sent["/a.html"]
    headers = (out / f"post-{pid}-1.headers.txt").read_text().lower()
    assert headers.startswith("http/1.1 200 ok") and "x-served-by: evidence-test" in headers
    assert "content-type: text/html; charset=utf-8" in headers and f"content-length: {len(PAGE_A)}" in headers
    res = cli(db_path, "evidence", str(posts["full.html"]["id"]), "--out", "-")
    assert res.exit_code == 0 and res.stdout_bytes == _Site.sent["/feed.xml"]
    res = cli(db_path, "evidence", str(posts["b.html"]["id"]))
    one_line_error(res, "no evidence")


def test_a_second_poll_adds_no_record(db_path, site, tmp_path):
    polled(db_path, site)
    before = q(db_path, "SELECT count(*) FROM evidence")
    assert cli(db_path, "poll", "--all").exit_code == 0
    assert q(db_path, "SELECT count(*) FROM evidence") == before == 2


def test_evidence_can_be_turned_off_or_kept_for_other_statuses(db_path, site, tmp_path):
    (tmp_path / "rjwatch.toml").write_text('evidence_statuses = ["off_topic"]\nevidence_dir = "warc"\n')
    posts = polled(db_path, site)
    named = rows(db_path, "SELECT post_id, warc_file FROM evidence")
    assert [r["post_id"] for r in named] == [posts["b.html"]["id"]]
    assert named[0]["warc_file"].startswith("warc/rjwatch-")
    (tmp_path / "rjwatch.toml").write_text('evidence_statuses = ["newish"]\n')
    one_line_error(cli(db_path, "poll", "--all"), "evidence_statuses")


def test_a_record_that_cannot_be_written_loses_no_post(db_path, site, tmp_path):
    (tmp_path / "blocked").write_text("a file where the evidence folder should be\n")
    (tmp_path / "rjwatch.toml").write_text('evidence_dir = "blocked/warc"\n')
    posts = polled(db_path, site)
    assert posts["a.html"]["status"] == "new" and posts["full.html"]["status"] == "new"
    assert q(db_path, "SELECT count(*) FROM evidence") == 0
    one_line_error(cli(db_path, "evidence", str(posts["a.html"]["id"])), "no evidence")


def test_a_deleted_or_changed_warc_file_is_a_one_line_error(db_path, site, tmp_path):
    pid = polled(db_path, site)["a.html"]["id"]
    row = rows(db_path, "SELECT * FROM evidence WHERE post_id = ?", pid)[0]
    day = tmp_path / row["warc_file"]
    data = bytearray(day.read_bytes())
    good = bytes(data)
    data[row["offset"] + row["length"] // 2] ^= 0xFF  # one flipped bit inside the page's record
    day.write_bytes(bytes(data))
    one_line_error(cli(db_path, "evidence", str(pid), "--out", str(tmp_path / "o")), "damaged")
    assert not (tmp_path / "o" / f"post-{pid}-1.html").exists()
    day.write_bytes(good)
    assert cli(db_path, "evidence", str(pid), "--out", str(tmp_path / "o")).exit_code == 0
    day.unlink()
    one_line_error(cli(db_path, "evidence", str(pid), "--out", "-"), "missing")


@pytest.mark.slow
def test_a_crawl_keeps_the_pages_of_kept_posts(db_path, served, tmp_path):
    blog = build_blog("warc", 9, template="contempo", feed_mode="summary", seed=7)
    for i, art in enumerate(relevant_articles(3)):  # three posts of the topic: kept, with their pages
        body = "".join(f"<p>{para}</p>" for para in art["text"].split("\n") if para.strip())
        blog.publish(
            Post(f"90000000000000000{i}", art["title"], "", datetime(2024, 3, 1 + i, tzinfo=UTC), body_html=body)
        )
    srv = served(blog)
    cmd = [sys.executable, "-m", "rjwatch", "--db", str(db_path), "crawl", "--add", "--source", srv.base_url, *FAST]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=REPO)
    assert res.returncode == 0, res.stderr[-2000:]
    stored = rows(db_path, "SELECT id, url, status FROM posts")
    assert len(stored) == 12
    named = rows(db_path, "SELECT * FROM evidence")
    kept = {p["id"] for p in stored if p["status"] in ("copy", "excerpt", "new")}
    assert {r["post_id"] for r in named} == kept and len(kept) >= 3
    days = sorted((tmp_path / "evidence").glob("rjwatch-*.warc.gz"))
    found = [r for day in days for r in warc_records(day)]
    assert {r["id"] for r in found if r["type"] == "response"} == {r["record_id"] for r in named}
    pages = {}
    for row in named:
        headers, body = ev.read(_db(db_path), row)
        ctype = {k.lower(): v for k, v in headers}["content-type"]
        if row["url"].endswith(".html"):  # the post page its full text came from
            assert ctype.startswith("text/html") and row["reason"] in ("first", "updated")
            pages[row["post_id"]] = row
        else:  # the feed page its summary came from, first
            assert "/feeds/" in row["url"] and ctype.startswith("application/atom+xml") and row["reason"] == "first"
    assert set(pages) == kept
    # a post seen first in the feed, then on its page: two records, numbered oldest first
    two = next(pid for pid in kept if len([r for r in named if r["post_id"] == pid]) == 2)
    one_line_error(cli(db_path, "evidence", str(two), "--out", "-"), "--record")
    res = cli(db_path, "evidence", str(two), "--record", "2", "--out", "-")
    assert res.exit_code == 0 and res.stdout_bytes == urllib.request.urlopen(pages[two]["url"], timeout=10).read()
    one_line_error(cli(db_path, "evidence", str(two), "--record", "3"), "not 3")


def _db(path):
    from storage.db import connect

    return connect(path)


# -- writers at once, and writers killed mid-append ---------------------------------------------------
WRITER = textwrap.dedent(
    """
    import os, sys
    from storage.db import connect
    from storage.evidence import Policy
    from storage.ingest import Ingestor
    from storage.items import RawResponse

    db_path, folder, tag, n, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    ingestor = Ingestor(connect(db_path), evidence_policy=Policy(
        statuses=("copy", "excerpt", "new", "duplicate", "off_topic"), folder=folder))
    i = 0
    while n == 0 or i < n:
        i += 1
        body = os.urandom(size)
        url = f"https://{tag}.example.org/p/{i}.html"
        words = " ".join(body[:400].hex()[k:k + 6] for k in range(0, 800, 6))
        ingestor.ingest({"url": url, "title": f"post {i}", "text": words,
                         "raw_response": RawResponse(url, 200, [("Content-Type", "text/html")], body)})
    """
)


def writer(db_path: Path, folder: Path, tag: str, n: int, size: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path), str(folder), tag, str(n), str(size)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def all_rows_read_back(db_path: Path) -> tuple[int, int]:
    """(rows, rows that fail to read back intact)."""
    db = _db(db_path)
    try:
        named = list(db.query("SELECT * FROM evidence"))
        bad = 0
        for row in named:
            try:
                ev.read(db, row)
            except ev.EvidenceError:
                bad += 1
        return len(named), bad
    finally:
        db.conn.close()


@pytest.mark.slow
def test_two_processes_appending_at_once_leave_a_valid_file(db_path, tmp_path):
    """Two writers (two databases sharing one evidence folder, the file locked per append) at once."""
    other = tmp_path / "other.db"
    assert run_cli("--db", str(other), "init").exit_code == 0
    folder = tmp_path / "shared-warc"
    procs = [writer(db_path, folder, "one", 25, 200_000), writer(other, folder, "two", 25, 200_000)]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err[-2000:]
    days = sorted(folder.glob("rjwatch-*.warc.gz"))
    found = [r for day in days for r in warc_records(day)]
    assert sum(gzip_members(day) for day in days) == len(found)
    assert [r["type"] for r in found].count("warcinfo") == len(days)
    ids = {r["id"] for r in found if r["type"] == "response"}
    assert len(ids) == 50
    for path in (db_path, other):
        named, bad = all_rows_read_back(path)
        assert (named, bad) == (25, 0)
        assert {r["record_id"] for r in rows(path, "SELECT record_id FROM evidence")} <= ids


@pytest.mark.reliability
@pytest.mark.slow
def test_a_writer_killed_mid_append_leaves_a_readable_file_and_no_bad_row(db_path, tmp_path):
    """33: kill -9 a writer while it appends a record; the rows all read back, the next append cuts the
    incomplete tail off, and the file then reads whole with warcio."""
    folder = tmp_path / "warc"
    runs, faults, cut_tails, lost, doubled = 5, 0, 0, 0, 0
    for run in range(runs):
        proc = writer(db_path, folder, f"run{run}", 0, 3_000_000)

        def appending() -> bool:
            # this writer has stored a post (so it has repaired the tail the last kill left), and the
            # file has grown past the last record a committed row names: a record is being appended
            if not q(db_path, "SELECT count(*) FROM evidence WHERE url LIKE ?", f"https://run{run}.%"):
                return False
            named = q(db_path, "SELECT coalesce(max(offset + length), 0) FROM evidence")
            return max(d.stat().st_size for d in folder.glob("rjwatch-*.warc.gz")) > named + 4096

        assert wait_until(lambda: proc.poll() is None and appending(), timeout=60, step=0.01), proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        faults += 1
        day = max(folder.glob("rjwatch-*.warc.gz"))
        if gzip_members(day, whole=False) == -1:
            cut_tails += 1
        named, bad = all_rows_read_back(db_path)
        lost += bad
        assert bad == 0
    # the next writer repairs the tail before appending: the whole file then reads with warcio
    proc = writer(db_path, folder, "after", 1, 1000)
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    for day in folder.glob("rjwatch-*.warc.gz"):
        found = warc_records(day)
        assert gzip_members(day) == len(found)
        for r in found:
            if r["type"] == "response":
                assert int(r["length"]) > 0
    named, bad = all_rows_read_back(db_path)
    assert bad == 0
    # every stored post has its record, and no row outlived its post: the kills left nothing half-written
    assert q(db_path, "SELECT count(*) FROM posts") == named == runs + 1
    doubled = q(db_path, "SELECT count(*) - count(DISTINCT post_id || record_id) FROM evidence")
    assert doubled == 0
    assert cut_tails >= 1, "no kill landed mid-record: the scenario did not test what it should"
    record(
        "33 writer killed mid-append to a WARC evidence file",
        runs=runs + 1,
        posts=named,
        faults=faults,
        lost=lost,
        doubled=doubled,
        cut_tails=cut_tails,
    )
