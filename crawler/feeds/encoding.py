"""What a feed document is and which characters it holds, settled before any XML parser runs.

This module owns:
- Sniffing: `sniff_kind` / `is_probably_html` say what a saved file or HTTP response body is (feed,
  Blogger export, HTML page, text, binary: the binary test is crawler.sniff's, shared with page
  extraction).
- Character encodings: BOMs, declared, wrongly declared and undeclared charsets are settled here, before
  feedparser sees the bytes, so that Russian (windows-1251, KOI8-R) and Japanese (Shift_JIS, EUC-JP,
  ISO-2022-JP) text comes out right (`_to_utf8`).
- Hostile input: a DOCTYPE internal subset is rewritten before parsing so that external entities (XXE)
  and nested entities (billion laughs) never reach the XML parser (`_screen_doctype`); character
  references no parser can take (surrogates written as references, zero, beyond U+10FFFF) are repaired
  or replaced first (`_repair_refs`).
"""

from __future__ import annotations

import codecs
import re

from crawler.feeds.base import FeedError
from crawler.sniff import SNIFF_BYTES, is_binary, wide_encoding
from judge.htmltext import repair_char_refs

#: Longest DOCTYPE declaration accepted. Real feeds carry either none, the RSS 0.91 public id, or a
#: few character entities; a longer internal subset is an entity-expansion attack or garbage.
MAX_DOCTYPE_BYTES = 64 * 1024

#: Longest replacement text of an internal entity that is kept. Legitimate feed entities stand for a
#: character or a short word (`&nbsp;`, `&copy;`, a site name); a short cap with no nested references
#: bounds the expansion of any document to a small constant factor.
SAFE_ENTITY_MAX_CHARS = 64

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

#: Root element names (lower-cased, with prefix) of the formats feedparser reads.
FEED_ROOTS = frozenset({"rss", "feed", "rdf:rdf", "rdf", "channel"})

#: Elements that, as the first element of a body, mark it as an HTML page or fragment.
HTML_ROOTS = frozenset(
    {
        "html",
        "head",
        "body",
        "meta",
        "title",
        "link",
        "script",
        "style",
        "div",
        "p",
        "table",
        "center",
        "form",
        "iframe",
        "frameset",
        "noscript",
        "span",
        "a",
        "br",
        "h1",
        "h2",
        "img",
    }
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


# --------------------------------------------------------------------------------------------------
# Sniffing
# --------------------------------------------------------------------------------------------------

_PROLOG_TEXT_RE = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.S)
_DOCTYPE_TEXT_RE = re.compile(r"<!DOCTYPE\s+([^\s\[>]*)(?:[^\[>]|\[.*?\])*>?", re.S | re.I)
_ROOT_RE = re.compile(r"<([A-Za-z_][\w:.-]*)")
_EXPORT_MARK_RE = re.compile(r"tag:blogger\.com,1999:blog-\d+\.archive|blogger/2008/kind#(?:template|settings)")
_HTML_MARK_RE = re.compile(r"<(?:html|head|body)\b", re.I)
_FEED_START_TEXT_RE = re.compile(r"<(?:rss|feed|rdf:RDF)[\s>]")


def _sniff_window(data: bytes) -> str:
    """The first SNIFF_BYTES as text good enough for finding tags (ASCII-compatible decoding)."""
    enc, bom_len = wide_encoding(data)
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
    if is_binary(data):
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
    wide, bom_len = wide_encoding(data)
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
_SAFE_ENTITY_RE = re.compile(rb"<!ENTITY\s+([A-Za-z_][\w.-]*)\s+(?:\"([^\"]*)\"|'([^']*)')\s*>")
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
        raise FeedError(f"unterminated or over-long DOCTYPE declaration (limit {MAX_DOCTYPE_BYTES} bytes)")
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
            safe.append(b"<!ENTITY " + m.group(1) + b' "' + value + b'">')
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
