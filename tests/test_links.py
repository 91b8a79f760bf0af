"""Offline unwrapping of redirector links (judge.links), from the documented wrapper forms."""

from __future__ import annotations

import pytest

from judge.identity import canonical_url
from judge.links import google_news_token_url, needs_fetching, unwrap
from rjwatch.demo.engines import cbmi_token, opaque_token

PUB = "https://news.example.com/story?id=42"

UNWRAP_CASES = [
    # Google Alerts: raw scheme/host/path, the publisher's query percent-encoded
    (
        "https://www.google.com/url?rct=j&sa=t&url=https://news.example.com/story%3Fid%3D42&ct=ga&cd=CAIyAA&usg=AOvVaw0000",
        PUB,
    ),
    # ... or fully encoded; a country host; `q=` instead of `url=`
    ("https://www.google.co.jp/url?sa=t&url=https%3A%2F%2Fnews.example.com%2Fstory%3Fid%3D42&usg=AFQjCN1", PUB),
    ("https://www.google.de/url?q=https://news.example.com/story%3Fid%3D42&sa=U", PUB),
    ("https://www.google.com/amp/s/news.example.com/story", "https://news.example.com/story"),
    # Bing News: fully percent-encoded in lower-case hex
    (
        "http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=9a1b&url=https%3a%2f%2fnews.example.com"
        "%2fstory%3fid%3d42&c=1234567&mkt=it-it",
        PUB,
    ),
    # Google News old token (field 4 = URL), with and without an AMP URL in field 26
    (f"https://news.google.com/rss/articles/{cbmi_token(PUB)}?oc=5", PUB),
    (f"https://news.google.com/__i/rss/rd/articles/{cbmi_token(PUB, 'https://amp.example.com/a')}?oc=5", PUB),
    ("https://l.facebook.com/l.php?u=https%3A%2F%2Fnews.example.com%2Fstory%3Fid%3D42&h=AT0", PUB),
    (
        "https://r.search.yahoo.com/_ylt=A0/RV=2/RE=1/RO=10/RU=https%3a%2f%2fnews.example.com%2fstory%3fid%3d42/RK=2/RS=x-",
        PUB,
    ),
    ("https://vk.com/away.php?to=https%3A%2F%2Fnews.example.com%2Fstory%3Fid%3D42&cc_key=", PUB),
    ("https://duckduckgo.com/l/?uddg=https%3A%2F%2Fnews.example.com%2Fstory%3Fid%3D42&rut=abc", PUB),
    ("https://out.reddit.com/t3_x?url=https%3A%2F%2Fnews.example.com%2Fstory%3Fid%3D42&token=1", PUB),
    ("https://news.yandex.ru/yandsearch?cl4url=news.example.com%2Fstory%3Fid%3D42&lr=213", PUB),
    # tracking arguments go after unwrapping
    ("https://www.google.com/url?url=https://news.example.com/story%3Fid%3D42%26utm_source%3Dga%26fbclid%3Dx", PUB),
    # nested: a Google link around a Facebook link
    (
        "https://www.google.com/url?url=https%3A%2F%2Fl.facebook.com%2Fl.php%3Fu%3Dhttps%253A%252F%252F"
        "news.example.com%252Fstory%253Fid%253D42",
        PUB,
    ),
    # not a wrapper, or a target that is not http(s): kept as given
    ("https://news.example.com/story?id=42", PUB),
    ("https://www.google.com/url?url=javascript:alert(1)", "https://www.google.com/url?url=javascript:alert(1)"),
    ("https://www.google.com/url?url=", "https://www.google.com/url?url="),
    ("https://vk.com/away.php?to=file:///etc/passwd", "https://vk.com/away.php?to=file:///etc/passwd"),
    ("https://www.google.com/search?q=https://x.example/", "https://www.google.com/search?q=https://x.example/"),
    ("mailto:someone@example.com", "mailto:someone@example.com"),
]


@pytest.mark.parametrize("link,expected", UNWRAP_CASES)
def test_unwrap(link, expected):
    assert unwrap(link) == expected


def test_unwrapped_links_share_one_identity():
    forms = [link for link, want in UNWRAP_CASES if want == PUB]
    assert {canonical_url(unwrap(link)) for link in forms} == {canonical_url(PUB)}


def test_nesting_is_bounded():
    link = PUB
    for _ in range(50):
        link = "https://vk.com/away.php?to=" + link.replace("%", "%25").replace("&", "%26").replace("?", "%3F")
    assert unwrap(link).startswith("https://vk.com/away.php")  # gave up after MAX_UNWRAP_DEPTH levels


