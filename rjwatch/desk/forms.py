"""What the desk's forms write, checked as the CLI checks it: adding a source (`rjwatch source add`)."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import sqlite_utils

from judge.identity import mask_url
from rjwatch.inputs import InputError, check_url
from storage.sources import add_source as store_source

#: Kinds the form offers: detection by fetching (`--kind auto`) stays with the CLI, which may reach out.
FORM_KINDS = ("blogger", "feed")


def add_source(db: sqlite_utils.Database, url: str, kind: str, name: str | None) -> list[str]:
    """Register a source as `rjwatch source add --kind KIND` does; returns one line per source."""
    url = url.strip()
    if not url:
        raise InputError("url: give the address of a blog or a feed")
    if kind not in FORM_KINDS:
        raise InputError(f"kind: one of {', '.join(FORM_KINDS)}")
    check_url(url)
    if urlsplit(url).scheme not in ("http", "https"):
        raise InputError("url: only http and https addresses")
    added = []
    if kind == "blogger":
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}/"
        added = [("blogger", root), ("feed", urljoin(root, "/feeds/posts/default"))]
    else:
        added = [("feed", url)]
    out = []
    for k, u in added:
        settings = {"full_text": "auto"} if k == "feed" else None
        sid, created = store_source(db, u, k, name=name, settings=settings)
        out.append(f"source #{sid}: {k} {mask_url(u)}" + ("" if created else " (already registered)"))
    return out
