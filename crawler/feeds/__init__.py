"""Feed parsing: RSS/Atom bytes and Blogger backup exports into `PostIn` dicts.

This package owns everything between "we have the bytes of a feed" and "here are the posts in it",
one concern a module:

- `encoding`: what a body is (`sniff_kind`, `is_probably_html`), its character encoding (BOMs,
  declared, wrongly declared and undeclared charsets, so Russian and Japanese text comes out right),
  and the screening of hostile input (DOCTYPE internal subsets, XXE, entity expansion, character
  references no parser takes) before any XML parser runs.
- `entries`: `parse_feed`, RSS 0.9x/1.0/2.0 and Atom via feedparser (from bytes; feedparser never
  fetches anything itself) into a `FeedResult`, with Blogger pagination and ids and an account of
  every entry lost (`FeedResult.loss_report`).
- `blogger_export`: `parse_blogger_export` / `read_blogger_export`, the published posts of a Blogger
  "Back up content" file.
- `discovery`: `feed_links_from_html`, feed autodiscovery in an HTML page.
- `engines`: `engine_of`, which recognises Google Alerts, Google News and Bing News feeds, and the
  reading of their entries' links and titles (`prepare_entry`).
- `base`: `FeedError` and what the others share.

Oversized, empty, binary and HTML input is refused with `FeedError` (the size cap and the binary
test are crawler.sniff's, shared with page extraction), and so is anything else a parser raises on,
so one bad document never ends a run. The names callers use are imported here.
"""

from crawler.feeds.base import PROBLEM_MAX_CHARS, FeedError
from crawler.feeds.blogger_export import MAX_EXPORT_BYTES, ExportResult, parse_blogger_export, read_blogger_export
from crawler.feeds.discovery import feed_links_from_html
from crawler.feeds.encoding import MAX_DOCTYPE_BYTES, is_probably_html, sniff_kind
from crawler.feeds.engines import ENGINES, engine_of, prepare_entry
from crawler.feeds.entries import SPLIT_MIN_BYTES, SPLIT_MIN_ENTRIES, FeedResult, parse_feed
from storage.items import PostIn

__all__ = [
    "FeedError",
    "FeedResult",
    "parse_feed",
    "parse_blogger_export",
    "read_blogger_export",
    "ExportResult",
    "feed_links_from_html",
    "engine_of",
    "prepare_entry",
    "ENGINES",
    "sniff_kind",
    "is_probably_html",
    "PostIn",
    "PROBLEM_MAX_CHARS",
    "MAX_DOCTYPE_BYTES",
    "MAX_EXPORT_BYTES",
    "SPLIT_MIN_BYTES",
    "SPLIT_MIN_ENTRIES",
]
