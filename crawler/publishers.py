"""Publisher pages of query-feed entries: fetched politely and extracted, or the teaser kept and flagged.

An entry of a query feed (a search or alert feed: its source's settings have `query`, or the entry
came with `query_engine`) names an article on some publisher's site, and what the feed gives is a
teaser. `PublisherPages.fill` fetches the page of every such entry with rjwatch's HTTP client
(crawler.http: the same size, time and redirect bounds, the address guard on every hop), with at most
PUBLISHER_SITE_LIMIT request in flight per publisher site (host:port) across the whole polling pass
(robots.txt included), and only where the site's robots.txt lets our user agent in (parsed with
protego). The page is extracted by crawler.extract: the site's `extract_rules`, then the generic path
(trafilatura); its title, date and author fill what the feed did not give. A page already stored
with its full text is not fetched again.

When the page cannot be had (robots.txt disallows it or cannot be read, the fetch fails, the page has
no article text, its address is private), the entry keeps its teaser, is `summary_only`, and
`full_text_missing` says why in one line (the post's evidence keeps it as `full_text`): never lost.

robots.txt: fetched once per site per ROBOTS_CACHE_S (a RobotsCache lives as long as its owner: one
`rjwatch poll`, or the daemon across its passes). No robots.txt (any 4xx but 429) allows every page.
An unreachable one (5xx, 429, a timeout, a refused connection) disallows the site's pages for
ROBOTS_RETRY_S, as RFC 9309 (2.3.1.4) asks: their entries are stored from their teasers, flagged, and
their pages are tried again on a later poll.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from crawler.config import FetchSettings
from crawler.guard import site_key, unsafe_reason
from crawler.http import Cancel, FetchError, raw_response

log = logging.getLogger(__name__)

#: Requests in flight at once per publisher site (host:port) in a whole polling pass: a publisher
#: that many query feeds point at (the same story in ten alerts) is asked one page at a time.
PUBLISHER_SITE_LIMIT = 1
#: Publisher sites of one source whose pages are fetched at once (each site's pages one after the
#: other): a 20-entry alert feed names 10-20 sites, and four at a time keeps a pass's threads few.
SITES_AT_ONCE = 4
#: Publisher pages fetched per poll of one source; the rest keep their teasers until a later poll.
MAX_PUBLISHER_PAGES = 100
#: How long a site's robots.txt is reused: RFC 9309 (2.4) asks not to use a cached copy for longer
#: than 24 hours.
ROBOTS_CACHE_S = 24 * 3600
#: How long an unreachable robots.txt (5xx, 429, timeout) keeps the site's pages unfetched before it
#: is asked again: a site having a bad minute is not hammered, and not written off for a day either.
ROBOTS_RETRY_S = 10 * 60
#: Sites whose robots.txt a cache holds at most; past it, the expired ones are dropped, then the oldest
#: (a daemon watching many queries meets thousands of publishers over its life).
ROBOTS_CACHE_MAX_SITES = 20_000
#: Statuses of a robots.txt fetch that say the site is unreachable, not that it has no robots.txt.
ROBOTS_UNREACHABLE_STATUSES = (429,)
#: Longest reason kept in a post's evidence (a fetch error quotes the URL).
REASON_MAX_CHARS = 200

#: Why a page was not fetched, as the post's evidence shows it.
BLOCKED_BY_ROBOTS = "blocked by robots.txt"


@dataclass
class _Robots:
    parser: Any  # a protego.Protego, or None: every page allowed
    blocked: str | None  # set: every page of the site refused (robots.txt unreachable)
    expires: float  # time.monotonic()


class RobotsCache:
    """Sites' robots.txt rules, each kept for ROBOTS_CACHE_S (ROBOTS_RETRY_S when unreachable)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_site: dict[str, _Robots] = {}

    def get(self, site: str) -> _Robots | None:
        with self._lock:
            found = self._by_site.get(site)
            if found is not None and found.expires <= time.monotonic():
                del self._by_site[site]
                return None
            return found

    def put(self, site: str, robots: _Robots) -> None:
        with self._lock:
            if len(self._by_site) >= ROBOTS_CACHE_MAX_SITES:
                now = time.monotonic()
                for key in [k for k, v in self._by_site.items() if v.expires <= now]:
                    del self._by_site[key]
                while len(self._by_site) >= ROBOTS_CACHE_MAX_SITES:
                    del self._by_site[next(iter(self._by_site))]  # the oldest entry
            self._by_site[site] = robots


def flag(entry: dict, reason: str) -> None:
    """The entry keeps its teaser, and says why its page's text is missing."""
    entry["summary_only"] = True
    entry["full_text_missing"] = " ".join(reason.split())[:REASON_MAX_CHARS]


