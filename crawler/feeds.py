"""Feed parsing: RSS/Atom bytes and Blogger backup exports into `PostIn` dicts.

This module owns everything between "we have the bytes of a feed" and "here are the posts in it":

- `parse_feed`: RSS 0.9x/1.0/2.0 and Atom via feedparser, always from bytes (feedparser never fetches
  anything itself), into a `FeedResult` whose `entries` are `storage.items.PostIn` dicts. It also reads
  Blogger's openSearch pagination (`rel=next`, totalResults/startIndex/itemsPerPage) and Blogger blog and
  post ids (`tag:blogger.com,1999:blog-B.post-P`), including on aggregator (Planet) copies.
- Character encodings: BOMs, declared, wrongly declared and undeclared charsets are settled here, before
  feedparser sees the bytes, so that Russian (windows-1251, KOI8-R) and Japanese (Shift_JIS, EUC-JP,
  ISO-2022-JP) text comes out right.
- Hostile input: a DOCTYPE internal subset is rewritten before parsing so that external entities (XXE)
  and nested entities (billion laughs) never reach the XML parser; character references no parser can
  take (surrogates written as references, zero, beyond U+10FFFF) are repaired or replaced first;
  oversized, empty, binary and HTML input is refused with `FeedError`, and so is anything else a
  parser raises on, so one bad document never ends a run.
- Accounting: how many entries the document holds against how many came out, with the reason for
  each one lost (`FeedResult.loss_report`), so a dropped entry is reported, never silent.
- `parse_blogger_export` / `read_blogger_export`: published posts from a Blogger "Back up content"
  file (the latter with the count of posts the file holds and why any were lost).
- `feed_links_from_html`: feed autodiscovery in an HTML page.
- `sniff_kind` / `is_probably_html`: what a saved file or HTTP response body is.
"""

from __future__ import annotations

import codecs
import html as htmlmod
import io
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml import etree
from xml.parsers import expat

from judge.errors import RjwatchError
from judge.htmltext import repair_char_refs, text_without_tree
from judge.identity import blog_id_from_feed_url, parse_blogger_tag
from storage.items import PostIn

__all__ = [
    "FeedError",
    "FeedResult",
    "parse_feed",
    "parse_blogger_export",
    "read_blogger_export",
    "ExportResult",
    "feed_links_from_html",
    "sniff_kind",
    "is_probably_html",
]

# --------------------------------------------------------------------------------------------------
# Caps and thresholds
# --------------------------------------------------------------------------------------------------

#: Largest feed body `parse_feed` accepts. A 500-entry full-content Blogger page (the largest page
#: size Blogger has ever served) runs to about 2.5-10 MB (the real quiltville feed averages ~5 KB per
#: entry); feedparser keeps several copies of the text alive, so anything far above that is a runaway
#: or hostile response, not a feed page.
MAX_FEED_BYTES = 32 * 1024 * 1024

#: A feed document this big or bigger is parsed in two halves at once when an analysis pool has
#: workers running: feedparser costs ~0.5 ms per entry of pure Python, a 500-entry page ~0.25 s. Below
#: ~100 KB (a default 25-entry page) handing half to a worker saves less than it costs.
SPLIT_MIN_BYTES = 256 * 1024
#: ... and only when it holds at least this many entries (a few huge entries gain nothing).
SPLIT_MIN_ENTRIES = 50

#: Largest Blogger export `parse_blogger_export` accepts. An export holds every post, page and comment
#: of a blog in one file; decade-old, daily-posting blogs with comments reach a few hundred MB. Exports
#: are parsed incrementally, so this only bounds the bytes already held by the caller.
MAX_EXPORT_BYTES = 512 * 1024 * 1024

#: How much of the start of a body sniffing looks at. The root element of a feed comes after at most
#: an XML declaration, a stylesheet PI, a comment or two and a short DOCTYPE; Blogger exports name
#: themselves (`blog-N.archive`) in the first kilobyte.
SNIFF_BYTES = 8 * 1024

#: Longest DOCTYPE declaration accepted. Real feeds carry either none, the RSS 0.91 public id, or a
#: few character entities; a longer internal subset is an entity-expansion attack or garbage.
MAX_DOCTYPE_BYTES = 64 * 1024

#: Longest replacement text of an internal entity that is kept. Legitimate feed entities stand for a
#: character or a short word (`&nbsp;`, `&copy;`, a site name); a short cap with no nested references
#: bounds the expansion of any document to a small constant factor.
SAFE_ENTITY_MAX_CHARS = 64

