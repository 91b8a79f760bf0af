"""Creating or upgrading a database: schema, the topic profile in force, the packaged seed.

`rjwatch init` calls it, and so does a crawl or poll that finds a database without seeds (for
example a first `scrapy crawl blogger -a url=...`), so copies of the seed are never missed.
"""

from __future__ import annotations

from importlib import resources

import sqlite_utils

from judge.article import parse_text_article
from judge.relevance import TopicProfile
from storage.schema import migrate
from storage.seeds import add_seed, store_topic

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
    seed_id, created = add_seed(db, title=art["title"], body=art["text"], published=art["published"],
                                origin=f"packaged:{PACKAGED_SEED}")
    return {"applied": applied, "profile": profile, "seed": art, "seed_id": seed_id, "seed_created": created}


def ensure_initialised(db: sqlite_utils.Database) -> None:
    """Initialise a database that has no seed yet (with the default topic); leave others alone."""
    migrate(db)
    if db.execute("SELECT count(*) FROM seeds").fetchone()[0] == 0:
        initialise(db)
