"""Fake search-engine and alert feeds, their link redirector, and small publisher sites, on loopback.

This module owns the stand-ins for Google Alerts, Google News and Bing News that tests and the
benchmark poll, written from the documented wire formats (docs: alert-feeds-format), not from
captured feeds. Each app has the demo server's `render(path_with_query, host, request_headers)`
interface, so `rjwatch.demo.server.SiteServer(app, host="127.0.0.N")` serves it:

- `GoogleAlerts`: an Atom feed at `/alerts/feeds/<user id>/<alert id>` (feed id
  `tag:google.com,2005:reader/user/<user>/state/com.google/alerts/<alert>`, HTML titles with `<b>`,
  entry links `/url?rct=j&sa=t&url=<publisher URL>&ct=ga&cd=..&usg=..` with the publisher's own
  query string percent-encoded).
- `GoogleNews`: RSS 2.0 at `/rss/search?q=..&hl=..&gl=..&ceid=..` (`<generator>NFE/5.0`, titles
  `Headline - Publisher`, `<source url=home>`, guid not a permalink); links are `/rss/articles/<token>?oc=5`
  with the newer opaque tokens (resolved only by fetching), old `CBMi…` tokens that carry the URL
  (`link_form="cbmi"`), or the publisher URL itself (`link_form="direct"`).
- `BingNews`: RSS 2.0 at `/news/search?q=..&format=rss` (no guid, `News:Source`, the `xmlns:News`
  namespace being the request URL) with links `/news/apiclick.aspx?ref=FexRss&..&url=<publisher URL
  fully percent-encoded in lower-case hex>&c=..&mkt=..`.
- `Redirector`: what the engines' links lead to; every engine app serves it too, so a feed's links
  point at the engine's own host, as the real ones do. `/url?..url=` and `/news/apiclick.aspx?..url=`
  answer 302 to the parameter; `/rss/articles/<token>` and `/articles/<token>` answer as the token was
  registered: `redirect` (302 to the publisher), `meta` (a small page with `<meta http-equiv=refresh>`),
  `js` (a page that redirects only with script, as news.google.com does), `chain` (302 to
  `/articles/<token>` first), `loop` (302 back and forth between the two forms).
- `Publisher`: a publisher site in any language: article pages (title, date, body in HTML),
  a home page and a configurable robots.txt.

A `Story` is one article as the engines list it (title, publisher, publisher URL, teaser, date,
language); the engines list the stories of the asked-for language, newest first.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from urllib.parse import parse_qs, quote, urlencode, urlsplit

__all__ = [
    "Story",
    "Redirector",
    "GoogleAlerts",
    "GoogleNews",
    "BingNews",
    "Publisher",
    "Article",
    "cbmi_token",
    "REDIRECT_MODES",
]

#: (status, headers, body) as `render` returns it (the same as rjwatch.demo.site.Response).
Response = tuple[int, dict, bytes]

#: How a registered Google News token answers (see the module docstring).
REDIRECT_MODES = ("redirect", "meta", "js", "chain", "loop")

#: Items a Google News search feed lists at most: the documented cap of one query (no paging).
GOOGLE_NEWS_MAX_ITEMS = 100
#: Entries a Google Alerts feed lists: 20 in the one full capture.
GOOGLE_ALERTS_ITEMS = 20
#: Items a Bing News RSS page lists (its `first=` offset pages through the rest).
BING_PAGE_ITEMS = 20

HTML_TYPE = "text/html; charset=UTF-8"
TEXT_TYPE = "text/plain; charset=UTF-8"


@dataclass(frozen=True)
class Story:
    """One article as an engine lists it."""

    title: str
    publisher: str
    url: str  # the publisher's article URL
    teaser: str = ""
    published: datetime = field(default_factory=lambda: datetime(2025, 3, 4, 9, 15, tzinfo=UTC))
    lang: str = "en"

    @property
    def home(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


def _rfc822(dt: datetime) -> str:
    return format_datetime(dt.astimezone(UTC), usegmt=True)


def _rfc3339(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(status: int, message: str) -> Response:
    return status, {"Content-Type": TEXT_TYPE}, (message + "\n").encode("utf-8")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Google News article tokens


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _token(payload: str, amp_url: str | None = None) -> str:
    """A Google News article token: base64url of a small protobuf (field 1 = 19, field 4 = payload,
    optional field 26 = the AMP URL), without padding; such tokens start with `CBMi`."""
    data = payload.encode("utf-8")
    raw = b"\x08\x13\x22" + _varint(len(data)) + data
    if amp_url:
        amp = amp_url.encode("utf-8")
        raw += b"\xd2\x01" + _varint(len(amp)) + amp
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def cbmi_token(url: str, amp_url: str | None = None) -> str:
    """An old (2020 - mid-2024) Google News token that carries the publisher URL: decodable offline."""
    return _token(url, amp_url)


def opaque_token(key: str) -> str:
    """A newer Google News token: its payload is an opaque id starting `AU_yqL`, so only the
    news host knows where it leads."""
    return _token("AU_yqL" + _digest(key)[:40])


# ---------------------------------------------------------------------------------------------
# The redirector


class Redirector:
    """The engines' redirector: Google's `/url?`, Bing's `/news/apiclick.aspx` and Google News'
    article tokens (`register` one per publisher URL and mode)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, str]] = {}  # token -> (target URL, mode)

    def register(self, url: str, mode: str = "redirect", *, key: str | None = None) -> str:
        """The opaque token whose `/rss/articles/<token>` answers for `url` in `mode`."""
        if mode not in REDIRECT_MODES:
            raise ValueError(f"mode must be one of {', '.join(REDIRECT_MODES)}, not {mode!r}")
        token = opaque_token(key or f"{mode} {url}")
        with self._lock:
            self._tokens[token] = (url, mode)
        return token

    def handles(self, path: str) -> bool:
        return path in ("/url", "/news/apiclick.aspx") or path.startswith(("/rss/articles/", "/articles/"))

    def render(self, path_with_query: str, host: str, request_headers=None) -> Response:
        parts = urlsplit(path_with_query)
        path = parts.path or "/"
        params = parse_qs(parts.query)
        if path == "/url":
            target = (params.get("url") or params.get("q") or [""])[0]
            return _redirect(target) if target.startswith(("http://", "https://")) else _text(400, "Bad Request")
        if path == "/news/apiclick.aspx":
            target = (params.get("url") or [""])[0]
            return _redirect(target) if target.startswith(("http://", "https://")) else _text(400, "Bad Request")
        m = re.match(r"^/(rss/)?articles/([A-Za-z0-9_-]+)$", path)
        if not m:
            return _text(404, "Not Found")
        rss_form, token = bool(m.group(1)), m.group(2)
        with self._lock:
            found = self._tokens.get(token)
        if found is None:
            return _text(404, "Not Found")
        target, mode = found
        if mode == "redirect" or (mode == "chain" and not rss_form):
            return _redirect(target)
        if mode == "chain":
            return _redirect(f"http://{host}/articles/{token}")
        if mode == "loop":
            return _redirect(f"http://{host}/articles/{token}" if rss_form else f"http://{host}/rss/articles/{token}")
        if mode == "meta":
            body = (
                f'<!DOCTYPE html><html><head><meta http-equiv="refresh" content="0;url={escape(target)}">'
                f"<title>Redirecting</title></head><body></body></html>"
            )
            return 200, {"Content-Type": HTML_TYPE}, body.encode("utf-8")
        body = (  # js: what news.google.com serves: the target is reached only by script
            "<!DOCTYPE html><html><head><title>Google News</title></head><body>"
            f'<c-wiz><div jscontroller="aLI87" data-n-a-sg="{_digest(token)[:24]}" data-n-a-ts="1700000000">'
            "</div></c-wiz><script>/* the article opens once the page script has run */"
            f"window.setTimeout(function(){{location.replace(atob('{base64.b64encode(target.encode()).decode()}'))}},0);"
            "</script></body></html>"
        )
        return 200, {"Content-Type": HTML_TYPE}, body.encode("utf-8")


