"""RSS/Atom bytes into `PostIn` dicts: `parse_feed` and the reading of each entry.

This module owns `parse_feed`: RSS 0.9x/1.0/2.0 and Atom via feedparser, always from bytes (feedparser
never fetches anything itself), into a `FeedResult` whose `entries` are `storage.items.PostIn` dicts.
It also reads Blogger's openSearch pagination (`rel=next`, totalResults/startIndex/itemsPerPage) and
Blogger blog and post ids (`tag:blogger.com,1999:blog-B.post-P`), including on aggregator (Planet)
copies, and accounts for every entry: how many the document holds against how many came out, with
the reason for each one lost (`FeedResult.loss_report`), so a dropped entry is reported, never silent.
Oversized, empty, binary and HTML input is refused with `FeedError`, and so is anything else a
parser raises on, so one bad document never ends a run. The bytes are made safe UTF-8 first by
crawler.feeds.encoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin
from xml.parsers import expat

import feedparser

from crawler import sniff
from crawler.feeds.base import (
    _FEED_POST_URL_RE,
    GDATA_FEED_REL,
    GDATA_KIND_SCHEME,
    KIND_PREFIX,
    OPENSEARCH_NAMESPACES,
    FeedError,
    _blogger_entry_url,
    _check_input,
    _clean_lang,
    _describe,
    _get,
    _int_or_none,
    _is_http,
    _iso_from_string,
    _iso_from_struct,
    _loss_line,
    _normalise_headers,
    _one_line,
    _plain,
)
from crawler.feeds.encoding import _charset_param, _count_entries, _repair_refs, _screen_doctype, _to_utf8, sniff_kind
from judge.htmltext import text_without_tree
from judge.identity import blog_id_from_feed_url, parse_blogger_tag
from storage.items import PostIn

#: A feed document this big or bigger is parsed in two halves at once when an analysis pool has
#: workers running: feedparser costs ~0.5 ms per entry of pure Python, a 500-entry page ~0.25 s. Below
#: ~100 KB (a default 25-entry page) handing half to a worker saves less than it costs.
SPLIT_MIN_BYTES = 256 * 1024
#: ... and only when it holds at least this many entries (a few huge entries gain nothing).
SPLIT_MIN_ENTRIES = 50

#: How far from the end of an entry's HTML a Blogger jump link (`...#more`) is looked for. Blogger's
#: "until jump break" feed setting cuts the post at the break and ends the content with a link to the
#: post's `#more` anchor, e.g. `<a href="https://quiltville.blogspot.com/2021/03/bloom-baby-bloom.html#more">
#: Did You Click to Read the Whole Story?</a>` in the real quiltville feed; the link text is the owner's
#: (or localised), so only the href is checked. The link is the last thing in the content, so a short
#: tail suffices and a `#more` link earlier in a full post does not count.
JUMP_LINK_TAIL_CHARS = 600


@dataclass
class FeedResult:
    """One parsed feed document (one page of a paginated feed)."""

    title: str | None = None
    link: str | None = None  # the site's home page (alternate link)
    feed_url: str | None = None  # where the bytes came from, else the feed's self link
    entries: list[PostIn] = field(default_factory=list)
    next_url: str | None = None  # Atom rel=next (Blogger pagination)
    total_results: int | None = None  # openSearch:totalResults
    start_index: int | None = None  # openSearch:startIndex
    items_per_page: int | None = None  # openSearch:itemsPerPage
    blog_id: str | None = None  # Blogger blog id, from the feed id or self link
    is_blogger: bool = False
    bozo: bool = False  # the document was not well-formed (or its encoding had to be guessed)
    problem: str | None = None  # one line saying why `bozo` is set
    lang: str | None = None  # the feed's declared language
    version: str | None = None  # feedparser's format name: atom10, rss20, rss10, rss092, ...
    encoding: str | None = None  # the character encoding the text was decoded with
    feed_id: str | None = None  # the feed's Atom id / RSS guid-like id, as given (engine recognition)
    generator: str | None = None  # the feed's <generator>, as given (engine recognition)
    entries_in_document: int | None = None  # <entry>/<item> elements in the bytes (None: not counted)
    entries_found: int = 0  # entries the XML parser recovered, before conversion to posts
    entry_problems: list[tuple[int, str]] = field(default_factory=list)  # (1-based entry number, why lost)

    @property
    def entries_declared(self) -> int:
        """Entries the document holds: counted in its bytes, or recovered by the parser if more."""
        return max(self.entries_in_document or 0, self.entries_found)

    @property
    def lost(self) -> int:
        """Entries of the document that did not become posts."""
        return max(self.entries_declared - len(self.entries), len(self.entry_problems))

    def loss_report(self) -> str | None:
        """One line saying which entries were lost and why, e.g. "10 entries in the document, 9
        parsed: entry 4 has no link or id"; None when every entry came out."""
        if not self.lost:
            return None
        return _loss_line(
            f"{self.entries_declared} entries in the document", len(self.entries), self.lost, self.entry_problems
        )


