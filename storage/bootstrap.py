"""Creating or upgrading a database: schema, the topic profile in force, the packaged seed, configured sources.

`rjwatch init` calls it, and so does a crawl or poll that finds a database without seeds (for
example a first `scrapy crawl blogger -a url=...`), so copies of the seed are never missed; the
daemon registers the `[[sources]]` of the config file through it. It lives in storage because the
crawler and the scheduler need it too, and they may not import the application above them.
The packaged seed is a data file of the `rjwatch` distribution (rjwatch/data/seeds/), read as a
resource, not imported.
"""

from __future__ import annotations

from importlib import resources

import sqlite_utils

from judge.article import parse_text_article
from judge.durations import ConfigError
from judge.relevance import TopicProfile
from storage.schema import migrate
from storage.seeds import add_seed, store_topic
from storage.source_settings import SETTABLE, apply_config_entry, check_settings
from storage.sources import SourceError, add_source, source_key

PACKAGED_SEED = "000_2726ccec86287c13.txt"


def packaged_seed() -> dict:
    raw = resources.files("rjwatch").joinpath("data", "seeds", PACKAGED_SEED).read_text("utf-8")
    return parse_text_article(raw)


def initialise(db: sqlite_utils.Database, topic_path: str | None = None) -> dict:
    """Apply migrations, store the topic profile and load seed #1; safe to repeat."""
    applied = migrate(db)
    profile = TopicProfile.load(topic_path or None)
    store_topic(db, profile.name, profile.raw or "")
    art = packaged_seed()
    seed_id, created = add_seed(
        db, title=art["title"], body=art["text"], published=art["published"], origin=f"packaged:{PACKAGED_SEED}"
    )
    return {"applied": applied, "profile": profile, "seed": art, "seed_id": seed_id, "seed_created": created}


def register_sources(db: sqlite_utils.Database, specs: list | None) -> list[tuple[int, str, bool, list]]:
    """Add the `[[sources]]` tables of a config file (url, kind, name, every, full_text, query);
    returns (id, url, created, changes).

    An entry naming a source that exists already applies its name and settings to it when the entry
    changed since it was last applied (changes: (field, old, new)), so editing the file changes the
    source, and a `rjwatch source set` made since is not undone by the next reload. Sources removed
    from the file are left alone (use `rjwatch source disable|remove`): a config edit never deletes
    collected history.
    """
    out = []
    for i, spec in enumerate(specs or []):
        if not isinstance(spec, dict) or not spec.get("url"):
            raise ConfigError(f"[[sources]] #{i + 1} needs a url")
        kind = str(spec.get("kind") or "feed")
        try:
            settings = check_settings(kind, {f: spec.get(f) for f in SETTABLE if f in spec})
            sid, created = add_source(
                db,
                str(spec["url"]),
                kind,
                name=spec.get("name"),
                settings={k: v for k, v in settings.items() if v is not None},
            )
            entry = {"name": spec.get("name"), "settings": settings}
            changes = apply_config_entry(db, sid, source_key(str(spec["url"])), entry)
        except SourceError as exc:
            raise ConfigError(f"[[sources]] #{i + 1}: {exc}") from None
        out.append((sid, str(spec["url"]), created, [] if created else changes))
    return out


def ensure_initialised(db: sqlite_utils.Database) -> None:
    """Initialise a database that has no seed yet (with the default topic); leave others alone."""
    migrate(db)
    if db.execute("SELECT count(*) FROM seeds").fetchone()[0] == 0:
        initialise(db)
