"""A saved or fetched page's publication date comes from what the page states (its metadata, a
`<time datetime>`, a full date in its URL, an explicit "Posted on ..." line in one of the profile's
languages), never from numbers in its text; a page without one is stored without a date, and `show`
and `classify` say so.

Pages served on 127.0.0.1, read by the real `rjwatch classify` and `rjwatch ingest`.
"""

from __future__ import annotations

import json

import pytest

from helpers import one_line_error, q, run_cli
from judge.dates import UNDATED
from reliability import StaticSite

#: A relevant text with a date-like number in it (the memo's date, not the page's).
BODY = (
    "<p>Tokyo and Moscow agreed to resume talks about the Kuril Islands and a peace treaty, officials said. "
    "The 1956 declaration was mentioned again, and a 2014-01-01 memo on fishing quotas near Etorofu was "
    "cited by the foreign ministry.</p>"
    "<p>The Northern Territories dispute has kept Russia and Japan from signing a peace treaty since 1945. "
    "Lavrov and Kamikawa met in Moscow to discuss visa-free visits to Kunashir and Iturup.</p>"
)


def page(extra_body: str = "", head: str = "") -> bytes:
    return (
        f"<html><head><title>Kuril talks resume</title>{head}</head><body>"
        f"<h1>Kuril talks resume between Russia and Japan</h1>{extra_body}{BODY}</body></html>"
    ).encode()


@pytest.fixture
def site(served):
    static = StaticSite()
    srv = served(static)
    return static, srv.base_url


def classify(db_path, url: str) -> dict:
    result = run_cli("--db", str(db_path), "classify", url, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_an_undated_page_gets_no_date_from_numbers_in_its_text(db_path, site):
    static, base = site
    static.put("/kuril-talks.html", page())
    url = f"{base}/kuril-talks.html"

    assert classify(db_path, url)["published"] is None
    text = run_cli("--db", str(db_path), "classify", url).stdout
    assert f"  published:  {UNDATED}   lang: en" in text.splitlines()

    stored = run_cli("--db", str(db_path), "ingest", url)
    assert stored.exit_code == 0, stored.output
    post_id = q(db_path, "SELECT id FROM posts")
    assert q(db_path, "SELECT published FROM posts WHERE id = ?", post_id) is None
    shown = run_cli("--db", str(db_path), "show", str(post_id)).stdout
    assert any(ln.startswith(f"  published:   {UNDATED}   first seen: ") for ln in shown.splitlines()), shown


@pytest.mark.parametrize(
    "line",
    [
        "Posted on March 5, 2017 by Ivan",
        "Published: 5 March 2017",
        "Опубликовано: 5 марта 2017, 10:00",
        "投稿日：2017年3月5日",
        "Publié le 5 mars 2017",
        "Veröffentlicht am 5. März 2017",
        "Publicado el 5 de marzo de 2017",
        "发布时间：2017年3月5日",
        "작성일: 2017년 3월 5일",
    ],
)
def test_an_explicit_date_line_is_trusted(db_path, site, line):
    static, base = site
    static.put("/dated.html", page(f'<div class="byline">{line}</div>'))
    assert classify(db_path, f"{base}/dated.html")["published"] == "2017-03-05"


@pytest.mark.parametrize(
    ("path", "head", "body", "expected"),
    [
        (
            "/a.html",
            '<meta property="article:published_time" content="2017-03-05T10:00:00+00:00">',
            "",
            "2017-03-05T10:00:00+00:00",
        ),
        ("/b.html", '<meta name="date" content="2017-03-05">', "", "2017-03-05"),
        ("/c.html", "", '<p><time datetime="2017-03-05">Sunday</time></p>', "2017-03-05"),
        ("/news/2017/03/05/kuril.html", "", "", "2017-03-05"),
        ("/2017/03/kuril.html", "", "", None),  # a year and a month are no date
        ("/d.html", "", "<p>Issue 2014-01-01 of the bulletin</p>", None),  # a number, not a date line
    ],
)
def test_metadata_time_elements_and_the_url_are_trusted(db_path, site, path, head, body, expected):
    static, base = site
    static.put(path, page(body, head))
    assert classify(db_path, f"{base}{path}")["published"] == expected


def test_a_bad_url_is_still_one_line(db_path):
    one_line_error(run_cli("--db", str(db_path), "classify", "notaurl"), "notaurl")