def _redirect(target: str, code: int = 302) -> Response:
    return code, {"Location": target, "Content-Type": HTML_TYPE}, b""


# ---------------------------------------------------------------------------------------------
# The engines


class _Engine:
    """What the three engine apps share: stories by language, and the redirector they serve."""

    def __init__(self, stories=(), *, redirector: Redirector | None = None, link_host: str | None = None):
        self._lock = threading.Lock()
        self._stories: list[Story] = list(stories)
        self.redirector = redirector or Redirector()
        self.link_host = link_host  # where the links point (default: the host the feed was asked of)
        self.requests = 0

    def add(self, *stories: Story) -> None:
        with self._lock:
            self._stories.extend(stories)

    def stories(self, lang: str | None = None) -> list[Story]:
        with self._lock:
            chosen = [s for s in self._stories if not lang or s.lang.lower() == lang.lower()]
        return sorted(chosen, key=lambda s: s.published, reverse=True)

    def render(self, path_with_query: str, host: str, request_headers=None) -> Response:
        parts = urlsplit(path_with_query)
        path = parts.path or "/"
        if path == "/robots.txt":
            return 200, {"Content-Type": TEXT_TYPE}, b"User-agent: *\nAllow: /\n"
        if self.redirector.handles(path):
            return self.redirector.render(path_with_query, host, request_headers)
        with self._lock:
            self.requests += 1
        return self.feed(path, parse_qs(parts.query), host, path_with_query)

    def feed(self, path: str, params: dict, host: str, path_with_query: str) -> Response:  # pragma: no cover
        raise NotImplementedError


