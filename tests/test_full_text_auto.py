"""Summary-only feed entries are judged on their full text by default (`full_text = "auto"`).

A real poll against a feed served on 127.0.0.1 whose entries are teasers cut with an ellipsis: the page of
the teaser that names the topic is fetched and the post judged on it; the page of an off-topic teaser is
not fetched; `--no-full-text` fetches nothing and the posts say they were judged on a summary only.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import run_cli
from storage.db import connect

TEASER_A = "Tokyo summoned the Russian ambassador on Monday after the drills, and Moscow answered with …"
PAGE_A = (
    "<html><head><title>Japan protests Russian drills on the disputed islands</title></head><body>"
    "<article><h1>Japan protests Russian drills on the disputed islands</h1>"
    "<p>Tokyo summoned the Russian ambassador on Monday after the drills, and Moscow answered with a "
    "statement of its own.</p><p>Japan's foreign ministry said the exercises on Kunashir and Iturup were "
    "unacceptable and lodged a formal protest over the Northern Territories.</p><p>Russia's foreign "
    "ministry rejected the protest and said the islands are Russian territory under the post-war "
    "settlement; the peace treaty talks remain frozen.</p></article></body></html>"
)
TEASER_B = "Our grandmother's recipe for a slow pork broth needs patience, bones and …"
PAGE_B = "<html><body><article><p>Simmer the bones for twelve hours.</p></article></body></html>"


class _Site(BaseHTTPRequestHandler):
    hits: list[str] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).hits.append(self.path)
        base = f"http://127.0.0.1:{self.server.server_port}"
        if self.path == "/feed.xml":
            body = (
                f"<?xml version='1.0'?><rss version='2.0'><channel><title>Wire</title><link>{base}/</link>"
                f"<item><title>Japan and Russia trade words</title><link>{base}/a.html</link><guid>{base}/a.html</guid>"
                f"<description>{TEASER_A}</description></item>"
                f"<item><title>Pork broth</title><link>{base}/b.html</link><guid>{base}/b.html</guid>"
                f"<description>{TEASER_B}</description></item></channel></rss>"
            ).encode()
            ctype = "application/rss+xml"
        elif self.path in ("/a.html", "/b.html"):
            body, ctype = (PAGE_A if self.path == "/a.html" else PAGE_B).encode(), "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def site():
    _Site.hits = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    srv.server_close()


def _posts(db_path) -> dict:
    db = connect(db_path)
    try:
        return {r["url"].rsplit("/", 1)[1]: r for r in db.query("SELECT url, status, summary_only, text FROM posts")}
    finally:
        db.conn.close()


def test_a_teaser_on_the_topic_is_judged_on_its_page_by_default(db_path, site):
    assert run_cli("--db", str(db_path), "source", "add", f"{site}/feed.xml", "--kind", "feed").exit_code == 0
    assert run_cli("--db", str(db_path), "poll", "--all").exit_code == 0
    assert "/a.html" in _Site.hits and "/b.html" not in _Site.hits
    posts = _posts(db_path)
    assert posts["a.html"]["summary_only"] == 0 and "Northern Territories" in posts["a.html"]["text"]
    assert posts["a.html"]["status"] == "new"
    assert posts["b.html"]["status"] == "off_topic"


def test_without_full_text_the_post_says_it_was_judged_on_a_summary(db_path, site):
    assert (
        run_cli("--db", str(db_path), "source", "add", f"{site}/feed.xml", "--kind", "feed", "--no-full-text").exit_code
        == 0
    )
    assert run_cli("--db", str(db_path), "poll", "--all").exit_code == 0
    assert not any(h.endswith(".html") for h in _Site.hits)
    rows = json.loads(
        run_cli("--db", str(db_path), "posts", "--format", "json", "--columns", "id,summary_only,flags").output
    )
    assert all(r["summary_only"] == 1 and "summary_only" in r["flags"] for r in rows)
    shown = run_cli("--db", str(db_path), "show", str(rows[0]["id"])).output
    assert "judged on a feed summary only" in shown
