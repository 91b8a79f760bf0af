"""Distributed crawling on scrapy-redis: the Redis keys, the crawl rounds, and the worker's Scrapy parts.

Any number of `rjwatch cluster worker` processes, on any number of machines, share one frontier in
Redis: scrapy-redis's scheduler (a priority queue of pickled requests) and its dupefilter (a set of
request fingerprints). Start requests come from a Redis list that `rjwatch cluster seed` (or the
daemon) fills, one message per blog. Workers never open SQLite: their posts go to a Redis stream,
which one ingest worker (crawler.cluster_ingest) drains into storage's single write path.

A **round** is one crawl of one blog, with its own `runs` row (opened by the seeder). Every request
carries its round (`meta["rjwatch_blog"]`), and the dupefilter keeps one fingerprint set per round,
so within a round each URL is fetched once across all workers, a later round may fetch listing pages
again, and a finished round's set is deleted. Pages of posts already stored are skipped through a
per-blog Redis set of canonical URLs (the seeder fills it from SQLite, the ingest worker adds to it
after each commit), which plays the part of `CrawlContext.known` for processes without the database.

What scrapy-redis 0.9.1 needs with Scrapy 2.19 (see docs/cluster.md): SCHEDULER_PERSIST = True (else
the first worker to stop clears the shared queue and dupefilter), a dupefilter subclass whose
`close` keeps the shared set, and a start-message parser of our own (its default turns extra JSON
keys into query arguments). Its RedisPipeline is not used: it RPUSHes to a plain list, which gives a
consumer no way to acknowledge an item after its transaction commits.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from contextlib import contextmanager
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.utils.serialize import ScrapyJSONEncoder
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler
from scrapy_redis.spiders import RedisMixin

from crawler.guard import allowed_sites
from crawler.spiders.blogger import BloggerSpider, Walk
from judge.errors import RjwatchError
from judge.identity import canonical_url, fetchable_url

log = logging.getLogger(__name__)

# --- Redis keys (one prefix, so a Redis database can be shared with other programs) ---------------
PREFIX = "rjwatch"
REQUESTS_KEY = f"{PREFIX}:%(spider)s:requests"  # scrapy-redis's scheduler queue (sorted set)
DUPEFILTER_KEY = f"{PREFIX}:%(spider)s:dupefilter"  # + ":<run id>": one fingerprint set per round
START_KEY = f"{PREFIX}:%(name)s:start_urls"  # list of JSON start messages, one per blog and round
ITEMS_STREAM = f"{PREFIX}:items"  # the stream of posts for the ingest worker
INGEST_GROUP = "ingest"  # its consumer group
ROUNDS_KEY = f"{PREFIX}:rounds"  # hash: run id -> JSON of the open round
ROUND_STATS = f"{PREFIX}:round:%s"  # hash per round: pages, items, stored, new:<status>, walk_failed
#: Round stat: requests the walk needed (home page, archive listings, post pages) that failed.
WALK_FAILED = "walk_failed"
KNOWN_KEY = f"{PREFIX}:known:%s"  # set per source: canonical URLs of stored posts
WORKERS_KEY = f"{PREFIX}:workers"  # hash: worker id -> JSON (host, pid, started)
WORKER_BEAT = f"{PREFIX}:worker:%s"  # string with a TTL: the worker's latest heartbeat
INGEST_BEAT = f"{PREFIX}:ingest"  # hash: the ingest worker's counters and rate
SPIDER_NAME = "blogger"

#: A worker writes its heartbeat this often. Short enough that `cluster status` and the end-of-round
#: check see a change within seconds; one small SET per beat costs nothing.
HEARTBEAT_S = 2.0
#: A heartbeat older than this means the worker is gone (killed, machine down): five missed beats,
#: so a worker busy in a long callback (a 10 MB page) is not declared dead.
HEARTBEAT_TTL_S = 10
#: The Redis client's socket timeout. Scrapy calls the scheduler synchronously, so a stuck Redis
#: must fail a call rather than freeze the reactor for scrapy-redis's default 30 s.
REDIS_SOCKET_TIMEOUT_S = 10

_encode = ScrapyJSONEncoder(ensure_ascii=False).encode  # what scrapy-redis's RedisPipeline uses


def redis_client(url: str):
    """A client for the cluster's Redis (raises ClusterError with a one-line reason)."""
    import redis

    try:
        client = redis.Redis.from_url(
            url, socket_timeout=REDIS_SOCKET_TIMEOUT_S, socket_connect_timeout=REDIS_SOCKET_TIMEOUT_S
        )
        client.ping()
    except ValueError as exc:
        raise ClusterError(f"not a Redis URL: {url!r} ({exc})") from None
    except redis.RedisError as exc:
        raise ClusterError(f"cannot reach Redis at {url}: {exc}") from None
    return client


