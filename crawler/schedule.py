"""The decisions of polling and crawling, as pure functions: how long until a feed is polled again,
how a failing one backs off, when a failure streak or an empty crawl raises an alert, when a blog is
crawled next.

Plain functions of plain values: no clock, no randomness, no database, no network (the caller
passes the time, the random draw and the stored state), so each rule is tested on its own
(tests/test_schedule.py). crawler.poller, crawler.context, crawler.cluster_control and
scheduler.daemon apply them and store the outcome.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

#: Longest back-off of a failing source: it is still tried once a day, never dropped.
MAX_BACKOFF_S = 24 * 3600
#: Longest Retry-After we accept as the next poll time; beyond it we use MAX_BACKOFF_S.
MAX_RETRY_AFTER_S = 24 * 3600
#: Smoothing of the new-items-per-poll rate (exponential moving average weight of the newest poll).
RATE_SMOOTHING = 0.3
#: Interval changes: halve after a poll with new posts, grow by a quarter after a quiet one.
SPEED_UP = 0.5
SLOW_DOWN = 1.25
#: The next poll comes up to this share of the interval late, at random, so that feeds added together
#: drift apart instead of being polled in lockstep forever.
DUE_SPREAD = 0.1


# --- feeds ---------------------------------------------------------------------------------------
def usable_seconds(value, max_s: float) -> bool:
    """Is `value` a usable stored duration: a finite number of seconds above 0 and at most `max_s`?
    (NaN, infinite, negative or huge values were stored by older versions.)"""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(seconds) and 0 < seconds <= max_s


def poll_interval(every, adapted, default_s: float, max_s: float) -> float:
    """The interval a source is polled at now: its own `every`, else its adapted interval, else the
    configured default; a value that is no usable duration is passed over."""
    for value in (every, adapted):
        if value and usable_seconds(value, max_s):
            return float(value)
    return default_s


def smoothed_rate(rate: float, new_count: int) -> float:
    """The new-items-per-poll rate after a poll that brought `new_count` new posts."""
    return (1 - RATE_SMOOTHING) * rate + RATE_SMOOTHING * new_count


def interval_after_success(
    interval: float, new_count: int, *, fixed: bool, moved: bool, min_s: float, max_s: float
) -> float:
    """The interval after a successful poll: shorter after new posts (not below `min_s`), longer after
    a quiet poll (not above `max_s`). A source with its own `every` (`fixed`) keeps it; a poll that
    found the feed moved says nothing about how busy it is."""
    if fixed:
        return interval
    if new_count:
        return max(min_s, interval * SPEED_UP)
    if not moved:
        return min(max_s, interval * SLOW_DOWN)
    return interval


def next_poll_in(interval: float, draw: float) -> float:
    """Seconds until the next poll: the interval, up to DUE_SPREAD later by `draw` (0 <= draw <= 1)."""
    return interval * (1.0 + DUE_SPREAD * draw)


def failure_wait(interval: float, failures: int, retry_after: float | None = None) -> float:
    """Seconds until a failing source is tried again: the server's Retry-After when it sent one
    (capped at MAX_RETRY_AFTER_S), else an exponential back-off from the interval, doubling with
    each failure in a row, capped at MAX_BACKOFF_S."""
    if retry_after is not None:
        return min(retry_after, MAX_RETRY_AFTER_S)
    return min(MAX_BACKOFF_S, interval * (2 ** (failures - 1)))


def failing_alert_due(failures: int, alert_after: int) -> bool:
    """One `source_failing` alert per streak: when the streak reaches the threshold, not after."""
    return failures == alert_after


def first_collection(polls: int | None) -> bool:
    """A source never polled before: its first collection is a silent backfill (one summary alert,
    not one per post)."""
    return not polls


# --- blogs ---------------------------------------------------------------------------------------
def crawl_anomaly(items: int, previous_items: int, walk_cause: str | None, walk_complete: bool) -> str | None:
    """A crawl that read no post from a blog whose earlier crawls yielded posts is an anomaly: the
    walk's own cause when it stopped short, else a probable template change."""
    if items or previous_items <= 0:
        return None
    if walk_cause and not walk_complete:
        return f"no posts found on a blog that used to yield posts: {walk_cause}"
    return (
        "no posts found on a blog that used to yield posts: its pages answered but none held a post (template change?)"
    )


def round_anomaly(items: int, *, lost_worker: bool, walk_failed: int, previous_items: int) -> str | None:
    """The anomaly of a cluster round that read no post (none when a worker died: the round is
    interrupted, not empty): the failed requests of the walk, or a blog that used to yield posts."""
    if items or lost_worker:
        return None
    if walk_failed:
        return f"no posts read: {walk_failed} request(s) the walk needed failed"
    if previous_items > 0:
        return "no posts found on a blog whose pages answered and used to yield posts (template change?)"
    return None


def next_crawl_at(last_started: datetime | None, *, completed: bool, every_s: float, now: datetime) -> datetime:
    """When a blog's crawl job runs first: `every_s` after its last crawl, or now when that time has
    passed, when it was never crawled, or when its last crawl did not finish its work (`completed`
    false: killed, stopped, an unfinished backfill), which resumes at once."""
    if last_started is None or not completed:
        return now
    due = last_started + timedelta(seconds=every_s)
    return now if due <= now else due


# --- re-checking stored copies -----------------------------------------------------------------------
#: A copy's page is checked every day for this long after it was first seen: a post that copied the
#: seed is most often taken down or edited within days of being noticed.
RECHECK_DAILY_FOR = timedelta(days=7)
#: ... then every week ...
RECHECK_WEEKLY_EVERY = timedelta(days=7)
#: ... until this long after it was first seen; then it is no longer checked (what was kept stays).
RECHECK_UNTIL = timedelta(days=30)
#: Longest wait before a failed web-archive submission is tried again (the first wait is the
#: `archive_retry` setting, doubled per failure): the archive is still asked once a day, never given up on.
ARCHIVE_MAX_RETRY_S = 24 * 3600


def recheck_slots(first_seen: datetime) -> list[datetime]:
    """The times a copy first seen at `first_seen` is due for a check: daily for RECHECK_DAILY_FOR,
    then weekly until RECHECK_UNTIL (with the defaults: days 1-7, 14, 21, 28)."""
    day = timedelta(days=1)
    out = [first_seen + day * n for n in range(1, RECHECK_DAILY_FOR // day + 1)]
    at = first_seen + RECHECK_DAILY_FOR + RECHECK_WEEKLY_EVERY
    while at - first_seen <= RECHECK_UNTIL:
        out.append(at)
        at += RECHECK_WEEKLY_EVERY
    return out


def next_recheck(first_seen: datetime, last_checked: datetime | None) -> datetime | None:
    """When the page of a copy is due next: the first slot after its last check (or after it was
    first seen); None once the schedule has ended. A check missed while nothing ran (the daemon was
    down) is one check when it runs again, not one per missed slot."""
    after = last_checked or first_seen
    return next((slot for slot in recheck_slots(first_seen) if slot > after), None)


def recheck_due(first_seen: datetime, last_checked: datetime | None, now: datetime) -> bool:
    """Is the page of a copy due for a check at `now`?"""
    due = next_recheck(first_seen, last_checked)
    return due is not None and due <= now


def archive_retry_wait(failures: int, first_s: float) -> float:
    """Seconds before a web-archive submission that failed `failures` times in a row is tried again:
    `first_s` after the first failure, doubling, at most ARCHIVE_MAX_RETRY_S."""
    return float(min(ARCHIVE_MAX_RETRY_S, first_s * 2 ** min(max(0, failures - 1), 32)))
