"""crawler.extract against the project's own page fixtures, and on bad input.

Fixtures: `tests/fixtures/pages/<name>.html`, each with a `<name>.expected.json` sidecar holding
title, published ("YYYY-MM-DD", the blog's local calendar day), author, blog_id, post_id,
canonical_url, lang (and optionally locale: the page locale when it differs from the language
of the text), page_type, text_with / text_without snippets, and optionally `posts_listed`
(archive/index pages) and `fetched_url` (the URL the page was fetched from). A key that is
absent is not checked; a key whose value is null means the page has no such value.

The bad-input tests use small pages written here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.extract import ExtractError, extract_page
from crawler.sniff import MAX_DOCUMENT_BYTES as MAX_INPUT_BYTES
from judge.identity import canonical_url

PAGES_DIR = Path(__file__).resolve().parent / "fixtures" / "pages"
FIXTURES = sorted(PAGES_DIR.glob("*.html")) if PAGES_DIR.is_dir() else []


def _expected_path(page: Path) -> Path | None:
    for candidate in (page.with_suffix(".expected.json"), page.with_name(page.name + ".expected.json")):
        if candidate.is_file():
            return candidate
    return None


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


# --- fixtures ------------------------------------------------------------------------------------


@pytest.mark.skipif(not FIXTURES, reason="no page fixtures in tests/fixtures/pages")
@pytest.mark.parametrize("page", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_page_fixture(page: Path):
    expected_file = _expected_path(page)
    if expected_file is None:
        pytest.skip(f"{page.name} has no .expected.json sidecar yet")
    expected = json.loads(expected_file.read_text("utf-8"))
    r = extract_page(page.read_bytes(), url=expected.get("fetched_url"))
    problems: list[str] = []

    def check(key: str, ok: bool, got) -> None:
        if not ok:
            problems.append(f"{key}: expected {expected.get(key)!r}, got {got!r}")

    if "title" in expected:
        want = expected["title"]
        got = r["title"]
        check("title", got is None if want is None else _norm(got).lower() == _norm(want).lower(), got)
    if "published" in expected:
        want, got = expected["published"], r["published"]
        check("published", got is None if want is None else (got or "")[:10] == want, got)
    if "author" in expected:
        want, got = expected["author"], r["author"]
        check("author", got is None if want is None else _norm(got).lower() == _norm(want).lower(), got)
    for key in ("blog_id", "post_id", "page_type"):
        if key in expected:
            check(key, r[key] == expected[key], r[key])
    if "canonical_url" in expected:
        want = expected["canonical_url"]
        # compared in the project's canonical form (https, blogspot.com, no ?m=1)
        want = canonical_url(want) if want else None
        check("canonical_url", r["canonical_url"] == want, r["canonical_url"])
    lang_key = "locale" if "locale" in expected else "lang" if "lang" in expected else None
    if lang_key:
        want, got = expected[lang_key], r["lang_hint"]
        ok = (got is None) if want is None else (got or "").lower().startswith(want.lower())
        check(lang_key, ok, got)

    text = _norm(r["text"])
    for snippet in expected.get("text_with", []):
        if _norm(snippet) not in text:
            problems.append(f"text lacks {snippet!r}")
    for snippet in expected.get("text_without", []):
        if _norm(snippet) in text:
            problems.append(f"text has {snippet!r}")

    if "posts_listed" in expected:
        listed = r["posts"]
        if len(listed) != len(expected["posts_listed"]):
            problems.append(f"posts: expected {len(expected['posts_listed'])}, got {len(listed)}")
        for want, got in zip(expected["posts_listed"], listed):
            for key in ("post_id", "title", "published", "url"):
                if key not in want:
                    continue
                value = got.get(key)
                if key == "published":
                    value = (value or "")[:10] or None
                if key == "title":
                    value, want_value = _norm(value).lower(), _norm(want[key]).lower()
                else:
                    want_value = want[key]
                if value != want_value:
                    problems.append(f"posts[{want.get('post_id')}].{key}: expected {want[key]!r}, got {got.get(key)!r}")
    elif r["page_type"] == "item":
        assert r["posts"] == []

    assert not problems, f"{page.name}:\n  " + "\n  ".join(problems)


# --- bad input -----------------------------------------------------------------------------------


def _one_line_error(value) -> str:
    with pytest.raises(ExtractError) as info:
        extract_page(value)
    message = str(info.value)
    assert message and "\n" not in message
    return message


@pytest.mark.parametrize("value", [b"", "", b"   \n\t ", "  \n", None])
def test_empty_input(value):
    assert "empty" in _one_line_error(value)


def test_extract_error_is_a_value_error():
    assert issubclass(ExtractError, ValueError)


@pytest.mark.parametrize(
    "value",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20,
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 20,
        bytes((i * 7919) % 256 for i in range(5000)),
        "<html>\x00\x01\x02\x03</html>" * 10,
    ],
    ids=["png", "zip", "noise", "str-with-nul"],
)
def test_binary_input(value):
    assert "binary" in _one_line_error(value)


def test_oversized_input():
    words = b"Sakhalin " * (20 * 1024 * 1024 // 9)
    page = b"<html><body><div class='post-body'>" + words + b"</div></body></html>"
    assert len(page) > 20 * 1024 * 1024
    message = _one_line_error(page)
    assert "too large" in message and str(MAX_INPUT_BYTES) in message
    assert "too large" in _one_line_error(page.decode("ascii"))


@pytest.mark.parametrize(
    "value",
    [
        b"just a plain text file, no markup at all",
        '{"kind": "blogger#post", "title": "json"}',
        b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>t</title></feed>",
        "<rss version='2.0'><channel><title>x</title></channel></rss>",
    ],
    ids=["text", "json", "atom", "rss"],
)
def test_not_html(value):
    assert "not an HTML page" in _one_line_error(value)


def test_unsupported_type():
    assert "unsupported" in _one_line_error(12345)


BLOGGER_PAGE = """<!DOCTYPE html>
<html class='v2' dir='ltr' lang='{lang}'>
<head>
<meta content='blogger' name='generator'/>
<link href='https://nichiro-memo.blogspot.{tld}/2021/09/talks.html' rel='canonical'/>
<link rel="alternate" type="application/atom+xml" title="Memo - Atom" href="https://nichiro-memo.blogspot.com/feeds/posts/default" />
<link rel="service.post" type="application/atom+xml" title="Memo - Atom" href="https://www.blogger.com/feeds/1234567890123/posts/default" />
<title>Nichiro Memo: Fisheries talks resume</title>
<script type='text/javascript'>
_WidgetManager._Init('//www.blogger.com/rearrange?blogID\\x3d1234567890123', 'x', 'y');
_WidgetManager._SetDataContext([{{'name': 'blog', 'data': {{'blogId': '1234567890123', 'title': 'Nichiro Memo', 'url': 'https://nichiro-memo.blogspot.{tld}/2021/09/talks.html?m\\x3d1', 'canonicalUrl': 'https://nichiro-memo.blogspot.com/2021/09/talks.html', 'locale': '{lang}', 'pageType': 'item', 'postId': '9876543210987654321'}}}}, {{'name': 'messages', 'data': {{}}}}]);
</script>
</head>
<body>
<div class='main section' id='main'><div class='widget Blog' id='Blog1'>
<div class='blog-posts hfeed'>
<div class='date-outer'>
<h2 class='date-header'><span>{header}</span></h2>
<div class='date-posts'><div class='post-outer'>
<div class='post hentry'>
<a name='9876543210987654321'></a>
<h3 class='post-title entry-title'>Fisheries talks resume</h3>
<div class='post-body entry-content' id='post-body-9876543210987654321'>
<p>Delegations from Japan and Russia met to set salmon quotas.</p>
<div class='post-share-buttons'><a class='share-button' href='#'>Share to X</a></div>
<p>The talks will continue next month.</p>
</div>
<div class='post-footer'><span class='post-author vcard'>Posted by <span class='fn'><a class='g-profile' href='https://www.blogger.com/profile/1'>Aiko</a></span></span></div>
</div>
<div class='comments' id='comments'><h4>1 comment:</h4><p>Reader comment here</p></div>
</div></div></div></div></div></div>
<div class='sidebar'><h2>Blog Archive</h2></div>
</body></html>
"""


@pytest.mark.parametrize(
    "lang, header, expected",
    [
        ("es", "lunes, 20 de marzo de 2017", "2017-03-20"),
        ("fr", "mardi 5 juin 2018", "2018-06-05"),
        ("de", "Dienstag, 28. April 2020", "2020-04-28"),
        ("ru", "понедельник, 20 марта 2017 г.", "2017-03-20"),
        ("ja", "2017年3月20日月曜日", "2017-03-20"),
        ("zh-TW", "2017年3月20日 星期一", "2017-03-20"),
        ("en-GB", "Monday, 20 March 2017", "2017-03-20"),
        ("en", "Monday, March 20, 2017", "2017-03-20"),
    ],
)
def test_localised_date_header(lang, header, expected):
    r = extract_page(BLOGGER_PAGE.format(lang=lang, header=header, tld="com"))
    assert r["published"] == expected
    assert r["lang_hint"] == lang


def test_written_blogger_page():
    r = extract_page(BLOGGER_PAGE.format(lang="en", header="Monday, March 20, 2017", tld="com.au").encode())
    assert r["extractor"] == "blogger"
    assert r["is_blogger"] is True
    assert r["blog_id"] == "1234567890123"
    assert r["post_id"] == "9876543210987654321"
    assert r["page_type"] == "item"
    assert r["title"] == "Fisheries talks resume"
    assert r["author"] == "Aiko"
    assert r["url"] == "https://nichiro-memo.blogspot.com.au/2021/09/talks.html?m=1"
    assert r["canonical_url"] == "https://nichiro-memo.blogspot.com/2021/09/talks.html"
    assert r["feed_urls"] == ["https://nichiro-memo.blogspot.com/feeds/posts/default"]
    assert r["text"] == (
        "Delegations from Japan and Russia met to set salmon quotas.\nThe talks will continue next month."
    )
    assert "Share to X" not in r["html"]
    assert r["html"].startswith('<div class="post-body entry-content"')


def test_ids_without_data_context():
    page = BLOGGER_PAGE.format(lang="en", header="Monday, March 20, 2017", tld="com")
    start = page.index("_WidgetManager._SetDataContext")
    page = page[:start] + page[page.index("</script>", start) :]
    r = extract_page(page)
    assert r["blog_id"] == "1234567890123"  # from the service.post feed link
    assert r["post_id"] == "9876543210987654321"  # from id='post-body-...'
    assert r["page_type"] is None


@pytest.mark.parametrize("cut", [0.35, 0.5, 0.75, 0.9])
def test_truncated_html_extracts_what_is_there(cut):
    page = BLOGGER_PAGE.format(lang="de", header="Dienstag, 28. April 2020", tld="de")
    r = extract_page(page[: int(len(page) * cut)])
    assert r["blog_id"] == "1234567890123"
    if cut >= 0.75:
        assert r["extractor"] == "blogger"
        assert "Delegations from Japan and Russia" in r["text"]


def test_deeply_nested_tag_soup():
    page = BLOGGER_PAGE.format(lang="en", header="Monday, March 20, 2017", tld="com")
    soup = "<font size='2'>" * 3000 + "Unclosed fonts everywhere."
    last = "<p>The talks will continue next month.</p>"
    page = page.replace(last, last + soup)
    r = extract_page(page)
    assert "The talks will continue next month." in r["text"]
    assert "Unclosed fonts everywhere." in r["text"]
    assert r["author"] == "Aiko"


NOT_BLOGGER = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Harbour notes | Coastal Weekly</title>
<meta property="og:title" content="Harbour notes">
<meta name="author" content="Kenji Watanabe">
<meta property="article:published_time" content="2022-11-03T09:00:00+09:00">
</head><body>
<header><nav><a href="/">Home</a> <a href="/about">About</a></nav></header>
<main><article>
<h1>Harbour notes</h1>
<p>The crab boats came back early this year, and the harbour in Nemuro was quiet by noon.</p>
<p>Fishermen said the new quota agreement with Russian authorities had left little room for
error, and several crews were already talking about the spring season.</p>
<p>At the co-operative office, a map of the islands still hangs behind the counter, faded at
the edges, with the old village names written in pencil beside the printed ones.</p>
</article></main>
<footer><p>Copyright Coastal Weekly. All rights reserved.</p></footer>
</body></html>
"""


