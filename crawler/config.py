"""Typed settings of the crawler layer: what one fetch, a polling pass and a Scrapy crawl need to know.

The poller and the crawls get these small frozen objects, not the application's config: the
application builds them with `from_config`, which reads the documented setting names
(docs/settings.md) from any mapping of them. `scrapy_settings` maps a crawl's onto Scrapy's own
settings, so that `fetch_timeout`, `max_bytes` and `max_redirects` bound a crawl's requests as they
bound the poller's and the CLI's fetches.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from judge.durations import ConfigError, parse_duration
from storage.evidence import DEFAULT_STATUSES, Policy

#: The Scrapy settings module of `scrapy crawl` (scrapy.cfg); rjwatch's own crawls start from it too.
SCRAPY_SETTINGS_MODULE = "crawler.settings"


@dataclass(frozen=True)
class FetchSettings:
    """Bounds and identity of every HTTP request (the `user_agent`, `fetch_timeout`, `max_bytes`,
    `max_redirects` and `trusted_hosts` settings)."""

    user_agent: str
    timeout: float
    max_bytes: int
    max_redirects: int
    trusted_hosts: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> FetchSettings:
        return cls(
            user_agent=str(cfg["user_agent"]),
            timeout=float(cfg["fetch_timeout"]),
            max_bytes=int(cfg["max_bytes"]),
            max_redirects=int(cfg["max_redirects"]),
            trusted_hosts=tuple(str(h) for h in cfg["trusted_hosts"]),
        )

    def fetch(self, url: str, **kw):
        """crawler.http.fetch within these bounds, as this user agent; `kw`: headers, ok_statuses,
        allowed, cancel, ... as fetch takes them."""
        from crawler.http import fetch

        return fetch(
            url,
            timeout=self.timeout,
            max_bytes=self.max_bytes,
            max_redirects=self.max_redirects,
            user_agent=self.user_agent,
            **kw,
        )


def evidence_policy(cfg: Mapping[str, Any]) -> Policy:
    """Which posts keep WARC evidence (the `evidence`, `evidence_statuses` and `evidence_dir` settings;
    a mapping without them gets the defaults)."""

    def get(name: str, default: Any) -> Any:
        try:
            return cfg[name]
        except KeyError:
            return default

    return Policy(
        enabled=bool(get("evidence", True)),
        statuses=tuple(str(s) for s in get("evidence_statuses", DEFAULT_STATUSES)),
        folder=str(get("evidence_dir", "") or ""),
    )


def _extract_rules(cfg: Mapping[str, Any]) -> dict:
    """The `extract_rules` table of a config (checked when it was loaded); {} from a mapping without it."""
    try:
        return dict(cfg["extract_rules"] or {})
    except KeyError:  # a mapping of the older settings only
        return {}


@dataclass(frozen=True)
class PollSettings:
    """What the feed poller needs: its fetches' bounds, the adaptive intervals in seconds, its threads,
    the failure streak that raises an alert, and the `extract_rules` table (as in the config: checked
    when it was loaded, compiled by crawler.extract.rules where pages are extracted)."""

    fetch: FetchSettings
    poll_interval_s: float
    min_interval_s: float
    max_interval_s: float
    workers: int
    failure_alert_after: int
    evidence: Policy = Policy()
    extract_rules: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> PollSettings:
        return cls(
            fetch=FetchSettings.from_config(cfg),
            poll_interval_s=parse_duration(cfg["poll_interval"]),
            min_interval_s=parse_duration(cfg["min_interval"]),
            max_interval_s=parse_duration(cfg["max_interval"]),
            workers=int(cfg["poll_workers"]),
            failure_alert_after=int(cfg["failure_alert_after"]),
            evidence=evidence_policy(cfg),
            extract_rules=_extract_rules(cfg),
        )


@dataclass(frozen=True)
class CrawlSettings:
    """What a Scrapy crawl takes from rjwatch's settings: its requests' bounds, the posts stored per
    transaction, the failure streak that raises an alert, the `crawl_settings` KEY=VALUE pairs, and the
    `extract_rules` table for the pages it extracts."""

    fetch: FetchSettings
    batch_size: int
    failure_alert_after: int
    scrapy: tuple[str, ...] = ()
    evidence: Policy = Policy()
    extract_rules: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> CrawlSettings:
        return cls(
            fetch=FetchSettings.from_config(cfg),
            batch_size=int(cfg["batch_size"]),
            failure_alert_after=int(cfg["failure_alert_after"]),
            scrapy=tuple(str(item) for item in cfg["crawl_settings"]),
            evidence=evidence_policy(cfg),
            extract_rules=_extract_rules(cfg),
        )


def scrapy_settings(db_path: str | os.PathLike, crawl: CrawlSettings, overrides: dict | None = None):
    """Scrapy settings of one crawl process: crawler/settings.py, then rjwatch's settings mapped onto
    Scrapy's, then the `crawl_settings` pairs and `overrides` (`_pairs`: KEY=VALUE strings from `--set`;
    other keys: values), which win over everything."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", SCRAPY_SETTINGS_MODULE)
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    fetch = crawl.fetch
    settings.set("RJWATCH_DB", str(db_path), priority="cmdline")
    settings.set("USER_AGENT", fetch.user_agent, priority="cmdline")
    # The same bounds as every other request of rjwatch (docs/settings.md). Scrapy applies
    # DOWNLOAD_MAXSIZE to the body after decompression too, like crawler.http's cap.
    settings.set("DOWNLOAD_TIMEOUT", fetch.timeout, priority="cmdline")
    settings.set("DOWNLOAD_MAXSIZE", fetch.max_bytes, priority="cmdline")
    settings.set("DOWNLOAD_WARNSIZE", min(settings.getint("DOWNLOAD_WARNSIZE"), fetch.max_bytes), priority="cmdline")
    settings.set("REDIRECT_MAX_TIMES", fetch.max_redirects, priority="cmdline")
    settings.set("RJWATCH_BATCH_SIZE", crawl.batch_size, priority="cmdline")
    # private hosts learned links may reach (crawler.middlewares.SafeUrlMiddleware)
    settings.set("RJWATCH_TRUSTED_HOSTS", list(fetch.trusted_hosts), priority="cmdline")
    # A blog whose crawls fail this many times in a row raises one alert, like a feed.
    settings.set("RJWATCH_FAILURE_ALERT_AFTER", crawl.failure_alert_after, priority="cmdline")
    # Which posts keep their response as WARC evidence (crawler.pipelines -> storage.evidence).
    settings.set("RJWATCH_EVIDENCE", crawl.evidence.enabled, priority="cmdline")
    settings.set("RJWATCH_EVIDENCE_STATUSES", list(crawl.evidence.statuses), priority="cmdline")
    settings.set("RJWATCH_EVIDENCE_DIR", crawl.evidence.folder, priority="cmdline")
    # per-site extraction rules for the pages a crawl extracts (crawler.extract.rules)
    settings.set("RJWATCH_EXTRACT_RULES", dict(crawl.extract_rules), priority="cmdline")
    for item in list(crawl.scrapy) + list((overrides or {}).get("_pairs", [])):
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"crawl setting {item!r} is not KEY=VALUE")
        settings.set(key.strip(), value.strip(), priority="cmdline")
    for key, value in (overrides or {}).items():
        if key != "_pairs":
            settings.set(key, value, priority="cmdline")
    return settings


@dataclass(frozen=True)
class RecheckSettings:
    """What re-checking stored copies needs: its fetches' bounds, the statuses whose pages are checked
    (`recheck_statuses`), the web archive's submit URL (`archive_submit_url`; empty: off) and the
    first wait after a failed submission (`archive_retry`)."""

    fetch: FetchSettings
    statuses: tuple[str, ...]
    archive_submit_url: str = ""
    archive_retry_s: float = 3600.0
    evidence: Policy = Policy()  # where and whether the responses a check found are kept (WARC)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> RecheckSettings:
        return cls(
            fetch=FetchSettings.from_config(cfg),
            statuses=tuple(str(s) for s in cfg["recheck_statuses"]),
            archive_submit_url=str(cfg["archive_submit_url"] or "").strip(),
            archive_retry_s=parse_duration(cfg["archive_retry"]),
            evidence=evidence_policy(cfg),
        )
