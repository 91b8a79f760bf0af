"""The shape of a post handed to storage: the one contract between collectors and the write path.

Spiders, the feed poller and `rjwatch ingest` all build plain dicts with these keys (Scrapy items are
dicts too) and pass them to `storage.ingest`. Only `url` and one of `html`/`text` are required.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypedDict

#: How a post was seen. `page`: its own HTML page; `feed`: an RSS/Atom entry; `export`: a Blogger
#: backup file; `file`: a saved file given to `rjwatch ingest`; `cli`: text typed or piped in.
SeenVia = Literal["page", "feed", "export", "file", "cli", "query"]


@dataclass(eq=False)
class RawResponse:
    """The HTTP response a post's text came from, carried with the item to storage, which keeps it as
    WARC evidence (storage.evidence) once the verdict is known. One object may be shared by the posts
    of one feed fetch: its record is then written once (`record`) and its body let go."""

    url: str  # the URL the response came from (after redirects)
    status: int
    headers: list[tuple[str, str]]  # as received (names as sent), the body already decoded
    body: bytes
    fetched_at: str | None = None  # ISO 8601 UTC; storage takes the time of writing when absent
    record: dict | None = field(default=None, repr=False)  # set by storage once the WARC record is written


class PostIn(TypedDict, total=False):
    url: str  # the post's own URL as found (canonicalised by storage)
    title: str | None
    author: str | None
    published: str | None  # ISO 8601, with offset when known
    updated: str | None  # ISO 8601; a newer value than stored means the post was edited
    html: str | None  # the post body as an HTML fragment (preferred: links come from it)
    text: str | None  # the post body as plain text, when there is no HTML
    lang_hint: str | None  # e.g. the page's locale or the feed's xml:lang
    blog_id: str | None  # Blogger blog id (digits, kept as text: up to 19 digits)
    post_id: str | None  # Blogger post id (digits, kept as text)
    labels: list[str]
    links: list[str]  # outbound links; computed from `html` when absent
    summary_only: bool  # True when the body is a feed summary, not the full post
    full_text_missing: str | None  # why the page's text is missing (robots.txt, a failed fetch): evidence `full_text`
    extraction: str | None  # the site's extraction rule that gave the text (evidence `extraction`)
    seen_via: SeenVia
    seen_url: str | None  # the page or feed URL where it was seen (defaults to `url`)
    source_id: int | None  # the `sources` row it was collected for
    run_id: int | None  # the `runs` row of the crawl or poll that saw it
    # Entries of search-engine and alert feeds (crawler.feeds.engines, crawler.resolve):
    source_name: str | None  # the publisher's name the feed gives (RSS <source>)
    origlink: str | None  # FeedBurner's feedburner:origLink, the publisher URL behind feedproxy
    feed_link: str | None  # the link as the feed gave it (a redirector link); `url` is the publisher's
    query_engine: str | None  # google-alerts | google-news | bing-news
    unresolved: str | None  # why `url` is still the feed link (one line)
    raw_response: RawResponse  # the response the text came from (WARC evidence); never analysed


REQUIRED_KEYS = ("url",)
BODY_KEYS = ("html", "text")
