"""What a crawl shows on the terminal when Scrapy's own log is not asked for: one progress line (pages
fetched and posts read so far, over every blog of the process) and errors, one line each.

`rjwatch crawl` turns this on by default (rjwatch.crawling); `-v` or `--log-level` shows Scrapy's log
instead, and the daemon always keeps that log in full. The progress line is a Scrapy extension
(`ProgressLine`, enabled by the RJWATCH_PROGRESS setting) writing to stderr: redrawn in place on a
terminal, and a plain line now and then when stderr is a file or a pipe.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass

from scrapy import signals
from scrapy.exceptions import NotConfigured

#: Scrapy's log level when the user asked for no log: errors still show (one line each), the
#: INFO lines of every request, setting and stat do not.
QUIET_LOG_LEVEL = "ERROR"
#: On a terminal, the line is redrawn at most this often: live enough to read, cheap for a fast crawl.
PROGRESS_REFRESH_S = 0.5
#: To a file or pipe, a progress line this often: a long crawl shows it is alive in a cron mail or a
#: log file, a short one prints none (its summary says it all).
PROGRESS_PIPE_EVERY_S = 30.0
#: Erases the current terminal line (carriage return, then "erase to the end of the line").
CLEAR_LINE = "\r\x1b[K"


@dataclass
class _Totals:
    blogs: int = 0
    done: int = 0
    pages: int = 0
    posts: int = 0
    drawn_at: float = 0.0
    shown: bool = False


#: One process crawls several blogs (one Scrapy crawler each): one line for all of them.
_totals = _Totals()


def _tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def progress_text(t: _Totals) -> str:
    blogs = f"{t.blogs} blog" + ("s" if t.blogs != 1 else "")
    done = f", {t.done} of {t.blogs} done" if t.blogs > 1 else ""
    return f"crawling {blogs}: {t.pages} pages fetched, {t.posts} posts read{done}"


class ProgressLine:
    """Counts pages and posts of its crawler into the process's totals and draws the line."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = _tty(self.stream)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("RJWATCH_PROGRESS"):
            raise NotConfigured
        ext = cls()
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.page, signal=signals.response_received)
        crawler.signals.connect(ext.post, signal=signals.item_scraped)
        crawler.signals.connect(ext.post, signal=signals.item_dropped)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self, spider) -> None:
        _totals.blogs += 1
        self.draw(force=True)

    def page(self, *args, **kwargs) -> None:
        _totals.pages += 1
        self.draw()

    def post(self, *args, **kwargs) -> None:
        _totals.posts += 1
        self.draw()

    def closed(self, spider) -> None:
        _totals.done += 1
        self.draw(force=True)

    def draw(self, *, force: bool = False) -> None:
        now = time.monotonic()
        every = PROGRESS_REFRESH_S if self.tty else PROGRESS_PIPE_EVERY_S
        if not self.tty:
            if not _totals.drawn_at:
                _totals.drawn_at = now  # the first line after PROGRESS_PIPE_EVERY_S, not at once
            if now - _totals.drawn_at < every:
                return
        elif not force and now - _totals.drawn_at < every:
            return
        _totals.drawn_at = now
        if self.tty:
            self.stream.write(CLEAR_LINE + progress_text(_totals))
            _totals.shown = True
        else:
            self.stream.write(progress_text(_totals) + "\n")
        self.stream.flush()


def finish(stream=None) -> None:
    """The crawls are over: erase the line (the summary takes its place), remove the one-line error
    handler and reset the totals."""
    global _totals
    stream = stream or sys.stderr
    if _totals.shown and _tty(stream):
        stream.write(CLEAR_LINE)
        stream.flush()
    _totals = _Totals()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler.formatter, OneLineFormatter):
            root.removeHandler(handler)


class OneLineFormatter(logging.Formatter):
    """A log record as one line: `rjwatch: crawl error: <first line of the message>` (no traceback;
    `-v` shows them). On a terminal it first erases the progress line it would otherwise run into."""

    def __init__(self, tty: bool):
        super().__init__()
        self.prefix = CLEAR_LINE if tty else ""

    def format(self, record: logging.LogRecord) -> str:
        first = (record.getMessage().splitlines() or [""])[0]
        return f"{self.prefix}rjwatch: crawl {record.levelname.lower()}: {first}"


def install_quiet_log(stream=None) -> logging.Handler:
    """Errors of every logger, one line each, to stderr. Scrapy's own handler is off in this mode
    (LOG_ENABLED false): it replaces its handler for each crawler, but leaves this one alone."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setLevel(QUIET_LOG_LEVEL)
    handler.setFormatter(OneLineFormatter(_tty(stream)))
    logging.getLogger().addHandler(handler)
    return handler
