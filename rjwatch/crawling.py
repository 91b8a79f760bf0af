"""Running Scrapy crawls from the command line: settings from crawler/settings.py plus rjwatch's config
(mapped onto Scrapy's settings by crawler.config).

`rjwatch crawl` runs every chosen blog in one Scrapy process (each blog is its own crawler, so
per-site politeness holds). The daemon runs the same command as a subprocess, because a Twisted
reactor cannot be restarted inside a long-lived process. A blog is crawled by one process at a
time (`crawl_locks`): a manual crawl of a blog the daemon is crawling skips it instead of walking
it a second time alongside.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from crawler import config as crawler_config
from crawler.config import CrawlSettings
from storage.pidlock import Busy, PidLock


@contextmanager
def crawl_locks(db_path: Path, sources: list[dict]):
    """Take each blog's crawl lock (an OS file lock beside the database, released even by kill -9;
    the file is removed when this process is done with it).

    Yields (free, busy): the sources locked for this process, and (source, pid) pairs of the ones
    another process is crawling.
    """
    db_path = Path(db_path)
    free, busy, held = [], [], []
    try:
        for source in sources:
            lock = PidLock(db_path.with_name(f"{db_path.name}.crawl-{source['id']}.lock"))
            try:
                lock.acquire()
            except Busy as exc:
                busy.append((source, exc.pid))
                continue
            held.append(lock)
            free.append(source)
        yield free, busy
    finally:
        for lock in held:
            lock.release()


def scrapy_settings(db_path: Path, cfg, overrides: dict | None = None):
    """Scrapy settings of a crawl process from the app's config (crawler.config.scrapy_settings)."""
    return crawler_config.scrapy_settings(db_path, CrawlSettings.from_config(cfg), overrides)


def run_blog_crawls(
    db_path: Path,
    cfg,
    sources: list[dict],
    *,
    full: bool = False,
    query: str | None = None,
    overrides: dict | None = None,
    log_level: str | None = None,
) -> list[int]:
    """Crawl the blogs in this process; returns the ids of this process's own `runs` rows.

    Scrapy's log goes to stderr at `log_level`, or at the LOG_LEVEL given as a Scrapy setting
    (`--set`, `crawl_settings`); with neither, only a progress line and errors, one line each
    (crawler.progress)."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import SETTINGS_PRIORITIES

    from crawler import progress

    settings = scrapy_settings(db_path, cfg, overrides)
    quiet = not log_level and settings.getpriority("LOG_LEVEL") < SETTINGS_PRIORITIES["cmdline"]
    if log_level:
        settings.set("LOG_LEVEL", log_level, priority="cmdline")
    elif quiet:
        settings.set("LOG_LEVEL", progress.QUIET_LOG_LEVEL, priority="cmdline")
        settings.set("LOG_ENABLED", False, priority="cmdline")
        settings.set("RJWATCH_PROGRESS", True, priority="cmdline")
        progress.install_quiet_log()
    process = CrawlerProcess(settings)
    for source in sources:
        kwargs = {"source_id": str(source["id"])}
        if full:
            kwargs["full"] = "1"
        # --query for this run, else the blog's own (rjwatch source set ID --query)
        term = query or (source.get("settings") or {}).get("query")
        if term:
            kwargs["query"] = term
        process.crawl("blogger", **kwargs)
    crawlers = list(process.crawlers)
    try:
        process.start()
    finally:
        if quiet:
            progress.finish()
    return [c.rjwatch.run_id for c in crawlers if getattr(c, "rjwatch", None) and c.rjwatch.run_id]


def run_discovery(db_path: Path, cfg, hosts: list[dict], trusted: list[str], overrides: dict | None = None) -> None:
    from scrapy.crawler import CrawlerProcess

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
        json.dump({"hosts": hosts, "trusted": trusted}, fh)
        hosts_file = fh.name
    try:
        process = CrawlerProcess(scrapy_settings(db_path, cfg, overrides))
        process.crawl("discover", hosts_file=hosts_file)
        process.start()
    finally:
        os.unlink(hosts_file)