def test_page_that_is_not_blogger_falls_back_to_trafilatura():
    r = extract_page(NOT_BLOGGER, url="https://coastal.example/2022/11/harbour-notes")
    assert r["is_blogger"] is False
    assert r["extractor"] == "trafilatura"
    assert "crab boats came back early" in r["text"]
    assert "faded at the edges" in r["text"] or "faded at" in r["text"]
    assert "All rights reserved" not in r["text"]
    assert r["title"] == "Harbour notes"
    assert r["author"] == "Kenji Watanabe"
    assert r["published"].startswith("2022-11-03")
    assert r["blog_id"] is None and r["post_id"] is None
    assert r["url"] == "https://coastal.example/2022/11/harbour-notes"
    assert r["html"] and r["html"].startswith("<")


def test_dynamic_views_page_written_here():
    page = """<html lang='ja'><head><meta content='blogger' name='generator'/>
    <meta content='dynamic' name='blogger-template'/>
    <meta content='Ferry to Korsakov' property='og:title'/>
    <script>_WidgetManager._SetDataContext([{'name': 'blog', 'data': {'blogId': '42424242', 'pageType': 'item', 'postId': '777', 'locale': 'ja'}}]);</script>
    </head><body><div class='main section' id='main'></div></body></html>"""
    r = extract_page(page)
    assert r["html"] is None and r["text"] is None and r["extractor"] is None
    assert (r["blog_id"], r["post_id"], r["title"]) == ("42424242", "777", "Ferry to Korsakov")