def test_google_news_tokens():
    assert google_news_token_url(cbmi_token(PUB)) == PUB
    assert google_news_token_url(opaque_token("x")) is None  # AU_yqL...: opaque
    assert google_news_token_url("!!not base64!!") is None
    assert google_news_token_url(cbmi_token("javascript:alert(1)")) is None
    opaque = f"https://news.google.com/rss/articles/{opaque_token('x')}?oc=5"
    assert unwrap(opaque) == opaque
    assert needs_fetching(opaque)
    assert not needs_fetching(f"https://news.google.com/rss/articles/{cbmi_token(PUB)}?oc=5")
    assert needs_fetching("https://t.co/abc123")
    assert needs_fetching("http://feedproxy.google.com/~r/blog/~3/xyz/story")
    assert not needs_fetching(PUB)


def test_engine_host_paths_are_read_under_any_name():
    link = "http://127.0.0.1:8080/url?rct=j&sa=t&url=http://127.0.0.2:9000/a%3Fb%3D1&ct=ga"
    assert unwrap(link) == link  # an unknown host is no wrapper ...
    assert unwrap(link, "127.0.0.1:8080") == "http://127.0.0.2:9000/a?b=1"  # ... unless it is the engine's
    bing = "http://127.0.0.1:8080/news/apiclick.aspx?ref=FexRss&url=http%3a%2f%2f127.0.0.2%3a9000%2fa&c=1"
    assert unwrap(bing, "127.0.0.1:8080") == "http://127.0.0.2:9000/a"
    opaque = f"http://127.0.0.1:8080/rss/articles/{opaque_token('y')}?oc=5"
    assert unwrap(opaque, "127.0.0.1:8080") == opaque and needs_fetching(opaque, "127.0.0.1:8080")


def _parsed(app, path):
    from crawler.feeds import parse_feed

    return parse_feed(app.render(path, "127.0.0.1:8080")[2], "http://127.0.0.1:8080" + path)


def test_engine_feeds_are_recognised_by_their_content():
    from crawler.feeds import engine_of
    from rjwatch.demo.engines import BingNews, GoogleAlerts, GoogleNews, Story

    story = Story("Kuril talks - day two", "Wire", "http://127.0.0.2:9000/a?id=1", "Talks on the Kuril islands")
    alerts = GoogleAlerts([story], query="Kuril talks")
    assert engine_of(_parsed(alerts, alerts.path)) == "google-alerts"
    assert engine_of(_parsed(GoogleNews([story]), "/rss/search?q=k&hl=en-US&gl=US&ceid=US:en")) == "google-news"
    assert engine_of(_parsed(BingNews([story]), "/news/search?q=k&format=RSS")) == "bing-news"
    from helpers import news_feed

    feed = news_feed(2)
    assert engine_of(_parsed(feed, "/rss.xml")) is None


@pytest.mark.parametrize(
    "title,source,expected",
    [
        ("Kuril talks - day two - Wire", "Wire", "Kuril talks - day two"),  # the headline's own dash stays
        ("Kuril talks - day two", "Wire", "Kuril talks - day two"),
        ("Wire", "Wire", "Wire"),
        ("Переговоры - Вести", "Вести", "Переговоры"),
        ("Talks - Wire", None, "Talks - Wire"),
    ],
)
def test_google_news_titles_lose_only_the_publisher(title, source, expected):
    from crawler.feeds.engines import plain_title

    assert plain_title(title, source) == expected


def test_feedburner_origlink_is_the_publisher_url():
    from crawler.feeds import parse_feed, prepare_entry

    rss = (
        b'<rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"><channel><title>b</title>'
        b"<item><title>t</title><link>http://feedproxy.google.com/~r/blog/~3/xyz/story</link>"
        b"<feedburner:origLink>https://blog.example.com/2025/03/story.html?utm_source=feedburner</feedburner:origLink>"
        b"<description>x</description></item></channel></rss>"
    )
    entry = parse_feed(rss, "https://feeds.feedburner.com/blog").entries[0]
    prepare_entry(entry, None, "https://feeds.feedburner.com/blog")
    assert entry["url"] == "https://blog.example.com/2025/03/story.html?utm_source=feedburner"
    assert entry["feed_link"] == "http://feedproxy.google.com/~r/blog/~3/xyz/story"


@pytest.mark.parametrize(
    "body,expected",
    [
        (b'<meta http-equiv="refresh" content="0;url=https://a.example/x?y=1&amp;z=2">', "https://a.example/x?y=1&z=2"),
        (b"<META HTTP-EQUIV=Refresh CONTENT='0; URL=/next'>", "https://r.example/next"),
        (b'<meta content="5; url=https://b.example/" http-equiv="refresh">', "https://b.example/"),
        (b"<script>location.replace('https://c.example/')</script>", None),
    ],
)
def test_meta_refresh_target(body, expected):
    from crawler.resolve import meta_refresh_target

    assert meta_refresh_target(body, "https://r.example/t") == expected