class PublisherPages:
    """Fetches and extracts publisher pages for one polling pass (see the module docstring)."""

    def __init__(
        self,
        fetch_settings: FetchSettings,
        extract_rules: Mapping[str, Any] | None = None,
        robots: RobotsCache | None = None,
        stored_in_full: Callable[[list[str]], set[str]] | None = None,
    ):
        """`stored_in_full(urls)`: which of these URLs name posts stored with their full text already."""
        self.settings = fetch_settings
        self.raw_rules = dict(extract_rules or {})
        self._rules = None
        self.robots = robots if robots is not None else RobotsCache()
        self.stored_in_full = stored_in_full
        self._lock = threading.Lock()
        self._sites: dict[str, threading.Semaphore] = defaultdict(lambda: threading.Semaphore(PUBLISHER_SITE_LIMIT))

    @property
    def rules(self):
        """The `extract_rules` setting compiled (once; it was checked when the config was loaded)."""
        if self._rules is None:
            from crawler.extract.rules import compile_rules

            self._rules = compile_rules(self.raw_rules)
        return self._rules

    def fill(self, entries: list[dict], *, allowed, cancel: Cancel) -> None:
        """Give each entry its page's text, or flag it (see `flag`)."""
        with_url = [e for e in entries if e.get("url")]
        known = self.stored_in_full([e["url"] for e in with_url]) if self.stored_in_full and with_url else set()
        by_site: dict[str, list[dict]] = defaultdict(list)
        pages = 0
        for e in with_url:
            if e.get("unresolved"):
                flag(e, f"publisher link not resolved: {e['unresolved']}")
            elif e["url"] in known:
                e["summary_only"] = True  # stored with its text already: this teaser only adds a sighting
            elif reason := unsafe_reason(e["url"], allowed):
                flag(e, f"page not fetched: {reason}")
            elif pages >= MAX_PUBLISHER_PAGES:
                flag(e, "page not fetched: too many pages in one poll (tried again on the next)")
            else:
                pages += 1
                by_site[site_key(e["url"]) or e["url"]].append(e)
        if not by_site:
            return
        groups = list(by_site.values())
        if len(groups) == 1:
            self._site_pages(groups[0], allowed, cancel)
            return
        with ThreadPoolExecutor(max_workers=min(SITES_AT_ONCE, len(groups)), thread_name_prefix="publisher") as pool:
            list(pool.map(lambda group: self._site_pages(group, allowed, cancel), groups))

    def _site_pages(self, entries: list[dict], allowed, cancel: Cancel) -> None:
        for e in entries:
            if cancel.cancelled or (cancel.deadline is not None and time.monotonic() >= cancel.deadline):
                flag(e, "page not fetched: the poll's time ran out (tried again on the next poll)")
                continue
            try:
                self._page(e, allowed, cancel)
            except Exception as exc:  # an extraction library failing on an odd page fails that page only
                log.warning("rjwatch: publisher page %s failed: %s: %s", e["url"], type(exc).__name__, exc)
                flag(e, f"page not read: {type(exc).__name__}")

    def _semaphore(self, site: str) -> threading.Semaphore:
        with self._lock:
            return self._sites[site]

    def _page(self, e: dict, allowed, cancel: Cancel) -> None:
        url = e["url"]
        site = site_key(url) or url
        sem = self._semaphore(site)
        wait_s = None if cancel.deadline is None else max(0.0, cancel.deadline - time.monotonic())
        if not sem.acquire(timeout=wait_s):
            flag(e, "page not fetched: timed out waiting for the site's other requests")
            return
        try:
            robots = self._robots(site, url, allowed, cancel)
            if robots.blocked:
                flag(e, robots.blocked)
                return
            if robots.parser is not None and not robots.parser.can_fetch(url, self.settings.user_agent):
                flag(e, BLOCKED_BY_ROBOTS)
                return
            resp = self._fetch(url, allowed, cancel, ok=(200, 203))
        except FetchError as exc:
            flag(e, f"page not fetched: {exc}")
            return
        finally:
            sem.release()
        self._use_page(e, resp)

    def _fetch(self, url: str, allowed, cancel: Cancel, ok: tuple[int, ...]):
        return self.settings.fetch(url, ok_statuses=ok, allowed=allowed, cancel=cancel)

    def _robots(self, site: str, url: str, allowed, cancel: Cancel) -> _Robots:
        """The site's robots.txt rules, fetched when not cached (the caller holds the site's slot)."""
        found = self.robots.get(site)
        if found is not None:
            return found
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        now = time.monotonic()
        try:
            resp = self._fetch(robots_url, allowed, cancel, ok=(200, 203))
        except FetchError as exc:
            if exc.cancelled:
                raise
            if exc.status is not None and 400 <= exc.status < 500 and exc.status not in ROBOTS_UNREACHABLE_STATUSES:
                robots = _Robots(None, None, now + ROBOTS_CACHE_S)  # no robots.txt: every page allowed
            else:
                why = f"HTTP {exc.status}" if exc.status else str(exc).rsplit(": ", 1)[-1]
                robots = _Robots(None, f"robots.txt unreachable ({why}): page not fetched", now + ROBOTS_RETRY_S)
            self.robots.put(site, robots)
            return robots
        from protego import Protego

        try:
            parser = Protego.parse(resp.body.decode("utf-8", "replace"))
        except Exception as exc:  # protego is lenient; a file it still cannot read allows everything
            log.info("rjwatch: robots.txt of %s unreadable (%s): every page allowed", site, exc)
            parser = None
        robots = _Robots(parser, None, now + ROBOTS_CACHE_S)
        self.robots.put(site, robots)
        return robots

    def _use_page(self, e: dict, resp) -> None:
        from crawler.extract import ExtractError, extract_with_rules

        try:
            page = extract_with_rules(resp.body, e["url"], self.rules)
        except ExtractError as exc:
            flag(e, f"page not read: {exc}")
            return
        if page.get("extraction"):
            e["extraction"] = page["extraction"]
        if not page.get("html") and not page.get("text"):
            flag(e, "no article text found on the page")
            return
        e["html"] = page.get("html")
        e["text"] = None if page.get("html") else page.get("text")
        e["links"] = page.get("links") or []
        e["summary_only"] = False
        e["raw_response"] = raw_response(resp)  # the page is the post's evidence now, not the feed
        e.pop("full_text_missing", None)
        ruled = {"title": "title", "date": "published"}
        overridden = {ruled[f] for f in page.get("rule_fields") or [] if f in ruled}
        for key in ("title", "published", "author", "lang_hint"):
            if page.get(key) and (not e.get(key) or key in overridden):
                e[key] = page[key]
