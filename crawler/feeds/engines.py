"""Search-engine and alert feeds: recognising them, and reading their entries' links and titles.

This module owns `engine_of(result)`, which tells a Google Alerts, Google News or Bing News feed from
its parsed content (so a mirror or a local test double is recognised too): Google Alerts by its feed
id (`tag:google.com,2005:...com.google/alerts/`, the pattern feedjira uses), Google News by its
`<generator>NFE/...`, Bing News by its items' `apiclick.aspx` links. And `prepare_entry`, which
gives an entry of such a feed the fields the poller's link stage works with (contract of
crawler.poller): `feed_link` (the link as the feed gave it), `url` (the publisher URL when it can be
read from the link offline, judge.links), `query_engine`; and a plain title (Alerts' titles are HTML
with `<b>`, already made plain text by the parser; Google News titles end in ` - Publisher`, the text
of the item's `<source>`, which is stripped exactly, never everything after the first dash).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from judge.links import unwrap

ENGINES = ("google-alerts", "google-news", "bing-news")

_ALERTS_ID_RE = re.compile(r"^tag:google\.com,2005:.*/com\.google/alerts/")
_NFE_RE = re.compile(r"^NFE/", re.I)


def engine_of(result) -> str | None:
    """ "google-alerts", "google-news" or "bing-news" when the parsed feed (a crawler.feeds.FeedResult)
    is one of those engines' feeds, else None."""
    if result is None:
        return None
    if result.feed_id and _ALERTS_ID_RE.match(result.feed_id):
        return "google-alerts"
    if result.generator and _NFE_RE.match(result.generator):
        return "google-news"
    for e in result.entries:
        try:
            path = urlsplit(e.get("url") or "").path
        except ValueError:
            continue
        if path.lower() == "/news/apiclick.aspx":
            return "bing-news"
    return None


def engine_host(feed_url: str | None) -> str | None:
    """host[:port] of the engine feed itself: links on it are the engine's redirector."""
    try:
        return urlsplit(feed_url or "").netloc.lower() or None
    except ValueError:
        return None


def plain_title(title: str | None, source_name: str | None) -> str | None:
    """A Google News title without its ` - Publisher` suffix (the `<source>` text, exactly)."""
    if not title or not source_name:
        return title
    for dash in (" - ", " – ", " — "):
        suffix = dash + source_name
        if title.endswith(suffix) and len(title) > len(suffix):
            return title[: -len(suffix)].rstrip()
    return title


def prepare_entry(entry: dict, engine: str | None, feed_url: str | None) -> None:
    """Set `feed_link`, the offline-unwrapped `url`, `query_engine` and the plain title of one entry
    of an engine feed (or of any feed whose entry links are known wrappers: then no engine)."""
    link = entry.get("url")
    if not link:
        return
    target = entry.get("origlink") or unwrap(link, engine_host(feed_url) if engine else None)
    if engine:
        entry["query_engine"] = engine
        if engine == "google-news":
            entry["title"] = plain_title(entry.get("title"), entry.get("source_name"))
    if engine or target != link:
        entry["feed_link"] = link
        entry["url"] = target