#: Share of control bytes (other than tab/CR/LF/FF) in the sniffed window above which a body is
#: binary. Text in any single-byte or multi-byte charset has essentially none.
BINARY_CONTROL_SHARE = 0.02

#: Longest `problem` string. It is one log/CLI line; parser messages are short, and a long one
#: usually quotes document text.
PROBLEM_MAX_CHARS = 300

#: Lost entries named one by one in a loss report; the rest are counted ("and 7 more"), so the
#: report stays one readable line.
MAX_LISTED_LOST_ENTRIES = 3

#: Minimum number of runs of 3+ letters in the 0xC0-0xFF byte range before undeclared (or
#: Latin-declared) single-byte text is taken to be Cyrillic. Russian words are such runs in
#: windows-1251/KOI8-R, while Latin-script languages almost never put three accented letters in a row;
#: a handful of runs is enough evidence and avoids deciding on a stray name.
CYRILLIC_MIN_RUNS = 3

#: Largest share of 0x80-0xBF bytes among all bytes >= 0x80 for text still to count as single-byte
#: Cyrillic. Those bytes are only punctuation, Ё/ё and Ukrainian letters in windows-1251 (and Ё/ё and box
#: drawing in KOI8-R), but they are half of every EUC-JP/Shift_JIS/GBK byte pair.
CYRILLIC_MAX_LOW_HIGH_SHARE = 0.25

#: Minimum share of kana among the non-ASCII characters for a Shift_JIS/EUC-JP decoding of
#: undeclared bytes to be accepted. Japanese prose is roughly half kana (particles, inflections);
#: Latin-1 text mis-decoded as Japanese yields kanji and half-width katakana, almost never kana.
JAPANESE_KANA_MIN_SHARE = 0.15

#: Minimum number of non-ASCII characters before the Japanese guess is trusted at all.
JAPANESE_MIN_CHARS = 8

#: How far from the end of an entry's HTML a Blogger jump link (`...#more`) is looked for. Blogger's
#: "until jump break" feed setting cuts the post at the break and ends the content with a link to the
#: post's `#more` anchor, e.g. `<a href="https://quiltville.blogspot.com/2021/03/bloom-baby-bloom.html#more">
#: Did You Click to Read the Whole Story?</a>` in the real quiltville feed; the link text is the owner's
#: (or localised), so only the href is checked. The link is the last thing in the content, so a short
#: tail suffices and a `#more` link earlier in a full post does not count.
JUMP_LINK_TAIL_CHARS = 600

# --------------------------------------------------------------------------------------------------
# Namespaces and fixed strings
# --------------------------------------------------------------------------------------------------

ATOM_NS = "http://www.w3.org/2005/Atom"
APP_NS = "http://www.w3.org/2007/app"
THR_NS = "http://purl.org/syndication/thread/1.0"
#: Blogger's openSearch namespace (the old opensearchrss/1.0 one), and the later 1.1 one for other feeds.
OPENSEARCH_NAMESPACES = frozenset(
    {"http://a9.com/-/spec/opensearchrss/1.0/", "http://a9.com/-/spec/opensearch/1.1/"}
)
GDATA_KIND_SCHEME = "http://schemas.google.com/g/2005#kind"
KIND_PREFIX = "http://schemas.google.com/blogger/2008/kind#"
GDATA_FEED_REL = "http://schemas.google.com/g/2005#feed"

#: Root element names (lower-cased, with prefix) of the formats feedparser reads.
FEED_ROOTS = frozenset({"rss", "feed", "rdf:rdf", "rdf", "channel"})

#: Elements that, as the first element of a body, mark it as an HTML page or fragment.
HTML_ROOTS = frozenset(
    {"html", "head", "body", "meta", "title", "link", "script", "style", "div", "p", "table",
     "center", "form", "iframe", "frameset", "noscript", "span", "a", "br", "h1", "h2", "img"}
)

#: Leading bytes of compressed and media formats that are sometimes saved or served where a feed was
#: expected (a gzip body nobody decompressed, an image, a PDF).
BINARY_MAGIC = (
    b"\x1f\x8b", b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"BZh",
    b"\xfd7zXZ", b"\x28\xb5\x2f\xfd", b"OggS", b"ID3", b"RIFF", b"\x7fELF", b"Rar!",
)

