"""The crawl's link to storage: which source is crawled, its run row, its progress, and the anomaly check.

A Scrapy extension. It resolves the source (by `-a source_id=` or by `-a url=`, registering a blog
that was crawled by hand with `scrapy crawl blogger -a url=...`; `rjwatch crawl` registers only with
`--add`), opens a `runs` row, and tells the spider what an incremental crawl may skip
(`backfill_complete`, `newest_updated`, `known(urls)`). When the spider closes it records the run's
figures and what its requests came to (the spider's `Walk`), marks the backfill complete only when the
walk read the blog, records the outcome in the source's health (the failure streak and its cause, as
for feeds, with one `source_failing` alert when the streak reaches RJWATCH_FAILURE_ALERT_AFTER), and
flags a run that found nothing on a blog that used to yield posts, naming the cause. Spiders read this
object; they never open the database.
"""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler import schedule
from judge import dates
from storage import health, outbox
from storage import sources as src
from storage.bootstrap import ensure_initialised
from storage.db import connect, write_tx

log = logging.getLogger(__name__)


class CrawlContext:
    def __init__(self, crawler, db_path: str, failure_alert_after: int = 5):
        self.crawler = crawler
        self.failure_alert_after = failure_alert_after
        spider = crawler.spider
        self.db = connect(Path(db_path))
        ensure_initialised(self.db)
        self.source_id: int | None = None
        self.run_id: int | None = None
        self.state: dict = {}
        self.query = getattr(spider, "query", None)
        self.full = bool(getattr(spider, "full", False))
        source_ref = getattr(spider, "source_id", None)
        url = getattr(spider, "home_url", None)
        if source_ref:
            source = src.get_source(self.db, source_ref)
            self.source_id = source["id"]
            if not url:
                spider.set_home(source["url"])
        elif url:
            self.source_id, created = src.add_source(self.db, url, "blogger")
            if created:
                log.info("rjwatch: registered %s as blogger source #%s", url, self.source_id)
        if self.source_id is not None:
            self.state = src.crawl_state(self.db, self.source_id)
            src.mark_dead_runs(self.db, source_id=self.source_id)  # a killed earlier crawl is not running
            self.run_id = src.start_run(self.db, "crawl", self.source_id)
        crawler.rjwatch = self

    @classmethod
    def from_crawler(cls, crawler):
        db_path = crawler.settings.get("RJWATCH_DB")
        if not db_path:
            raise NotConfigured("RJWATCH_DB is not set")
        ext = cls(crawler, db_path, crawler.settings.getint("RJWATCH_FAILURE_ALERT_AFTER", 5))
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    # -- what the spider asks ---------------------------------------------------------------
    @property
    def backfill_complete(self) -> bool:
        return bool(self.state.get("backfill_complete"))

    @property
    def incremental(self) -> bool:
        """A re-crawl that asks only for what is new: the backfill finished, and no --full or query."""
        return self.backfill_complete and not self.full and not self.query

    @property
    def newest_updated(self) -> str | None:
        return self.state.get("newest_updated")

    def known(self, urls: list[str]) -> set[str]:
        """URLs (as given) of posts already stored: their pages need no fetch."""
        return src.known_urls(self.db, urls) if urls else set()

    # -- closing ------------------------------------------------------------------------------
    def spider_closed(self, spider, reason: str) -> None:
        if self.run_id is None:
            return
        stats = self.crawler.stats.get_stats()
        new_by_status = {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("rjwatch/new/")}
        dropped = {
            k.rsplit("/", 1)[1]: v
            for k, v in stats.items()
            if k.startswith("item_dropped_reasons_count/") or k.startswith("rjwatch/dropped/")
        }
        items = int(stats.get("item_scraped_count", 0))
        pages = int(stats.get("response_received_count", 0))
        errors = int(stats.get("log_count/ERROR", 0)) + int(stats.get("rjwatch/errors", 0))
        walk = spider.walk.report() if hasattr(spider, "walk") else {}
        previous = src.previous_items(self.db, self.source_id, self.run_id) if items == 0 else 0
        anomaly = schedule.crawl_anomaly(items, previous, walk.get("cause"), bool(walk.get("complete")))
        summary = {
            "new": new_by_status,
            "dropped": dropped,
            "seen": stats.get("rjwatch/seen", 0),
            "updated": stats.get("rjwatch/updated", 0),
            "requests": stats.get("downloader/request_count", 0),
            "retries": stats.get("retry/count", 0),
            "robots_blocked": stats.get("robotstxt/forbidden", 0),
            "mode": "incremental" if self.incremental else ("query" if self.query else "full"),
            "anomaly": anomaly,
            "walk": walk,
        }
        src.finish_run(
            self.db, self.run_id, finish_reason=reason, pages=pages, items=items, errors=errors, stats=summary
        )
        update = {"last_run_id": self.run_id}
        newest = getattr(spider, "newest_updated", None)
        # A post page that failed is fetched again only while the progress mark stays behind it.
        if (
            newest
            and not walk.get("posts_failed")
            and (not self.newest_updated or dates.parse(newest) > dates.parse(self.newest_updated))
        ):
            update["newest_updated"] = newest
        if getattr(spider, "blog_id", None):
            update["blog_id"] = spider.blog_id
        if getattr(spider, "feed_ok", None) is not None:
            update["feed_ok"] = int(spider.feed_ok)
        full_walk = not self.incremental and not self.query
        # Complete only when the walk read the blog; otherwise the next crawl walks it again.
        if reason == "finished" and full_walk and walk.get("complete", True):
            update["backfill_complete"] = 1
            update["last_full_at"] = dates.now_iso()
        src.update_crawl_state(self.db, self.source_id, **update)
        src.name_unnamed(self.db, self.source_id, getattr(spider, "blog_title", None))  # listings show it
        if reason == "finished" and walk:
            self._health(walk, full_walk)
        self._alerts(anomaly, new_by_status, reason, full_walk)
        if anomaly:
            log.warning("rjwatch: %s", anomaly)

    def _health(self, walk: dict, full_walk: bool) -> None:
        """The run's outcome in the source's health: a run where every request failed extends the streak."""
        failed = bool(walk.get("all_failed"))
        if failed:
            error = f"every request failed: {walk['cause']}"
        elif walk.get("cause") and full_walk and not walk.get("complete"):
            error = f"walk incomplete: {walk['cause']}"
        else:
            error = None
        url = src.get_source(self.db, self.source_id)["url"]
        health.record_crawl(
            self.db,
            self.source_id,
            url=url,
            failed=failed,
            error=error,
            status=walk.get("last_status"),
            alert_after=self.failure_alert_after,
        )
        if error:
            log.warning("rjwatch: %s", error)

    def _alerts(self, anomaly: str | None, new_by_status: dict, reason: str, full_walk: bool) -> None:
        """The run-level outbox rows: a crawl anomaly, and the one summary line of a silent backfill."""
        rows = []
        if anomaly:
            rows.append(
                (
                    f"anomaly-run-{self.run_id}",
                    "anomaly",
                    {"source_id": self.source_id, "run_id": self.run_id, "problem": anomaly},
                )
            )
        total = sum(new_by_status.values())
        # Like the poller: a backfill that stored nothing new (the blog's feed was polled first) says nothing.
        if getattr(self.crawler.spider, "silent", False) and full_walk and reason == "finished" and total:
            rows.append(
                (
                    f"backfill-source-{self.source_id}",
                    "backfill",
                    {"source_id": self.source_id, "run_id": self.run_id, "posts": total, "by_status": new_by_status},
                )
            )
        if not rows:
            return
        with write_tx(self.db):
            for key, kind, payload in rows:
                outbox.enqueue(self.db, key, kind, payload, source_id=self.source_id)
