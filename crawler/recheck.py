"""Re-checking stored copies: is the page of a post that copied the seed still there, as it was?

The pages of posts whose status is one of `recheck_statuses` (copy and excerpt by default) are
fetched again when due (crawler.schedule.next_recheck: daily for a week after the post was first
seen, then weekly until a month), with rjwatch's HTTP client and the guard's allowed sites of the
post's source and the `trusted_hosts` setting, like the poller. What a check comes to:

- 404 or 410: the page is `removed` (with the date), one alert; its stored text and earlier
  versions stay. A removed page is still checked on the schedule: answering again makes it live.
- a text that changed substantially (judge.diff.substantially_changed), or that no longer carries
  the seed as before (the seed comparison is run again on the new text): the stored version goes to
  `revisions`, the post becomes `revised` and is judged again, one alert. Small edits change nothing.
- no answer, a timeout, a 5xx, a page without a post: a failed check, logged; nothing changes and
  the next due time tries again. A page is never called removed for not answering.

With `archive_submit_url` set, each copy is also submitted once to that web archive (a GET of
`<archive_submit_url><post url>`); a failed submission is retried with back-off
(crawler.schedule.archive_retry_wait). Every write goes through storage.checks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from crawler import extract, schedule
from crawler.config import RecheckSettings
from crawler.guard import allowed_sites
from crawler.http import Cancel, FetchError, Response
from judge import dates
from judge.analyze import BadPost
from judge.diff import substantially_changed
from judge.identity import mask_url
from storage import checks, evidence
from storage.ingest import Ingestor

log = logging.getLogger(__name__)

#: Statuses of a page answer that mean the post is gone (not a failure: the site said so).
GONE_STATUSES = (404, 410)
#: Seed verdicts a copy keeps while it still carries the seed as before.
SEED_STATUSES = ("copy", "excerpt")
#: Copies submitted to the web archive per pass (the rest wait for the next pass, an hour later by
#: default): public archives throttle anonymous submitters at a few captures a minute, and a user
#: turning the setting on with thousands of copies stored must not flood it.
MAX_ARCHIVE_PER_PASS = 20
#: How often a running pass looks at the daemon's stop event: a stop ends the fetch under way
#: within this time.
STOP_CHECK_S = 0.2
#: A day's slack on the schedule's end when selecting candidates (the last slot is checked even
#: when the job runs late).
CANDIDATE_SLACK = timedelta(days=1)


@dataclass
class RecheckSummary:
    checked: int = 0
    unchanged: int = 0
    removed: int = 0
    revised: int = 0
    back: int = 0
    failed: int = 0
    archived: int = 0
    archive_failed: int = 0
    archive_on: bool = False

    def line(self) -> str:
        text = f"checked {self.checked}, removed {self.removed}, revised {self.revised}, failed {self.failed}"
        if self.back:
            text += f", back {self.back}"
        if self.archive_on:
            text += f"; archived {self.archived}, archive failed {self.archive_failed}"
        return text

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "archive_on"}


class Rechecker:
    def __init__(self, db: sqlite_utils.Database, settings: RecheckSettings | Mapping[str, Any]):
        self.db = db
        self.settings = settings if isinstance(settings, RecheckSettings) else RecheckSettings.from_config(settings)
        self.ingestor = Ingestor(db)
        self.cancel = Cancel()  # cancelled by a stop: the fetch under way ends at once

    def run(
        self,
        *,
        ids: tuple[int, ...] = (),
        every: bool = False,
        now: datetime | None = None,
        stop: threading.Event | None = None,
    ) -> RecheckSummary:
        """Check the pages that are due (`every`: all candidates, due or not; `ids`: those posts), then
        submit what waits for the web archive (when it is on)."""
        now = now or datetime.now(UTC)
        summary = RecheckSummary(archive_on=bool(self.settings.archive_submit_url))
        done = threading.Event()
        if stop is not None:
            threading.Thread(target=self._watch, args=(stop, done), daemon=True).start()
        try:
            self._run(summary, ids=ids, every=every, now=now)
        finally:
            done.set()
        return summary

    def _watch(self, stop: threading.Event, done: threading.Event) -> None:
        """End the fetch under way when `stop` is set (a stopping daemon), not at its deadline."""
        while not done.is_set():
            if stop.wait(STOP_CHECK_S):
                self.cancel.cancel()
                return

    def _run(self, summary: RecheckSummary, *, ids: tuple[int, ...], every: bool, now: datetime) -> None:
        since = None if (every or ids) else (now - schedule.RECHECK_UNTIL - CANDIDATE_SLACK).isoformat()
        for post in checks.candidates(self.db, self.settings.statuses, since=since, ids=ids):
            if self.cancel.cancelled:
                break
            first_seen = dates.parse(post["first_seen"]) or now
            if not (every or ids) and not schedule.recheck_due(first_seen, dates.parse(post["last_checked"]), now):
                continue
            self.check(post, summary, next_check=schedule.next_recheck(first_seen, now))
        if self.settings.archive_submit_url and not self.cancel.cancelled:
            self.submit_to_archive(summary)

    # -- one page ---------------------------------------------------------------------------------
    def _fetch(self, url: str, allowed) -> Response:
        return self.settings.fetch.fetch(url, ok_statuses=(200, 203), allowed=allowed, cancel=self.cancel)

    def check(self, post: dict, summary: RecheckSummary, *, next_check: datetime | None) -> str:
        """Fetch one post's page and record what it came to; returns the outcome."""
        summary.checked += 1
        allowed = allowed_sites(post.get("source_url"), trusted_hosts=self.settings.fetch.trusted_hosts)
        try:
            resp = self._fetch(post["url"], allowed)
        except FetchError as exc:
            if exc.cancelled:  # a stop, not the site: nothing is recorded, the page stays due
                summary.checked -= 1
                return "cancelled"
            if exc.status in GONE_STATUSES:
                if post.get("page_state") != "removed":  # the answer that removed it, once
                    self._keep_version(
                        post, url=post["url"], status=exc.status, headers=exc.headers, body=b"", reason="removed"
                    )
                if checks.record_removed(self.db, post, http_status=exc.status, next_check=next_check):
                    summary.removed += 1
                    return "removed"
                return "still_removed"
            return self._failed(post, summary, str(exc), exc.status, next_check)
        try:
            a = self._analysis(post, resp)
        except (extract.ExtractError, BadPost) as exc:
            return self._failed(post, summary, f"no post text on the page: {exc}", resp.status, next_check)
        changed, similarity = substantially_changed(post["text"], a.text)
        why = f"{similarity:.0%} of the text as stored"
        was = post.get("machine_status") or post["status"]
        if not changed and was in SEED_STATUSES:
            verdict, _ = self.ingestor.verdict(a, exclude=post["id"])
            if verdict.status != was:
                changed, why = True, f"the seed comparison now says {verdict.status}, not {was}; {why}"
        if changed:
            self._keep_version(
                post, url=resp.url, status=resp.status, headers=resp.headers, body=resp.body, reason="revised"
            )
            checks.record_revised(
                self.db,
                self.ingestor,
                post,
                a,
                http_status=resp.status,
                similarity=similarity,
                why=why,
                next_check=next_check,
            )
            summary.revised += 1
            return "revised"
        outcome = "unchanged" if similarity >= 1.0 else "edited"
        outcome = checks.record_check(
            self.db, post["id"], outcome=outcome, http_status=resp.status, detail=why, next_check=next_check
        )
        if outcome == "back":
            self._keep_version(
                post, url=resp.url, status=resp.status, headers=resp.headers, body=resp.body, reason="updated"
            )
            summary.back += 1
        else:
            summary.unchanged += 1
        return outcome

    def _failed(self, post: dict, summary: RecheckSummary, error: str, status, next_check) -> str:
        log.info("rjwatch: check of post #%s (%s) failed: %s", post["id"], mask_url(post["url"]), error)
        checks.record_check(
            self.db, post["id"], outcome="failed", http_status=status, detail=error[:300], next_check=next_check
        )
        summary.failed += 1
        return "failed"

    def _analysis(self, post: dict, resp: Response):
        page = extract.extract_page(resp.body, post["url"])
        if not page.get("html") and not page.get("text"):
            raise extract.ExtractError("the page carries no post body")
        item = {
            "url": post["url"],
            "title": page.get("title") or post.get("title"),
            "html": page.get("html"),
            "text": page.get("text") if not page.get("html") else None,
            "blog_id": page.get("blog_id"),
            "post_id": page.get("post_id"),
        }
        return self.ingestor.analyze(item)

    def _keep_version(self, post: dict, *, url: str, status: int, headers: dict, body: bytes, reason: str) -> None:
        """Keep what a check found (the raw response: a revised page, a page back again, the 404/410
        answer of a removed one) as WARC evidence of the post, with `reason` revised, updated or
        removed, when the post's status keeps evidence (the `evidence*` settings). The earlier records
        stay. A record that cannot be written is logged: the check's outcome is recorded anyway."""
        policy = self.settings.evidence
        if not policy.wants(post.get("machine_status") or post.get("status")):
            return
        try:
            evidence.keep(
                self.db,
                post["id"],
                url=url,
                status=status,
                headers=headers,
                body=body,
                reason=reason,
                folder=policy.folder or None,
            )
        except evidence.EvidenceError as exc:
            log.warning("rjwatch: evidence of post #%s not kept: %s", post["id"], exc)

    # -- the web archive -----------------------------------------------------------------------------
    def submit_to_archive(self, summary: RecheckSummary) -> None:
        """Submit each copy not yet accepted (and not waiting for a retry) to the web archive, once."""
        endpoint = self.settings.archive_submit_url
        allowed = allowed_sites(endpoint, trusted_hosts=self.settings.fetch.trusted_hosts)
        for post in checks.archive_due(self.db, self.settings.statuses, dates.now_iso())[:MAX_ARCHIVE_PER_PASS]:
            if self.cancel.cancelled:
                return
            try:
                resp = self.settings.fetch.fetch(
                    endpoint + post["url"], ok_statuses=(200, 201, 202, 203), allowed=allowed, cancel=self.cancel
                )
            except FetchError as exc:
                if exc.cancelled:
                    return
                wait = schedule.archive_retry_wait(post["attempts"] + 1, self.settings.archive_retry_s)
                retry_at = (datetime.now(UTC) + timedelta(seconds=wait)).isoformat(timespec="seconds")
                checks.record_archive(
                    self.db,
                    post["id"],
                    post["url"],
                    ok=False,
                    http_status=exc.status,
                    error=str(exc)[:300],
                    next_attempt_at=retry_at,
                )
                log.info("rjwatch: web-archive submission of post #%s failed: %s", post["id"], exc)
                summary.archive_failed += 1
                continue
            location = resp.headers.get("content-location") or (resp.url if resp.history else None)
            checks.record_archive(self.db, post["id"], post["url"], ok=True, http_status=resp.status, location=location)
            summary.archived += 1