class GoogleAlerts(_Engine):
    """A Google Alerts feed (Atom) for one query at `/alerts/feeds/<user id>/<alert id>`."""

    def __init__(
        self,
        stories=(),
        *,
        query: str = "acme widgets",
        user_id: str = "01234567890123456789",
        alert_id: str = "9876543210987654321",
        lang: str | None = None,
        **kw,
    ):
        super().__init__(stories, **kw)
        self.query, self.user_id, self.alert_id, self.lang = query, user_id, alert_id, lang

    @property
    def path(self) -> str:
        return f"/alerts/feeds/{self.user_id}/{self.alert_id}"

    def link(self, story: Story, host: str) -> str:
        # The publisher's own query string is percent-encoded; scheme, host and path stay raw.
        target = story.url.replace("?", "%3F").replace("=", "%3D").replace("&", "%26")
        cd = base64.urlsafe_b64encode(b"\x08\x00\x12\x1ae8e2df4795dbb317:co.jp:en:JP").decode().rstrip("=")
        usg = "AOvVaw" + _digest(story.url)[:22]
        return f"http://{self.link_host or host}/url?rct=j&sa=t&url={target}&ct=ga&cd={cd}&usg={usg}"

    def feed(self, path, params, host, path_with_query) -> Response:
        if path != self.path:
            return _text(404, "Not Found")
        stories = self.stories(self.lang)[:GOOGLE_ALERTS_ITEMS]
        updated = _rfc3339(stories[0].published) if stories else "2025-01-01T00:00:00Z"
        out = [
            '<?xml version="1.0" encoding="utf-8"?>',
            '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:idx="urn:atom-extension:indexing">',
            f"<id>tag:google.com,2005:reader/user/{self.user_id}/state/com.google/alerts/{self.alert_id}</id>",
            f"<title>Google Alert - {escape(self.query)}</title>",
            f'<link href="http://{host}{self.path}" rel="self"></link>',
            f"<updated>{updated}</updated>",
        ]
        for s in stories:
            entry_id = int(_digest("alert", s.url)[:15], 16)
            out += [
                "<entry>",
                f"<id>tag:google.com,2013:googlealerts/feed:{entry_id}</id>",
                f'<title type="html">{escape(self._bold(s.title))}</title>',
                f'<link href="{escape(self.link(s, host))}"></link>',
                f"<published>{_rfc3339(s.published)}</published>",
                f"<updated>{_rfc3339(s.published)}</updated>",
                f'<content type="html">{escape(self._bold(escape(s.teaser)) + "&nbsp;...")}</content>',
                "<author><name></name></author>",
                "</entry>",
            ]
        out.append("</feed>")
        return 200, {"Content-Type": "text/xml; charset=UTF-8", "Cache-Control": "no-cache"}, "\n".join(out).encode()

    def _bold(self, text: str) -> str:
        """The query's words in `<b>`, as Alerts highlights them (text already escaped as HTML)."""
        for word in sorted(set(self.query.split()), key=len, reverse=True):
            if len(word) > 2 and word.isalnum():
                text = re.sub(rf"(?i)\b({re.escape(word)})\b", r"<b>\1</b>", text)
        return text


