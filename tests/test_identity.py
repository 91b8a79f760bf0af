"""Canonical URLs and Blogger ids (judge.identity)."""

import pytest

from judge.identity import blog_id_from_feed_url, canonical_url, parse_blogger_tag

SAME_POST = [
    "https://example.blogspot.com/2017/03/talks.html",
    "http://example.blogspot.com/2017/03/talks.html",
    "https://example.blogspot.com/2017/03/talks.html?m=1",
    "https://example.blogspot.com/2017/03/talks.html?m=0",
    "https://example.blogspot.mx/2017/03/talks.html",
    "https://example.blogspot.com.au/2017/03/talks.html?m=1",
    "https://EXAMPLE.blogspot.tw/2017/03/talks.html#comment-form",
    "https://example.blogspot.com/2017/03/talks.html?showComment=1490000000000#c123",
    "https://example.blogspot.com/2017/03/talks.html?utm_source=twitter&utm_medium=social",
    "https://example.blogspot.com/2017/03/talks.html?fbclid=IwAR0abc",
    "https://www.example.blogspot.com/2017/03/talks.html",
    "https://example.blogspot.com:443/2017/03/talks.html",
]


@pytest.mark.parametrize("url", SAME_POST)
def test_aliases_of_one_post_share_a_canonical_url(url):
    assert canonical_url(url) == "https://example.blogspot.com/2017/03/talks.html"


def test_meaningful_query_arguments_are_kept_and_sorted():
    assert canonical_url("https://news.example.org/a?b=2&a=1&utm_campaign=x") == "https://news.example.org/a?a=1&b=2"


def test_custom_domains_are_not_folded():
    assert canonical_url("https://blog.example.co.uk/x.html") == "https://blog.example.co.uk/x.html"
    assert canonical_url("https://notblogspot.com.mx/x") == "https://notblogspot.com.mx/x"


@pytest.mark.parametrize(
    "bad", ["", "ftp://example.org/x", "file:///etc/passwd", "javascript:alert(1)", "/relative/path"]
)
def test_non_http_urls_are_refused(bad):
    with pytest.raises(ValueError):
        canonical_url(bad)


def test_blogger_tags():
    assert parse_blogger_tag("tag:blogger.com,1999:blog-786740.post-1234567890123456789") == (
        "786740",
        "1234567890123456789",
    )
    assert parse_blogger_tag("tag:blogger.com,1999:blog-20280042") == ("20280042", None)
    assert parse_blogger_tag("tag:blogger.com,1999:blog-20280042.page-42") == ("20280042", None)
    assert parse_blogger_tag("urn:uuid:1234") == (None, None)
    assert parse_blogger_tag(None) == (None, None)


def test_blog_id_from_feed_url():
    assert blog_id_from_feed_url("https://www.blogger.com/feeds/5491504/posts/default?start-index=26") == "5491504"
    assert blog_id_from_feed_url("https://example.org/feed.xml") is None
