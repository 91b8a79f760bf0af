"""What `rjwatch source set` and a config's `[[sources]]` entries change on a source: its name and the
settings `every`, `full_text` and `query`, checked in one place and written in one transaction, with
the changes (old -> new) returned for the user to see.
"""

from __future__ import annotations

import json

import sqlite_utils

from judge.durations import ConfigError, parse_duration
from storage import meta
from storage.db import write_tx
from storage.sources import SourceError

#: A feed's full-text modes (crawler.poller.full_text_mode reads them).
FULL_TEXT_MODES = ("auto", "always", "never")
#: What `source set` and a config's `[[sources]]` entry may change, and the kinds each applies to:
#: `every` is a feed's fixed polling interval or a blog's crawl interval, `full_text` a feed's entry
#: pages, `query` the term a blog's crawls ask its search for.
SETTABLE = {"every": ("feed", "blogger"), "full_text": ("feed",), "query": ("blogger",)}
#: Written for `every` to go back to the default (adaptive polling, or the crawl_interval setting).
EVERY_DEFAULT = "auto"
#: `meta` key prefix of the `[[sources]]` entry last applied to a source (by canonical URL): a config
#: entry applies when it changes, so a `source set` in between is not undone by the next reload.
CONFIG_APPLIED_PREFIX = "config_source:"


def check_settings(kind: str, values: dict, *, as_options: bool = False) -> dict:
    """`values` (from `source set` options or a `[[sources]]` entry: every, full_text, query; None: not
    given) checked and stored as settings: `every` in seconds (None: back to the default), `full_text`
    one of FULL_TEXT_MODES, `query` a term (None or empty: none). Raises SourceError in one line,
    naming the setting as the config does (`full_text`) or, `as_options`, as the CLI does (`--full-text`)."""
    out: dict = {}
    for field, value in values.items():
        if value is None:
            continue
        label = f"--{field.replace('_', '-')}" if as_options else field
        if field not in SETTABLE:
            raise SourceError(f"unknown source setting {field!r} (one of {', '.join(SETTABLE)})")
        if kind not in SETTABLE[field]:
            raise SourceError(f"{label} applies to {' and '.join(SETTABLE[field])} sources, not to a {kind} source")
        if field == "every":
            if str(value).strip().lower() == EVERY_DEFAULT:
                out["every"] = None
                continue
            try:
                out["every"] = parse_duration(value)
            except ConfigError as exc:
                raise SourceError(f"{label}: {exc}") from None
        elif field == "full_text":
            mode = {True: "always", False: "never"}.get(value, value) if isinstance(value, bool) else value
            if mode not in FULL_TEXT_MODES:
                raise SourceError(f"{label}: {value!r} is not one of {', '.join(FULL_TEXT_MODES)}")
            out["full_text"] = mode
        else:
            out["query"] = " ".join(str(value).split()) or None
    return out


def update_source(
    db: sqlite_utils.Database, source_id: int, *, name: str | None = None, settings: dict | None = None
) -> list[tuple[str, object, object]]:
    """Change a source's name and settings (`settings` as check_settings returns them; a None value
    removes the setting); returns (field, old, new) for what changed, in one transaction."""
    with write_tx(db):
        row = db.execute("SELECT name, settings FROM sources WHERE id = ?", (source_id,)).fetchone()
        if row is None:
            raise SourceError(f"no source {source_id}")
        old_name, current = row[0], json.loads(row[1] or "{}")
        merged = dict(current)
        changes: list[tuple[str, object, object]] = []
        new_name = (name or None) if name is not None else old_name  # "" removes the name
        if new_name != old_name:
            changes.append(("name", old_name, new_name))
        for field, value in (settings or {}).items():
            if current.get(field) == value:
                continue
            changes.append((field, current.get(field), value))
            if value is None:
                merged.pop(field, None)
            else:
                merged[field] = value
        if changes:
            db.execute(
                "UPDATE sources SET name = ?, settings = ? WHERE id = ?",
                (new_name, json.dumps(merged), source_id),
            )
    return changes


def apply_config_entry(db: sqlite_utils.Database, source_id: int, key: str, spec: dict) -> list[tuple]:
    """Apply a `[[sources]]` entry (name and checked settings) to an existing source when the entry
    differs from the one applied last time; returns the changes (see update_source)."""
    wanted = json.dumps(spec, sort_keys=True)
    if meta.get(db, CONFIG_APPLIED_PREFIX + key) == wanted:
        return []
    changes = update_source(db, source_id, name=spec.get("name"), settings=spec.get("settings"))
    meta.put(db, CONFIG_APPLIED_PREFIX + key, wanted)
    return changes
