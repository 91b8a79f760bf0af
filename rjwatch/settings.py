"""Every setting in one documented table, and how a value is found: CLI flag, environment, file, default.

The config file is TOML (`rjwatch.toml` in the working folder, or `--config PATH` / `$RJWATCH_CONFIG`).
Each setting can also come from the environment as `RJWATCH_<NAME>` (upper case, dots as `_`).
`docs/settings.md` is generated from this table (`rjwatch settings --markdown`) and a test keeps the
two in step.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_ENV = "RJWATCH_CONFIG"
DEFAULT_CONFIG_FILE = "rjwatch.toml"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str

    @property
    def env(self) -> str:
        return "RJWATCH_" + self.name.upper().replace(".", "_")


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "data/rjwatch.db", "SQLite database file. `--db` and `$RJWATCH_DB` override it."),
    Setting("topic", "", "Topic profile (TOML) used for relevance; empty means the packaged Russia–Japan "
            "profile (judge/profiles/russia_japan.toml). Applied by `rjwatch init`."),
    Setting("seeds", [], "Extra reference articles (files or URLs) that `rjwatch init` loads after the "
            "packaged seed."),
    Setting("user_agent", "rjwatch/0.1 (+https://github.com/rjwatch/rjwatch)",
            "User-Agent sent with every request; keep a contact URL in it."),
    Setting("fetch_timeout", 30.0, "Connect and read timeout for one HTTP request, in seconds."),
    Setting("max_bytes", 10_000_000, "Largest response or input file accepted, in bytes (after "
            "decompression). Bigger inputs are refused with an error."),
    Setting("max_redirects", 5, "Redirects followed per request."),
    Setting("poll_interval", "15m", "Starting interval between polls of a feed (adapts between min_interval "
            "and max_interval; a source's own --every wins). Units: s, m, h, d."),
    Setting("min_interval", "5m", "Shortest adaptive polling interval (busy feeds)."),
    Setting("max_interval", "6h", "Longest adaptive polling interval (quiet feeds)."),
    Setting("poll_workers", 32, "Feeds fetched at once in a polling pass (at most 2 per host)."),
    Setting("failure_alert_after", 5, "Consecutive failures of a source (failed polls of a feed, crawls of a blog where "
            "every request failed) that raise one alert."),
    Setting("poll_tick", "1m", "How often the daemon looks for feeds that are due."),
    Setting("crawl_interval", "6h", "How often the daemon crawls each blog (a blog's own `every` wins)."),
    Setting("crawl_timeout", "2h", "Hard limit of one crawl subprocess; it is then stopped (and resumes "
            "next time)."),
    Setting("crawl_settings", [], "Scrapy settings (KEY=VALUE) for every crawl, like `scrapy crawl -s`."),
    Setting("alert_tick", "1m", "How often the daemon delivers pending alerts."),
    Setting("alert_retry", "30s", "First retry delay of a failed alert delivery; doubles per attempt "
            "(6 attempts, then the alert is `failed`)."),
    Setting("digest_time", "08:00", "Daily digest time (HH:MM) in `timezone`."),
    Setting("timezone", "UTC", "Time zone of the digest time and the scheduler."),
    Setting("backup_dir", "", "Folder for the nightly backup (SQLite backup API); empty: no backup."),
    Setting("batch_size", 200, "Posts stored per transaction by `rjwatch ingest` and the crawlers."),
    Setting("ingest_workers", -1, "Processes that analyse posts for a long `rjwatch ingest` and for big polled "
            "batches (200+ new entries: a backfill, a long feed; started on the first such batch and kept) "
            "while the writes stay in one process; -1 picks by size and cores, 0 analyses in the writing process."),
    Setting("cluster.redis_url", "", "Distributed crawling (docs/cluster.md): the Redis server that holds the shared "
            "frontier, dupefilter and item stream, e.g. `redis://host:6379/0`. Set in `[cluster]` as `redis_url`. "
            "Empty: crawls run locally."),
    Setting("cluster.ingest_batch", 200, "Posts the cluster ingest worker stores per transaction."),
    Setting("trusted_hosts", [], "Private hosts (`host` for every port, or `host:port`) that links learned "
            "from pages may lead to, e.g. blogs on an intranet. Links to other loopback, private and "
            "link-local addresses are never followed; the sources you add yourself always work."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class ConfigError(ValueError):
    """A configuration problem, explained in one line."""


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value) -> float:
    """Seconds from `90`, `90s`, `15m`, `6h` or `1d`."""
    text = str(value).strip().lower()
    try:
        if text and text[-1] in _UNITS:
            seconds = float(text[:-1]) * _UNITS[text[-1]]
        else:
            seconds = float(text)
    except ValueError:
        raise ConfigError(f"not a duration: {value!r} (use e.g. 90s, 15m, 6h, 1d)") from None
    if seconds <= 0:
        raise ConfigError(f"a duration must be positive: {value!r}")
    return seconds


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    default = setting.default
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, list):
            if isinstance(value, str):
                return [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list):
                raise TypeError
            return list(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{origin}: {setting.name} must be {type(default).__name__}, got {value!r}") from None


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
        "environment as shown.",
        "",
        "| setting | default | environment | meaning |",
        "|---|---|---|---|",
    ]
    for s in SETTINGS:
        default = repr(s.default) if not isinstance(s.default, str) else (f"`{s.default}`" if s.default else '""')
        lines.append(f"| `{s.name}` | {default} | `{s.env}` | {s.help} |")
    return "\n".join(lines) + "\n"