def test_garbage_markup_never_raises_from_lxml():
    pages = ["<", "<>", "<<<<<<", "<html", "<!--", "<![CDATA[", "<?xml?>", "</>", "<a href='", "<p>\ud800</p>"]
    for page in pages:
        try:
            r = extract_page(page)
        except ExtractError:
            continue
        assert isinstance(r, dict)


# --- body cleaning, listings, encodings (pages written here) ------------------------------------


def _with_body(inner: str) -> str:
    page = BLOGGER_PAGE.format(lang="en", header="Monday, March 20, 2017", tld="com")
    start = page.index("<div class='post-body entry-content'")
    end = page.index("<div class='post-footer'>")
    body = f"<div class='post-body entry-content' id='post-body-9876543210987654321'>{inner}</div>\n"
    return page[:start] + body + page[end:]


def test_widgets_injected_into_the_body_are_removed():
    r = extract_page(
        _with_body(
            "<p>Main text about the Kurils.</p>"
            "<div class='jump-link'><a href='#more'>Read more »</a></div>"
            "<div id='related-posts'><h4>Related Posts</h4><a href='/x.html'>Other post</a></div>"
            "<div class='linkwithin_div'>You might also like</div>"
            "<div class='addthis_toolbox'>Share this</div>"
            "<ins class='adsbygoogle'>Advertisement</ins>"
            "<style>p { color: red }</style><script>track()</script>"
            "<p>Closing line.</p>"
        )
    )
    assert r["text"] == "Main text about the Kurils.\nClosing line."
    for junk in ("Read more", "Related Posts", "You might also like", "Share this", "track()"):
        assert junk not in r["html"]


