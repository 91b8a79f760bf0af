"""Offline unwrapping of redirector links: the publisher URL inside a search-engine or tracking link.

This module owns `unwrap(url)`: for a link through a known redirector it returns the URL the link
leads to, read from the link itself (no request is made): Google's `www.google.<tld>/url?url=|q=`
and `/amp/s/`, Bing News' `apiclick.aspx?url=`, Google News' old article tokens (`CBMi…`: a base64url
protobuf whose field 4 holds the URL), Facebook's `l.php?u=`, Yahoo's `/RU=<url>/RK=`, VK's
`away.php?to=`, DuckDuckGo's `/l/?uddg=`, Reddit's `out.reddit.com?url=`, YouTube's `redirect?q=`,
Tumblr's `t.umblr.com/redirect?z=` and legacy Yandex News' `cl4url=`. Nested wrappers are unwrapped
again (at most MAX_UNWRAP_DEPTH times). Only an http(s) result counts; anything else keeps the link
as given. Query strings are read with urllib.parse.parse_qs, which decodes both the raw and the
fully percent-encoded forms. The result has its tracking arguments dropped (judge.identity's rules
plus the click ids of alert mails and ad networks), but is otherwise the URL as the publisher wrote it.

`google_news_token_url` decodes an old Google News token; the newer ones (since mid-2024) carry an
opaque id (`AU_yqL…`) and only news.google.com can resolve them (crawler.resolve fetches them).
`needs_fetching(url)` says whether a link is a redirector that only a request can resolve.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from judge.identity import DROP_QUERY_ARGS, DROP_QUERY_PREFIXES

#: Wrappers inside wrappers are unwrapped this many times at most: real nesting is two deep (an
#: alert mail's Google link around a FeedBurner or t.co link); a deeper chain is hostile or broken.
MAX_UNWRAP_DEPTH = 5
#: Longest link unwrapped: a URL of this size is no real article link (and parsing it costs).
MAX_LINK_CHARS = 8192

#: Tracking arguments dropped from an unwrapped URL besides judge.identity's: click ids of search
#: and ad networks, mail and marketing-automation ids (miniflux's and ClearURLs' global lists).
EXTRA_TRACKING_ARGS = frozenset(
    {"gbraid", "wbraid", "yclid", "twclid", "srsltid", "_hsenc", "__hssc", "__hstc", "mkt_tok"}
)
EXTRA_TRACKING_PREFIXES = ("mtm_",)

_GOOGLE_HOST_RE = re.compile(r"^(?:www\.|news\.)?google\.[a-z]{2,3}(?:\.[a-z]{2})?$")
_YAHOO_RU_RE = re.compile(r"/RU=([^/]+)/R[KS]=", re.I)
_GN_TOKEN_RE = re.compile(r"^/(?:__i/rss/rd/|rss/)?articles/([A-Za-z0-9_-]+)$")

#: Hosts whose links name no target and are resolved only by following them (crawler.resolve).
FETCH_ONLY_HOSTS = frozenset({"feedproxy.google.com", "t.co", "news.google.com"})


def _query_param(query: str, *names: str) -> str | None:
    params = parse_qs(query, keep_blank_values=False)
    for name in names:
        values = params.get(name)
        if values and values[0].strip():
            return values[0].strip()
    return None


def _is_http(url: str | None) -> bool:
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data):
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            break
    raise ValueError("bad varint")


def google_news_token_url(token: str) -> str | None:
    """The publisher URL in an old Google News article token (protobuf field 4), else None (a newer
    opaque token, or not a token at all)."""
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    pos = 0
    try:
        while pos < len(data):
            key, pos = _varint(data, pos)
            field_no, wire = key >> 3, key & 7
            if wire == 0:
                _, pos = _varint(data, pos)
            elif wire == 2:
                size, pos = _varint(data, pos)
                value = data[pos : pos + size]
                pos += size
                if field_no == 4:
                    url = value.decode("utf-8", "replace")
                    return url if _is_http(url) else None
            else:
                return None
    except ValueError:
        return None
    return None


def _unwrap_once(url: str, engine_host: str | None = None) -> str | None:
    """The target of one wrapper, or None when `url` is no wrapper we can read."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path
    if engine_host and _netloc(url) == engine_host:
        # The engine feed's own host (a mirror, a test double): its redirector paths, whatever its name.
        if path == "/url":
            return _query_param(parts.query, "url", "q")
        if path.lower() == "/news/apiclick.aspx":
            return _query_param(parts.query, "url")
        m = _GN_TOKEN_RE.match(path)
        return google_news_token_url(m.group(1)) if m else None
    if _GOOGLE_HOST_RE.match(host):
        if path == "/url":
            return _query_param(parts.query, "url", "q")
        if path.startswith("/amp/s/"):
            return "https://" + path[len("/amp/s/") :]
        m = _GN_TOKEN_RE.match(path)
        if m and host.startswith("news."):
            return google_news_token_url(m.group(1))
        return None
    if host.endswith("bing.com") and path.lower() == "/news/apiclick.aspx":
        return _query_param(parts.query, "url")
    if host in ("l.facebook.com", "lm.facebook.com", "www.facebook.com", "m.facebook.com") and path == "/l.php":
        return _query_param(parts.query, "u")
    if host.endswith("search.yahoo.com") or host.endswith("news.search.yahoo.com"):
        m = _YAHOO_RU_RE.search(path)
        return unquote(m.group(1)) if m else None
    if host in ("vk.com", "m.vk.com") and path == "/away.php":
        return _query_param(parts.query, "to")
    if host.endswith("duckduckgo.com") and path == "/l/":
        return _query_param(parts.query, "uddg")
    if host == "out.reddit.com":
        return _query_param(parts.query, "url")
    if host in ("www.youtube.com", "youtube.com") and path == "/redirect":
        return _query_param(parts.query, "q")
    if host == "t.umblr.com" and path == "/redirect":
        return _query_param(parts.query, "z")
    if host == "news.yandex.ru" and path == "/yandsearch":
        target = _query_param(parts.query, "cl4url")
        return ("https://" + target) if target and "://" not in target else target
    return None


