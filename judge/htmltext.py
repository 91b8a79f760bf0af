"""HTML fragments to plain text and outbound links, for every post body rjwatch ingests.

This module owns the one HTML-to-text conversion the project uses (feed entries, extracted page
bodies), so the classifier always sees text laid out the same way:

- block-level elements (p, div, li, h1-h6, blockquote, tr, table, pre, figure, ...) and `<br>`
  start a new line; inline text is concatenated as a browser would show it, with runs of
  whitespace collapsed to one space within a line; empty lines are dropped;
- script, style, noscript, template, iframe, object, embed, svg, math, form controls, comments
  and processing instructions contribute nothing (their tail text still counts);
- HTML entities are decoded by the parser.

It also owns `links_from_html`: the absolute http(s) targets of the `<a href>`s in a fragment.

Both accept a string (any HTML: a fragment, a whole page, truncated or malformed markup) or an
already parsed lxml element, and never raise on bad markup.
"""

from __future__ import annotations

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

#: Characters that are invisible but not whitespace to `str.split`: zero-width space and the
#: byte-order mark (common in pasted Word/Docs text). Zero-width (non-)joiners are meaningful in
#: some scripts and are kept.
_INVISIBLE_RE = re.compile("[\u200b\ufeff]")
#: C0 control characters other than tab/newline/carriage return, which would otherwise reach the
#: classifier and the database verbatim.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

#: Schemes an `<a href>` may carry that never lead to a crawlable page.
_NON_WEB_SCHEMES = ("javascript:", "mailto:", "tel:", "sms:", "data:", "about:", "file:", "ftp:")

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
            # Post bodies are data we were sent, not documents with entity definitions: lifting
            # libxml2's 10 MB text-node limit only stops very long posts from being cut short.
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
        data = fragment.replace("\x00", "").encode("utf-8", "surrogatepass")
    else:
        if not fragment.strip():
            return None
        data = bytes(fragment).replace(b"\x00", b"")
    try:
        return etree.fromstring(data, _parser())
    except (etree.LxmlError, ValueError):
        return None


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
    text = "\n".join(lines)
    if "\u200b" in text or "\ufeff" in text:
        text = _INVISIBLE_RE.sub("", text)
        text = "\n".join(line for line in (" ".join(x.split()) for x in text.split("\n")) if line)
    return _CONTROL_RE.sub("", text)


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