class GoogleNews(_Engine):
    """A Google News search feed (RSS 2.0) at `/rss/search?q=..&hl=..&gl=..&ceid=..`.

    `link_form`: "articles" (opaque `/rss/articles/<token>` links, each registered with the
    redirector in `mode`, or in `modes[story.url]`), "cbmi" (old tokens carrying the URL) or
    "direct" (the publisher URL)."""

    def __init__(self, stories=(), *, link_form: str = "articles", mode: str = "redirect", modes=None, **kw):
        super().__init__(stories, **kw)
        if link_form not in ("articles", "cbmi", "direct"):
            raise ValueError(f"unknown link form {link_form!r}")
        self.link_form, self.mode, self.modes = link_form, mode, dict(modes or {})

    def link(self, story: Story, host: str) -> str:
        if self.link_form == "direct":
            return story.url
        if self.link_form == "cbmi":
            token = cbmi_token(story.url)
        else:
            token = self.redirector.register(story.url, self.modes.get(story.url, self.mode))
        return f"http://{self.link_host or host}/rss/articles/{token}?oc=5"

    def feed(self, path, params, host, path_with_query) -> Response:
        if path not in ("/rss/search", "/rss"):
            return _text(404, "Not Found")
        q = (params.get("q") or [""])[0]
        hl = (params.get("hl") or ["en-US"])[0]
        ceid = (params.get("ceid") or [""])[0]
        lang = (ceid.partition(":")[2] or hl).split("-")[0].lower()
        stories = self.stories(lang)[:GOOGLE_NEWS_MAX_ITEMS]
        title = f'"{q}" - Google News' if q else "Top stories - Google News"
        out = [
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
            '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>',
            "<generator>NFE/5.0</generator>",
            f"<title>{escape(title)}</title>",
            f"<link>https://news.google.com/search?{escape(urlencode({'q': q, 'hl': hl}))}</link>",
            f"<language>{escape(hl)}</language>",
            "<webMaster>news-webmaster@google.com</webMaster>",
            "<copyright>2025 Google Inc.</copyright>",
            f"<lastBuildDate>{_rfc822(datetime.now(UTC))}</lastBuildDate>",
            "<description>Google News</description>",
        ]
        for s in stories:
            link = self.link(s, host)
            description = (
                f'<a href="{escape(link)}" target="_blank">{escape(s.title)}</a>'
                f'&nbsp;&nbsp;<font color="#6f6f6f">{escape(s.publisher)}</font>'
            )
            out += [
                "<item>",
                f"<title>{escape(s.title)} - {escape(s.publisher)}</title>",
                f"<link>{escape(link)}</link>",
                f'<guid isPermaLink="false">{escape(link.rsplit("/", 1)[-1].split("?")[0])}</guid>',
                f"<pubDate>{_rfc822(s.published)}</pubDate>",
                f"<description>{escape(description)}</description>",
                f'<source url="{escape(s.home)}">{escape(s.publisher)}</source>',
                "</item>",
            ]
        out.append("</channel></rss>")
        return 200, {"Content-Type": "application/xml; charset=utf-8"}, "\n".join(out).encode()