def parse_feed(data: bytes, url: str | None = None, headers: dict | None = None, *, pool=None) -> FeedResult:
    """Parse the bytes of an RSS or Atom document into a `FeedResult` of `PostIn` entries.

    `url` is where the bytes came from (used for relative links and as each entry's `seen_url`);
    `headers` are the HTTP response headers, if any (Content-Type charset, Content-Language,
    Content-Location). Raises `FeedError` for empty, binary, oversized or HTML input, for a Blogger
    export, and when nothing feed-like can be recovered. Malformed XML that still yields entries is
    returned with `bozo` set and `problem` saying why.

    `pool` (a storage.ingest.AnalysisPool) lets a big document be parsed in two halves at once, one
    here and one in a worker (see `_halves`), once the pool's workers are running. The result is the
    same as parsing it whole.
    """
    data = _check_input(data, sniff.MAX_DOCUMENT_BYTES, "feed")
    hdrs = _normalise_headers(headers)
    content_type = hdrs.get("content-type")
    kind = sniff_kind(data, content_type)
    if kind == "binary":
        raise FeedError(f"binary data ({data[:4]!r}...), not a feed")
    if kind == "html":
        ct = f" (Content-Type {content_type})" if content_type else ""
        raise FeedError(f"an HTML page{ct}, not a feed")
    if kind == "export":
        raise FeedError("a Blogger backup export, not a feed: use parse_blogger_export")

    utf8, encoding, encoding_problem = _to_utf8(data, _charset_param(content_type))
    utf8, refs_problem = _repair_refs(utf8)
    utf8, doctype_problem = _screen_doctype(utf8)
    problems = [p for p in (encoding_problem, refs_problem, doctype_problem) if p]
    result = None
    if pool is not None and pool.started and len(utf8) >= SPLIT_MIN_BYTES:
        halves = _halves(utf8)
        future = pool.submit(_parse_utf8, halves[1], url, hdrs, encoding, problems) if halves else None
        if future is not None:
            try:
                first = _parse_utf8(halves[0], url, hdrs, encoding, problems)
                result = _joined(first, future.result())
            except Exception:  # a failed half (or a lost worker): parse the whole below
                result = None
    if result is None:
        result = _parse_utf8(utf8, url, hdrs, encoding, problems)
    result.entries_in_document = _count_entries(utf8)
    report = result.loss_report()
    if report:
        result.problem = "; ".join(filter(None, [report, result.problem]))
        result.bozo = True
    return result