def test_noscript_copy_is_used_only_when_the_body_is_otherwise_empty():
    empty = extract_page(_with_body("<script type='text/template'>x</script><noscript><p>Server copy.</p></noscript>"))
    assert empty["text"] == "Server copy."
    full = extract_page(_with_body("<p>Visible text.</p><noscript><p>Enable scripts.</p></noscript>"))
    assert full["text"] == "Visible text."


def test_trailing_links_to_the_blogs_own_pages_are_trimmed():
    r = extract_page(
        _with_body(
            "<p>Review text with a <a href='https://nichiro-memo.blogspot.com/p/about.html'>link</a> inside.</p>"
            "<div><a href='https://nichiro-memo.blogspot.de/p/ratings.html'>How I rate</a></div><br>"
            "<div><a href='/search/label/Reviews'>More reviews</a></div>"
            "<div><img src='https://example.com/sig.png'></div>"
        )
    )
    assert r["text"] == "Review text with a link inside."
    # a last line that links elsewhere is content and stays
    kept = extract_page(_with_body("<p>Text.</p><div><a href='https://www.mofa.go.jp/'>Ministry statement</a></div>"))
    assert kept["text"] == "Text.\nMinistry statement"
    assert kept["links"] == ["https://www.mofa.go.jp/"]


def test_image_only_post_keeps_its_blogger_body():
    r = extract_page(
        _with_body(
            "<div class='separator'><a href='https://1.bp.blogspot.com/a.jpg'><img src='https://1.bp.blogspot.com/a.jpg'></a></div>"
        )
    )
    assert r["extractor"] == "blogger"
    assert r["text"] == ""
    assert "<img" in r["html"]


