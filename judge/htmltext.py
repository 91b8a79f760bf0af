"""HTML fragments to plain text and outbound links, for every post body rjwatch ingests.

This module owns the one HTML-to-text conversion the project uses (feed entries, extracted page
bodies), so the classifier always sees text laid out the same way:

- block-level elements (p, div, li, h1-h6, blockquote, tr, table, pre, figure, ...) and `<br>`
  start a new line; inline text is concatenated as a browser would show it, with runs of
  whitespace collapsed to one space within a line; empty lines are dropped;
- script, style, noscript, template, iframe, object, embed, svg, math, form controls, comments
  and processing instructions contribute nothing (their tail text still counts);
- HTML entities are decoded by the parser.

It also owns `links_from_html`: the absolute http(s) targets of the `<a href>`s in a fragment, and
`media_text`: what a post made only of pictures and embeds says about itself (alt texts, titles of
embedded players and images), so that such a post can still be stored and judged, and
`repair_char_refs`: numeric character references no parser can take (a surrogate pair written as two
references, as some CMSs write emoji; a lone surrogate; zero; beyond U+10FFFF) turned into the real
character or U+FFFD before any parser sees them, for HTML here and for feeds in crawler.feeds.

Both accept a string (any HTML: a fragment, a whole page, truncated or malformed markup; bytes
are taken as UTF-8) or an already parsed lxml element, and never raise on bad markup.
"""

from __future__ import annotations

import html as html_lib
import re
import threading
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree

#: Elements that start (and end) a line of text.
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
        "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "h1",
        "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "listing",
        "main", "menu", "nav", "ol", "p", "plaintext", "pre", "section", "summary", "table",
        "tbody", "tfoot", "thead", "tr", "ul", "xmp",
    }
)  # fmt: skip

#: Table cells: a row (`tr`) makes a line and the cells of a row are joined with a space, so
#: two cells never run into one word.
CELL_TAGS = frozenset({"td", "th"})

#: Elements whose content is never reader-visible text (code, embeds, form widgets).
SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "iframe", "object", "embed", "applet", "svg",
        "math", "canvas", "form", "button", "input", "select", "option", "textarea", "head",
        "title", "meta", "link", "audio", "video", "source", "track", "map",
    }
)  # fmt: skip

