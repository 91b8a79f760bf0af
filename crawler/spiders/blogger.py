"""The `blogger` spider: every post of one Blogger blog, once; afterwards only what is new.

    scrapy crawl blogger -a url=https://example.blogspot.com [-a full=1] [-a query=Kuril]
    rjwatch crawl [--source URL|ID] [--full]

Feed first: `/feeds/posts/default` is paged with start-index/max-results, following `rel=next` until
entries run out (the max-results cap is unknown, so the server's own next link decides). Full entries
become posts directly; summary-only entries send us to the post page. HTML as well, since some blogs
turn the feed off or truncate it: the home page, post-to-post pager links, month archives and the
sitemap. `/search` pages are left to robots.txt (blogspot disallows them).

Incremental: once a full walk has finished (CrawlContext.backfill_complete), a re-crawl asks the feed
only for entries updated since the newest one seen, reads the home page, and fetches only pages of
posts not yet stored. `-a full=1` forces a full walk. A walk that was interrupted is not complete, so
the next run walks again, skipping pages of posts already stored.

A walk is complete only when it read the blog (`Walk`): the feed chain reached its last page with every
page answered, or the home page and every archive listing answered; and no post page that had to be
fetched failed. A blog answering 5xx, 429 with a long Retry-After, `Disallow: /` in robots.txt, or
refusing connections leaves the backfill to do, and the causes go to the run and the source's health.

The spider yields `storage.items.PostIn` dicts; it never touches the database (it asks CrawlContext).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, timedelta
from urllib.parse import quote, urlencode, urljoin, urlsplit

import scrapy
from scrapy import exceptions as scrapy_errors
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import Sitemap
from twisted.internet import error as twisted_errors

from crawler import extract, feeds
from crawler.guard import allowed_sites
from crawler.middlewares import AlreadyCollected, GaveUp, Unsafe
from judge import dates
from judge.identity import fetchable_url

#: Entries asked for per feed page. Blogger has capped max-results at 500, 150 and 100 over the
#: years; asking 100 stays under every known cap, and the server's rel=next decides anyway.
FEED_PAGE_SIZE = 100
#: Feed pages followed per run at most: 1,000 pages x 100 entries covers the largest blogs we know
#: (7,000 posts) many times over while bounding a feed that loops its next links.
MAX_FEED_PAGES = 1000
#: Sitemaps (index entries) followed per run.
MAX_SITEMAPS = 200
#: An incremental crawl asks for entries updated since the newest seen minus this overlap, so a
#: post edited in the same second as the last crawl, or clock skew, cannot slip through.
INCREMENTAL_OVERLAP = timedelta(hours=1)
#: Archive years accepted in links: Blogger started in 1999; later years than next year are traps.
FIRST_ARCHIVE_YEAR = 1999

#: Answers that say a post page is gone for good: there is nothing to collect there, so the request did
#: not fail (retrying it next run would not help, and would keep the backfill open for ever).
GONE_STATUSES = frozenset({404, 410})
#: Distinct failure causes kept per run (the most frequent ones); more say nothing new.
MAX_CAUSES = 5

#: Download errors in a few words: Scrapy's own exception types and the Twisted ones they wrap.
_DOWNLOAD_CAUSES = (
    ((scrapy_errors.DownloadConnectionRefusedError, twisted_errors.ConnectionRefusedError), "connection refused"),
    ((scrapy_errors.CannotResolveHostError, twisted_errors.DNSLookupError), "DNS lookup failed"),
    ((scrapy_errors.DownloadTimeoutError, twisted_errors.TimeoutError, twisted_errors.TCPTimedOutError), "timed out"),
    ((scrapy_errors.ResponseDataLossError,), "response cut short"),
    ((twisted_errors.ConnectionLost, twisted_errors.ConnectionDone), "connection lost"),
)

_ARCHIVE_RE = re.compile(r"^/(\d{4})/(?:(\d{2})/)?$")
_POST_PATH_RE = re.compile(r"^/\d{4}/\d{2}/[^/]+\.html$")


def failure_cause(failure) -> tuple[str, int | None]:
    """Why a request failed, in a few words, and the HTTP status when the server answered."""
    if failure.check(HttpError):
        status = failure.value.response.status
        return f"HTTP {status}", status
    if failure.check(GaveUp):
        return failure.value.cause, None
    for types, cause in _DOWNLOAD_CAUSES:
        if failure.check(*types):
            return cause, None
    message = failure.getErrorMessage()
    if failure.check(scrapy_errors.IgnoreRequest) and "robots.txt" in message:
        return "disallowed by robots.txt", None
    return f"{failure.type.__name__}: {message}"[:160], None


class Walk:
    """What the run's requests came to: which chains were read to their end, and why others failed.

    Roles (request meta `rjwatch_role`): `feed` (the feed's pages), `home`, `listing` (month/year
    archives), `post` (a post page the walk needed). Sitemaps and search pages are extras.
    """

    def __init__(self):
        self.answered = 0
        self.failures: Counter[str] = Counter()
        self.last_status: int | None = None
        self.feed_read = False  # the feed chain reached its end, every page answered, with entries
        self.home_read = False
        self.listing_failed = False
        self.posts_failed = 0

    def answer(self, status: int | None) -> None:
        self.answered += 1
        self.last_status = status

    def fail(self, role: str | None, cause: str, status: int | None) -> None:
        if role == "feed" and (status in GONE_STATUSES or cause == "not a usable feed"):
            cause = f"feed: {cause}"  # a blog without a feed, not a blog that fails
        self.failures[cause] += 1
        if status is not None:
            self.last_status = status
        if role in ("home", "listing"):
            self.listing_failed = True
        elif role == "post":
            self.posts_failed += 1

    @property
    def complete(self) -> bool:
        """The walk read the blog: a whole chain (feed, or home page and archives) and every post page needed."""
        return (self.feed_read or (self.home_read and not self.listing_failed)) and not self.posts_failed

    @property
    def all_failed(self) -> bool:
        return bool(self.failures) and not self.answered

    def cause(self) -> str | None:
        """The failures, most frequent first: 'connection refused (3 requests); feed: HTTP 404'."""
        if not self.failures:
            return None
        return "; ".join(f"{c} ({n} requests)" if n > 1 else c for c, n in self.failures.most_common(MAX_CAUSES))

    def report(self) -> dict:
        return {
            "complete": self.complete,
            "all_failed": self.all_failed,
            "answered": self.answered,
            "failed": sum(self.failures.values()),
            "cause": self.cause(),
            "last_status": self.last_status,
            "posts_failed": self.posts_failed,
        }


class BloggerSpider(scrapy.Spider):
    name = "blogger"

    def __init__(
        self,
        url: str | None = None,
        source_id: str | None = None,
        full: str | None = None,
        query: str | None = None,
        *args,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if not url and not source_id:
            raise ValueError("give the blog: -a url=https://example.blogspot.com (or -a source_id=N)")
        self.source_id = source_id
        self.full = str(full or "").lower() in ("1", "true", "yes", "on")
        self.query = query or None
        self.home_url: str | None = None
        self.trusted_hosts: set[str] = set()
        if url:
            self.set_home(url)
        self.blog_id: str | None = None
        self.blog_title: str | None = None  # the feed's title: the blog's name in listings
        self.newest_updated: str | None = None
        self.feed_ok: bool | None = None
        self.silent = False
        self.incremental = False
        self.requested: set[str] = set()
        self.have: set[str] = set()
        self.feed_urls_seen: set[str] = set()  # post pages whose full text came with a feed entry: no fetch needed
        self.feed_pages = 0
        self.walk = Walk()

    def set_home(self, url: str) -> None:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not a blog URL: {url!r}")
        self.home_url = f"{parts.scheme}://{parts.netloc}/"
        host = parts.hostname.lower()
        # The blog's own site (host and effective port) only: another port of a private host is
        # another service, also when the blog's URL names no port.
        self.trusted_hosts = set(allowed_sites(self.home_url))
        self.allowed_domains = [host]

    # -- start -----------------------------------------------------------------------------
    @property
    def ctx(self):
        return getattr(self.crawler, "rjwatch", None)

    async def start(self):
        ctx = self.ctx
        incremental = bool(ctx and ctx.incremental)
        self.silent = bool(ctx and not ctx.backfill_complete)
        if self.query:
            label = quote(self.query, safe="")
            yield self._feed_request(urljoin(self.home_url, f"/feeds/posts/default/-/{label}"), since=None)
            yield scrapy.Request(
                urljoin(self.home_url, "/search?" + urlencode({"q": self.query})),
                callback=self.parse_page,
                cb_kwargs={"follow": False},
            )
            return
        since = None
        if incremental and ctx.newest_updated:
            newest = dates.parse(ctx.newest_updated)
            since = (newest - INCREMENTAL_OVERLAP).isoformat(timespec="seconds") if newest else None
        feed_url = (ctx.state.get("feed_url") if ctx else None) or urljoin(self.home_url, "/feeds/posts/default")
        self.incremental = incremental
        # The HTML walk starts once the feed is read (or has failed): by then every post that came
        # in full with a feed entry is known, and the walk fetches only the pages of the others.
        yield self._feed_request(feed_url, since=since)

    def _html_walk(self):
        if getattr(self, "_walk_started", False) or self.query:
            return
        self._walk_started = True
        yield scrapy.Request(
            self.home_url,
            callback=self.parse_page,
            errback=self.request_failed,
            cb_kwargs={"follow": not self.incremental},
            priority=5,
            meta={"rjwatch_role": "home"},
        )
        if not self.incremental:
            yield scrapy.Request(
                urljoin(self.home_url, "/sitemap.xml"), callback=self.parse_sitemap, errback=self.extra_failed
            )

    @staticmethod
    def _feed_url(base: str, *, since: str | None, start_index: int = 1) -> str:
        params = {"max-results": FEED_PAGE_SIZE, "start-index": start_index}
        if since:
            params.update({"orderby": "updated", "updated-min": since})
        sep = "&" if "?" in base else "?"
        return f"{base}{sep}{urlencode(params)}"

    def _feed_request(self, base: str, *, since: str | None, start_index: int = 1) -> scrapy.Request:
        url = self._feed_url(base, since=since, start_index=start_index)
        self.feed_urls_seen.add(url)
        return scrapy.Request(
            url,
            callback=self.parse_feed,
            cb_kwargs={"base": base, "since": since},
            errback=self.feed_failed,
            priority=10,
            dont_filter=True,
            meta={"rjwatch_role": "feed"},
        )

    # -- feeds -------------------------------------------------------------------------------
    def feed_failed(self, failure):
        self.feed_ok = False if self.feed_ok is None else self.feed_ok
        if not failure.check(AlreadyCollected, Unsafe):
            cause, status = failure_cause(failure)
            self.walk.fail("feed", cause, status)
            self.logger.info("rjwatch: feed unavailable (%s); relying on HTML", cause)
        yield from self._html_walk()

    def extra_failed(self, failure):
        """Errback of the extras (sitemaps, search pages): a blog may well have none."""
        if not failure.check(AlreadyCollected, Unsafe):
            self.logger.debug("rjwatch: %s: %s", failure.request.url, failure_cause(failure)[0])

    def request_failed(self, failure):
        """Errback of the walk's HTML requests: record why, unless it was our own choice not to fetch."""
        if failure.check(AlreadyCollected, Unsafe):
            return
        role = failure.request.meta.get("rjwatch_role")
        cause, status = failure_cause(failure)
        if role == "post" and (status in GONE_STATUSES or cause == "disallowed by robots.txt"):
            # Gone for good, or closed to us by the site's owner: no later run would get more.
            if status is not None:
                self.walk.answer(status)
            self.logger.info("rjwatch: %s: %s", failure.request.url, cause)
            return
        self.walk.fail(role, cause, status)
        self.logger.warning("rjwatch: %s: %s", failure.request.url, cause)

    def parse_feed(self, response, base: str, since: str | None):
        try:
            result = feeds.parse_feed(
                response.body,
                response.url,
                {k.decode("latin-1").lower(): v[0].decode("latin-1") for k, v in response.headers.items() if v},
            )
        except feeds.FeedError as exc:
            self.feed_ok = False if self.feed_ok is None else self.feed_ok
            self.walk.fail("feed", "not a usable feed", response.status)
            self.logger.info("rjwatch: %s is not a usable feed: %s", response.url, exc)
            yield from self._html_walk()
            return
        self.walk.answer(response.status)
        self.feed_pages += 1
        if result.lost:
            # Entries the page holds but that could not be read: counted, and the pages of the
            # posts the HTML walk finds fill in what the feed lost.
            self.crawler.stats.inc_value("rjwatch/dropped/feed_entries", result.lost)
            self.logger.warning("rjwatch: %s: %s", response.url, result.loss_report())
        if result.entries:
            self.feed_ok = True
        if result.blog_id:
            self.blog_id = result.blog_id
        self.blog_title = self.blog_title or result.title
        pages_needed = []
        for entry in result.entries:
            if entry.get("updated") or entry.get("published"):
                stamp = entry.get("updated") or entry.get("published")
                if not self.newest_updated or dates.parse(stamp) > dates.parse(self.newest_updated):
                    self.newest_updated = stamp
            entry["seen_via"] = "feed"
            entry["seen_url"] = response.url
            if entry.get("summary_only") or not (entry.get("html") or entry.get("text")):
                if entry.get("url"):
                    pages_needed.append(entry["url"])
                if entry.get("html") or entry.get("text"):
                    yield entry  # the summary now; the page fills in the full text
                continue
            if entry.get("url"):
                self.have.add(fetchable_url(entry["url"]))
            yield entry
        yield from self._post_requests(pages_needed, known_check=since is None)
        if result.entries and self.feed_pages < MAX_FEED_PAGES:
            nxt = result.next_url
            if nxt:
                nxt = self._same_site(nxt)
            if not nxt and result.total_results and result.start_index:
                # the page's own entries, read or not: a lost entry must not shift the next window
                following = result.start_index + max(len(result.entries), result.entries_declared)
                if following <= result.total_results:
                    nxt = self._feed_url(base, since=since, start_index=following)
            if nxt and nxt not in self.feed_urls_seen:  # a next link that loops ends the feed walk
                self.feed_urls_seen.add(nxt)
                yield scrapy.Request(
                    nxt,
                    callback=self.parse_feed,
                    cb_kwargs={"base": base, "since": since},
                    errback=self.feed_failed,
                    priority=10,
                    dont_filter=True,
                    meta={"rjwatch_role": "feed"},
                )
                return
        # The end of the feed chain, every page of it answered (a failed page ends the chain in feed_failed).
        self.walk.feed_read = bool(self.feed_ok)
        yield from self._html_walk()

    def _same_site(self, url: str) -> str:
        """Feeds name their next page on www.blogger.com/feeds/<id>/...; keep paging on the blog's host."""
        parts = urlsplit(url)
        home = urlsplit(self.home_url)
        if parts.hostname and parts.hostname.endswith("blogger.com") and "/feeds/" in parts.path:
            path = "/feeds/" + parts.path.split("/feeds/", 1)[1].split("/", 1)[1]
            return f"{home.scheme}://{home.netloc}{path}" + (f"?{parts.query}" if parts.query else "")
        return url

    # -- HTML -------------------------------------------------------------------------------
    def parse_page(self, response, follow: bool = True):
        role = response.meta.get("rjwatch_role")
        if not isinstance(response, scrapy.http.TextResponse):
            if role:
                self.walk.fail(role, "not an HTML page", response.status)
            return
        try:
            rules = self.settings.getdict("RJWATCH_EXTRACT_RULES") if hasattr(self, "settings") else None
            page = extract.extract_with_rules(response.body, response.url, rules)
        except extract.ExtractError as exc:
            self.crawler.stats.inc_value("rjwatch/errors")
            if role:
                self.walk.fail(role, "page not readable", response.status)
            self.logger.warning("rjwatch: %s: %s", response.url, exc)
            return
        self.walk.answer(response.status)
        if role == "home":
            self.walk.home_read = True
        if page.get("blog_id"):
            self.blog_id = page["blog_id"]
        page_type = page.get("page_type") or ("item" if page.get("post_id") else None)
        post = extract.post_from_page(page, response.url, seen_via="page", seen_url=response.url)
        if page_type == "item" or (page_type is None and post and _POST_PATH_RE.match(urlsplit(response.url).path)):
            if post is not None:
                yield post
            else:
                self.crawler.stats.inc_value("rjwatch/dropped/no_body_in_html")
        listed = [p["url"] for p in page.get("posts") or [] if p.get("url")]
        yield from self._post_requests(listed, known_check=True)
        if not follow:
            return
        pager = page.get("pager") or []
        if page_type == "item":
            # A post page's sidebar repeats the archive links the home page gave us; its own news is
            # the post-to-post pager (older/newer), which chains through blogs without archives.
            yield from self._post_requests(
                [
                    urljoin(response.url, h)
                    for h in pager
                    if _POST_PATH_RE.match(urlsplit(urljoin(response.url, h)).path)
                ],
                known_check=True,
            )
            return
        links = [urljoin(response.url, h) for h in response.css("a::attr(href)").getall()]
        home = urlsplit(self.home_url).netloc
        posts, archives = [], []
        for link in links:
            parts = urlsplit(link)
            if parts.netloc != home:
                continue
            if _POST_PATH_RE.match(parts.path):
                posts.append(link)
            else:
                m = _ARCHIVE_RE.match(parts.path)
                if (
                    m
                    and FIRST_ARCHIVE_YEAR <= int(m.group(1)) <= _this_year() + 1
                    and not parts.query.replace("m=1", "")
                ):
                    archives.append(link)
        older = response.css("a.blog-pager-older-link::attr(href), a#Blog1_blog-pager-older-link::attr(href)").getall()
        for link in older:
            link = urljoin(response.url, link)
            if urlsplit(link).path.startswith("/search"):
                yield from self._requests([link], self.parse_page)  # robots.txt decides
        yield from self._post_requests(posts, known_check=True)
        yield from self._requests(archives, self.parse_page, role="listing")

    def parse_sitemap(self, response):
        try:
            sitemap = Sitemap(response.body)
        except Exception as exc:  # lxml raises several types for non-XML bodies
            self.logger.info("rjwatch: no usable sitemap at %s (%s)", response.url, type(exc).__name__)
            return
        locs = [entry["loc"] for entry in sitemap if entry.get("loc")]
        if sitemap.type == "sitemapindex":
            yield from self._requests(
                [u for u in (self._on_home(x) for x in locs[:MAX_SITEMAPS]) if u], self.parse_sitemap
            )
        else:
            yield from self._post_requests([u for u in (self._on_home(x) for x in locs) if u], known_check=True)

    # -- helpers ------------------------------------------------------------------------------
    def _on_home(self, url: str) -> str | None:
        """Sitemaps name the blog's canonical host; fetch on the host we were given."""
        parts = urlsplit(url)
        home = urlsplit(self.home_url)
        if not parts.path:
            return None
        return f"{home.scheme}://{home.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def _requests(self, urls: list[str], callback, role: str | None = None):
        """Requests for listing pages (archives, sitemaps, search pages), each URL once per run.

        With a `role` the request is part of the walk: its failure leaves the walk incomplete."""
        for url in urls:
            url = fetchable_url(url)
            if url not in self.requested:
                self.requested.add(url)
                if role:
                    yield scrapy.Request(
                        url, callback=callback, errback=self.request_failed, meta={"rjwatch_role": role}
                    )
                else:
                    yield scrapy.Request(url, callback=callback, errback=self.extra_failed)

    def _post_requests(self, urls: list[str], *, known_check: bool):
        fresh = []
        for u in urls:
            u = fetchable_url(u)
            if u not in self.requested:
                fresh.append(u)
        known = self.ctx.known(fresh) if (known_check and self.ctx and fresh) else set()
        for u in fresh:
            self.requested.add(u)
            if u in known or u in self.have:
                self.crawler.stats.inc_value("rjwatch/skipped_known")
                continue
            yield scrapy.Request(
                u,
                callback=self.parse_page,
                errback=self.request_failed,
                meta={"rjwatch_post_page": True, "rjwatch_role": "post"},
                cb_kwargs={"follow": not (self.ctx and self.ctx.incremental)},
            )


def _this_year() -> int:
    from datetime import datetime

    return datetime.now(UTC).year
