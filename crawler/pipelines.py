"""Item pipeline: hands the spider's posts to storage's single write path, in batches.

Posts are buffered and stored every RJWATCH_BATCH_SIZE posts or RJWATCH_FLUSH_SECONDS, and when the
spider closes. With RJWATCH_INGEST_WORKERS > 0 (the default is 1) the text work of a batch (judge.
analyze: clean-up, language, fingerprints, relevance) runs in worker processes while the crawl goes
on, and the finished batch is written here, in the crawl's process (still one writer); with 0 it
runs inline (`Ingestor.ingest_many`). Items that cannot be posts are dropped with a
reason (Scrapy counts drops per reason in its stats); posts storage refuses are counted under
`rjwatch/dropped/<reason>`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from scrapy.exceptions import DropItem, NotConfigured

from judge import dates
from judge.pool import AnalysisPool
from storage import sources as src
from storage.db import connect
from storage.evidence import DEFAULT_STATUSES, Policy
from storage.ingest import Ingestor, for_analysis
from storage.items import RawResponse

log = logging.getLogger(__name__)


def raw_response(response) -> RawResponse:
    """A Scrapy response as an item carries it to storage, which keeps it as WARC evidence once the
    post's verdict is known (storage.evidence)."""
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, values in response.headers.items() for v in values]
    return RawResponse(response.url, response.status, headers, response.body, dates.now_iso())


class CarryResponseMiddleware:
    """Spider middleware: every post a callback yields carries the response it came from (the post's
    page, or the feed page whose entry it is: one object shared by that page's posts, so its record is
    written once). The body is held only as long as the item."""

    def _carry(self, response, item, shared: list) -> None:
        if isinstance(item, dict) and (item.get("html") or item.get("text")) and not item.get("candidate_for"):
            if not shared:
                shared.append(raw_response(response))
            item.setdefault("raw_response", shared[0])

    def process_spider_output(self, response, result):
        shared: list[RawResponse] = []
        for item in result:
            self._carry(response, item, shared)
            yield item

    async def process_spider_output_async(self, response, result):
        shared: list[RawResponse] = []
        async for item in result:
            self._carry(response, item, shared)
            yield item


class NoPostBody(DropItem):
    """A post page without a body in its HTML (Dynamic Views): its feed entry carries it."""


class NotAPost(DropItem):
    """An index, archive or search page: it lists posts but is not one."""


class StoragePipeline:
    def __init__(self, crawler, db_path: str, batch_size: int, flush_seconds: float, workers: int = 0):
        self.crawler = crawler
        self.workers = workers
        self.pool: AnalysisPool | None = None
        self.pending: list[tuple[list[dict], list]] = []
        self.db_path = db_path
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.buffer: list[dict] = []
        self.first_buffered = 0.0
        self.db = None
        self.ingestor: Ingestor | None = None

    @classmethod
    def from_crawler(cls, crawler):
        db_path = crawler.settings.get("RJWATCH_DB")
        if not db_path:
            raise NotConfigured("RJWATCH_DB is not set")
        return cls(
            crawler,
            db_path,
            crawler.settings.getint("RJWATCH_BATCH_SIZE", 200),
            crawler.settings.getfloat("RJWATCH_FLUSH_SECONDS", 5.0),
            crawler.settings.getint("RJWATCH_INGEST_WORKERS", 1),
        )

    def open_spider(self) -> None:
        self.db = connect(Path(self.db_path))
        settings = self.crawler.settings
        policy = Policy(
            enabled=settings.getbool("RJWATCH_EVIDENCE", True),
            statuses=tuple(settings.getlist("RJWATCH_EVIDENCE_STATUSES", list(DEFAULT_STATUSES))),
            folder=settings.get("RJWATCH_EVIDENCE_DIR") or "",
        )
        self.ingestor = Ingestor(self.db, evidence_policy=policy)
        if self.workers > 0:
            # spawn, not fork: the crawl process runs a reactor and threads that a fork would copy.
            self.pool = AnalysisPool(self.workers, method="spawn")
            self.pool.start(self.ingestor)

    def close_spider(self) -> None:
        self.flush()
        self._write_ready(wait=True)
        if self.pool is not None:
            self.pool.close()
        if self.db is not None:
            self.db.conn.close()

    def process_item(self, item):
        if item.get("candidate_for"):
            self._candidate(item)
            return item
        if not (item.get("html") or item.get("text")):
            raise NoPostBody(f"no post body in {item.get('url')}")
        ctx = getattr(self.crawler, "rjwatch", None)
        if ctx is not None:
            item.setdefault("source_id", ctx.source_id)
            item.setdefault("run_id", ctx.run_id)
        if self.pending:
            self._write_ready(wait=False)
        if not self.buffer:
            self.first_buffered = time.monotonic()
        self.buffer.append(dict(item))
        if len(self.buffer) >= self.batch_size or time.monotonic() - self.first_buffered >= self.flush_seconds:
            self.flush()
        return item

    def flush(self) -> None:
        if not self.buffer or self.ingestor is None:
            return
        batch, self.buffer = self.buffer, []
        if self.pool is None:
            self._count(self.ingestor.ingest_many(batch, silent=self._silent()))
            return
        known = [self.ingestor.known_unchanged(it) for it in batch]
        futures = [
            None if k is not None else self.pool.analyze_later(self.ingestor, for_analysis(it))
            for it, k in zip(batch, known)
        ]
        self.pending.append((batch, list(zip(known, futures))))
        self._write_ready(wait=False)

    def _silent(self) -> bool:
        return bool(getattr(self.crawler.spider, "silent", False))

    def _write_ready(self, *, wait: bool) -> None:
        """Write the analysed batches that are ready (all of them when `wait`), oldest first."""
        while self.pending:
            batch, slots = self.pending[0]
            if not wait and not all(f is None or f.done() for _, f in slots):
                return
            self.pending.pop(0)
            prepared = [(it, (k, None) if k is not None else f.result()) for it, (k, f) in zip(batch, slots)]
            self._count(self.ingestor.write_prepared(prepared, silent=self._silent()))

    def _count(self, result) -> None:
        stats = self.crawler.stats
        for o in result.outcomes:
            if o.action == "inserted":
                stats.inc_value(f"rjwatch/new/{o.status}")
            elif o.action == "error":
                reason = (o.error or "error").split(":")[0].replace(" ", "_")[:40]
                stats.inc_value(f"rjwatch/dropped/{reason}")
                log.warning("rjwatch: not stored: %s: %s", o.url, o.error)
            else:
                stats.inc_value(f"rjwatch/{o.action}")

    def _candidate(self, item: dict) -> None:
        """Record a discovered blog as a candidate source with the posts that link to it."""
        sid, _ = src.add_source(
            self.db,
            item["url"],
            "blogger",
            name=item.get("title"),
            state="candidate",
            settings={"sampled_relevance": item.get("sampled_relevance"), "is_blogger": item.get("is_blogger")},
        )
        src.add_candidate_evidence(self.db, sid, item.get("linked_from") or [])
        self.crawler.stats.inc_value("rjwatch/candidates")