#: Charset labels replaced by the superset real servers mean (as browsers do): the superset decodes
#: everything the label does plus the vendor extras (curly quotes in "ISO-8859-1", NEC symbols in
#: "Shift_JIS", ...). Keys and values are Python codec names.
ENCODING_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "shift_jis": "cp932",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
}

#: Labels servers use as a default rather than a statement about the bytes; text declared with one of
#: them may still be Cyrillic.
LATIN_DEFAULT_ENCODINGS = frozenset({"ascii", "iso8859-1", "cp1252", "iso8859-15"})

_UTF_FAMILIES = ("utf_8", "utf_16", "utf_32", "utf-8", "utf-16", "utf-32")


class FeedError(ValueError, RjwatchError):
    """The bytes are not a feed we can parse (HTML page, empty, binary, oversized, export, ...)."""


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
        return _loss_line(f"{self.entries_declared} entries in the document", len(self.entries), self.lost,
                          self.entry_problems)


def _loss_line(declared: str, parsed: int, lost: int, entry_problems: list[tuple[int, str]]) -> str:
    """"<declared>, <parsed> parsed: entry 4 has no link or id; ..." in one line."""
    reasons = [f"entry {n} {why}" for n, why in entry_problems[:MAX_LISTED_LOST_ENTRIES]]
    if len(entry_problems) > MAX_LISTED_LOST_ENTRIES:
        reasons.append(f"and {len(entry_problems) - MAX_LISTED_LOST_ENTRIES} more")
    if lost > len(entry_problems):
        reasons.append(f"{lost - len(entry_problems)} not recovered from the malformed XML")
    return _one_line(f"{declared}, {parsed} parsed: " + "; ".join(reasons))


@dataclass
class ExportResult:
    """The published posts of one Blogger export, and how many post entries it holds."""

    posts: list[PostIn] = field(default_factory=list)
    posts_in_document: int = 0  # entries of kind#post in the bytes, drafts included
    drafts: int = 0
    entry_problems: list[tuple[int, str]] = field(default_factory=list)  # (1-based post entry number, why lost)
    problem: str | None = None  # one line: repaired characters, XML errors, lost posts

    @property
    def lost(self) -> int:
        return max(self.posts_in_document - self.drafts - len(self.posts), len(self.entry_problems))


# --------------------------------------------------------------------------------------------------
# Sniffing
# --------------------------------------------------------------------------------------------------

_WIDE_MARKERS = (
    (codecs.BOM_UTF32_BE, "utf-32-be", 4),
    (codecs.BOM_UTF32_LE, "utf-32-le", 4),
    (codecs.BOM_UTF16_BE, "utf-16-be", 2),
    (codecs.BOM_UTF16_LE, "utf-16-le", 2),
    (b"\x00\x00\x00<", "utf-32-be", 0),
    (b"<\x00\x00\x00", "utf-32-le", 0),
    (b"\x00<\x00", "utf-16-be", 0),
    (b"<\x00", "utf-16-le", 0),
)

_PROLOG_TEXT_RE = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.S)
_DOCTYPE_TEXT_RE = re.compile(r"<!DOCTYPE\s+([^\s\[>]*)(?:[^\[>]|\[.*?\])*>?", re.S | re.I)
_ROOT_RE = re.compile(r"<([A-Za-z_][\w:.-]*)")
_EXPORT_MARK_RE = re.compile(
    r"tag:blogger\.com,1999:blog-\d+\.archive|blogger/2008/kind#(?:template|settings)"
)
_HTML_MARK_RE = re.compile(r"<(?:html|head|body)\b", re.I)
_FEED_START_TEXT_RE = re.compile(r"<(?:rss|feed|rdf:RDF)[\s>]")


def _wide_encoding(data: bytes) -> tuple[str | None, int]:
    """UTF-16/32 encoding named by a BOM or by the way `<` is laid out, and the BOM length."""
    for marker, enc, bom_len in _WIDE_MARKERS:
        if data.startswith(marker):
            return enc, bom_len
    return None, 0


def _sniff_window(data: bytes) -> str:
    """The first SNIFF_BYTES as text good enough for finding tags (ASCII-compatible decoding)."""
    enc, bom_len = _wide_encoding(data)
    window = data[: SNIFF_BYTES * (4 if enc else 1)]
    if enc:
        return window[bom_len:].decode(enc, "replace")
    if window.startswith(codecs.BOM_UTF8):
        window = window[3:]
    return window.decode("latin-1")


