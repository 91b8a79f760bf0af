"""Dates as rjwatch stores them: ISO 8601 text, compared as UTC instants.

Posts arrive with dates in many shapes (Atom's RFC 3339, RSS's RFC 822, bare dates from Blogger's
date headers). We store ISO 8601 (`YYYY-MM-DD` when only the day is known, otherwise with an offset)
and order "who published first" on the UTC instant.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

#: What a post without a publication date shows: its page states none (in its metadata, its URL or an
#: explicit "Posted on ..." line), and rjwatch guesses none from numbers in its text.
UNDATED = "- (the page states no date)"

_DATE_ONLY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def parse(value: str | None) -> datetime | None:
    """A timezone-aware datetime from ISO 8601 or RFC 822 text (naive times are taken as UTC)."""
    if not value:
        return None
    value = str(value).strip()
    try:
        if _DATE_ONLY_RE.match(value):
            d = date.fromisoformat(value)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            dt = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


def normalize(value: str | None) -> str | None:
    """ISO 8601 text for storage; a bare date stays a bare date; unparseable input gives None."""
    if not value:
        return None
    value = str(value).strip()
    if _DATE_ONLY_RE.match(value):
        return value if parse(value) else None
    dt = parse(value)
    return dt.isoformat(timespec="seconds") if dt else None


def sort_key(published: str | None, first_seen: str | None) -> float:
    """Order for "who came first": the publication instant, else the first-seen instant."""
    dt = parse(published) or parse(first_seen)
    return dt.timestamp() if dt else float("inf")
