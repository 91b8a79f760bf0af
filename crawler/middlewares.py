"""Downloader middlewares: honour Retry-After, and keep learned URLs away from private addresses.

- `RetryAfterMiddleware`: a 429 or 503 with `Retry-After` is retried after that delay (capped), not at
  once, and the whole site's download slot waits too. Without the header, Scrapy's RetryMiddleware
  handles 5xx and timeouts as usual.
- `PerSiteConcurrencyMiddleware`: holds each request until its site has fewer than
  CONCURRENT_REQUESTS_PER_DOMAIN requests in flight. Scrapy 2.19's downloader starts a slot's queued
  requests as scheduled coroutines and only counts them as transferring once they run, so with
  DOWNLOAD_DELAY = 0 a whole queue starts at once: we measured 13 requests in flight to one host with
  CONCURRENT_REQUESTS_PER_DOMAIN = 1 (tests/test_crawl.py counts them at the server). With a delay the
  downloader starts one request per delay and the limit held; this middleware makes it hold always.
- `SafeUrlMiddleware`: a URL learned from a crawled page (a link, a redirect, a feed entry) must not
  lead to loopback, private, link-local or reserved addresses, nor to a scheme other than http(s),
  unless it is on the site (host and port) of the source the user approved or on a host of the
  `trusted_hosts` setting (crawler.guard, the same check as the HTTP client's). The address a
  response actually came from is checked too: a name that changed its answer to a private address
  after the check (DNS rebinding) has its response dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

# unsafe_reason: the shared check, also importable from here
from crawler.guard import DEFAULT_PORTS, PRIVATE, allowed_sites, blocked_ip, site_allowed, unsafe_reason

log = logging.getLogger(__name__)

#: Longest Retry-After we wait out within a run; a longer one ends the attempt (the next scheduled
#: run tries again) rather than holding a crawl open for hours.
MAX_RETRY_AFTER_S = 300.0
#: Retry-After answers honoured per request before it counts as failed.
MAX_RETRY_AFTER_TIMES = 5


class GaveUp(IgnoreRequest):
    """A request given up on for this run; `cause` says why in a few words (for the run and health)."""

    def __init__(self, message: str, cause: str):
        super().__init__(message)
        self.cause = cause


class AlreadyCollected(IgnoreRequest):
    """A post page not fetched because its post came in full with a feed entry (not a failure)."""


class Unsafe(IgnoreRequest):
    """A learned URL refused because it leads to a private address or another scheme (not a failure)."""


def parse_retry_after(value: bytes | str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


class RetryAfterMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_response(self, request, response):
        if response.status not in (429, 503):
            return response
        delay = parse_retry_after(response.headers.get(b"Retry-After"))
        if delay is None:
            return response  # RetryMiddleware (after us) deals with it
        times = request.meta.get("rjwatch_retry_after", 0) + 1
        stats = self.crawler.stats
        if times > MAX_RETRY_AFTER_TIMES or delay > MAX_RETRY_AFTER_S:
            stats.inc_value("rjwatch/retry_after/gave_up")
            raise GaveUp(
                f"{request.url}: HTTP {response.status}, Retry-After {delay:.0f}s "
                f"(attempt {times}): giving up for this run",
                f"HTTP {response.status} with Retry-After {delay:.0f} s",
            )
        stats.inc_value("rjwatch/retry_after/waited")
        log.info("rjwatch: %s answered %s with Retry-After %.1fs; waiting", request.url, response.status, delay)
        self._hold_slot(request, delay)
        await asyncio.sleep(delay)
        retry = request.replace(dont_filter=True)
        retry.meta["rjwatch_retry_after"] = times
        return retry

    def _hold_slot(self, request, delay: float) -> None:
        """Make the site's other requests wait too: push its download slot's next start out."""
        downloader = self.crawler.engine.downloader
        key = (
            downloader.get_slot_key(request) if hasattr(downloader, "get_slot_key") else urlsplit(request.url).hostname
        )
        slot = downloader.slots.get(key)
        if slot is not None:
            # The downloader starts the slot's next request at lastseen + delay (monotonic clock).
            slot.lastseen = max(slot.lastseen, time.monotonic() + delay - slot.delay)


class PerSiteConcurrencyMiddleware:
    """Per-site limit on requests in flight, enforced next to the downloader (order 950)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.limit = max(1, crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 1))
        self.semaphores: dict[str, asyncio.Semaphore] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _key(self, request) -> str:
        return request.meta.get("download_slot") or (urlsplit(request.url).hostname or "")

    async def process_request(self, request):
        key = self._key(request)
        sem = self.semaphores.get(key)
        if sem is None:
            sem = self.semaphores[key] = asyncio.Semaphore(self.limit)
        await sem.acquire()
        request.meta["rjwatch_site_slot"] = key
        return None

    def _release(self, request) -> None:
        key = request.meta.pop("rjwatch_site_slot", None)
        if key is not None:
            self.semaphores[key].release()

    def process_response(self, request, response):
        self._release(request)
        return response

    def process_exception(self, request, exception):
        self._release(request)
        return None


class SkipCollectedMiddleware:
    """Drops a post-page request whose post already came in full with a feed entry.

    Sitemaps and archives list post pages early in a crawl, before the feed pages that carry the
    same posts have been read; the check is made when the request leaves for the site, by then the
    feed (which has a higher priority) has usually been read.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        if request.meta.get("rjwatch_post_page"):
            have = getattr(self.crawler.spider, "have", None)
            if have and request.url in have:
                self.crawler.stats.inc_value("rjwatch/skipped_in_feed")
                raise AlreadyCollected(f"{request.url}: already collected in full from the feed")
        return None


class SafeUrlMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        # the `trusted_hosts` setting (rjwatch.crawling passes it as RJWATCH_TRUSTED_HOSTS)
        self.configured = allowed_sites(trusted_hosts=crawler.settings.getlist("RJWATCH_TRUSTED_HOSTS"))

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _allowed(self):
        return self.configured | set(getattr(self.crawler.spider, "trusted_hosts", set()))

    def process_request(self, request):
        reason = unsafe_reason(request.url, self._allowed())
        if reason:
            self.crawler.stats.inc_value("rjwatch/unsafe_url_blocked")
            raise Unsafe(f"not fetching {request.url[:200]}: {reason}")
        return None

    def process_response(self, request, response):
        """Drop a response that came from a non-public address the request's site may not use."""
        ip = getattr(response, "ip_address", None)
        if ip is None:
            return response
        parts = urlsplit(request.url)
        try:
            port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
        except ValueError:
            port = 0
        if blocked_ip(ip) and not site_allowed(parts.hostname or "", port, self._allowed()):
            self.crawler.stats.inc_value("rjwatch/unsafe_url_blocked")
            raise IgnoreRequest(f"not fetching {request.url[:200]}: {PRIVATE} ({ip})")
        return response