class ClusterError(RuntimeError, RjwatchError):
    """A cluster problem explained in one line (Redis unreachable, bad URL)."""


def apply_overlay(settings, redis_url: str, *, idle_exit: float = 0) -> None:
    """Turn a crawl process's Scrapy settings into a cluster worker's (in place)."""
    settings.setdict(
        {
            "SCHEDULER": "crawler.cluster.RedisScheduler",
            "DUPEFILTER_CLASS": "crawler.cluster.RoundDupeFilter",
            # Workers come and go; the frontier stays. Without this, a worker that stops clears the
            # queue and the dupefilter that the others are still using.
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_QUEUE_KEY": REQUESTS_KEY,
            "SCHEDULER_DUPEFILTER_KEY": DUPEFILTER_KEY,
            "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
            "REDIS_START_URLS_KEY": START_KEY,
            "REDIS_URL": redis_url,
            "REDIS_PARAMS": {
                "socket_timeout": REDIS_SOCKET_TIMEOUT_S,
                "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_S,
            },
            # scrapy-redis closes an idle spider after this many seconds; 0 waits for work forever.
            "MAX_IDLE_TIME_BEFORE_CLOSE": int(idle_exit),
            # Posts go to the stream, not to SQLite.
            "ITEM_PIPELINES": {"crawler.cluster.StreamPipeline": 300},
        },
        priority="cmdline",
    )
    middlewares = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    middlewares["crawler.cluster.RoundHostsMiddleware"] = 49
    extensions = dict(settings.getdict("EXTENSIONS"))
    # No CrawlContext: workers have no database. The seeder opens rounds, the ingest worker ends them.
    extensions["crawler.context.CrawlContext"] = None
    extensions["crawler.cluster.WorkerHeartbeat"] = 100
    settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="cmdline")
    settings.set("EXTENSIONS", extensions, priority="cmdline")


# --- the scheduler and the dupefilter ---------------------------------------------------------------
class RedisScheduler(Scheduler):
    """scrapy-redis's scheduler, minus the `spider=` argument it passes to the stats collector
    (deprecated since Scrapy 2.14: a warning per worker, and an error once Scrapy removes it)."""

    def enqueue_request(self, request):
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self):
        request = self.queue.pop(self.idle_before_close)
        if request and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request


class RoundDupeFilter(RFPDupeFilter):
    """scrapy-redis's dupefilter with one fingerprint set per round (`<key>:<run id>`)."""

    def _key_for(self, request) -> str:
        run = (request.meta.get("rjwatch_blog") or {}).get("run_id")
        return f"{self.key}:{run}" if run else self.key

    def request_seen(self, request) -> bool:
        return self.server.sadd(self._key_for(request), self.request_fingerprint(request)) == 0

    def mark_seen(self, url: str, blog: dict) -> None:
        """Count a URL as fetched in this round (its post came in full with a feed entry)."""
        request = scrapy.Request(url, meta={"rjwatch_blog": blog})
        self.server.sadd(self._key_for(request), self.request_fingerprint(request))

    def close(self, reason: str = "") -> None:
        """The sets are shared by every worker: a worker that stops keeps them (the ingest
        worker deletes a round's set when the round is over)."""


def round_fingerprint_key(run_id: int) -> str:
    return DUPEFILTER_KEY % {"spider": SPIDER_NAME} + f":{run_id}"


# --- the spider --------------------------------------------------------------------------------
class BlogRound:
    """What the blogger spider asks CrawlContext, answered from a round's start message and Redis."""

    def __init__(self, blog: dict, server):
        self.blog = blog
        self.server = server
        self.source_id = blog["source_id"]
        self.run_id = blog["run_id"]
        self.query = None
        self.full = bool(blog.get("full"))
        self.state = {"feed_url": blog.get("feed_url")}

    @property
    def backfill_complete(self) -> bool:
        return bool(self.blog.get("backfill_complete"))

    @property
    def incremental(self) -> bool:
        return self.backfill_complete and not self.full

    @property
    def newest_updated(self) -> str | None:
        return self.blog.get("newest_updated")

    def known(self, urls: list[str]) -> set[str]:
        keyed = []
        for u in urls:
            try:
                keyed.append((u, canonical_url(u)))
            except ValueError:
                continue
        if not keyed:
            return set()
        hits = self.server.smismember(KNOWN_KEY % self.source_id, [k for _, k in keyed])
        return {u for (u, _), hit in zip(keyed, hits) if hit}


