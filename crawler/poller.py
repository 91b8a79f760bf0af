"""The feed poller: one pass over due feed sources, cheap when nothing changed.

For each source, our own HTTP client (crawler.http: timeouts, a size cap that holds after
decompression, at most 5 redirects) sends a conditional GET with the stored ETag/Last-Modified, and
crawler.feeds parses the bytes (feedparser never fetches anything itself). Many feeds are polled at
once by a bounded thread pool, with at most PER_HOST_LIMIT requests in flight per host and a little
jitter; the entries go through storage's single write path in this (the only writing) thread, and
the new validators are saved in the same transaction as the entries, so a crash can never skip any.
The entries of a query feed (a search or alert feed) get their publishers' pages through
crawler.publishers (robots.txt, one request at a time per publisher site in the whole pass).

HTTP semantics: 304 is "nothing new"; 301/308 move the source (the old URL is kept); 410 disables
it with a reason; 429/503 honour Retry-After; other 4xx/5xx and network errors are failures, which
back off exponentially (capped at a day) and raise one alert after `failure_alert_after`
in a row. Intervals adapt: busy feeds are polled more often, quiet ones less, within
[min_interval, max_interval]; a source's own `every` wins. These rules are crawler.schedule's pure
functions; this module fetches, and stores their outcome.

Addresses: the source's own site (and the `trusted_hosts` setting) may be on a private address;
every redirect hop, `rel=next` page and entry page is checked by crawler.guard, so a feed cannot
send the poller to another local service. A refused hop is a failure in the source's health, never
a move. Time: a source's work in one pass ends within SOURCE_DEADLINES fetch deadlines (each fetch
is bounded from connect to last byte), so one stalling server delays only itself; a stop (`stop`)
shuts the sockets of the fetches under way, and their sources stay due.

Why one module of this size: one polling pass (fetch, parse, full text, store, record health) with
its deadlines and stop handling; the decisions it takes (interval, back-off, when to alert) are the
pure functions of crawler/schedule.py.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils

from crawler import feeds, schedule
from crawler.config import PollSettings
from crawler.feeds.engines import engine_host
from crawler.guard import allowed_sites, unsafe_reason
from crawler.http import TOTAL_TIME_FACTOR, Cancel, FetchError, raw_response
from crawler.middlewares import parse_retry_after
from crawler.publishers import PublisherPages, RobotsCache
from crawler.resolve import Resolver
from judge import dates
from judge.durations import MAX_DURATION_S
from judge.identity import mask_url, mask_urls
from judge.relevance import normalize_lines
from storage import health, outbox, queries
from storage import sources as src
from storage.db import read_only_twin, write_tx
from storage.ingest import AnalysisPool, Ingestor
from storage.query_links import adopt_resolved

log = logging.getLogger(__name__)

#: Requests in flight per host at once: feeds of one site are polled politely even in a big pass.
PER_HOST_LIMIT = 2
#: Random pause before each request, so that many feeds of one site are not hit in lockstep.
JITTER_S = 0.05
#: Feed pages followed per source by `--backfill` (rel=next), and entries per Blogger page asked for.
MAX_BACKFILL_PAGES = 200
BACKFILL_PAGE_SIZE = 100
#: What a feed source's `full_text` setting may be: fetch the page of every summary-only entry
#: ("always", or true from older versions), of none ("never", false), or ("auto", the default for new
#: sources) of the entries that read as a summary and name something of the topic.
FULL_TEXT_MODES = ("auto", "always", "never")
#: An entry whose text is at most this many characters and ends with an ellipsis ("...", "…", "[…]")
#: reads as a teaser, even when the feed calls it the content: real feed teasers run 150-400
#: characters; a short news item that ends with "..." in its last quote is rarer than a cut one.
TEASER_MAX_CHARS = 600
_ELLIPSIS_END_RE = re.compile(r"(?:\.\.\.|…|\[(?:\.\.\.|…)\]|\((?:\.\.\.|…)\))(?:\s*[^\s.!?。]{1,15}){0,3}\s*$")
#: In auto mode, a teaser is worth its page when its own relevance score reaches this: it names
#: something of the topic (one side with relations words, a place, a compound). Below it the teaser
#: is clearly off the topic (a recipe, a sports result) and the page would not change the verdict.
TEASER_FETCH_MIN_SCORE = 0.05
#: Summary-only entries whose pages are fetched per poll of a `full_text` source.
MAX_FULL_TEXT_FETCHES = 50
#: A source's share of a pass (not a backfill): this many whole-fetch deadlines (fetch_timeout x
#: TOTAL_TIME_FACTOR) for its feed and the pages of its summary-only entries together. One is the
#: feed's own; the rest lets a `full_text` source fetch its entry pages on a slow site, without one
#: stalling source holding the pass (and with it every other feed) for minutes.
SOURCE_DEADLINES = 3
#: How often a waiting pass looks at its `stop` event: a stop is acted on within this time.
STOP_CHECK_S = 0.2


def full_text_mode(settings: dict) -> str:
    """A feed source's full-text mode: "auto", "always" or "never" (older sources stored true/false,
    or nothing, which meant never)."""
    value = settings.get("full_text")
    if value is True:
        return "always"
    if value in FULL_TEXT_MODES:
        return value
    return "never"


def _entry_text(entry: dict) -> str:
    if entry.get("text"):
        return " ".join(str(entry["text"]).split())
    if entry.get("html"):
        from judge.htmltext import html_to_text

        return " ".join(html_to_text(entry["html"]).split())
    return ""


def _repeated_texts(entries: list[dict]) -> set[str]:
    """Texts that two or more entries of one feed share (a feed that gives the same blurb for every
    entry gives no summary at all)."""
    seen: dict[str, int] = {}
    for e in entries:
        text = _entry_text(e)
        if text:
            seen[text] = seen.get(text, 0) + 1
    return {text for text, n in seen.items() if n > 1}


def _carry(entries: list[dict], resp) -> None:
    """The feed response goes with its entries as their evidence (storage.evidence writes it once)."""
    raw = raw_response(resp)
    for e in entries:
        e.setdefault("raw_response", raw)


@dataclass
class Fetched:
    source: dict
    status: str  # ok | not_modified | moved | gone | throttled | failed
    http_status: int | None = None
    result: feeds.FeedResult | None = None
    entries: list[dict] = field(default_factory=list)
    headers: dict = field(default_factory=dict)
    final_url: str | None = None
    error: str | None = None
    retry_after: float | None = None
    problem: str | None = None  # a non-fatal parse problem (bozo)
    cancelled: bool = False  # stopped mid-fetch: not recorded, the source stays due


@dataclass
class PollSummary:
    polled: int = 0
    not_modified: int = 0
    failed: int = 0
    new_by_status: dict = field(default_factory=dict)
    seen: int = 0
    results: list[dict] = field(default_factory=list)

    def line(self) -> str:
        new = ", ".join(f"{k} {v}" for k, v in sorted(self.new_by_status.items())) or "none"
        return (
            f"{self.polled} source(s) polled: {self.not_modified} not modified (304), new posts: {new}, "
            f"{self.seen} seen before, {self.failed} failed"
        )


class Poller:
    def __init__(
        self,
        db: sqlite_utils.Database,
        settings: PollSettings | Mapping[str, Any],
        *,
        backfill: bool = False,
        pool: AnalysisPool | None = None,
        robots: RobotsCache | None = None,
    ):
        """`settings`: a PollSettings, or a mapping of the documented settings (the app's config) to build
        one from. `pool` analyses big batches of new entries (a backfill, a 500-entry feed) in worker processes.
        `robots`: publisher sites' robots.txt rules kept from earlier passes (the daemon's)."""
        self.db = db
        self.settings = settings if isinstance(settings, PollSettings) else PollSettings.from_config(settings)
        self.backfill = backfill
        self.ingestor = Ingestor(db, pool=pool, evidence_policy=self.settings.evidence)
        self.host_limits: dict[str, threading.Semaphore] = defaultdict(lambda: threading.Semaphore(PER_HOST_LIMIT))
        self.lock = threading.Lock()
        self.cancels: set[Cancel] = set()  # one per source being fetched; a stop cancels them all
        self.resolver = Resolver(self.settings.fetch)  # redirector links of engine feeds
        self.stopped = False
        self.pages = PublisherPages(self.settings.fetch, self.settings.extract_rules, robots, self._stored_in_full)
        self._reader = None  # a read-only connection for the fetching threads (opened when needed)
        self._reader_lock = threading.Lock()

    def _stored_in_full(self, urls: list[str]) -> set[str]:
        """Which of these publisher URLs are stored with their full text (their pages need no fetch).
        Read on a read-only connection of its own: the fetching threads never touch the writer's."""
        with self._reader_lock:
            if self._reader is None:
                self._reader = read_only_twin(self.db)
            if self._reader is False or self._reader is None:
                self._reader = False
                return set()
            return queries.stored_in_full(self._reader, urls)

    def _close_reader(self) -> None:
        with self._reader_lock:
            if self._reader:
                self._reader.conn.close()
            self._reader = None

    # -- fetching (worker threads; no database access) ---------------------------------------
    def _get(
        self,
        url: str,
        headers: dict | None = None,
        ok=(200, 203, 304),
        *,
        allowed=frozenset(),
        cancel: Cancel | None = None,
    ):
        host = urlsplit(url).hostname or ""
        with self.lock:
            sem = self.host_limits[host]
        time.sleep(random.uniform(0, JITTER_S))
        wait_s = None if cancel is None or cancel.deadline is None else max(0.0, cancel.deadline - time.monotonic())
        if not sem.acquire(timeout=wait_s):
            raise FetchError(f"{url[:200]}: timed out (waiting for the host's other requests)")
        try:
            return self.settings.fetch.fetch(url, headers=headers, ok_statuses=ok, allowed=allowed, cancel=cancel)
        finally:
            sem.release()

    def fetch_source(self, source: dict, state: dict) -> Fetched:
        deadline = None
        if not self.backfill:
            deadline = time.monotonic() + SOURCE_DEADLINES * self.settings.fetch.timeout * TOTAL_TIME_FACTOR
        cancel = Cancel(deadline)
        with self.lock:
            self.cancels.add(cancel)
            if self.stopped:
                cancel.cancel()
        try:
            fetched = self._fetch_source(source, state, cancel)
        finally:
            with self.lock:
                self.cancels.discard(cancel)
        if cancel.cancelled:
            return Fetched(source, "failed", error=f"{source['url'][:200]}: fetch cancelled (stopping)", cancelled=True)
        return fetched

    def stop_fetches(self) -> None:
        """End every fetch under way (their sockets are shut down) and refuse new ones."""
        with self.lock:
            self.stopped = True
            cancels = list(self.cancels)
        for cancel in cancels:
            cancel.cancel()

    def _fetch_source(self, source: dict, state: dict, cancel: Cancel) -> Fetched:
        # The registered source (typed by the user) and the trusted hosts; nothing else on private addresses.
        allowed = allowed_sites(source["url"], trusted_hosts=self.settings.fetch.trusted_hosts)
        headers = {}
        if state.get("etag") and not self.backfill:
            headers["If-None-Match"] = state["etag"]
        if state.get("last_modified") and not self.backfill:
            headers["If-Modified-Since"] = state["last_modified"]
        url = source["url"]
        if self.backfill and "/feeds/" in url and "max-results" not in url:
            url += ("&" if "?" in url else "?") + f"max-results={BACKFILL_PAGE_SIZE}"
        try:
            resp = self._get(url, headers, allowed=allowed, cancel=cancel)
        except FetchError as exc:
            if exc.status == 410:
                return Fetched(source, "gone", 410, error="HTTP 410 Gone")
            if exc.status in (429, 503):
                retry = parse_retry_after(exc.headers.get("retry-after"))
                return Fetched(source, "throttled", exc.status, error=f"HTTP {exc.status}", retry_after=retry)
            return Fetched(source, "failed", exc.status, error=str(exc))
        # Only a chain of permanent redirects moves the source; a temporary hop keeps the old URL.
        moved = resp.url if resp.history and all(s in (301, 308) for s, _ in resp.history) else None
        if resp.status == 304:
            return Fetched(source, "not_modified", 304, headers=resp.headers, final_url=moved)
        try:
            result = feeds.parse_feed(resp.body, resp.url, resp.headers, pool=self.ingestor.pool)
        except feeds.FeedError as exc:
            return Fetched(source, "failed", resp.status, error=f"not a feed: {exc}")
        entries = list(result.entries)
        _carry(entries, resp)
        problems = [result.problem] if result.bozo and result.problem else []
        if self.backfill:
            entries += self._follow_pages(result, problems, allowed, cancel)
        self._entry_links(source, result, entries, problems, allowed, cancel)
        mode = full_text_mode(source.get("settings") or {})
        query = isinstance((source.get("settings") or {}).get("query"), dict)  # a blog's search term is a str
        publisher = [e for e in entries if query or e.get("query_engine")]
        entries_of_feed = [e for e in entries if not (query or e.get("query_engine"))]
        if publisher and (source.get("settings") or {}).get("full_text") not in ("never", False):
            # entries of a search or alert feed: their publishers' pages (crawler.publishers), unless the
            # user turned full text off for this source (`--full-text never`)
            self.pages.fill(publisher, allowed=allowed, cancel=cancel)
        if mode != "never" and entries_of_feed:
            self._fill_full_text(entries_of_feed, allowed, cancel, mode)
        for e in entries:
            if e.get("feed_link"):  # the publisher's URL is the post's; the feed's link is kept beside it
                e["seen_via"], e["seen_url"] = "query", e["feed_link"]
            else:
                e["seen_via"] = "feed"
                e["seen_url"] = e.get("seen_url") or resp.url
            e["source_id"] = source["id"]
        return Fetched(
            source,
            "moved" if moved else "ok",
            resp.status,
            result,
            entries,
            resp.headers,
            final_url=moved,
            problem="; ".join(problems)[: feeds.PROBLEM_MAX_CHARS] if problems else None,
        )

    def _entry_links(self, source: dict, result, entries: list[dict], problems: list[str], allowed, cancel) -> None:
        """The entry-link stage, before any page fetch and before identity: entries of a query source
        or a recognised engine feed (crawler.feeds.engine_of) get `query_engine`, `feed_link` and the
        publisher URL, unwrapped offline or resolved by following the redirector (crawler.resolve);
        known wrappers in any feed are unwrapped too. Links left unresolved go to `problems`."""
        query = (source.get("settings") or {}).get("query")
        engine = (query.get("engine") if isinstance(query, dict) else None) or feeds.engine_of(result)
        feed_url = result.feed_url or source["url"]
        for e in entries:
            feeds.prepare_entry(e, engine, feed_url)
        problem = self.resolver.resolve_entries(
            entries, allowed=allowed, cancel=cancel, engine_host=engine_host(feed_url) if engine else None
        )
        if problem:
            problems.append(problem)

    def _follow_pages(self, first: feeds.FeedResult, problems: list[str], allowed, cancel: Cancel) -> list[dict]:
        """Entries of the pages after `first` (rel=next); their parse problems go to `problems`."""
        out, result, pages = [], first, 0
        seen_pages = set()
        while result.next_url and result.entries and pages < MAX_BACKFILL_PAGES:
            nxt = result.next_url
            if nxt in seen_pages:
                break
            seen_pages.add(nxt)
            pages += 1
            try:
                resp = self._get(nxt, allowed=allowed, cancel=cancel)
                result = feeds.parse_feed(resp.body, resp.url, resp.headers, pool=self.ingestor.pool)
            except (FetchError, feeds.FeedError) as exc:
                log.warning("rjwatch: backfill stopped at %s: %s", nxt, exc)
                break
            _carry(result.entries, resp)
            out.extend(result.entries)
            if result.bozo and result.problem:
                problems.append(f"page {pages + 1}: {result.problem}")
        return out

    def _fill_full_text(self, entries: list[dict], allowed, cancel: Cancel, mode: str = "always") -> None:
        """Fetch the page of summary-only entries, so the verdict and the comparison with the seed see
        the whole text (in "auto" mode, only the teasers that name something of the topic). Pages are
        on the feed's own site or public; a redirect from one is checked like any hop."""
        from crawler import extract

        fetched = 0
        repeated = _repeated_texts(entries) if mode == "auto" else set()
        for e in entries:
            if not e.get("url") or fetched >= MAX_FULL_TEXT_FETCHES:
                continue
            if mode == "auto":
                if not self._teaser_worth_its_page(e, repeated):
                    continue
            elif not e.get("summary_only"):
                continue
            if unsafe_reason(e["url"], allowed):
                continue
            if cancel.cancelled or (cancel.deadline is not None and time.monotonic() >= cancel.deadline):
                log.info("rjwatch: full text of the remaining entries left for the next poll (time is up)")
                break
            fetched += 1
            try:
                resp = self._get(e["url"], ok=(200, 203), allowed=allowed, cancel=cancel)
                page = extract.extract_with_rules(resp.body, e["url"], self.pages.rules)
            except (FetchError, extract.ExtractError) as exc:
                log.info("rjwatch: full text of %s not fetched: %s", e["url"], exc)
                continue
            if page.get("extraction"):
                e["extraction"] = page["extraction"]
            if page.get("html"):
                e["html"], e["text"], e["summary_only"] = page["html"], None, False
                e["raw_response"] = raw_response(resp)  # the page is the post's evidence now, not the feed
                for key in ("blog_id", "post_id", "author"):
                    if page.get(key) and not e.get(key):
                        e[key] = page[key]

    def _teaser_worth_its_page(self, entry: dict, repeated: set[str]) -> bool:
        """Auto mode: does the entry read as a summary, and is it not clearly off the topic?"""
        text = _entry_text(entry)
        teaser = (
            entry.get("summary_only")
            or text in repeated
            or (len(text) <= TEASER_MAX_CHARS and bool(_ELLIPSIS_END_RE.search(text)))
        )
        if not teaser:
            return False
        rel = self.ingestor.profile.score(normalize_lines(text), normalize_lines(entry.get("title") or ""))
        if rel.score >= TEASER_FETCH_MIN_SCORE:
            entry["summary_only"] = True  # until its page replaces it
            return True
        return False

    # -- one pass -------------------------------------------------------------------------------
    def poll(self, sources: list[dict], *, workers: int | None = None, stop=None) -> PollSummary:
        """Poll the sources; `stop` (a threading.Event) ends the pass early: fetches not yet started
        are dropped and the ones under way are cut off (those sources stay due); finished ones are
        recorded."""
        summary = PollSummary()
        if not sources:
            return summary
        states = {s["id"]: health.get(self.db, s["id"]) for s in sources}
        run_id = src.start_run(self.db, "poll", sources[0]["id"] if len(sources) == 1 else None)
        workers = workers or self.settings.workers
        try:
            self._pass(sources, states, summary, run_id, workers, stop)
        finally:
            self._close_reader()
        return summary

    def _pass(self, sources: list[dict], states: dict, summary: PollSummary, run_id: int, workers: int, stop) -> None:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(sources)))) as pool:
            pending = {pool.submit(self._safe_fetch, s, states[s["id"]]) for s in sources}
            stopped = False
            while pending:
                done, pending = wait(pending, timeout=STOP_CHECK_S, return_when=FIRST_COMPLETED)
                if stop is not None and stop.is_set() and not stopped:
                    stopped = True
                    for other in pending:
                        other.cancel()
                    self.stop_fetches()  # the fetches under way end now, not at their deadlines
                for fut in done:
                    if fut.cancelled():
                        continue
                    fetched = fut.result()
                    if fetched.cancelled:
                        continue  # stopped mid-fetch: nothing recorded, the source stays due
                    self._record_safely(fetched, states[fetched.source["id"]], summary, run_id)
        src.finish_run(
            self.db,
            run_id,
            finish_reason="shutdown" if stopped else "finished",
            pages=summary.polled,
            items=summary.seen + sum(summary.new_by_status.values()),
            errors=summary.failed,
            stats={
                "new": summary.new_by_status,
                "not_modified": summary.not_modified,
                "failed": summary.failed,
                "sources": len(sources),
            },
        )

    def _safe_fetch(self, source: dict, state: dict) -> Fetched:
        try:
            return self.fetch_source(source, state)
        except Exception as exc:  # a bug or an unexpected library error must not stop the pass
            log.exception("rjwatch: polling %s failed unexpectedly", mask_url(source["url"]))
            return Fetched(source, "failed", error=f"unexpected error: {type(exc).__name__}: {exc}")

    # -- recording (the writing thread) ------------------------------------------------------------
    def _record_safely(self, f: Fetched, state: dict, summary: PollSummary, run_id: int) -> None:
        """Record one source; a bookkeeping error (a bad value in an old database, a bug) is that
        source's failure, saved in its health, and the pass goes on with the others. Only when even
        that cannot be written (the database itself fails) does the error end the pass."""
        before = (summary.polled, summary.not_modified, summary.seen, dict(summary.new_by_status))
        try:
            self._record(f, state, summary, run_id)
        except Exception as exc:
            error = f"unexpected error: {type(exc).__name__}: {exc}"[:300]
            log.warning(
                "rjwatch: recording the poll of %s failed: %s",
                f.source["url"],
                error,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            # the source's transaction was rolled back: so are its counts
            summary.polled, summary.not_modified, summary.seen, summary.new_by_status = before
            summary.polled += 1
            summary.failed += 1
            summary.results.append(
                {"source": f.source["url"], "status": "failed", "http_status": f.http_status, "new": {}, "error": error}
            )
            try:
                with write_tx(self.db):
                    health.save(
                        self.db,
                        f.source["id"],
                        last_poll=health.now(),
                        last_error=error,
                        consecutive_failures=int(state.get("consecutive_failures") or 0) + 1,
                        next_due=health.in_seconds(self._base()),
                    )
            except Exception:
                log.warning("rjwatch: the failure of %s could not be recorded either", f.source["url"])
                raise exc from None

    def _record(self, f: Fetched, state: dict, summary: PollSummary, run_id: int) -> None:
        source = f.source
        sid = source["id"]
        summary.polled += 1
        now = health.now()
        interval = self._interval(source, state)
        row = {
            "source": source["url"],
            "status": f.status,
            "http_status": f.http_status,
            "new": {},
            "error": f.error,
            "problem": f.problem,
        }
        with write_tx(self.db):
            if f.status in ("ok", "moved", "not_modified"):
                new_count = 0
                if f.entries:
                    for e in f.entries:
                        e["run_id"] = run_id
                    # a post stored under its feed link by an earlier poll moves to the publisher's URL
                    adopt_resolved(self.db, [(e["feed_link"], e["url"]) for e in f.entries if e.get("feed_link")])
                    silent = schedule.first_collection(state.get("polls"))
                    result = self.ingestor.ingest_many(f.entries, silent=silent)
                    by_status = result.by_status()
                    new_count = sum(by_status.values())
                    for k, v in by_status.items():
                        summary.new_by_status[k] = summary.new_by_status.get(k, 0) + v
                    summary.seen += result.count("seen") + result.count("updated")
                    row["new"] = by_status
                    if silent and new_count:  # one summary line instead of an alert per post
                        self._backfill_alert(sid, run_id, by_status)
                if f.status == "not_modified":
                    summary.not_modified += 1
                rate = schedule.smoothed_rate(float(state.get("new_item_rate") or 0), new_count)
                interval = schedule.interval_after_success(
                    interval,
                    new_count,
                    fixed=bool((source.get("settings") or {}).get("every")),
                    moved=f.status == "moved",
                    min_s=self._min(),
                    max_s=self._max(),
                )
                values = dict(
                    last_poll=now,
                    last_success=now,
                    last_status=f.http_status,
                    consecutive_failures=0,
                    last_error=f.problem,
                    interval_s=interval,
                    new_item_rate=rate,
                    polls=int(state.get("polls") or 0) + 1,
                    next_due=health.in_seconds(schedule.next_poll_in(interval, random.random())),
                )
                if f.status != "not_modified":
                    values["etag"] = f.headers.get("etag")
                    values["last_modified"] = f.headers.get("last-modified")
                if f.result is not None and not source.get("name"):
                    src.name_unnamed(self.db, sid, f.result.title)  # listings show the feed's title
                if f.final_url and f.final_url != source["url"]:
                    self._move(source, f.final_url)
                    values["moved_from"] = source["url"]
                health.save(self.db, sid, **values)
            elif f.status == "gone":
                summary.failed += 1
                src.set_source_state(self.db, sid, "disabled", missing_ok=True)
                health.save(
                    self.db,
                    sid,
                    last_poll=now,
                    last_status=410,
                    last_error="HTTP 410 Gone",
                    disabled_reason=f"the feed answered 410 Gone on {now}",
                )
            else:
                summary.failed += 1
                failures = int(state.get("consecutive_failures") or 0) + 1
                wait = schedule.failure_wait(interval, failures, f.retry_after if f.status == "throttled" else None)
                health.save(
                    self.db,
                    sid,
                    last_poll=now,
                    last_status=f.http_status,
                    consecutive_failures=failures,
                    last_error=f.error,
                    next_due=health.in_seconds(wait),
                    polls=int(state.get("polls") or 0),
                    interval_s=interval,
                )
                if schedule.failing_alert_due(failures, self.settings.failure_alert_after):
                    self._failing_alert(sid, source["url"], failures, f.error)
        summary.results.append(row)

    def _move(self, source: dict, new_url: str) -> None:
        try:
            key = src.source_key(new_url)
        except ValueError:
            return
        if not src.move_source(self.db, source["id"], new_url, key):
            return  # the new address is already a source of its own
        log.info(
            "rjwatch: source #%s moved permanently: %s -> %s", source["id"], mask_url(source["url"]), mask_url(new_url)
        )

    def _interval(self, source: dict, state: dict) -> float:
        """The source's own `every`, else its adapted interval, else poll_interval. A value that is no
        usable duration (NaN, infinite, negative, beyond MAX_DURATION_S: stored by an older version)
        is passed over."""
        return schedule.poll_interval(
            (source.get("settings") or {}).get("every"), state.get("interval_s"), self._base(), MAX_DURATION_S
        )

    def _base(self) -> float:
        return self.settings.poll_interval_s

    def _min(self) -> float:
        return self.settings.min_interval_s

    def _max(self) -> float:
        return self.settings.max_interval_s

    def _failing_alert(self, sid: int, url: str, failures: int, error: str | None) -> None:
        # the outbox holds what a message may show: no credentials of the source's URL
        payload = {"source_id": sid, "url": mask_url(url), "failures": failures, "error": mask_urls(error)}
        now = dates.now_iso()
        outbox.enqueue(self.db, f"source-failing-{sid}-{now}", "source_failing", payload, source_id=sid, created_at=now)

    def _backfill_alert(self, sid: int, run_id: int, by_status: dict) -> None:
        payload = {"source_id": sid, "run_id": run_id, "posts": sum(by_status.values()), "by_status": by_status}
        outbox.enqueue(self.db, f"backfill-source-{sid}", "backfill", payload, source_id=sid)