def strip_tracking(url: str) -> str:
    """`url` without tracking arguments (utm_*, mtm_*, fbclid, gclid, ...) and without a fragment
    that is only a tracking marker; everything else as the publisher wrote it."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    keep = []
    for pair in parts.query.split("&"):
        key = pair.split("=", 1)[0].lower()
        if not pair or key in DROP_QUERY_ARGS - {"m"} or key in EXTRA_TRACKING_ARGS:
            continue
        if key.startswith(DROP_QUERY_PREFIXES) or key.startswith(EXTRA_TRACKING_PREFIXES):
            continue
        keep.append(pair)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(keep), parts.fragment))


def _netloc(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


def unwrap(url: str, engine_host: str | None = None) -> str:
    """The publisher URL a redirector link leads to, read offline; `url` itself when it is no known
    wrapper (or its target is not http(s)). `engine_host`: the host[:port] of the engine feed the link
    came from, whose redirector paths (`/url`, `/news/apiclick.aspx`, `/rss/articles/`) are read
    under any name."""
    engine_host = engine_host.lower() if engine_host else None
    if not isinstance(url, str) or len(url) > MAX_LINK_CHARS or not _is_http(url):
        return url
    current = url
    for _ in range(MAX_UNWRAP_DEPTH):
        try:
            target = _unwrap_once(current, engine_host)
        except ValueError:
            target = None
        if not target or not _is_http(target) or len(target) > MAX_LINK_CHARS:
            break
        current = target
    if current == url:
        return url
    return strip_tracking(current)


def needs_fetching(url: str, engine_host: str | None = None) -> bool:
    """Is `url` a redirector link with no readable target, that only following it can resolve
    (Google News' opaque tokens, FeedBurner's feedproxy, t.co, and any link of an engine feed on
    the engine's own host `engine_host`)?"""
    if not _is_http(url) or unwrap(url, engine_host) != url:
        return False
    if engine_host and _netloc(url) == engine_host.lower():
        return True
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host == "news.google.com":
        return bool(_GN_TOKEN_RE.match(parts.path))
    return host in FETCH_ONLY_HOSTS