class ClusterBloggerSpider(RedisMixin, BloggerSpider):
    """The blogger spider for many blogs at once, fed from Redis.

    BloggerSpider keeps one blog's state on the spider; here each request carries its blog's round
    (`meta["rjwatch_blog"]`), and each callback runs the BloggerSpider callback with that blog set
    up, collects its whole output at once (so no other response interleaves), and tags what it
    produced: requests inherit the round, posts get their source and run. Its per-process memories
    (`requested`, `have`) give way to the round's shared dupefilter.
    """

    name = SPIDER_NAME

    def __init__(self, *args, **kwargs):
        scrapy.Spider.__init__(self, *args, **kwargs)
        self.source_id = None
        self.full = False
        self.query = None
        self.home_url = None
        self.trusted_hosts: set[str] = set()  # sites (host:port) of every blog seeded to this worker
        self.allowed_domains = None  # many blogs: each callback keeps to its own blog's host
        self._round: BlogRound | None = None
        self._reset_blog_state()

    def _reset_blog_state(self) -> None:
        self.blog_id = None
        self.newest_updated = None
        self.feed_ok = None
        self.silent = False
        self.incremental = False
        self.requested: set[str] = set()
        self.have: set[str] = set()
        self.feed_urls_seen: set[str] = set()
        self.feed_pages = 0
        self._walk_started = False
        self.walk = Walk()  # the callbacks account into it; a round's completeness is decided by cluster_control

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.setup_redis(crawler)
        spider.spider_idle_start_time = int(time.time())
        crawler.signals.connect(spider._busy, signal=signals.response_received)
        return spider

    def _busy(self, **kwargs) -> None:
        """scrapy-redis counts idle time from the last start message it saw; a worker that is
        fetching pages is not idle either (MAX_IDLE_TIME_BEFORE_CLOSE, `cluster worker --idle-exit`)."""
        self.spider_idle_start_time = int(time.time())

    @property
    def ctx(self):
        return self._round

    def set_home(self, url: str) -> None:
        parts = urlsplit(url)
        self.home_url = f"{parts.scheme}://{parts.netloc}/"
        self.trusted_hosts |= allowed_sites(url)

    # -- start messages ----------------------------------------------------------------------
    async def start(self):
        for request in self.next_requests():
            yield request

    def make_request_from_data(self, data):
        try:
            blog = json.loads(data)
            str(blog["url"]), int(blog["source_id"]), int(blog["run_id"])
        except (ValueError, KeyError, TypeError):
            self.logger.warning("rjwatch: ignoring a start message that is not ours: %r", data[:200])
            return []
        with self._blog(blog):
            feed_url = blog.get("feed_url") or urljoin(self.home_url, "/feeds/posts/default")
            request = self._feed_request(feed_url, since=blog.get("since"))
        return self._tag([request], blog)

    # -- callbacks ----------------------------------------------------------------------------
    def parse_feed(self, response, base: str, since: str | None):
        blog = response.meta["rjwatch_blog"]
        with self._blog(blog):
            self.feed_pages = response.meta.get("rjwatch_feed_pages", 0)
            out = list(super().parse_feed(response, base, since))
            return self._tag(out, blog)

    def feed_failed(self, failure):
        blog = failure.request.meta["rjwatch_blog"]
        with self._blog(blog):
            return self._tag(list(super().feed_failed(failure)), blog)

    def parse_page(self, response, follow: bool = True):
        blog = response.meta["rjwatch_blog"]
        with self._blog(blog):
            return self._tag(list(super().parse_page(response, follow)), blog)

    def parse_sitemap(self, response):
        blog = response.meta["rjwatch_blog"]
        with self._blog(blog):
            return self._tag(list(super().parse_sitemap(response)), blog)

    def request_failed(self, failure):
        """As BloggerSpider's, and a failed request the walk needed (home page, archive listing, post
        page) is counted in its round's stats: a round with such failures leaves the backfill to do."""
        before = sum(self.walk.failures.values())
        super().request_failed(failure)
        role = failure.request.meta.get("rjwatch_role")
        run = (failure.request.meta.get("rjwatch_blog") or {}).get("run_id")
        if run and role in ("home", "listing", "post") and sum(self.walk.failures.values()) > before:
            try:
                self.server.hincrby(ROUND_STATS % run, WALK_FAILED, 1)
            except Exception as exc:  # the round then counts as read; the log says why
                self.logger.warning("rjwatch: could not count a failed request of round %s: %s", run, exc)

    @contextmanager
    def _blog(self, blog: dict):
        """Set the spider up as BloggerSpider expects it for this blog's round."""
        self._reset_blog_state()
        self._round = BlogRound(blog, self.server)
        self.set_home(blog["url"])
        self.incremental = self._round.incremental
        self.silent = not self._round.backfill_complete
        try:
            yield
        finally:
            self._round = None

    def _tag(self, outputs: list, blog: dict) -> list:
        for url in self.have:
            # Its post came in full from the feed: no worker needs its page in this round.
            self.crawler.engine.scheduler.df.mark_seen(fetchable_url(url), blog)
        tagged = []
        for out in outputs:
            if isinstance(out, scrapy.Request):
                out.meta.setdefault("rjwatch_blog", blog)
                if out.callback == self.parse_feed:
                    out.meta["rjwatch_feed_pages"] = self.feed_pages
                    # Within a round the dupefilter ends a looping feed; BloggerSpider's
                    # per-process loop check cannot see other workers' pages.
                    out = out.replace(dont_filter=False)
                tagged.append(out)
            elif isinstance(out, dict):
                out.setdefault("source_id", blog["source_id"])
                out.setdefault("run_id", blog["run_id"])
                out["_silent"] = not blog.get("backfill_complete")
                tagged.append(out)
            else:
                tagged.append(out)
        return tagged


