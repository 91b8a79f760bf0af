"""One size cap and one binary test for every document a parser is handed (crawler.sniff): a feed
page, a Blogger export and an HTML page are refused alike, by the real parsers."""

from __future__ import annotations

import pytest

from crawler import sniff
from crawler.extract import ExtractError, extract_page
from crawler.feeds import FeedError, parse_blogger_export, parse_feed, sniff_kind

BINARY = {
    "gzip": b"\x1f\x8b\x08\x00\x00\x00\x00\x00" + bytes(range(256)) * 8,
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
    "noise": bytes((i * 7919) % 256 for i in range(5000)),
    "controls": b"<html>" + b"\x01\x02\x03\x04" * 200 + b"</html>",
    # a compressed body nobody decompressed, whose first bytes happen to look like markup
    "gzip-magic-then-markup": b"\x1f\x8b<html><body><p>" + b"Kuril " * 100 + b"</p></body></html>",
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_feeds_and_pages_call_the_same_bytes_binary(name):
    data = BINARY[name]
    assert sniff.is_binary(data)
    assert sniff_kind(data) == "binary"
    with pytest.raises(FeedError, match="binary"):
        parse_feed(data)
    with pytest.raises(FeedError, match="binary"):
        parse_blogger_export(data)
    with pytest.raises(ExtractError, match="binary"):
        extract_page(data)


def test_utf16_text_is_not_binary():
    page = "<html><body><p>Курильские острова 北方領土</p></body></html>".encode("utf-16")
    assert not sniff.is_binary(page)
    assert sniff_kind(page) == "html"


def test_feeds_and_pages_share_one_size_cap():
    over = sniff.MAX_DOCUMENT_BYTES + 1
    feed = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    with pytest.raises(FeedError, match=f"over the {sniff.MAX_DOCUMENT_BYTES}-byte limit"):
        parse_feed(feed + b" " * (over - len(feed)))
    page = b"<html><body><p>Kuril</p></body></html>"
    with pytest.raises(ExtractError, match=f"limit {sniff.MAX_DOCUMENT_BYTES}"):
        extract_page(page + b" " * (over - len(page)))
    # one byte less is not refused for its size
    assert parse_feed(feed + b" " * (over - 1 - len(feed))).title == "t"
    assert extract_page(page + b" " * (over - 1 - len(page)))["text"] == "Kuril"
