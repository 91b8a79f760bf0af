"""A crawl child's log in the daemon's log: the daemon runs each blog crawl as `rjwatch crawl` with
Scrapy's log on (the progress line is for terminals), reads the child's stderr line by line and logs
every line under `crawl.<source id>`, at the level Scrapy gave it, keeping the last lines to explain
a crawl that failed.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque

#: Lines of a crawl child's stderr kept to explain how it ended (the last ones: the error, or Scrapy's
#: closing lines).
CHILD_TAIL_LINES = 3
#: A Scrapy log line (its default LOG_FORMAT): "2026-12-05 01:12:28 [scrapy.core.engine] INFO: Spider opened".
SCRAPY_LINE = re.compile(r"^\S+ \S+ \[(?P<name>[^\]]+)\] (?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL): (?P<msg>.*)$")
#: How long the daemon waits for the last lines of a child that has exited (its pipe closes with it).
READER_JOIN_S = 10.0


def child_log_level(crawl_settings: list[str] | tuple[str, ...], logger: logging.Logger) -> str | None:
    """The `--log-level` a crawl child gets: DEBUG when the daemon logs at DEBUG, else INFO (Scrapy's
    usual log). None when `crawl_settings` sets LOG_LEVEL itself (the child then follows it)."""
    if any(str(item).split("=", 1)[0].strip() == "LOG_LEVEL" for item in crawl_settings):
        return None
    return "DEBUG" if logger.isEnabledFor(logging.DEBUG) else "INFO"


class ChildLog:
    """Forwards a child's stderr (a text stream) into the log from a thread; `tail` holds its last
    non-empty lines."""

    def __init__(self, stream, source_id: int):
        self.stream = stream
        self.logger = logging.getLogger(f"crawl.{source_id}")
        self.tail: deque[str] = deque(maxlen=CHILD_TAIL_LINES)
        self.thread = threading.Thread(target=self._forward, name=f"crawl-log-{source_id}", daemon=True)
        self.thread.start()

    def _forward(self) -> None:
        level = logging.INFO  # lines that continue a record (a settings dump, a traceback) keep its level
        try:
            for raw in self.stream:
                line = raw.rstrip("\n")
                if not line.strip():
                    continue
                self.tail.append(line)
                m = SCRAPY_LINE.match(line)
                if m:
                    level = logging.getLevelName(m["level"])
                    self.logger.log(level, "[%s] %s", m["name"], m["msg"])
                else:
                    self.logger.log(level, "%s", line)
        except (OSError, ValueError):  # the pipe closed under us: the child is gone
            pass

    def finish(self) -> list[str]:
        """Wait for the last lines (the child has exited); returns the tail."""
        self.thread.join(READER_JOIN_S)
        return list(self.tail)
