"""The decisions of polling and crawling (crawler.schedule), on plain values: no server, no database."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from crawler import schedule as s

DAY = 24 * 3600
MAX_S = 10 * 365 * DAY


# --- which interval ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, usable",
    [
        (60, True),
        ("90", True),
        (0.5, True),
        (MAX_S, True),
        (0, False),
        (-5, False),
        (math.nan, False),
        (math.inf, False),
        (MAX_S + 1, False),
        ("soon", False),
        (None, False),
        ([], False),
    ],
)
def test_usable_seconds(value, usable):
    assert s.usable_seconds(value, MAX_S) is usable


def test_own_every_wins_then_the_adapted_interval_then_the_default():
    assert s.poll_interval(120, 600, 900, MAX_S) == 120
    assert s.poll_interval(None, 600, 900, MAX_S) == 600
    assert s.poll_interval(None, None, 900, MAX_S) == 900


def test_a_stored_interval_that_is_no_duration_is_passed_over():
    assert s.poll_interval(math.nan, 600, 900, MAX_S) == 600
    assert s.poll_interval(1e400, -3, 900, MAX_S) == 900
    assert s.poll_interval("1e400", math.inf, 900, MAX_S) == 900


# --- how the interval adapts ---------------------------------------------------------------------
def test_new_posts_halve_the_interval_down_to_the_minimum():
    assert s.interval_after_success(600, 3, fixed=False, moved=False, min_s=60, max_s=3600) == 300
    assert s.interval_after_success(100, 1, fixed=False, moved=False, min_s=60, max_s=3600) == 60


def test_a_quiet_poll_lengthens_it_up_to_the_maximum():
    assert s.interval_after_success(600, 0, fixed=False, moved=False, min_s=60, max_s=3600) == 750
    assert s.interval_after_success(3500, 0, fixed=False, moved=False, min_s=60, max_s=3600) == 3600


def test_own_every_and_a_move_keep_the_interval():
    assert s.interval_after_success(600, 5, fixed=True, moved=False, min_s=60, max_s=3600) == 600
    assert s.interval_after_success(600, 0, fixed=True, moved=False, min_s=60, max_s=3600) == 600
    assert s.interval_after_success(600, 0, fixed=False, moved=True, min_s=60, max_s=3600) == 600
    # a moved feed with new posts is busy all the same
    assert s.interval_after_success(600, 2, fixed=False, moved=True, min_s=60, max_s=3600) == 300


def test_the_rate_is_a_moving_average():
    assert s.smoothed_rate(0.0, 10) == pytest.approx(3.0)
    assert s.smoothed_rate(10.0, 0) == pytest.approx(7.0)


def test_the_next_poll_is_spread_over_a_tenth_of_the_interval():
    assert s.next_poll_in(1000, 0.0) == 1000
    assert s.next_poll_in(1000, 1.0) == pytest.approx(1100)
    assert 1000 <= s.next_poll_in(1000, 0.37) <= 1100


# --- failures ------------------------------------------------------------------------------------
def test_failures_back_off_exponentially_up_to_a_day():
    assert [s.failure_wait(60, n) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert s.failure_wait(3600, 30) == s.MAX_BACKOFF_S == DAY


def test_retry_after_is_honoured_up_to_its_cap():
    assert s.failure_wait(60, 5, retry_after=30) == 30
    assert s.failure_wait(60, 1, retry_after=10 * DAY) == s.MAX_RETRY_AFTER_S


def test_one_failing_alert_per_streak():
    assert [n for n in range(1, 10) if s.failing_alert_due(n, 3)] == [3]


def test_only_a_never_polled_source_collects_silently():
    assert s.first_collection(0) and s.first_collection(None)
    assert not s.first_collection(1)


# --- crawls --------------------------------------------------------------------------------------
def test_an_empty_crawl_of_a_productive_blog_is_an_anomaly():
    assert s.crawl_anomaly(5, 100, None, True) is None
    assert s.crawl_anomaly(0, 0, None, True) is None  # a new, empty blog: nothing to compare with
    assert "template change" in s.crawl_anomaly(0, 100, None, True)
    assert s.crawl_anomaly(0, 100, "HTTP 503 on the feed", False).endswith("HTTP 503 on the feed")
    assert "template change" in s.crawl_anomaly(0, 100, "HTTP 503 on the feed", True)


def test_an_empty_cluster_round_is_an_anomaly_unless_a_worker_died():
    assert s.round_anomaly(0, lost_worker=True, walk_failed=3, previous_items=100) is None
    assert s.round_anomaly(4, lost_worker=False, walk_failed=3, previous_items=100) is None
    assert s.round_anomaly(0, lost_worker=False, walk_failed=3, previous_items=0).startswith("no posts read: 3")
    assert "template change" in s.round_anomaly(0, lost_worker=False, walk_failed=0, previous_items=7)
    assert s.round_anomaly(0, lost_worker=False, walk_failed=0, previous_items=0) is None


def test_a_blog_is_crawled_again_an_interval_after_its_last_complete_crawl():
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    hour = 3600
    assert s.next_crawl_at(None, completed=True, every_s=hour, now=now) == now
    assert s.next_crawl_at(now - timedelta(minutes=20), completed=True, every_s=hour, now=now) == now + timedelta(
        minutes=40
    )
    assert s.next_crawl_at(now - timedelta(hours=2), completed=True, every_s=hour, now=now) == now
    # killed, stopped or an unfinished backfill: resumed at once
    assert s.next_crawl_at(now - timedelta(minutes=1), completed=False, every_s=hour, now=now) == now
