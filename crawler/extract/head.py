"""Page-level facts of a Blogger page: its `<head>` and the blog data Blogger's script carries.

This module owns reading the meta and link tags (canonical URL, feeds, generator, template), the
`_WidgetManager._SetDataContext` blog data (blog and post id, page type, locale, feed links), whether
the page is Blogger's at all, and the hosts the blog itself answers on.
"""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import urljoin, urlsplit

from crawler.extract.markup import (
    _ATTR_RE,
    _DC_KEY_RE,
    _DC_MARKER,
    _JS_ESCAPE_RE,
    _JS_SIMPLE_ESCAPES,
    _LINK_TAG_RE,
    FEED_TYPES,
    _clean,
    _text,
)
from judge.identity import canonical_host

#: How far after `_SetDataContext(` the blog data is searched. The blog entry comes first in that
#: call and is a few KB long (feed links, sharing config, scripts quoted as JS strings).
DATA_CONTEXT_WINDOW = 64 * 1024


class _HeadInfo:
    """The `<head>`-level facts every strategy uses, gathered in one pass over meta/link."""

    def __init__(self, root):
        self.meta_name: dict[str, str] = {}
        self.meta_prop: dict[str, str] = {}
        self.meta_http_equiv: dict[str, str] = {}
        self.canonical: str | None = None
        self.base: str | None = None
        self.service_post: str | None = None
        self.alternate_feeds: list[str] = []
        for el in root.iter("meta", "link", "base"):
            tag = el.tag
            if tag == "meta":
                content = el.get("content")
                if content is None:
                    continue
                content = content.strip()
                for attr, store in (
                    ("name", self.meta_name),
                    ("property", self.meta_prop),
                    ("http-equiv", self.meta_http_equiv),
                ):
                    key = el.get(attr)
                    if key and content:
                        store.setdefault(key.strip().lower(), content)
            elif tag == "link":
                rel = (el.get("rel") or "").lower().split()
                href = (el.get("href") or "").strip()
                if not href:
                    continue
                if "canonical" in rel and self.canonical is None:
                    self.canonical = href
                elif "service.post" in rel and self.service_post is None:
                    self.service_post = href
                elif "alternate" in rel and (el.get("type") or "").lower().strip() in FEED_TYPES:
                    self.alternate_feeds.append(href)
            elif tag == "base" and self.base is None and el.get("href"):
                self.base = el.get("href").strip()
        titles = root.xpath("//title")
        self.title = _clean(_text(titles[0])) if titles else None


def _data_context(text: str) -> dict[str, str]:
    """The blog entry of `_WidgetManager._SetDataContext([...])`, JS string escapes decoded."""
    start = text.find(_DC_MARKER)
    if start < 0:
        return {}
    window = text[start + len(_DC_MARKER) : start + len(_DC_MARKER) + DATA_CONTEXT_WINDOW]
    out: dict[str, str] = {}
    for m in _DC_KEY_RE.finditer(window):
        key = m.group(1)
        if key in out:
            continue
        raw = m.group(2) if m.group(2) is not None else m.group(3)
        out[key] = _js_unescape(raw) if raw is not None else m.group(4)
    return out


def _js_unescape(value: str) -> str:
    if "\\" not in value:
        return value

    def repl(m: re.Match) -> str:
        esc = m.group(1)
        first = esc[0]
        if first in "xu" and len(esc) > 1:
            return chr(int(esc[1:], 16))
        if first in "01234567":
            return chr(int(esc, 8))
        return _JS_SIMPLE_ESCAPES.get(esc, esc)

    return _JS_ESCAPE_RE.sub(repl, value)


def _is_blogger(text: str, head: _HeadInfo) -> bool:
    if "blogger" in head.meta_name.get("generator", "").lower():
        return True
    return (
        "_WidgetManager" in text
        or "blogger.com/static/v1/widgets/" in text
        or "widget_css_bundle" in text
        or "blogger-template" in head.meta_name
    )


def _feed_urls(head: _HeadInfo, dc: dict, base: str | None) -> list[str]:
    hrefs = list(head.alternate_feeds)
    if not hrefs and dc.get("feedLinks"):
        for tag in _LINK_TAG_RE.findall(dc["feedLinks"]):
            attrs = {k.lower(): (v1 or v2) for k, v1, v2 in _ATTR_RE.findall(tag)}
            if "alternate" in attrs.get("rel", "").split() and attrs.get("type") in FEED_TYPES:
                hrefs.append(html_lib.unescape(attrs.get("href", "")))
    out: list[str] = []
    for href in hrefs:
        try:
            absolute = urljoin(base or "", href.strip())
        except ValueError:
            continue
        if absolute.startswith(("http://", "https://")) and absolute not in out:
            out.append(absolute)
    return out


def _self_hosts(result: dict, dc: dict) -> set[str]:
    """Canonical hosts of the blog itself (its blogspot name and/or custom domain)."""
    hosts = set()
    for u in (result.get("url"), result.get("canonical_url"), dc.get("homepageUrl"),
              dc.get("canonicalHomepageUrl"), dc.get("url")):  # fmt: skip
        if u:
            try:
                host = urlsplit(u).hostname
            except ValueError:
                continue
            if host:
                hosts.add(canonical_host(host))
    return hosts