def _first_element(text: str) -> tuple[str | None, str | None]:
    """(root element name lower-cased, DOCTYPE name lower-cased) of a document start."""
    pos = 0
    doctype = None
    n = len(text)
    while pos < n:
        m = _PROLOG_TEXT_RE.match(text, pos)
        if m:
            pos = m.end()
            continue
        m = _DOCTYPE_TEXT_RE.match(text, pos)
        if m:
            doctype = m.group(1).lower()
            pos = m.end()
            continue
        break
    m = _ROOT_RE.match(text, pos)
    return (m.group(1).lower() if m else None), doctype


def _is_binary(data: bytes) -> bool:
    if data.startswith(BINARY_MAGIC):
        return True
    enc, _ = _wide_encoding(data)
    if enc:
        return False
    window = data[:SNIFF_BYTES]
    if b"\x00" in window:
        return True
    controls = len(window) - len(window.translate(None, _CONTROL_BYTES))
    return controls > BINARY_CONTROL_SHARE * len(window)


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_probably_html(data: bytes, content_type: str | None = None) -> bool:
    """True when `data` is an HTML page (or fragment) rather than a feed.

    The first element decides: a feed root (`rss`, `feed`, `rdf:RDF`) is never HTML whatever the
    Content-Type says (servers label feeds text/html often enough); `<!DOCTYPE html>` or an HTML
    element is HTML. When the start says nothing, a text/html Content-Type or an `<html>`/`<body>`
    tag further in decides.
    """
    text = _sniff_window(data)
    root, doctype = _first_element(text)
    if root in FEED_ROOTS:
        return False
    if doctype == "html" or root in HTML_ROOTS:
        # A server-side warning printed in front of a feed (`<br /><b>Warning</b>: ...<?xml ...><rss>`)
        # makes a broken feed, not a page: feedparser recovers the entries behind it.
        return not (doctype != "html" and _FEED_START_TEXT_RE.search(text))
    if root is None and _media_type(content_type) in ("text/html", "application/xhtml+xml"):
        return True
    return root is None and bool(_HTML_MARK_RE.search(text))


def sniff_kind(data: bytes, content_type: str | None = None) -> str:
    """What a saved file or response body is: "feed", "export", "html", "text" or "binary".

    "export" is a Blogger "Back up content" file (an Atom document naming itself `blog-N.archive`);
    "text" is anything else readable, including XML that is not a feed and empty input.
    """
    if not data or not data.strip():
        return "text"
    if _is_binary(data):
        return "binary"
    text = _sniff_window(data)
    root, _ = _first_element(text)
    if root in FEED_ROOTS:
        if root == "feed" and _EXPORT_MARK_RE.search(text):
            return "export"
        return "feed"
    if is_probably_html(data, content_type):
        return "html"
    if _FEED_START_TEXT_RE.search(text):
        return "feed"  # a feed behind some junk
    return "text"


# --------------------------------------------------------------------------------------------------
# Character encodings
# --------------------------------------------------------------------------------------------------

