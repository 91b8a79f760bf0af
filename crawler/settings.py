"""Scrapy settings for rjwatch's spiders (`scrapy crawl ...` reads this module through scrapy.cfg).

Politeness first: robots.txt is obeyed, one request at a time per site with a delay that
AutoThrottle adapts, an identifying User-Agent with a contact URL, and bounded sizes, timeouts,
redirects and retries. `rjwatch crawl` and the daemon set RJWATCH_DB, USER_AGENT and the request
bounds from rjwatch's settings (crawler.config); a manual `scrapy crawl` uses $RJWATCH_DB or
./data/rjwatch.db and the defaults here.
"""

import os

BOT_NAME = "rjwatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# --- politeness ---------------------------------------------------------------------------------
ROBOTSTXT_OBEY = True
#: Identify ourselves, with a URL where site owners can find out who we are.
USER_AGENT = "rjwatch/0.1 (+https://github.com/rjwatch/rjwatch)"
#: One request in flight per site; the whole crawler may still work on many sites at once.
CONCURRENT_REQUESTS_PER_DOMAIN = 1
CONCURRENT_REQUESTS = 16
#: Start at one request a second per site; AutoThrottle then follows the site's response time.
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# --- robustness ---------------------------------------------------------------------------------
# `rjwatch crawl`, the daemon's crawls and cluster workers replace the next three with the
# `fetch_timeout`, `max_bytes` and `max_redirects` settings (crawler.config.scrapy_settings); the
# values here are those settings' defaults, for a manual `scrapy crawl`.
#: Blogger answers in well under a second; 30 s separates slow from stuck.
DOWNLOAD_TIMEOUT = 30
#: Largest response kept, also after decompression (Scrapy's HttpCompressionMiddleware applies it
#: to the inflated size): 10 MB is 25 times the largest real Blogger page we have seen (420 KB).
DOWNLOAD_MAXSIZE = 10_000_000
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
#: Requests per run are bounded by the spider's own caps (feed pages, sitemaps, archive years);
#: this depth limit stops a chain of pager links that never ends.
DEPTH_LIMIT = 2000
DEPTH_PRIORITY = 0
#: Outputs of one callback processed at once. Scrapy's 100 starts 100 asyncio tasks per response;
#: our callbacks yield a handful of items and requests, and 16 cut the crawl's CPU by ~8%
#: (bench/crawl_bench.py, 2,000-post crawls).
CONCURRENT_ITEMS = 16

DOWNLOADER_MIDDLEWARES = {
    # Responses pass middlewares from the highest number down: at 560 a Retry-After answer reaches us
    # before RetryMiddleware (550), and is waited out here instead of being retried at once.
    "crawler.middlewares.RetryAfterMiddleware": 560,
    # Next to the downloader: at most CONCURRENT_REQUESTS_PER_DOMAIN in flight per site, whatever the
    # delay (see the middleware's docstring for the Scrapy behaviour it corrects).
    "crawler.middlewares.PerSiteConcurrencyMiddleware": 950,
    # Early: learned URLs never reach private addresses, whatever middleware made them.
    "crawler.middlewares.SafeUrlMiddleware": 50,
    # A post page whose post came in full with a feed entry is not fetched again.
    "crawler.middlewares.SkipCollectedMiddleware": 60,
}
SPIDER_MIDDLEWARES = {
    # Each post goes to storage with the response it came from (its WARC evidence).
    "crawler.pipelines.CarryResponseMiddleware": 900,
}
ITEM_PIPELINES = {
    "crawler.pipelines.StoragePipeline": 300,
}
EXTENSIONS = {
    "crawler.context.CrawlContext": 100,
    "crawler.progress.ProgressLine": 500,  # only with RJWATCH_PROGRESS (rjwatch crawl without -v)
    "scrapy.extensions.telnet.TelnetConsole": None,
}

# --- rjwatch ------------------------------------------------------------------------------------
#: The database the pipeline writes to (`rjwatch crawl` passes its own --db).
RJWATCH_DB = os.environ.get("RJWATCH_DB") or os.path.join("data", "rjwatch.db")
#: Posts stored per transaction, and the longest a scraped post waits in the buffer.
RJWATCH_BATCH_SIZE = 200
RJWATCH_FLUSH_SECONDS = 5.0
#: Processes that do the text work of stored posts beside the crawl (0: in the crawl's process).
#: One keeps the reactor free for downloads and parsing at the cost of ~100 MB.
RJWATCH_INGEST_WORKERS = 1
#: Private hosts (`host`: every port) or sites (`host:port`) that learned links may reach; rjwatch
#: passes its `trusted_hosts` setting here.
RJWATCH_TRUSTED_HOSTS = []

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
