"""What every part of feed parsing shares: the error, the one-line problem reports, and small
readers of dates, languages, titles and URLs.

The modules of crawler.feeds (encoding, entries, blogger_export, discovery) all report a bad
document with `FeedError` and a lost entry in one line (`_loss_line`); the helpers here turn what
feedparser or lxml found into the values of a `storage.items.PostIn`.
"""

from __future__ import annotations

import codecs
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from judge.errors import RjwatchError
from judge.htmltext import text_without_tree

#: Longest `problem` string. It is one log/CLI line; parser messages are short, and a long one
#: usually quotes document text.
PROBLEM_MAX_CHARS = 300

#: Lost entries named one by one in a loss report; the rest are counted ("and 7 more"), so the
#: report stays one readable line.
MAX_LISTED_LOST_ENTRIES = 3

ATOM_NS = "http://www.w3.org/2005/Atom"
APP_NS = "http://www.w3.org/2007/app"
THR_NS = "http://purl.org/syndication/thread/1.0"
#: Blogger's openSearch namespace (the old opensearchrss/1.0 one), and the later 1.1 one for other feeds.
OPENSEARCH_NAMESPACES = frozenset({"http://a9.com/-/spec/opensearchrss/1.0/", "http://a9.com/-/spec/opensearch/1.1/"})
GDATA_KIND_SCHEME = "http://schemas.google.com/g/2005#kind"
KIND_PREFIX = "http://schemas.google.com/blogger/2008/kind#"
GDATA_FEED_REL = "http://schemas.google.com/g/2005#feed"


class FeedError(ValueError, RjwatchError):
    """The bytes are not a feed we can parse (HTML page, empty, binary, oversized, export, ...)."""


def _loss_line(declared: str, parsed: int, lost: int, entry_problems: list[tuple[int, str]]) -> str:
    """ "<declared>, <parsed> parsed: entry 4 has no link or id; ..." in one line."""
    reasons = [f"entry {n} {why}" for n, why in entry_problems[:MAX_LISTED_LOST_ENTRIES]]
    if len(entry_problems) > MAX_LISTED_LOST_ENTRIES:
        reasons.append(f"and {len(entry_problems) - MAX_LISTED_LOST_ENTRIES} more")
    if lost > len(entry_problems):
        reasons.append(f"{lost - len(entry_problems)} not recovered from the malformed XML")
    return _one_line(f"{declared}, {parsed} parsed: " + "; ".join(reasons))


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------

#: feedparser's result dicts remap some keys on lookup (`updated` silently falls back to `published`,
#: with a DeprecationWarning); plain dict lookups see only what the document said, and are faster.
_get = dict.get

_FEED_POST_URL_RE = re.compile(r"blogger\.com/feeds/(\d+)/posts/(?:default|full|summary)/(\d+)")


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    if len(text) > PROBLEM_MAX_CHARS:
        text = text[: PROBLEM_MAX_CHARS - 3] + "..."
    return text


def _describe(exc: BaseException | None) -> str | None:
    if exc is None:
        return None
    message = str(exc) or exc.__class__.__name__
    return _one_line(f"{exc.__class__.__name__}: {message}")


def _is_http(url: str | None) -> bool:
    return isinstance(url, str) and url[:8].lower().startswith(("http://", "https://"))


def _plain(value: str | None, is_html: bool) -> str | None:
    """A title as plain text (HTML titles lose their tags and entities)."""
    if value is None:
        return None
    if is_html and ("<" in value or "&" in value):
        value = " ".join(text_without_tree(value).split())
    value = value.strip()
    return value or None


def _iso_from_struct(st: time.struct_time | None) -> str | None:
    if not st:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", st)


def _iso_from_string(raw: str | None) -> str | None:
    """Normalise an ISO 8601 or RFC 822 date string to ISO 8601 in UTC; None when unreadable.

    A date without an offset is taken as UTC (that is what feedparser assumes too).
    """
    if not raw:
        return None
    raw = raw.strip()
    dt = None
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            dt = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError, OverflowError):  # Overflow: a year of 11 digits
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def _clean_lang(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    return value or None


def _blogger_entry_url(blog_id: str | None, post_id: str | None) -> str | None:
    """The API URL of one Blogger post: a stable URL when only the tag id is known."""
    if blog_id and post_id:
        return f"https://www.blogger.com/feeds/{blog_id}/posts/default/{post_id}"
    return None


def _int_or_none(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _normalise_headers(headers) -> dict[str, str]:
    out: dict[str, str] = {}
    if not headers:
        return out
    for key, value in dict(headers).items():
        if isinstance(key, bytes):
            key = key.decode("latin-1")
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else ""
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        out[str(key).lower()] = str(value)
    return out


def _check_input(data, cap: int, what: str) -> bytes:
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError(f"{what} must be bytes, not {type(data).__name__}")
    if len(data) > cap:
        raise FeedError(f"{what} is {len(data)} bytes, over the {cap}-byte limit")
    if not data.strip() or not data.lstrip(codecs.BOM_UTF8 + b" \t\r\n"):
        raise FeedError(f"{what} is empty")
    return data
