"""The CLI's names for database set-up; the work is done by storage.bootstrap.

`register_config_sources` takes the app's config object and hands its `[[sources]]` tables down.
"""

from __future__ import annotations

import sqlite_utils

from storage.bootstrap import PACKAGED_SEED, ensure_initialised, initialise, packaged_seed, register_sources

__all__ = ["PACKAGED_SEED", "ensure_initialised", "initialise", "packaged_seed", "register_config_sources"]


def register_config_sources(db: sqlite_utils.Database, cfg) -> list[tuple[int, str, bool]]:
    """Add the `[[sources]]` of the config file; see storage.bootstrap.register_sources."""
    return register_sources(db, cfg.section("sources"))
