"""The first stage of page extraction: check the input, decode it and parse it into a tree.

This module owns `ExtractError` and what a page must be to be extracted at all: not empty, not
binary, not over the size cap (both crawler.sniff's, shared with feed parsing), not a feed, HTML in
some character encoding (declared, else guessed), repaired of stray control characters and surrogate
character references.
"""

from __future__ import annotations

from lxml import etree
from w3lib.encoding import html_to_unicode

from crawler import sniff
from crawler.extract.markup import _CONTROL_CHARS_RE, _FEED_ROOT_RE, _TAG_RE
from judge.errors import RjwatchError
from judge.htmltext import repair_char_refs

#: How much of a page without a declared encoding is used to guess it: plenty of text for a
#: confident guess, bounded so the guess stays fast on big pages.
ENCODING_SNIFF_BYTES = 64 * 1024


class ExtractError(ValueError, RjwatchError):
    """The input is not an extractable HTML page (empty, binary, oversized, not HTML)."""


def _parse(text: str):
    """Parse a decoded page; also say whether libxml2 hit its nesting limit (2048 levels)."""
    # One parser per call: lxml parser objects must not be shared between threads, and creating
    # one costs microseconds. huge_tree lifts the 10 MB text-node and 256-level nesting limits;
    # HTML parsing expands no user-defined entities, so it opens no entity-expansion risk.
    parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(text.encode("utf-8", "replace"), parser)
    except (etree.LxmlError, ValueError) as exc:
        raise ExtractError(f"unparseable HTML: {str(exc).splitlines()[0][:200]}") from None
    return root, any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log)


def _decode(data) -> str:
    """Validate and decode the page; raise ExtractError for input that is not an HTML page."""
    if data is None:
        raise ExtractError("empty page: no content")
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        if len(data) > sniff.MAX_DOCUMENT_BYTES:
            raise ExtractError(f"page too large: {len(data)} bytes (limit {sniff.MAX_DOCUMENT_BYTES})")
        if not data.strip():
            raise ExtractError("empty page: no content")
        if sniff.is_binary(data):
            raise ExtractError("binary content, not an HTML page")
        try:
            _, text = html_to_unicode(None, data, auto_detect_fun=_guess_encoding)
        except Exception as exc:  # w3lib/codec failures on garbage input
            raise ExtractError(f"undecodable content: {exc}") from None
    elif isinstance(data, str):
        text = data
        if len(text) > sniff.MAX_DOCUMENT_BYTES:
            raise ExtractError(f"page too large: {len(text)} characters (limit {sniff.MAX_DOCUMENT_BYTES})")
        if not text.strip():
            raise ExtractError("empty page: no content")
    else:
        raise ExtractError(f"unsupported input type: {type(data).__name__}")

    text = text.lstrip("\ufeff")
    if sniff.is_binary(text):
        raise ExtractError("binary content (mostly non-text), not an HTML page")
    sample = text[: sniff.SNIFF_BYTES]
    if not _TAG_RE.search(sample) and not _TAG_RE.search(text):
        raise ExtractError("not an HTML page: no markup found")
    if _FEED_ROOT_RE.match(sample):
        raise ExtractError("not an HTML page: an RSS/Atom feed")
    # Stray control characters (never visible text) would survive parsing and then be refused by
    # lxml whenever body text is moved around; they are dropped here once. Surrogate character
    # references (emoji written as two references) become the real character.
    return _CONTROL_CHARS_RE.sub("", repair_char_refs(text)[0])


def _guess_encoding(data: bytes) -> str | None:
    """Encoding of a page that declares none (no BOM, no meta charset).

    Blogger always declares UTF-8; this is for other pages. Valid UTF-8 is taken as such;
    otherwise charset_normalizer (a trafilatura dependency) guesses from the start of the page.
    None leaves w3lib's UTF-8 default, under which junk shows up as replacement characters and
    is refused as binary.
    """
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes
    except ImportError:
        return None
    best = from_bytes(data[:ENCODING_SNIFF_BYTES]).best()
    return best.encoding if best is not None else None