#: Characters removed from the text: zero-width space and byte-order mark (invisible, common in
#: pasted Word/Docs text, and not whitespace to `str.split`) and C0 control characters, which
#: would otherwise reach the classifier and the database verbatim. Zero-width (non-)joiners are
#: meaningful in some scripts and are kept.
_STRAY_CHARS_RE = re.compile("[\u200b\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

#: Longest digit string of a numeric character reference that is read as a number: U+10FFFF is 7
#: decimal digits; anything longer (after leading zeros) is out of range whatever it says, and Python
#: refuses to turn digit strings beyond a few thousand characters into an int at all.
MAX_CHAR_REF_DIGITS = 8

#: A numeric character reference that may need rewriting (the semicolon is optional, as it is to
#: HTML parsers and to feedparser's fallback parser). Only numbers near the bad ranges match - hex
#: D800-DFFF, FFFE/FFFF, 6+ digits, 0-1F; decimal 55000-57999, 65534/65535, 7+ digits, 0-31 - so
#: the everyday references (`&#8217;`, `&#160;`, CJK, emoji) never cost a Python call.
_CHAR_REF_SOURCE = (
    r"&#(?:[xX]0*([dD][89a-fA-F][0-9a-fA-F]{2}|[fF]{3}[eEfF]|[0-9a-fA-F]{6,}|1?[0-9a-fA-F])"
    r"(?![0-9a-fA-F])|0*(5[5-7][0-9]{3}|6553[45]|[0-9]{7,}|[12]?[0-9]|3[01])(?![0-9]));?"
)
_CHAR_REF_STR_RE = re.compile(_CHAR_REF_SOURCE)
_CHAR_REF_BYTES_RE = re.compile(_CHAR_REF_SOURCE.encode("ascii"))
#: Code points of references that are rewritten whatever the document type: zero, surrogates and
#: beyond Unicode. XML (`xml=True`) also refuses C0 controls other than tab/LF/CR and U+FFFE/U+FFFF.
_XML_ALLOWED_CONTROLS = (0x9, 0xA, 0xD)

#: Schemes an `<a href>` may carry that never lead to a crawlable page.
_NON_WEB_SCHEMES = ("javascript:", "mailto:", "tel:", "sms:", "data:", "about:", "file:", "ftp:")

#: Regex fallback used only when libxml2 gives up on a fragment nested deeper than its limit
#: (2048 levels; old posts with thousands of unclosed <font>/<span> tags reach it): libxml2 then
#: drops everything past that point, so the text is recovered without a tree instead.
_FALLBACK_DROP_RE = re.compile(
    r"<(script|style|noscript|template|iframe|object|svg|textarea|select|button|head)\b.*?</\1\s*>"
    r"|<!--.*?-->",
    re.I | re.S,
)
_FALLBACK_BLOCK_RE = re.compile(r"<(?:br|/?(?:" + "|".join(sorted(BLOCK_TAGS)) + r"|td|th))\b[^>]*>", re.I)
_FALLBACK_TAG_RE = re.compile(r"<[^>]*>")

_local = threading.local()


def _parser() -> etree.HTMLParser:
    """A per-thread HTML parser (lxml parser objects must not be shared between threads)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.HTMLParser(
            encoding="utf-8",
            remove_comments=True,
            remove_pis=True,
            no_network=True,
            # Lifts libxml2's 10 MB text-node limit and raises its nesting limit from 256 to
            # 2048 levels, so long posts and tag soup are not cut short. HTML parsing expands no
            # user-defined entities, so this opens no entity-expansion risk.
            huge_tree=True,
            default_doctype=False,
        )
        _local.parser = parser
    return parser


def parse_fragment(fragment: str | bytes | None) -> etree._Element | None:
    """Parse any HTML string to an lxml root element; None when there is nothing to parse.

    Strings are handed to libxml2 as UTF-8 bytes so an XML/`<meta charset>` declaration inside
    them cannot change how they are decoded. NUL characters are removed first (libxml2 would
    stop at them).
    """
    if fragment is None:
        return None
    if isinstance(fragment, str):
        if not fragment.strip():
            return None
        data = _repaired(fragment.replace("\x00", "")).encode("utf-8", "replace")
    else:
        if not fragment.strip():
            return None
        data = repair_char_refs(bytes(fragment).replace(b"\x00", b""))[0]
    root, _ = _parse_checked(data)
    return root


def _parse_checked(data: bytes) -> tuple[etree._Element | None, bool]:
    """Parse UTF-8 HTML; also say whether libxml2 hit its nesting limit (and lost the rest)."""
    parser = _parser()
    try:
        root = etree.fromstring(data, parser)
    except (etree.LxmlError, ValueError):
        return None, False
    too_deep = any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log)
    return root, too_deep


def text_without_tree(fragment: str) -> str:
    """Text of markup without building a tree: drop code blocks, break at block tags.

    Used where libxml2 cannot hold the markup (see above), and for the quick checks of feed
    fields (is this body empty? what is this HTML title as text?)."""
    fragment = _FALLBACK_DROP_RE.sub(" ", _repaired(fragment))
    fragment = _FALLBACK_BLOCK_RE.sub("\n", fragment)
    fragment = html_lib.unescape(_FALLBACK_TAG_RE.sub("", fragment))
    lines = (" ".join(line.split()) for line in fragment.split("\n"))
    return "\n".join(line for line in lines if line)


def _as_element(fragment) -> etree._Element | None:
    if isinstance(fragment, (str, bytes, bytearray)) or fragment is None:
        return parse_fragment(fragment)
    if isinstance(fragment, etree._ElementTree):
        return fragment.getroot()
    return fragment


def html_to_text(fragment) -> str:
    """Plain text of an HTML fragment (string or lxml element), one line per block.

    See the module docstring for the rules. Returns "" for empty or unparseable input.
    """
    if isinstance(fragment, (str, bytes, bytearray)):
        if isinstance(fragment, (bytes, bytearray)):
            fragment = bytes(fragment).decode("utf-8", "replace")
        if not fragment.strip():
            return ""
        fragment = _repaired(fragment.replace("\x00", ""))
        root, too_deep = _parse_checked(fragment.encode("utf-8", "replace"))
        if too_deep:
            return _finish(text_without_tree(fragment))
    else:
        root = _as_element(fragment)
    if root is None or not isinstance(root.tag, str):
        return ""
    lines: list[str] = []
    parts: list[str] = []

    def flush() -> None:
        if parts:
            line = " ".join("".join(parts).split())
            parts.clear()
            if line:
                lines.append(line)

    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag
        if event == "start":
            if not isinstance(tag, str):  # comment, processing instruction, entity
                walker.skip_subtree()
                continue
            if tag in SKIP_TAGS:
                walker.skip_subtree()
                continue
            if tag in CELL_TAGS:
                parts.append(" ")
            elif tag in BLOCK_TAGS or tag == "br":
                flush()
            if el.text:
                parts.append(el.text)
        else:
            if el is root:
                break
            if isinstance(tag, str):
                if tag in CELL_TAGS:
                    parts.append(" ")
                elif tag in BLOCK_TAGS:
                    flush()
            if el.tail:
                parts.append(el.tail)
    flush()
    return _finish("\n".join(lines))


def _finish(text: str) -> str:
    """Drop stray invisible/control characters, re-collapsing the lines they sat in."""
    if _STRAY_CHARS_RE.search(text):
        text = _STRAY_CHARS_RE.sub("", text)
        lines = (" ".join(line.split()) for line in text.split("\n"))
        text = "\n".join(line for line in lines if line)
    return text


def links_from_html(fragment, base_url: str | None = None) -> list[str]:
    """Absolute http(s) targets of the `<a href>`s in a fragment, deduplicated, in page order.

    Relative hrefs are resolved against `base_url`; protocol-relative ones (`//host/path`) get
    https when there is no base. Fragment-only hrefs (`#x`), non-web schemes (javascript:,
    mailto:, ...) and unparseable URLs are skipped, and the `#fragment` part is dropped (it names
    a place in a page, not a different page).
    """
    root = _as_element(fragment)
    if root is None or not isinstance(root.tag, str):
        return []
    seen: set[str] = set()
    out: list[str] = []
    for a in root.iter("a"):
        href = a.get("href")
        if not href:
            continue
        # Browsers strip surrounding whitespace and drop tabs/newlines inside URLs.
        href = href.strip().replace("\n", "").replace("\r", "").replace("\t", "")
        if not href or href.startswith("#") or href.lower().startswith(_NON_WEB_SCHEMES):
            continue
        try:
            if base_url:
                absolute = urljoin(base_url, href)
            elif href.startswith("//"):
                absolute = "https:" + href
            else:
                absolute = href
            absolute = urldefrag(absolute)[0]
            parts = urlsplit(absolute)
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                continue
        except ValueError:  # e.g. an unbalanced IPv6 bracket in the host
            continue
        if absolute not in seen:
            seen.add(absolute)
            out.append(absolute)
    return out


#: Elements whose `alt`/`title` describe a picture or an embedded player.
MEDIA_TAGS = ("img", "iframe", "video", "audio", "object", "embed", "source", "figure", "a")
#: Words in alt/title attributes that describe nothing (Blogger's and players' defaults).
_EMPTY_MEDIA_TEXT = frozenset(
    {
        "",
        "image",
        "photo",
        "picture",
        "video",
        "youtube video player",
        "youtube",
        "embedded content",
        "untitled",
        "img",
        "blogger",
    }
)


def media_text(fragment) -> str:
    """One line per distinct `alt` or `title` of the pictures and embeds in a fragment ("" for none).

    A Blogger post that is only a photo or a video has no body text; these attributes (and the
    embed's title) are what it says about itself.
    """
    root = _as_element(fragment)
    if root is None or not isinstance(root.tag, str):
        return ""
    seen: dict[str, None] = {}
    for el in root.iter(*MEDIA_TAGS):
        for attr in ("alt", "title", "aria-label"):
            value = " ".join((el.get(attr) or "").split())
            if value.casefold() not in _EMPTY_MEDIA_TEXT:
                seen.setdefault(value, None)
    return _finish("\n".join(seen))


def has_media(fragment) -> bool:
    """Does the fragment embed a picture, a player or a video?"""
    root = _as_element(fragment)
    return (
        root is not None
        and isinstance(root.tag, str)
        and next(root.iter("img", "iframe", "video", "audio", "object", "embed"), None) is not None
    )


def text_and_links(fragment: str, base_url: str | None = None) -> tuple[str, list[str]]:
    """`html_to_text` and `links_from_html` of one fragment, parsed once (the ingest hot path)."""
    if not fragment or not fragment.strip():
        return "", []
    fragment = _repaired(fragment.replace("\x00", ""))
    root, too_deep = _parse_checked(fragment.encode("utf-8", "replace"))
    if root is None or not isinstance(root.tag, str):
        return (_finish(text_without_tree(fragment)) if too_deep else ""), []
    links = links_from_html(root, base_url)
    text = _finish(text_without_tree(fragment)) if too_deep else html_to_text(root)
    return text, links


def _char_ref_value(m: re.Match) -> int:
    digits = m.group(1) or m.group(2)
    base = 16 if m.group(1) else 10
    digits = digits.lstrip(b"0" if isinstance(digits, bytes) else "0")
    if len(digits) > MAX_CHAR_REF_DIGITS:
        return 0x110000  # out of range
    return int(digits, base) if digits else 0


def _bad_code_point(value: int, xml: bool) -> bool:
    if value == 0 or value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        return True
    return xml and ((value < 0x20 and value not in _XML_ALLOWED_CONTROLS) or value in (0xFFFE, 0xFFFF))


def repair_char_refs(text, *, xml: bool = False):
    """Rewrite numeric character references that parsers refuse or choke on; (text, joined, replaced).

    A high surrogate reference directly followed by a low one (`&#55357;&#56832;`, `&#xD83D;&#xDE00;`)
    becomes the character the pair stands for (U+1F600); a lone surrogate, zero, or a number beyond
    U+10FFFF becomes U+FFFD, and so (with `xml`) does a control character XML does not allow. Other
    references are left alone. `text` may be str or UTF-8 bytes; the result has the same type, with
    the counts of pairs joined and of references replaced.
    """
    is_bytes = isinstance(text, (bytes, bytearray))
    if (b"&#" if is_bytes else "&#") not in text:
        return text, 0, 0
    pattern = _CHAR_REF_BYTES_RE if is_bytes else _CHAR_REF_STR_RE
    joined = replaced = 0
    skip_to = -1  # end of a low-surrogate reference already joined to the one before it

    def fix(m: re.Match):
        nonlocal joined, replaced, skip_to
        if m.start() < skip_to:
            return m.group(0)[:0]
        value = _char_ref_value(m)
        if not _bad_code_point(value, xml):
            return m.group(0)
        if 0xD800 <= value <= 0xDBFF:
            nxt = pattern.match(m.string, m.end())
            if nxt is not None:
                low = _char_ref_value(nxt)
                if 0xDC00 <= low <= 0xDFFF:
                    joined += 1
                    skip_to = nxt.end()
                    char = chr(0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00))
                    return char.encode("utf-8") if is_bytes else char
        replaced += 1
        return "\ufffd".encode("utf-8") if is_bytes else "\ufffd"

    return pattern.sub(fix, text), joined, replaced


def _repaired(fragment: str) -> str:
    return repair_char_refs(fragment)[0] if "&#" in fragment else fragment