_XML_DECL_ENCODING_RE = re.compile(rb"\A\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_CYRILLIC_RUN_RE = re.compile(rb"[\xc0-\xff]{3,}")
_HIGH_RUN_RE = re.compile(rb"[\x80-\xff]+")
_HIGH_BYTES = bytes(range(0x80, 0x100))
_LOW_HIGH_BYTES = bytes(range(0x80, 0xC0))
_KANA_RE = re.compile("[\u3041-\u30ff]")


def _codec_name(label: str | None) -> str | None:
    if not label:
        return None
    try:
        return codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None


def _charset_param(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def _looks_cyrillic(data: bytes) -> str | None:
    """windows-1251 or koi8-r when single-byte text reads as Russian words, else None."""
    runs = _CYRILLIC_RUN_RE.findall(data)
    if len(runs) < CYRILLIC_MIN_RUNS:
        return None
    if len(runs) * 2 < len(_HIGH_RUN_RE.findall(data)):
        return None
    high = len(data) - len(data.translate(None, _HIGH_BYTES))
    low_high = len(data) - len(data.translate(None, _LOW_HIGH_BYTES))
    if low_high > CYRILLIC_MAX_LOW_HIGH_SHARE * high:
        return None
    # Lower-case Cyrillic is 0xE0-0xFF in windows-1251 and 0xC0-0xDF in KOI8-R; prose is mostly
    # lower case, so whichever half dominates names the code page.
    upper_half = sum(1 for run in runs for b in run if b >= 0xE0)
    total = sum(len(run) for run in runs)
    return "cp1251" if upper_half * 2 >= total else "koi8-r"


def _looks_japanese(data: bytes) -> str | None:
    """A Japanese legacy encoding under which the bytes read as Japanese prose, else None."""
    if b"\x1b$B" in data or b"\x1b$@" in data:
        try:
            data.decode("iso2022_jp")
            return "iso2022_jp"
        except UnicodeDecodeError:
            return None
    for enc in ("cp932", "euc_jp"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        non_ascii = len(text) - len(text.encode("ascii", "ignore"))
        if non_ascii < JAPANESE_MIN_CHARS:
            continue
        if len(_KANA_RE.findall(text)) >= JAPANESE_KANA_MIN_SHARE * non_ascii:
            return enc
    return None


def _to_utf8(data: bytes, header_charset: str | None) -> tuple[bytes, str, str | None]:
    """Settle the character encoding: returns (UTF-8 bytes, encoding used, problem or None).

    Order: a BOM (or UTF-16/32 layout); valid UTF-8 (multi-byte UTF-8 practically never happens by
    accident, and servers often send a wrong Latin-1 default in the header); the XML declaration; the
    HTTP charset; then guesses for Russian and Japanese text; windows-1252 as the last resort. A
    Latin-1-family declaration is checked against the Russian guess because it is usually a default.
    """
    wide, bom_len = _wide_encoding(data)
    if wide:
        text = data[bom_len:].decode(wide, "replace")
        return text.encode("utf-8"), wide.replace("-be", "").replace("-le", ""), None
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
        try:
            data.decode("utf-8")
            return data, "utf-8", None
        except UnicodeDecodeError:
            return data.decode("utf-8", "replace").encode("utf-8"), "utf-8", "invalid UTF-8 after a UTF-8 BOM"
    try:
        data.decode("utf-8")
        return data, "utf-8", None
    except UnicodeDecodeError:
        pass

    m = _XML_DECL_ENCODING_RE.match(data)
    declared_labels = [m.group(1).decode("ascii") if m else None, header_charset]
    declared = [c for c in (_codec_name(label) for label in declared_labels) if c]
    candidates: list[str] = []
    for name in declared:
        if name.startswith(_UTF_FAMILIES):
            continue  # already known not to fit
        if name in LATIN_DEFAULT_ENCODINGS:
            guess = _looks_cyrillic(data)
            if guess:
                candidates.append(guess)
        candidates.append(ENCODING_SUPERSETS.get(name, name))
    if not declared or not candidates:
        guess = _looks_japanese(data) or _looks_cyrillic(data)
        if guess:
            candidates.append(guess)
        if not declared:
            candidates.append("cp1252")  # the commonest single-byte charset of the web
    for enc in candidates:
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        problem = None
        if not declared:
            problem = f"no encoding declared; decoded as {enc} (guessed)"
        elif enc not in declared and enc not in {ENCODING_SUPERSETS.get(d) for d in declared}:
            problem = f"declared as {declared[0]} but decoded as {enc}"
        return text.encode("utf-8"), enc, problem
    fallback = ENCODING_SUPERSETS.get(declared[0], declared[0]) if declared else "cp1252"
    if fallback.startswith(_UTF_FAMILIES):
        fallback = "utf-8"
    text = data.decode(fallback, "replace")
    what = f"declared as {declared[0]}" if declared else "no encoding declared"
    return text.encode("utf-8"), fallback, f"{what}; undecodable bytes replaced ({fallback})"


# --------------------------------------------------------------------------------------------------
# DOCTYPE screening (XXE, entity expansion)
# --------------------------------------------------------------------------------------------------

_DOCTYPE_OR_ROOT_RE = re.compile(rb"<!DOCTYPE|<[A-Za-z_]", re.I)
_DOCTYPE_TOKEN_RE = re.compile(rb"\"[^\"]*\"|'[^']*'|<!--.*?-->|<\?.*?\?>|[\[\]>]", re.S)
_ENTITY_DECL_RE = re.compile(rb"<!ENTITY\b", re.I)
_SAFE_ENTITY_RE = re.compile(
    rb"<!ENTITY\s+([A-Za-z_][\w.-]*)\s+(?:\"([^\"]*)\"|'([^']*)')\s*>"
)
_CHAR_REF_RE = re.compile(rb"&#(?:[0-9]+|x[0-9A-Fa-f]+);\Z")
#: Entry start tags (RSS `item`, Atom `entry`, any prefix), skipping CDATA sections and comments,
#: whose text may quote markup.
_ENTRY_TAG_RE = re.compile(rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->|<((?:[A-Za-z_][\w.-]*:)?(?:entry|item))[\s/>]", re.S)


def _count_entries(utf8: bytes) -> int:
    """Entry elements the document holds, counted on the bytes (whether or not they parse)."""
    return sum(1 for m in _ENTRY_TAG_RE.finditer(utf8) if m.group(1))


def _repair_refs(utf8: bytes) -> tuple[bytes, str | None]:
    """Repair or replace character references no XML parser takes (see judge.htmltext)."""
    utf8, joined, replaced = repair_char_refs(utf8, xml=True)
    if not (joined or replaced):
        return utf8, None
    parts = []
    if joined:
        parts.append(f"{joined} surrogate pair(s) joined into one character")
    if replaced:
        parts.append(f"{replaced} invalid one(s) replaced with U+FFFD")
    return utf8, "character references: " + ", ".join(parts)


def _safe_entity_value(value: bytes) -> bool:
    if len(value) > SAFE_ENTITY_MAX_CHARS:
        return False
    if _CHAR_REF_RE.match(value):
        return True
    return not any(c in value for c in (b"&", b"%", b"<", b'"'))


def _screen_doctype(data: bytes) -> tuple[bytes, str | None]:
    """Rewrite a DOCTYPE internal subset so only short literal entities survive.

    External entities (SYSTEM/PUBLIC: file or network reads), parameter entities and entities whose
    text refers to other entities (exponential expansion) are dropped before any XML parser runs.
    Returns the (possibly rewritten) bytes and a problem line when declarations were dropped.
    """
    # A DOCTYPE is only meaningful before the root element, but it is looked for anywhere before the
    # first start tag, so that junk in front of it cannot hide it from this screen.
    m = _DOCTYPE_OR_ROOT_RE.search(data)
    if not m or m.group()[:2] != b"<!":
        return data, None
    pos = m.start()
    window = data[pos : pos + MAX_DOCTYPE_BYTES]
    depth_open = None
    subset = None
    end = None
    for tok in _DOCTYPE_TOKEN_RE.finditer(window, 9):
        t = tok.group()
        if t == b"[" and depth_open is None and subset is None:
            depth_open = tok.end()
        elif t == b"]" and depth_open is not None:
            subset = (depth_open, tok.start())
            depth_open = None
        elif t == b">" and depth_open is None:
            end = tok.end()
            break
    if end is None:
        raise FeedError(
            f"unterminated or over-long DOCTYPE declaration (limit {MAX_DOCTYPE_BYTES} bytes)"
        )
    if subset is None:
        return data, None  # no internal subset: nothing is declared, nothing is expanded
    # Only the root name is kept: an external DTD identifier is never wanted either.
    name = re.match(rb"<!DOCTYPE\s*([^\s\[>]*)", window, re.I).group(1) or b"feed"
    head = b"<!DOCTYPE " + name
    body = window[subset[0] : subset[1]]
    declared = len(_ENTITY_DECL_RE.findall(body))
    safe = []
    for m in _SAFE_ENTITY_RE.finditer(body):
        value = m.group(2) if m.group(2) is not None else m.group(3)
        if _safe_entity_value(value):
            safe.append(b'<!ENTITY ' + m.group(1) + b' "' + value + b'">')
    if safe:
        doctype = head + b" [\n" + b"\n".join(safe) + b"\n]>"
    else:
        doctype = head + b">"
    problem = None
    if declared > len(safe):
        problem = (
            f"DOCTYPE: dropped {declared - len(safe)} entity declaration(s) that were external, "
            "parameter, nested or too long"
        )
    return data[:pos] + doctype + data[pos + end :], problem


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
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


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


# --------------------------------------------------------------------------------------------------
# Feeds
# --------------------------------------------------------------------------------------------------


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
    data = _check_input(data, MAX_FEED_BYTES, "feed")
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
            except Exception:  # noqa: BLE001 - a failed half (or a lost worker): parse the whole below
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
    return utf8[:middle] + utf8[last_end:], utf8[:starts[0]] + utf8[middle:]


def _joined(first: "FeedResult", second: "FeedResult") -> "FeedResult":
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


def _parse_utf8(utf8: bytes, url: str | None, hdrs: dict[str, str], encoding: str | None,
                problems: list[str]) -> FeedResult:
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
    except Exception as exc:  # noqa: BLE001 - a parser bug on odd input is this document's problem, not the run's
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
    )
    is_atom = bool(version and version.startswith("atom"))
    entries = result.entries
    result.entries_found = len(raw_entries)
    for number, raw in enumerate(raw_entries, 1):
        try:
            post = _entry_to_post(raw, base, lang, is_atom)
        except Exception as exc:  # noqa: BLE001 - one odd entry is reported, the others still count
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
    lang = (
        _clean_lang(_get(content_detail, "language"))
        or _clean_lang(_get(title_detail, "language"))
        or feed_lang
    )
    return {
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


# --------------------------------------------------------------------------------------------------
# Blogger exports
# --------------------------------------------------------------------------------------------------

_A = "{%s}" % ATOM_NS
_FEED_START_RE = re.compile(rb"<feed\b[^>]*>")


def _declare_app_prefix(data: bytes) -> bytes:
    """Add the `xmlns:app` declaration real exports forget (they use `app:control`/`app:draft`)."""
    m = _FEED_START_RE.search(data, 0, SNIFF_BYTES)
    if not m or b"xmlns:app=" in m.group() or b"<app:" not in data:
        return data
    tag = m.group()
    fixed = tag[:5] + b' xmlns:app="' + APP_NS.encode() + b'"' + tag[5:]
    return data[: m.start()] + fixed + data[m.end() :]


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1] if isinstance(tag, str) else ""


def parse_blogger_export(data: bytes) -> list[PostIn]:
    """Published posts (kind#post, not drafts) from a Blogger "Back up content" export (see
    `read_blogger_export`)."""
    return read_blogger_export(data).posts


#: A post entry's kind category in an export (the term attribute, whichever quotes it uses).
_EXPORT_POST_KIND_RE = re.compile(rb"""term\s*=\s*["']http://schemas\.google\.com/blogger/2008/kind#post["']""")


def read_blogger_export(data: bytes) -> ExportResult:
    """Published posts (kind#post, not drafts) from a Blogger "Back up content" export.

    Pages, comments, settings and the template are skipped. `lang_hint` comes from the blog's
    BLOG_LOCALE setting when the export has it. The export is parsed incrementally (lxml iterparse,
    no DTD loading, no entity resolution, no network); real exports use the `app:` prefix without
    declaring it, so the declaration is added first.
    """
    data = _check_input(data, MAX_EXPORT_BYTES, "export")
    if _is_binary(data):
        raise FeedError(f"binary data ({data[:4]!r}...), not a Blogger export")
    wide, bom_len = _wide_encoding(data)
    if wide:
        data = data[bom_len:].decode(wide, "replace").encode("utf-8")
        data = re.sub(rb"\A(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])[^\"']*", rb"\1utf-8", data)
    elif data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    root, _ = _first_element(_sniff_window(data))
    if root != "feed":
        raise FeedError(f"not a Blogger export: root element is {root or 'missing'}, not Atom <feed>")
    data, refs_problem = _repair_refs(data)
    data, _ = _screen_doctype(data)
    data = _declare_app_prefix(data)

    out = ExportResult(posts_in_document=len(_EXPORT_POST_KIND_RE.findall(data)))
    posts = out.posts
    problems = [p for p in (refs_problem,) if p]
    locale = None
    number = 0  # post entries seen, drafts included
    context = etree.iterparse(
        io.BytesIO(data),
        events=("end",),
        tag=_A + "entry",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=True,
        remove_comments=True,
    )
    try:
        for _, elem in context:
            ident = (elem.findtext(_A + "id") or "").strip()
            kind = None
            labels: list[str] = []
            for cat in elem.iterfind(_A + "category"):
                scheme = cat.get("scheme")
                term = (cat.get("term") or "").strip()
                if scheme == GDATA_KIND_SCHEME:
                    kind = term.rsplit("#", 1)[-1] if term.startswith(KIND_PREFIX) else kind
                elif term and term not in labels:
                    labels.append(term)
            if ident.endswith(".settings.BLOG_LOCALE"):
                locale = _clean_lang(elem.findtext(_A + "content"))
            elif kind == "post" or (kind is None and _is_export_post(elem, ident, kind)):
                number += 1
                if not _is_export_post(elem, ident, kind):
                    out.drafts += 1
                else:
                    try:
                        post = _export_entry_to_post(elem, ident, labels, locale)
                    except Exception as exc:  # noqa: BLE001 - one odd entry is reported, the rest still count
                        out.entry_problems.append((number, f"could not be read ({_describe(exc)})"))
                        post = None
                    else:
                        if post is None:
                            out.entry_problems.append((number, "has no link or id"))
                    if post is not None:
                        posts.append(post)
            elem.clear()
            parent = elem.getparent()
            if parent is not None:
                while elem.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        if not posts:
            raise FeedError(_one_line(f"unreadable Blogger export: {exc}")) from exc
        problems.append(_describe(exc))
    except Exception as exc:  # noqa: BLE001 - a parser failure is this file's problem, not the run's
        raise FeedError(_one_line(f"unreadable Blogger export: {_describe(exc)}")) from None
    if locale:  # settings normally precede posts; cover posts that came first
        for post in posts:
            post["lang_hint"] = post["lang_hint"] or locale
    if out.lost:
        problems.insert(0, _loss_line(f"{out.posts_in_document - out.drafts} published posts in the export",
                                      len(posts), out.lost, out.entry_problems))
    out.problem = _one_line("; ".join(problems)) if problems else None
    return out


def _is_export_post(elem, ident: str, kind: str | None) -> bool:
    if kind is not None and kind != "post":
        return False
    if kind is None:  # no kind category (every export seen has one): a post id that is not a reply
        if ".post-" not in ident or elem.find("{%s}in-reply-to" % THR_NS) is not None:
            return False
    for child in elem.iter():
        if _local(child.tag) == "draft" and (child.text or "").strip().lower() == "yes":
            return False
    return True


def _export_entry_to_post(elem, ident: str, labels: list[str], locale: str | None) -> PostIn | None:
    blog_id, post_id = parse_blogger_tag(ident)
    url = None
    for link in elem.iterfind(_A + "link"):
        if link.get("rel") == "alternate" and _is_http(link.get("href")):
            url = link.get("href")
            break
    url = url or _blogger_entry_url(blog_id, post_id)
    if url is None:
        return None
    content = elem.find(_A + "content")
    body = content.text if content is not None else None
    ctype = (content.get("type") if content is not None else None) or "text"
    html = text = None
    if body and body.strip():
        if ctype == "text":
            text = body
        else:
            html = body
    title_el = elem.find(_A + "title")
    title = None
    if title_el is not None:
        title = _plain(title_el.text, (title_el.get("type") or "text") == "html")
    author = (elem.findtext(f"{_A}author/{_A}name") or "").strip() or None
    published = _iso_from_string(elem.findtext(_A + "published"))
    updated = _iso_from_string(elem.findtext(_A + "updated"))
    return {
        "url": url,
        "title": title,
        "author": author,
        "published": published or updated,
        "updated": updated,
        "html": html,
        "text": text,
        "summary_only": False,
        "lang_hint": locale,
        "blog_id": blog_id,
        "post_id": post_id,
        "labels": labels,
        "seen_via": "export",
        "seen_url": None,
    }


# --------------------------------------------------------------------------------------------------
# Autodiscovery
# --------------------------------------------------------------------------------------------------

_LINK_TAG_RE = re.compile(r"<(link|base)\b([^>]*)>", re.I)
_ATTR_RE = re.compile(r"""([A-Za-z_:][\w:.-]*)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)""")
FEED_TYPES = frozenset({"application/atom+xml", "application/rss+xml"})


def feed_links_from_html(html: str, base_url: str) -> list[str]:
    """Absolute URLs of `<link rel="alternate" type="application/atom+xml|rss+xml">` in a page.

    Document order is kept (Blogger lists the posts feed, its RSS twin, then a post's comments feed);
    duplicates are dropped; `<base href>` is honoured.
    """
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    found: list[str] = []
    base = base_url or ""
    for m in _LINK_TAG_RE.finditer(html):
        attrs = {}
        for a in _ATTR_RE.finditer(m.group(2)):
            value = a.group(2)
            if value[:1] in ("'", '"'):
                value = value[1:-1]
            attrs[a.group(1).lower()] = htmlmod.unescape(value).strip()
        if m.group(1).lower() == "base":
            if attrs.get("href"):
                base = urljoin(base, attrs["href"])
            continue
        rels = attrs.get("rel", "").lower().split()
        if "alternate" not in rels or _media_type(attrs.get("type")) not in FEED_TYPES:
            continue
        href = attrs.get("href")
        if not href:
            continue
        absolute = urljoin(base, href)
        if urlsplit(absolute).scheme in ("http", "https") and absolute not in found:
            found.append(absolute)
    return found