def _halves(utf8: bytes) -> tuple[bytes, bytes] | None:
    """The document as two well-formed documents, each with the whole prolog, root element and
    feed metadata, and half of the entries; None when it is not worth it or not well-formed.

    One pass of expat (C, ~5% of feedparser's time) finds where the entries (`entry` or `item`
    elements, children of the root or of RSS 2.0's `channel`) begin and end. The first half keeps
    everything but the entries of the second, the second everything but the entries of the first,
    so feed-level elements before and after the entries are in both."""
    parser = expat.ParserCreate("UTF-8")  # what the bytes are now, whatever their declaration says
    starts: list[int] = []
    ends: list[int] = []
    depth = 0
    parents: set[int] = set()

    def start(name: str, _attrs) -> None:
        nonlocal depth
        depth += 1
        if depth <= 3 and name.rpartition(":")[2] in ("entry", "item"):
            starts.append(parser.CurrentByteIndex)
            parents.add(depth)

    def end(name: str) -> None:
        nonlocal depth
        if depth <= 3 and name.rpartition(":")[2] in ("entry", "item"):
            ends.append(parser.CurrentByteIndex)
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(utf8, True)
    except (expat.ExpatError, ValueError):
        return None  # feedparser's loose parser will do what it can with the whole
    if len(starts) < SPLIT_MIN_ENTRIES or len(parents) != 1 or len(ends) != len(starts):
        return None
    middle = starts[len(starts) // 2]
    last_end = utf8.index(b">", ends[-1]) + 1
    return utf8[:middle] + utf8[last_end:], utf8[: starts[0]] + utf8[middle:]


def _joined(first: FeedResult, second: FeedResult) -> FeedResult:
    first.entries.extend(second.entries)
    first.entry_problems.extend((n + first.entries_found, why) for n, why in second.entry_problems)
    first.entries_found += second.entries_found
    if second.problem:
        seen = (first.problem or "").split("; ")
        extra = [p for p in second.problem.split("; ") if p not in seen]
        if extra:
            first.problem = "; ".join([*filter(None, [first.problem]), *extra])
            first.bozo = True
    return first


def _parse_utf8(
    utf8: bytes, url: str | None, hdrs: dict[str, str], encoding: str | None, problems: list[str]
) -> FeedResult:
    """feedparser on a screened UTF-8 document, and its entries into PostIn dicts."""
    problems = list(problems)
    # The text is UTF-8 now, so feedparser is told exactly that. feedparser does not rewrite relative
    # links in entry bodies (`resolve_relative_uris=False`, and `url` is not handed over as
    # Content-Location): that costs ~20% of the parse and is rarely needed (Blogger writes absolute
    # links); storage resolves body links against the post's own URL. Entry, next and site links are
    # resolved here.
    # feedparser's HTML sanitizer is off too (another ~25%): entry HTML is never stored or shown, only
    # turned into text by judge.htmltext, which drops scripts, styles, embeds and every attribute;
    # titles go through the same tag-and-code stripping (`_plain`).
    fp_headers = {"content-type": "application/xml; charset=utf-8"}
    for name in ("content-location", "content-language"):
        if hdrs.get(name):
            fp_headers[name] = hdrs[name]
    try:
        parsed = feedparser.parse(utf8, response_headers=fp_headers, sanitize_html=False, resolve_relative_uris=False)
    except Exception as exc:  # a parser bug on odd input is this document's problem, not the run's
        raise FeedError(_one_line(f"the feed parser failed: {_describe(exc)}")) from None

    feed = parsed.get("feed") or {}
    raw_entries = parsed.get("entries") or []
    version = parsed.get("version") or None
    if not version and not raw_entries:
        problem = _describe(parsed.get("bozo_exception"))
        raise FeedError("not a feed: no RSS or Atom document found" + (f" ({problem})" if problem else ""))

    if parsed.get("bozo"):
        described = _describe(parsed.get("bozo_exception"))
        if described:
            problems.append(described)

    self_url = next_url = gdata_feed_url = None
    for link in _get(feed, "links") or ():
        rel = _get(link, "rel")
        href = _get(link, "href")
        if not href:
            continue
        if rel == "self" and self_url is None:
            self_url = href
        elif rel == "next" and next_url is None:
            next_url = href
        elif rel == GDATA_FEED_REL and gdata_feed_url is None:
            gdata_feed_url = href
    feed_url = url or self_url or gdata_feed_url
    base = feed_url or _get(feed, "link") or ""
    if next_url and not _is_http(next_url):
        next_url = urljoin(base, next_url)

    blog_id = parse_blogger_tag(_get(feed, "id"))[0]
    if blog_id is None:
        for candidate in (self_url, next_url, gdata_feed_url, url):
            blog_id = blog_id_from_feed_url(candidate)
            if blog_id:
                break
    generator = (_get(feed, "generator") or "").strip().lower()
    is_blogger = blog_id is not None or generator == "blogger"

    total = start = per_page = None
    for prefix, uri in (parsed.get("namespaces") or {}).items():
        if uri in OPENSEARCH_NAMESPACES and prefix:
            key = prefix.lower()
            total = _int_or_none(_get(feed, key + "_totalresults"))
            start = _int_or_none(_get(feed, key + "_startindex"))
            per_page = _int_or_none(_get(feed, key + "_itemsperpage"))
            break

    lang = _clean_lang(_get(feed, "language")) or _clean_lang(hdrs.get("content-language"))
    title_detail = _get(feed, "title_detail") or {}
    site_link = _site_link(feed, base)
    result = FeedResult(
        title=_plain(_get(feed, "title"), _get(title_detail, "type") == "text/html"),
        link=site_link,
        feed_url=feed_url,
        next_url=next_url,
        total_results=total,
        start_index=start,
        items_per_page=per_page,
        blog_id=blog_id,
        is_blogger=is_blogger,
        bozo=bool(problems),
        problem="; ".join(problems) if problems else None,
        lang=lang,
        version=version,
        encoding=encoding,
        feed_id=(_get(feed, "id") or "").strip() or None,
        generator=(_get(feed, "generator") or "").strip() or None,
    )
    is_atom = bool(version and version.startswith("atom"))
    entries = result.entries
    result.entries_found = len(raw_entries)
    for number, raw in enumerate(raw_entries, 1):
        try:
            post = _entry_to_post(raw, base, lang, is_atom)
        except Exception as exc:  # one odd entry is reported, the others still count
            result.entry_problems.append((number, f"could not be read ({_describe(exc)})"))
            continue
        if post is None:
            result.entry_problems.append((number, "has no link or id"))
            continue
        post["seen_via"] = "feed"
        post["seen_url"] = feed_url
        entries.append(post)
    return result


def _site_link(feed, base: str) -> str | None:
    """The feed's HTML home page: its alternate link (feedparser falls back to the self link)."""
    for link in _get(feed, "links") or ():
        if _get(link, "rel", "alternate") != "alternate":
            continue
        if (_get(link, "type") or "text/html") not in ("text/html", "application/xhtml+xml"):
            continue
        href = urljoin(base, _get(link, "href") or "")
        if _is_http(href):
            return href
    return None


def _entry_url(entry, base: str, is_atom: bool, blog_id: str | None, post_id: str | None) -> str | None:
    """The entry's own page: alternate link, RSS link, permalink guid, then an id-derived URL."""
    for link in _get(entry, "links") or ():
        if _get(link, "rel", "alternate") != "alternate":
            continue
        if (_get(link, "type") or "text/html") not in ("text/html", "application/xhtml+xml"):
            continue
        href = _get(link, "href")
        if href:
            href = href if _is_http(href) else urljoin(base, href)
            if _is_http(href):
                return href
    link = _get(entry, "link")
    ident = _get(entry, "id")
    if link and link != ident:
        link = link if _is_http(link) else urljoin(base, link)
        if _is_http(link):
            return link
    if _is_http(ident) and (is_atom or _get(entry, "guidislink")):
        return ident
    derived = _blogger_entry_url(blog_id, post_id)
    if derived:
        return derived
    if _is_http(ident):
        return ident  # a guid declared not to be a permalink is still a working URL more often than not
    return None


def _entry_body(entry) -> tuple[str | None, str | None, bool]:
    """(html, text, summary_only) from full content when present, else the summary.

    Content with no visible text (a post that is only a video `<iframe>` or an image) counts as
    absent; with no summary either, the body is None and `summary_only` True: fetch the page.
    """
    for content in _get(entry, "content") or ():
        value = _get(content, "value")
        if not value or not value.strip():
            continue
        if _get(content, "type") != "text/plain" and not _has_text(value):
            continue
        if _get(content, "type") == "text/plain":
            return None, value, False
        return value, None, _is_jump_truncated(value)
    summary = _get(entry, "summary")
    if summary and summary.strip() and _has_text(summary):
        detail = _get(entry, "summary_detail") or {}
        if _get(detail, "type") == "text/plain":
            return None, summary, True
        return summary, None, True
    return None, None, True


_TEXT_OUTSIDE_TAGS_RE = re.compile(r"(?:^|>)\s*[^<\s]")
_CODE_TAG_RE = re.compile(r"<(?:script|style|noscript|template|iframe|object|svg|textarea|select|button|head)\b", re.I)


def _has_text(html: str) -> bool:
    """Does this HTML show any text? (A quick scan; markup with code or embeds is read properly.)"""
    if _CODE_TAG_RE.search(html):
        return bool(text_without_tree(html).strip())
    return bool(_TEXT_OUTSIDE_TAGS_RE.search(html))


_JUMP_LINK_RE = re.compile(r"""href\s*=\s*["'][^"']*#more["']""", re.I)


def _is_jump_truncated(html: str) -> bool:
    """True when Blogger cut the post at its jump break (content ends with a link to `...#more`)."""
    tail = html[-JUMP_LINK_TAIL_CHARS:]
    return "#more" in tail and bool(_JUMP_LINK_RE.search(tail))


def _labels(entry) -> list[str]:
    """Categories in document order: Blogger labels (scheme `http://www.blogger.com/atom/ns#`, or RSS
    `domain`), plain RSS/Atom categories and dc:subject; the GData kind marker is not a label."""
    labels: list[str] = []
    for tag in _get(entry, "tags") or ():
        if _get(tag, "scheme") == GDATA_KIND_SCHEME:
            continue
        term = (_get(tag, "term") or _get(tag, "label") or "").strip()
        if term and term not in labels:
            labels.append(term)
    return labels


def _author(entry) -> str | None:
    """The entry's author, else the author of its Atom `<source>` (aggregated copies)."""
    for holder in (entry, _get(entry, "source") or {}):
        detail = _get(holder, "author_detail") or {}
        name = (_get(detail, "name") or _get(holder, "author") or "").strip()
        if name:
            return name
    return None


def _kind(entry) -> str | None:
    for tag in _get(entry, "tags") or ():
        if _get(tag, "scheme") == GDATA_KIND_SCHEME:
            term = _get(tag, "term") or ""
            return term.rsplit("#", 1)[-1] if term.startswith(KIND_PREFIX) else None
    return None


def _entry_to_post(entry, base: str, feed_lang: str | None, is_atom: bool) -> PostIn | None:
    ident = _get(entry, "id")
    blog_id, post_id = parse_blogger_tag(ident)
    if blog_id is None:
        for link in _get(entry, "links") or ():
            if _get(link, "rel") in ("self", "edit"):
                href = _get(link, "href") or ""
                m = _FEED_POST_URL_RE.search(href)
                if m:
                    blog_id, post_id = m.group(1), m.group(2)
                    break
    if post_id and _kind(entry) == "comment":
        post_id = None  # a comment's tag id names the comment, not a post
    url = _entry_url(entry, base, is_atom, blog_id, post_id)
    if url is None:
        return None
    published = _iso_from_struct(_get(entry, "published_parsed")) or _iso_from_string(_get(entry, "published"))
    updated = _iso_from_struct(_get(entry, "updated_parsed")) or _iso_from_string(_get(entry, "updated"))
    html, text, summary_only = _entry_body(entry)
    title_detail = _get(entry, "title_detail") or {}
    content_detail = (_get(entry, "content") or [{}])[0]
    lang = _clean_lang(_get(content_detail, "language")) or _clean_lang(_get(title_detail, "language")) or feed_lang
    post: PostIn = {
        "url": url,
        "title": _plain(_get(entry, "title"), _get(title_detail, "type") == "text/html"),
        "author": _author(entry),
        # Atom 1.0 and RSS 1.0 (dc:date) often carry a single date: it is then the best publication date.
        "published": published or updated,
        "updated": updated,
        "html": html,
        "text": text,
        "summary_only": summary_only,
        "lang_hint": lang,
        "blog_id": blog_id,
        "post_id": post_id,
        "labels": _labels(entry),
    }
    # What an engine feed's entry says of its publisher (crawler.feeds.engines reads them): the RSS
    # <source> name (Google News titles end with it) and FeedBurner's original link.
    source_name = _get(_get(entry, "source") or {}, "title")
    if source_name and not is_atom:
        post["source_name"] = source_name.strip()
    origlink = _get(entry, "feedburner_origlink")
    if _is_http(origlink):
        post["origlink"] = origlink.strip()
    return post
