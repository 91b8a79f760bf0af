"""Tests for judge.htmltext: block-aware HTML-to-text and outbound links of a fragment."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from judge.htmltext import html_to_text, links_from_html, parse_fragment

# --- html_to_text: layout -----------------------------------------------------------------------


def test_blocks_and_br_start_lines():
    html = "<p>First para</p><div>Second<br>third</div><h2>Heading</h2><blockquote>Quote</blockquote>"
    assert html_to_text(html) == "First para\nSecond\nthird\nHeading\nQuote"


def test_inline_text_is_joined_and_whitespace_collapsed():
    html = "<p>Tokyo  and\n\t<b>Moscow</b>   met <i>again</i>.</p>"
    assert html_to_text(html) == "Tokyo and Moscow met again."


def test_inline_markup_inside_a_word_does_not_split_it():
    assert html_to_text("<p><b>Ku</b>ril Islands</p>") == "Kuril Islands"


def test_lists_tables_and_figures():
    html = (
        "<ul><li>one</li><li>two</li></ul>"
        "<table><tr><td>Lavrov</td><td>Kamikawa</td></tr><tr><th>a</th><th>b</th></tr></table>"
        "<figure><img src='x.jpg'><figcaption>Caption text</figcaption></figure>"
        "<dl><dt>Term</dt><dd>Definition</dd></dl><pre>code  block</pre>"
    )
    assert html_to_text(html) == ("one\ntwo\nLavrov Kamikawa\na b\nCaption text\nTerm\nDefinition\ncode block")


def test_empty_lines_dropped():
    assert html_to_text("<div> </div><p>\n</p><p>x</p><br><br><div><span> </span></div>") == "x"


def test_entities_decoded():
    html = "<p>Fish &amp; chips &lt;3 &eacute;t&eacute; &#8212; &#x65E5;&#x672C;&nbsp;OK</p>"
    assert html_to_text(html) == "Fish & chips <3 été — 日本 OK"


def test_invisible_characters_removed():
    assert html_to_text("<p>Sak\u200bhalin\ufeff</p>") == "Sakhalin"


# --- html_to_text: what is dropped ---------------------------------------------------------------


@pytest.mark.parametrize(
    "junk",
    [
        "<script>var a = 'secret';</script>",
        "<style>.x { color: red }</style>",
        "<noscript>enable JavaScript secret</noscript>",
        "<template><p>secret</p></template>",
        "<iframe src='https://example.com/'>secret</iframe>",
        "<object data='x.swf'>secret</object>",
        "<svg><text>secret</text></svg>",
        "<form><label>secret</label><input value='secret'></form>",
        "<button>secret</button>",
        "<select><option>secret</option></select>",
        "<textarea>secret</textarea>",
        "<!-- secret comment -->",
        "<?php echo 'secret'; ?>",
    ],
)
def test_non_text_elements_removed_but_tail_kept(junk):
    text = html_to_text(f"<div>before {junk} after</div>")
    assert "secret" not in text
    assert text == "before after"


# --- html_to_text: robustness --------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "   ", "\n\t", None, b"", "<!-- only a comment -->"])
def test_empty_input_gives_empty_text(value):
    assert html_to_text(value) == ""


def test_plain_text_without_root_element():
    assert html_to_text("just some text & more") == "just some text & more"


def test_truncated_and_malformed_html():
    assert html_to_text("<div><p>Cut off in the mid") == "Cut off in the mid"
    assert html_to_text("<p>a</div></span>b<p>c") == "ab\nc"
    assert html_to_text("<<<>>> <a href='x'") == "<<<>>>"
    assert html_to_text("</p></div>") == ""


def test_bytes_and_xml_declaration_are_accepted():
    assert html_to_text("<?xml version='1.0' encoding='latin-1'?><p>Привет</p>") == "Привет"
    assert html_to_text("<p>日本</p>".encode()) == "日本"


def test_nul_and_control_characters():
    assert html_to_text("<p>a\x00b\x07c</p>") == "abc"
    assert html_to_text("<p>a \x07 b</p><p>\x08</p>") == "a b"


@pytest.mark.parametrize("depth", [300, 1500, 5000])
def test_deeply_nested_markup_keeps_all_text(depth):
    # Past libxml2's nesting limit the parser drops the rest of the input; the text must survive.
    html = "<p>start</p>" + "<div><font>" * depth + "deep" + "</font></div>" * depth + "<p>end</p>"
    assert html_to_text(html).split("\n") == ["start", "deep", "end"]


def test_unclosed_inline_tags_keep_all_text():
    html = "<p>" + "<font color='red'>" * 4000 + "Hokkaido</p><script>x()</script><p>Sakhalin &amp; more</p>"
    text = html_to_text(html)
    assert "Hokkaido" in text and "Sakhalin & more" in text and "x()" not in text


def test_huge_input():
    html = "<p>" + "word " * 2_000_000 + "</p><p>end</p>"  # ~10 MB in one text node
    text = html_to_text(html)
    assert text.endswith("word\nend")
    assert text.count("word") == 2_000_000


def test_accepts_lxml_element_and_ignores_its_tail():
    root = etree.fromstring("<div><p>inside</p></div>", etree.HTMLParser())
    div = root.find(".//div")
    div.tail = "outside"
    assert html_to_text(div) == "inside"
    assert html_to_text(etree.ElementTree(root)) == "inside\noutside"


def test_accepts_a_whole_page_and_skips_head():
    page = "<html><head><title>Blog</title><style>x</style></head><body><p>Body</p></body></html>"
    assert html_to_text(page) == "Body"


def test_parse_fragment_none_for_nothing():
    assert parse_fragment("") is None
    assert parse_fragment(None) is None
    assert parse_fragment("<p>x</p>") is not None


def test_speed_on_a_3kb_fragment():
    para = (
        "<p>Japan and Russia held talks on <b>fisheries</b> near the "
        "<a href='https://example.com/kurils'>Kuril Islands</a>, officials said.</p>"
    )
    fragment = "<div class='post-body'>" + para * (3000 // len(para) + 1) + "</div>"
    assert len(fragment) >= 3000
    html_to_text(fragment)
    runs = 200
    start = time.perf_counter()
    for _ in range(runs):
        html_to_text(fragment)
    per_call = (time.perf_counter() - start) / runs
    # The target is well under 0.5 ms; the bound is loose so a busy test machine does not flake.
    assert per_call < 0.002, f"{per_call * 1000:.3f} ms per 3 KB fragment"


# --- links_from_html -----------------------------------------------------------------------------


BASE = "https://nichiro.blogspot.com/2024/05/post.html"


def test_links_resolved_deduplicated_in_order():
    html = (
        "<a href='/2024/04/older.html'>older</a>"
        "<a href='https://example.org/a'>a</a>"
        "<a href='https://example.org/a#section'>a again</a>"
        "<a href=' https://example.org/b '>b</a>"
        "<a href='/2024/04/older.html'>dup</a>"
        "<a href='//cdn.example.net/c'>c</a>"
    )
    assert links_from_html(html, BASE) == [
        "https://nichiro.blogspot.com/2024/04/older.html",
        "https://example.org/a",
        "https://example.org/b",
        "https://cdn.example.net/c",
    ]


@pytest.mark.parametrize(
    "href",
    ["#top", "javascript:void(0)", "JavaScript:alert(1)", "mailto:someone@example.com",
     "tel:+81312345678", "data:text/html,hi", "ftp://example.com/file", ""],
)  # fmt: skip
def test_links_skip_non_web_targets(href):
    assert links_from_html(f"<a href='{href}'>x</a>", BASE) == []


def test_links_without_base_keep_only_absolute():
    html = "<a href='/relative'>r</a><a href='http://example.com/x'>x</a><a href='//h.example/y'>y</a>"
    assert links_from_html(html) == ["http://example.com/x", "https://h.example/y"]


def test_links_ignore_anchors_without_href_and_bad_urls():
    html = "<a name='123'></a><a>none</a><a href='http://[::1'>bad</a><a href='https://ok.example/'>ok</a>"
    assert links_from_html(html, BASE) == ["https://ok.example/"]


def test_links_accept_element_and_empty_input():
    root = etree.fromstring("<div><a href='/x'>x</a></div>", etree.HTMLParser())
    assert links_from_html(root, BASE) == ["https://nichiro.blogspot.com/x"]
    assert links_from_html("", BASE) == []
    assert links_from_html(None, BASE) == []
