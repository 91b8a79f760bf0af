"""OPML import and export of sources (the format every feed reader speaks).

Parsing goes through defusedxml, so an OPML file cannot pull in external entities or expand a
billion laughs. Blogs are exported as outlines with `type="blogger"` and `htmlUrl`, feeds as
`type="rss"` with `xmlUrl`; both come back the same way on import.
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from judge.errors import RjwatchError


class OpmlError(ValueError, RjwatchError):
    """An OPML file that cannot be read, explained in one line."""


def read_opml(data: bytes) -> list[dict]:
    """[{'url', 'title', 'kind'}] of every outline with an xmlUrl (feeds) or type=blogger htmlUrl (blogs)."""
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise OpmlError(f"refused: {type(exc).__name__} (entities or DTDs are not allowed)") from None
    except SafeET.ParseError as exc:
        raise OpmlError(f"not well-formed XML ({exc})") from None
    if root.tag.lower() != "opml":
        raise OpmlError(f"not OPML (root element <{root.tag}>)")
    out, seen = [], set()
    for node in root.iter("outline"):
        kind = (node.get("type") or "").lower()
        if kind == "blogger" and node.get("htmlUrl"):
            url, k = node.get("htmlUrl"), "blogger"
        elif node.get("xmlUrl"):
            url, k = node.get("xmlUrl"), "feed"
        else:
            continue
        url = url.strip()
        if not url.startswith(("http://", "https://")) or url in seen:
            continue
        seen.add(url)
        out.append({"url": url, "title": node.get("title") or node.get("text"), "kind": k})
    return out


def write_opml(sources: list[dict]) -> str:
    root = Element("opml", version="2.0")
    head = SubElement(root, "head")
    SubElement(head, "title").text = "rjwatch sources"
    SubElement(head, "dateCreated").text = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    body = SubElement(root, "body")
    for s in sources:
        if s.get("state") == "candidate":
            continue
        title = s.get("name") or s["url"]
        if s["kind"] == "blogger":
            SubElement(body, "outline", type="blogger", text=title, title=title, htmlUrl=s["url"])
        else:
            SubElement(body, "outline", type="rss", text=title, title=title, xmlUrl=s["url"])
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode") + "\n"
