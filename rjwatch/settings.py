"""Every setting in one documented table, and how a value is found: CLI flag, environment, file, default.

The config file is TOML (`rjwatch.toml` in the working folder, or `--config PATH` / `$RJWATCH_CONFIG`).
Each setting can also come from the environment as `RJWATCH_<NAME>` (upper case, dots as `_`).
`docs/settings.md` is generated from this table (`rjwatch settings --markdown`) and a test keeps the
two in step.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judge.durations import MAX_DURATION_S, ConfigError, parse_duration

CONFIG_ENV = "RJWATCH_CONFIG"
DEFAULT_CONFIG_FILE = "rjwatch.toml"


#: Largest integer SQLite stores (a signed 64-bit INTEGER): bigger ids, limits and sizes overflow.
SQLITE_INT_MAX = 2**63 - 1
#: Longest fetch timeout: an hour. A request still silent after that is hung, not slow.
MAX_FETCH_TIMEOUT_S = 3600
#: Most redirects followed: browsers give up after 20; beyond 50 it is a loop.
MAX_REDIRECTS = 50
#: Most threads of a polling pass (or processes of `ingest_workers`): with two requests per host and
#: 2-8 cores, more only costs memory.
MAX_WORKERS = 256
#: Largest batch per transaction: 100,000 posts hold the write lock for about a minute and a half.
MAX_BATCH = 100_000


class Check:
    """What values a setting accepts: `check(value)` returns the value or raises ValueError saying why;
    `allowed` describes the accepted values for `rjwatch settings` and docs/settings.md."""

    def __init__(self, allowed: str, fn: Callable[[Any], Any]):
        self.allowed = allowed
        self.fn = fn

    def __call__(self, value: Any) -> Any:
        return self.fn(value)


def int_range(low: int, high: int = SQLITE_INT_MAX) -> Check:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"must be from {low:,} to {high:,}")
        return value

    return Check(f"{low} to {high:,}" if high != SQLITE_INT_MAX else f"{low} or more", check)


def float_range(low: float, high: float) -> Check:
    """Finite numbers in (low, high]: a zero or negative timeout means none at all, a NaN never times out."""

    def check(value: float) -> float:
        if not (math.isfinite(value) and low < value <= high):
            raise ValueError(f"must be a number above {low:g} and at most {high:g}")
        return value

    return Check(f"above {low:g}, at most {high:g}", check)


def _duration(value: Any) -> Any:
    try:
        parse_duration(value)
    except ConfigError:
        raise ValueError(
            f"must be a duration above 0 and at most {MAX_DURATION_S // 86400} days (e.g. 90s, 15m, 6h, 1d)"
        ) from None
    return value


DURATION = Check(f"a duration, above 0 and at most {MAX_DURATION_S // 86400} days", _duration)

_CLOCK_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _clock(value: str) -> str:
    if not _CLOCK_RE.match(value.strip()):
        raise ValueError("must be a time of day as HH:MM (00:00 to 23:59)")
    return value.strip()


def _time_zone(value: str) -> str:
    name = value.strip()
    if name != "UTC":
        try:
            zoneinfo.ZoneInfo(name)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            raise ValueError("must be an IANA time zone name such as UTC or Asia/Tokyo") from None
    return name


def _not_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _engine_bases(value: dict) -> dict:
    from crawler.query_feeds import DEFAULT_BASES, QueryError, check_base

    out = dict(DEFAULT_BASES)
    for engine, base in value.items():
        if engine not in DEFAULT_BASES:
            raise ValueError(f"names an unknown engine {engine!r} (one of {', '.join(DEFAULT_BASES)})")
        try:
            out[engine] = check_base(engine, str(base))
        except QueryError:
            raise ValueError(f"{engine} must be an http(s) URL without a query") from None
    return out


#: Post statuses (judge.classify.STATUSES) whose pages `recheck_statuses` may name.
POST_STATUSES = ("copy", "excerpt", "new", "duplicate", "off_topic")


def _statuses(value: list) -> list:
    bad = [v for v in value if v not in POST_STATUSES]
    if bad:
        raise ValueError(f"names unknown statuses {', '.join(map(str, bad))} (known: {', '.join(POST_STATUSES)})")
    return value


def _submit_url(value: str) -> str:
    from urllib.parse import urlsplit

    text = value.strip()
    if text and (urlsplit(text).scheme not in ("http", "https") or not urlsplit(text).hostname):
        raise ValueError("must be empty or an http(s) URL such as https://web.archive.org/save/")
    return text


SUBMIT_URL = Check("empty, or an http(s) URL", _submit_url)
RECHECK_STATUSES = Check("a list of post statuses (" + ", ".join(POST_STATUSES) + ")", _statuses)


def _extract_rules(value: dict) -> dict:
    from crawler.extract.rules import RuleError, compile_rules

    try:
        compile_rules(value)
    except RuleError as exc:
        raise ValueError(str(exc)) from None
    return value


CLOCK = Check("HH:MM", _clock)
ENGINE_BASES = Check("a table of engine = http(s) base URL (google-news, bing-news, google-alerts)", _engine_bases)
TIME_ZONE = Check("an IANA time zone name", _time_zone)
STATUSES = Check("post statuses: " + ", ".join(POST_STATUSES), _statuses)
NOT_EMPTY = Check("not empty", _not_empty)
EXTRACT_RULES = Check("tables of CSS/XPath selectors", _extract_rules)


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    check: Check | None = None

    @property
    def env(self) -> str:
        return "RJWATCH_" + self.name.upper().replace(".", "_")


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "data/rjwatch.db", "SQLite database file. `--db` and `$RJWATCH_DB` override it.", NOT_EMPTY),
    Setting(
        "topic",
        "",
        "Topic profile (TOML) used for relevance; empty means the packaged Russia–Japan "
        "profile (judge/profiles/russia_japan.toml). Applied by `rjwatch init`.",
    ),
    Setting("seeds", [], "Extra reference articles (files or URLs) that `rjwatch init` loads after the packaged seed."),
    Setting(
        "user_agent",
        "rjwatch/0.1 (+https://github.com/rjwatch/rjwatch)",
        "User-Agent sent with every request; keep a contact URL in it.",
        NOT_EMPTY,
    ),
    Setting(
        "fetch_timeout",
        30.0,
        "Connect and read timeout for one HTTP request, in seconds.",
        float_range(0, MAX_FETCH_TIMEOUT_S),
    ),
    Setting(
        "max_bytes",
        10_000_000,
        "Largest response or input file accepted, in bytes (after "
        "decompression). Bigger inputs are refused with an error.",
        int_range(1),
    ),
    Setting("max_redirects", 5, "Redirects followed per request.", int_range(0, MAX_REDIRECTS)),
    Setting(
        "poll_interval",
        "15m",
        "Starting interval between polls of a feed (adapts between min_interval "
        "and max_interval; a source's own --every wins). Units: s, m, h, d.",
        DURATION,
    ),
    Setting("min_interval", "5m", "Shortest adaptive polling interval (busy feeds).", DURATION),
    Setting("max_interval", "6h", "Longest adaptive polling interval (quiet feeds); at least min_interval.", DURATION),
    Setting(
        "poll_workers", 32, "Feeds fetched at once in a polling pass (at most 2 per host).", int_range(1, MAX_WORKERS)
    ),
    Setting(
        "failure_alert_after",
        5,
        "Consecutive failures of a source (failed polls of a feed, crawls of a blog where "
        "every request failed) that raise one alert.",
        int_range(1),
    ),
    Setting("poll_tick", "1m", "How often the daemon looks for feeds that are due.", DURATION),
    Setting("crawl_interval", "6h", "How often the daemon crawls each blog (a blog's own `every` wins).", DURATION),
    Setting(
        "crawl_timeout",
        "2h",
        "Hard limit of one crawl subprocess; it is then stopped (and resumes next time).",
        DURATION,
    ),
    Setting("crawl_settings", [], "Scrapy settings (KEY=VALUE) for every crawl, like `scrapy crawl -s`."),
    Setting("alert_tick", "1m", "How often the daemon delivers pending alerts.", DURATION),
    Setting(
        "alert_retry",
        "30s",
        "First retry delay of a failed alert delivery; doubles per attempt (6 attempts, then the alert is `failed`).",
        DURATION,
    ),
    Setting("digest_time", "08:00", "Daily digest time (HH:MM) in `timezone`.", CLOCK),
    Setting("timezone", "UTC", "Time zone of the digest time and the scheduler.", TIME_ZONE),
    Setting("backup_dir", "", "Folder for the nightly backup (SQLite backup API); empty: no backup."),
    Setting(
        "batch_size", 200, "Posts stored per transaction by `rjwatch ingest` and the crawlers.", int_range(1, MAX_BATCH)
    ),
    Setting(
        "ingest_workers",
        -1,
        "Processes that analyse posts for a long `rjwatch ingest` and for big polled "
        "batches (200+ new entries: a backfill, a long feed; started on the first such batch and kept) "
        "while the writes stay in one process; -1 picks by size and cores, 0 analyses in the writing process.",
        int_range(-1, MAX_WORKERS),
    ),
    Setting(
        "cluster.redis_url",
        "",
        "Distributed crawling (docs/cluster.md): the Redis server that holds the shared "
        "frontier, dupefilter and item stream, e.g. `redis://host:6379/0`. Set in `[cluster]` as `redis_url`. "
        "Empty: crawls run locally.",
    ),
    Setting(
        "cluster.ingest_batch", 200, "Posts the cluster ingest worker stores per transaction.", int_range(1, MAX_BATCH)
    ),
    Setting(
        "evidence",
        True,
        "Keep the raw HTTP response of each post with one of `evidence_statuses` as a gzip WARC record "
        "(`rjwatch show ID` names it, `rjwatch evidence ID` writes it out); false: keep none.",
    ),
    Setting(
        "evidence_statuses",
        ["copy", "excerpt", "new"],
        "The post statuses whose response is kept as WARC evidence (the verdict when the post is stored).",
        STATUSES,
    ),
    Setting(
        "evidence_dir",
        "",
        "Folder of the WARC evidence files, one per UTC day: `rjwatch-YYYY-MM-DD.warc.gz`. Empty: `evidence/` "
        "beside the database; a relative path is taken from the database's folder.",
    ),
    Setting(
        "trusted_hosts",
        [],
        "Private hosts (`host` for every port, or `host:port`) that learned URLs "
        "may lead to, e.g. blogs on an intranet: links, redirects, a feed's next page, entry pages, in crawls, "
        "polls and fetched inputs. Other loopback, private and link-local addresses (also names resolving "
        "to them, like `localhost`) are never fetched; the URL you type and the sources you add always work, "
        "on their own host and port only (a URL without a port means port 80 or 443).",
    ),
    Setting(
        "query_engines",
        {"google-news": "https://news.google.com", "bing-news": "https://www.bing.com"},
        "Base URLs of the search engines whose news feeds `source add --query` builds (`google-news`, "
        "`bing-news`), and of the Google Alerts feeds recognised as query sources (`google-alerts`, default "
        "`https://www.google.com`; Google's country hosts are always recognised): for a mirror, or a local "
        "fake in tests. A `[query_engines]` table naming only some engines; in the environment "
        "`google-news=URL,bing-news=URL`. Applies when a query source is added (its feed URL is built then).",
        ENGINE_BASES,
    ),
    Setting(
        "recheck_statuses",
        ["copy", "excerpt"],
        "Statuses of the posts whose pages are checked again (daily for a week after they were first seen, "
        "then weekly until a month): a page answering 404/410 is marked removed, one that changed substantially "
        "revised, each with one alert; the stored text and earlier versions stay. Empty: no re-checks.",
        RECHECK_STATUSES,
    ),
    Setting("recheck_tick", "1h", "How often the daemon looks for copies whose pages are due for a check.", DURATION),
    Setting(
        "archive_submit_url",
        "",
        "Submit each post of `recheck_statuses` once to a public web archive: a GET of this URL followed by the "
        "post's URL, e.g. `https://web.archive.org/save/`. Empty (the default): nothing is submitted.",
        SUBMIT_URL,
    ),
    Setting(
        "archive_retry",
        "1h",
        "First wait before a failed web-archive submission is tried again; doubles per failure, at most a day.",
        DURATION,
    ),
    Setting(
        "extract_rules",
        {},
        "Per-site extraction rules for pages where the generic extraction picks the wrong block: "
        '`[extract_rules."news.example.com"]` (a host, or `host:port`) with `title`, `date` and `body` '
        'selectors, CSS or XPath (an XPath starts with `/` or `(`), e.g. `body = "div.article-body"`, '
        '`date = "//time/@datetime"`. Used for the pages of feed entries and publishers, crawled pages, and `rjwatch classify`/`ingest`; '
        "what a rule does not find is left to the generic extraction. In the environment: the tables as TOML text.",
        EXTRACT_RULES,
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    default = setting.default
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        if isinstance(default, int):
            if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
                raise TypeError
            out = int(value.strip() if isinstance(value, str) else value)
        elif isinstance(default, float):
            if isinstance(value, bool):
                raise TypeError
            out = float(value)
        elif isinstance(default, dict):
            if isinstance(value, str):  # from the environment: TOML tables, or `key=value,key=value`
                try:
                    out = tomllib.loads(value)
                except tomllib.TOMLDecodeError:
                    pairs = [p.partition("=") for p in value.split(",") if p.strip()]
                    if any(not sep for _, sep, _ in pairs):
                        raise TypeError from None
                    out = {k.strip(): v.strip() for k, _, v in pairs}
            elif isinstance(value, dict):
                out = dict(value)
            else:
                raise TypeError
        elif isinstance(default, list):
            if isinstance(value, str):
                out = [v.strip() for v in value.split(",") if v.strip()]
            elif not isinstance(value, list):
                raise TypeError
            else:
                out = list(value)
        else:
            if isinstance(value, (dict, list)):
                raise TypeError
            out = str(value)
    except (TypeError, ValueError, OverflowError, tomllib.TOMLDecodeError):
        raise ConfigError(f"{origin}: {setting.name} must be {type(default).__name__}, got {value!r}"[:300]) from None
    if setting.check is not None:
        try:
            out = setting.check(out)
        except ValueError as exc:
            if isinstance(out, dict):  # the check's message names the table and field itself
                raise ConfigError(f"{origin}: {exc}"[:300]) from None
            raise ConfigError(f"{origin}: {setting.name} {exc}, got {value!r}"[:300]) from None
    return out


@dataclass
class Config:
    values: dict[str, Any]
    path: Path | None
    raw: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def section(self, name: str) -> Any:
        """A table or array of tables from the file that is not a scalar setting (e.g. `sources`)."""
        return self.raw.get(name)


def load(path: str | os.PathLike | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Read settings: overrides (CLI flags) > environment > config file > defaults."""
    explicit = path or os.environ.get(CONFIG_ENV)
    file_path = Path(explicit) if explicit else Path(DEFAULT_CONFIG_FILE)
    raw: dict[str, Any] = {}
    if file_path.exists():
        try:
            raw = tomllib.loads(file_path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config {file_path}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config {file_path} is not valid TOML: {exc}") from None
    elif explicit:
        raise ConfigError(f"config file {file_path} does not exist")
    else:
        file_path = None
    values: dict[str, Any] = {}
    for s in SETTINGS:
        value, origin = s.default, "default"
        found, in_file = _lookup(raw, s.name)
        if found:
            value, origin = in_file, str(file_path)
        if s.env in os.environ:
            value, origin = os.environ[s.env], f"${s.env}"
        values[s.name] = _coerce(s, value, origin)
    for key in raw:
        if key not in _BY_NAME and not isinstance(raw[key], (dict, list)):
            raise ConfigError(f"config {file_path}: unknown setting {key!r} (see `rjwatch settings`)")
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = _coerce(_BY_NAME[name], value, f"--{name}")
    if parse_duration(values["min_interval"]) > parse_duration(values["max_interval"]):
        raise ConfigError(
            f"min_interval ({values['min_interval']}) is longer than max_interval ({values['max_interval']})"
        )
    return Config(values, file_path, raw)


def _lookup(raw: dict[str, Any], name: str) -> tuple[bool, Any]:
    """A setting from the file: `name` at the top, or `a.b` as `b` in the `[a]` table."""
    if name in raw:
        return True, raw[name]
    table, _, key = name.partition(".")
    if key and isinstance(raw.get(table), dict) and key in raw[table]:
        return True, raw[table][key]
    return False, None


def markdown_table() -> str:
    """The settings table as Markdown (docs/settings.md)."""
    lines = [
        "# Settings",
        "",
        "Generated from `rjwatch/settings.py` by `rjwatch settings --markdown`; do not edit by hand.",
        "Set them in `rjwatch.toml` (or the file named by `--config` / `$RJWATCH_CONFIG`), or in the",
        "environment as shown. A value outside its allowed range is refused with an error naming the setting.",
        "",
        "| setting | default | allowed | environment | meaning |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        default = repr(s.default) if not isinstance(s.default, str) else (f"`{s.default}`" if s.default else '""')
        allowed = s.check.allowed if s.check else "any"
        lines.append(f"| `{s.name}` | {default} | {allowed} | `{s.env}` | {s.help} |")
    return "\n".join(lines) + "\n"
