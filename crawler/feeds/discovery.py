"""Feed autodiscovery: the feeds an HTML page links to (`feed_links_from_html`)."""

from __future__ import annotations

import html as htmlmod
import re
from urllib.parse import urljoin, urlsplit

from crawler.feeds.encoding import _media_type

_LINK_TAG_RE = re.compile(r"<(link|base)\b([^>]*)>", re.I)
_ATTR_RE = re.compile(r"""([A-Za-z_:][\w:.-]*)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)""")
FEED_TYPES = frozenset({"application/atom+xml", "application/rss+xml"})


def feed_links_from_html(html: str, base_url: str) -> list[str]:
    """Absolute URLs of `<link rel="alternate" type="application/atom+xml|rss+xml">` in a page.

    Document order is kept (Blogger lists the posts feed, its RSS twin, then a post's comments feed);
    duplicates are dropped; `<base href>` is honoured.
    """
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    found: list[str] = []
    base = base_url or ""
    for m in _LINK_TAG_RE.finditer(html):
        attrs = {}
        for a in _ATTR_RE.finditer(m.group(2)):
            value = a.group(2)
            if value[:1] in ("'", '"'):
                value = value[1:-1]
            attrs[a.group(1).lower()] = htmlmod.unescape(value).strip()
        if m.group(1).lower() == "base":
            if attrs.get("href"):
                base = urljoin(base, attrs["href"])
            continue
        rels = attrs.get("rel", "").lower().split()
        if "alternate" not in rels or _media_type(attrs.get("type")) not in FEED_TYPES:
            continue
        href = attrs.get("href")
        if not href:
            continue
        absolute = urljoin(base, href)
        if urlsplit(absolute).scheme in ("http", "https") and absolute not in found:
            found.append(absolute)
    return found