class BingNews(_Engine):
    """A Bing News search feed (RSS 2.0) at `/news/search?q=..&format=rss` (`setmkt`/`mkt` pick the
    language, e.g. `ru-ru`; `first=` pages)."""

    def link(self, story: Story, host: str, mkt: str) -> str:
        target = quote(story.url, safe="")
        target = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), target)
        tid = _digest("bing", story.url)[:32]
        c = int(_digest("c", story.url)[:12], 16)
        return (
            f"http://{self.link_host or host}/news/apiclick.aspx?ref=FexRss&aid=&tid={tid}&url={target}&c={c}&mkt={mkt}"
        )

    def feed(self, path, params, host, path_with_query) -> Response:
        if path != "/news/search" or (params.get("format") or [""])[0].lower() != "rss":
            return _text(404, "Not Found")
        q = (params.get("q") or [""])[0]
        mkt = ((params.get("setmkt") or params.get("mkt") or ["en-us"])[0]).lower()
        first = (params.get("first") or ["1"])[0]
        start = max(0, int(first) - 1) if first.isdigit() else 0
        stories = self.stories(mkt.split("-")[0])[start : start + BING_PAGE_ITEMS]
        request_url = f"https://{host}{path_with_query}"
        out = [
            '<?xml version="1.0" encoding="utf-8" ?>',
            f'<rss version="2.0" xmlns:News="{escape(request_url)}"><channel>',
            f"<title>{escape(q)} - BingNews</title>",
            f"<link>{escape(request_url)}</link>",
            "<description>Search results</description>",
            "<image><url>http://www.bing.com/s/a/bing_p.ico</url><title>Test</title>"
            f"<link>{escape(request_url)}</link></image>",
            "<copyright>Copyright Microsoft. All rights reserved. These XML results may not be used, "
            "reproduced or transmitted in any manner or for any purpose other than rendering Bing results "
            "within an RSS aggregator for your personal, non-commercial use.</copyright>",
        ]
        for s in stories:
            out += [
                "<item>",
                f"<title>{escape(s.title)}</title>",
                f"<link>{escape(self.link(s, host, mkt))}</link>",
                f"<description>{escape(s.teaser)}</description>",
                f"<pubDate>{_rfc822(s.published)}</pubDate>",
                f"<News:Source>{escape(s.publisher)}</News:Source>",
                "</item>",
            ]
        out.append("</channel></rss>")
        return 200, {"Content-Type": "application/rss+xml; charset=utf-8"}, "\n".join(out).encode()


# ---------------------------------------------------------------------------------------------
# Publishers


@dataclass(frozen=True)
class Article:
    path: str
    title: str
    body: str  # plain text; paragraphs separated by blank lines
    published: datetime


class Publisher:
    """A publisher site: `/` lists the articles, each at its path as an HTML page with its title,
    date and body; `/robots.txt` is `robots` (default: everything allowed)."""

    def __init__(self, name: str, lang: str = "en", *, robots: str | None = None):
        self.name, self.lang = name, lang
        self.robots = robots if robots is not None else "User-agent: *\nAllow: /\n"
        self._lock = threading.Lock()
        self._articles: dict[str, Article] = {}

    def add(self, title: str, body: str, published: datetime | None = None, *, path: str | None = None) -> str:
        """Publish an article; returns its path (`/news/<n>-<slug>.html` unless given)."""
        with self._lock:
            if path is None:
                slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "article"
                path = f"/news/{len(self._articles) + 1}-{slug}.html"
            self._articles[path] = Article(path, title, body, published or datetime(2025, 3, 4, 9, 0, tzinfo=UTC))
        return path

    def remove(self, path: str) -> None:
        with self._lock:
            self._articles.pop(path, None)

    def render(self, path_with_query: str, host: str, request_headers=None) -> Response:
        path = urlsplit(path_with_query).path or "/"
        if path == "/robots.txt":
            return 200, {"Content-Type": TEXT_TYPE}, self.robots.encode("utf-8")
        with self._lock:
            articles = sorted(self._articles.values(), key=lambda a: a.published, reverse=True)
            article = self._articles.get(path)
        if path == "/":
            items = "".join(f'<li><a href="{escape(a.path)}">{escape(a.title)}</a></li>' for a in articles)
            return 200, {"Content-Type": HTML_TYPE}, self._page(self.name, f"<ul>{items}</ul>").encode("utf-8")
        if article is None:
            return 404, {"Content-Type": HTML_TYPE}, self._page("Not found", "<p>Not found.</p>").encode("utf-8")
        paragraphs = "".join(f"<p>{escape(p.strip())}</p>" for p in article.body.split("\n\n") if p.strip())
        body = (
            f"<article><h1>{escape(article.title)}</h1>"
            f'<time datetime="{article.published.isoformat()}">{article.published:%Y-%m-%d}</time>'
            f"{paragraphs}</article>"
        )
        canonical = f'<link rel="canonical" href="http://{escape(host)}{escape(path)}">'
        meta = f'<meta property="article:published_time" content="{article.published.isoformat()}">'
        return 200, {"Content-Type": HTML_TYPE}, self._page(article.title, body, canonical + meta).encode("utf-8")

    def _page(self, title: str, body: str, head: str = "") -> str:
        return (
            f'<!DOCTYPE html><html lang="{escape(self.lang)}"><head><meta charset="utf-8">'
            f"<title>{escape(title)} | {escape(self.name)}</title>{head}</head>"
            f"<body><header>{escape(self.name)}</header><main>{body}</main></body></html>"
        )