INDEX_PAGE = """<html><head><meta content='blogger' name='generator'/>
<script>_WidgetManager._SetDataContext([{'name': 'blog', 'data': {'blogId': '555', 'pageType': 'index', 'url': 'https://hokkaido-watch.blogspot.com/', 'canonicalUrl': 'https://hokkaido-watch.blogspot.com/', 'locale': 'ja'}}]);</script>
</head><body><div class='widget Blog' id='Blog1'><div class='blog-posts hfeed'>
<div class='date-outer'><h2 class='date-header'><span>2019年2月18日月曜日</span></h2><div class='date-posts'>
<div class='post-outer'><div class='post hentry'><meta content='111' itemprop='postId'/>
<h3 class='post-title entry-title'><a href='https://hokkaido-watch.blogspot.com/2019/02/first.html'>First post</a></h3>
<div class='post-body entry-content' id='post-body-111'><p>Body one.</p><div class='jump-link'><a href='https://hokkaido-watch.blogspot.com/2019/02/first.html#more'>続きを読む</a></div></div>
<div class='post-footer'><a class='timestamp-link' href='https://hokkaido-watch.blogspot.com/2019/02/first.html'><abbr class='published' title='2019-02-18T10:00:00+09:00'>10:00</abbr></a></div>
</div></div></div></div>
<div class='date-outer'><h2 class='date-header'><span>2019年2月10日日曜日</span></h2><div class='date-posts'>
<div class='post-outer'><div class='post hentry'><a name='222'></a>
<h3 class='post-title entry-title'><a href='/2019/02/second.html'>Second post</a></h3>
<div class='post-body entry-content'><p>Body two.</p></div>
</div></div></div></div>
</div><div class='blog-pager'><a class='blog-pager-older-link' href='/search?updated-max=x'>前の投稿</a></div></div></body></html>"""


def test_index_page_lists_posts_and_their_bodies():
    r = extract_page(INDEX_PAGE)
    assert r["page_type"] == "index"
    assert r["title"] is None and r["post_id"] is None
    assert r["posts"] == [
        {"url": "https://hokkaido-watch.blogspot.com/2019/02/first.html", "title": "First post",
         "post_id": "111", "published": "2019-02-18T10:00:00+09:00"},
        {"url": "https://hokkaido-watch.blogspot.com/2019/02/second.html", "title": "Second post",
         "post_id": "222", "published": "2019-02-10"},
    ]  # fmt: skip
    assert r["text"] == "Body one.\nBody two."
    assert r["lang_hint"] == "ja"


@pytest.mark.parametrize(
    "encoding, declaration, words",
    [
        ("cp1251", "<meta http-equiv='Content-Type' content='text/html; charset=windows-1251'/>", "Курильские острова"),
        ("shift_jis", "<meta charset='Shift_JIS'>", "北方領土の日"),
        ("euc-jp", "<meta http-equiv='Content-Type' content='text/html; charset=EUC-JP'/>", "北方領土の日"),
        ("utf-8-sig", "", "Курильские острова — 北方領土"),
        ("utf-16", "", "Курильские острова — 北方領土"),
    ],
)
def test_page_encodings(encoding, declaration, words):
    page = f"<html><head>{declaration}</head><body><div class='post-body'><p>{words}</p></div></body></html>"
    assert extract_page(page.encode(encoding))["text"] == words


@pytest.mark.parametrize("encoding", ["cp1251", "koi8-r", "shift_jis"])
def test_undeclared_legacy_encoding_is_guessed_not_refused(encoding):
    words = {
        "cp1251": "Курильские острова и Япония: переговоры продолжаются уже много лет.",
        "koi8-r": "Курильские острова и Япония: переговоры продолжаются уже много лет.",
        "shift_jis": "北方領土の日に根室で集会が開かれました。",
    }[encoding]
    page = "<html><body><div class='post-body'>" + f"<p>{words}</p>" * 40 + "</div></body></html>"
    r = extract_page(page.encode(encoding))
    assert r["text"].split("\n")[0] == words