class RoundHostsMiddleware:
    """Downloader middleware (before SafeUrlMiddleware): the site (host and port) of a request's own
    blog is trusted in every worker, also in one that never saw that blog's start message."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        blog = request.meta.get("rjwatch_blog")
        hosts = getattr(self.crawler.spider, "trusted_hosts", None)
        if blog and hosts is not None:
            hosts |= allowed_sites(blog.get("url"))
        return None


# --- the item pipeline -------------------------------------------------------------------------
class StreamPipeline:
    """Pushes each post to the Redis stream that the one ingest worker drains (XADD; the worker
    acknowledges an entry only after its SQLite transaction commits)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.server = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        self.server = redis_client(self.crawler.settings.get("REDIS_URL"))

    def process_item(self, item):
        from crawler.pipelines import NoPostBody

        if item.get("candidate_for"):
            raise DropItem("source discovery does not run in cluster mode")
        if not (item.get("html") or item.get("text")):
            raise NoPostBody(f"no post body in {item.get('url')}")
        item = dict(item)
        item.pop("raw_response", None)  # WARC evidence is kept by local crawls only (not sent through Redis)
        silent = item.pop("_silent", False)
        self.server.xadd(ITEMS_STREAM, {"item": _encode(item), "silent": "1" if silent else "0"})
        return item


# --- the worker's heartbeat --------------------------------------------------------------------
class WorkerHeartbeat:
    """Registers the worker, beats every HEARTBEAT_S (pages, requests in flight), counts pages per
    round, and says goodbye when the spider closes. A worker that disappears without a goodbye is
    noticed by the ingest worker, which then marks the open rounds as interrupted."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.server = None
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.started = time.time()
        self.pages = 0
        self.pending_pages: dict[int, int] = {}
        self.loop = None

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        return ext

    def spider_opened(self, spider) -> None:
        from twisted.internet import task

        self.server = redis_client(self.crawler.settings.get("REDIS_URL"))
        self.server.hset(
            WORKERS_KEY,
            self.worker_id,
            json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "started": self.started}),
        )
        self.loop = task.LoopingCall(self.beat)
        self.loop.start(HEARTBEAT_S, now=True)

    def response_received(self, response, request, spider) -> None:
        self.pages += 1
        run = (request.meta.get("rjwatch_blog") or {}).get("run_id")
        if run:
            self.pending_pages[run] = self.pending_pages.get(run, 0) + 1

    def in_flight(self) -> int:
        engine = self.crawler.engine
        busy = len(getattr(engine.downloader, "active", ()))
        slot = getattr(engine.scraper, "slot", None)
        if slot is not None:
            busy += len(getattr(slot, "active", ())) + len(getattr(slot, "queue", ()))
        return busy

    def beat(self) -> None:
        try:
            pipe = self.server.pipeline()
            for run, n in self.pending_pages.items():
                pipe.hincrby(ROUND_STATS % run, "pages", n)
            pipe.set(
                WORKER_BEAT % self.worker_id,
                json.dumps(
                    {
                        "at": time.time(),
                        "pages": self.pages,
                        "in_flight": self.in_flight(),
                        "started": self.started,
                        "pid": os.getpid(),
                        "host": socket.gethostname(),
                    }
                ),
                ex=HEARTBEAT_TTL_S,
            )
            pipe.execute()
            self.pending_pages.clear()
        except Exception as exc:  # a missed beat must not stop the crawl; the next one retries
            log.warning("rjwatch: heartbeat to Redis failed: %s", exc)

    def spider_closed(self, spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.server is None:
            return
        self.beat()
        self.server.hdel(WORKERS_KEY, self.worker_id)
        self.server.delete(WORKER_BEAT % self.worker_id)
