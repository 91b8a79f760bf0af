"""Atom 1.0 feeds (RFC 4287) of the results: new coverage, the seeds' copies and excerpts, a saved
search, or whatever an export selects, so analysts can follow rjwatch from their feed reader.

The XML is written by lxml's incremental writer: everything collected from the web (titles, authors,
text, URLs) goes in as element text or attribute values, which lxml escapes; the characters XML 1.0
cannot carry at all (C0 controls, U+FFFE, ...) and the terminal-unsafe ones (escape sequences, bidi
overrides) are removed first. An export streams its entries, so its memory stays flat.

Ids are stable. An entry's id is a name-based UUID of the post's canonical URL (the key rjwatch
stores each post under), so the same post has the same id in every run, in the served feeds and in
`rjwatch export --format atom`, and after the database is rebuilt. A feed's id is a name-based UUID
of the installation (when its database was created) and the feed's kind, so two installations'
"new coverage" feeds are two feeds.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from typing import IO, TYPE_CHECKING
from urllib.parse import quote, urlsplit

from lxml import etree

from judge.dates import parse
from judge.errors import RjwatchError
from judge.text import terminal_text

if TYPE_CHECKING:
    import sqlite_utils

    from storage.search import Filters

#: Entries in a served feed: a feed reader polls every hour or so, and 50 covers a busy day of new
#: coverage while keeping each poll a small, fast read.
FEED_ENTRIES = 50
#: Characters of a post's text read for an entry's snippet (the snippet is cut from them).
SNIPPET_SOURCE_CHARS = 1000
#: Characters of the plain-text snippet in an entry's summary: about three lines in a feed reader.
SNIPPET_CHARS = 300
#: Where the desk is served by default (`rjwatch serve`): the links of an exported feed point there.
DEFAULT_BASE_URL = "http://127.0.0.1:8001"
#: The feed kinds, and the desk's page each feed mirrors (its rel=alternate link).
KINDS = ("new", "copies", "saved")
PAGE_PATHS = {"new": "/", "copies": "/spread", "saved": "/search?saved={name}", "export": "/"}

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: Fixed namespaces of the name-based (version 5) UUIDs: changing them would change every id.
ENTRY_ID_NAMESPACE = uuid.UUID("5f0c6a2e-4b1d-5c7e-9a8f-2d3b4c5e6f70")
FEED_ID_NAMESPACE = uuid.UUID("8e2d1c4b-6a3f-5e9d-8c7b-1a2f3e4d5c6b")

#: Characters XML 1.0 cannot carry, even escaped.
_NOT_XML_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: Whatever the cleaning would change (judge.text.terminal_text's controls, escapes, bidi controls and
#: line separators, and what XML cannot carry): text without any of them is used as it is, one scan.
_UNCLEAN_RE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069"
    "\ufeff\ufffe\uffff\ud800-\udfff]"
)
#: The same for one-line text, where tabs and line breaks become spaces.
_UNCLEAN_LINE_RE = re.compile(_UNCLEAN_RE.pattern[:-1] + "\t\n\r]")
#: A language tag fit for xml:lang and hreflang (BCP 47's shape); anything else is left out.
_LANG_RE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


class AtomError(ValueError, RjwatchError):
    """A feed that cannot be made: an unknown kind, a saved search without a name, a bad base URL."""


@dataclass
class Head:
    """What a feed says about itself."""

    feed_id: str
    title: str
    subtitle: str | None
    alternate: str
    self_link: str | None
    empty_updated: str  # the feed's `updated` while it has no entries


def feed(
    db: sqlite_utils.Database,
    kind: str,
    *,
    name: str | None = None,
    base_url: str,
    limit: int = FEED_ENTRIES,
) -> bytes:
    """The Atom feed `kind` ("new", "copies" or "saved" with `name`) as UTF-8 bytes, newest first,
    at most `limit` entries. Raises an RjwatchError for an unknown kind or saved search."""
    from storage import saved
    from storage.feeds_out import feed_rows
    from storage.search import Filters

    if kind not in KINDS:
        raise AtomError(f"no feed named {kind!r} (feeds: {', '.join(KINDS)})")
    base = _base(base_url)
    query: str | None = None
    if kind == "new":
        filters = Filters(status=("new",))
        title, subtitle, key = "rjwatch: new coverage", "Posts on the topic that copy no seed, newest first", "new"
    elif kind == "copies":
        filters = Filters(status=("copy", "excerpt"))
        title = "rjwatch: copies and excerpts of the seeds"
        subtitle, key = "Copies, excerpts and translations of the seed articles, newest first", "copies"
    else:
        if not name:
            raise AtomError("the saved-search feed needs the saved search's name")
        query, filters = saved.get(db, name)
        title, subtitle, key = f"rjwatch: saved search {name}", f"Posts matching {query}", f"saved\n{name}"
    self_path = f"/feeds/saved/{quote(name or '', safe='')}.atom" if kind == "saved" else f"/feeds/{kind}.atom"
    head = _head(db, key, title, subtitle, base, PAGE_PATHS[kind].format(name=quote(name or "", safe="")), self_path)
    rows = list(feed_rows(db, query, filters, limit=max(0, limit), text_chars=SNIPPET_SOURCE_CHARS))
    out = BytesIO()
    write(out, head, rows)
    return out.getvalue()


def export_head(db: sqlite_utils.Database, query: str | None, filters: Filters, *, base_url: str) -> Head:
    """The head of an exported feed: the posts a query and filters select (`rjwatch export`)."""
    selection = json.dumps({"query": query, "filters": filters.as_dict()}, ensure_ascii=False, sort_keys=True)
    title = "rjwatch: exported posts" + (f" matching {query}" if query else "")
    return _head(db, f"export\n{selection}", title, None, _base(base_url), PAGE_PATHS["export"], None)


def export_rows(db: sqlite_utils.Database, query: str | None, filters: Filters) -> Iterable[dict]:
    """Every post a query and filters select, newest first, streamed (for `write`)."""
    from storage.feeds_out import feed_rows

    return feed_rows(db, query, filters, text_chars=SNIPPET_SOURCE_CHARS)


def write(stream: IO[bytes], head: Head, rows: Iterable[dict]) -> int:
    """Write a feed to a binary stream; returns the number of entries. A list of rows gets the feed's
    `updated` first; other iterables are streamed, and `updated` (which Atom lets stand anywhere in
    the feed) follows the entries."""
    materialised = isinstance(rows, list)
    newest: datetime | None = None
    n = 0
    with etree.xmlfile(stream, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(_q("feed"), nsmap={None: ATOM_NS}):
            xf.write("\n")
            top = _element("feed")
            _sub(top, "id", head.feed_id)
            _sub(top, "title", head.title)
            if head.subtitle:
                _sub(top, "subtitle", head.subtitle)
            author = _sub(top, "author")
            _sub(author, "name", "rjwatch")
            _sub(top, "generator", "rjwatch")
            _link(top, head.alternate, "alternate", "text/html")
            if head.self_link:
                _link(top, head.self_link, "self", "application/atom+xml")
            if materialised:
                newest = max((_entry_updated(r) for r in rows), default=None)
                _sub(top, "updated", _rfc3339(newest) if newest else head.empty_updated)
            for child in top:
                _emit(xf, child)
            for row in rows:
                when = _entry_updated(row)
                _emit(xf, _entry(row, when))
                n += 1
                if not materialised:
                    newest = when if newest is None or when > newest else newest
            if not materialised:
                _emit(xf, _sub(_element("feed"), "updated", _rfc3339(newest) if newest else head.empty_updated))
    return n


# -- entries -----------------------------------------------------------------------------------------
def entry_id(canonical_url: str) -> str:
    """The stable Atom id of the post stored under `canonical_url`."""
    return f"urn:uuid:{uuid.uuid5(ENTRY_ID_NAMESPACE, canonical_url)}"


def _entry(row: dict, updated: datetime) -> etree._Element:
    entry = _element("entry")
    _sub(entry, "id", entry_id(row["canonical_url"]))
    title = _sub(entry, "title", _line(row["title"]) or "(untitled)")
    lang = row["lang"] if row["lang"] and _LANG_RE.match(row["lang"]) else None
    if lang:
        title.set(XML_LANG, lang)
    _sub(entry, "updated", _rfc3339(updated))
    published = parse(row["published"])
    if published:
        _sub(entry, "published", _rfc3339(published))
    if row["author"] and _line(row["author"]):
        author = _sub(entry, "author")
        _sub(author, "name", _line(row["author"]))
    link = _link(entry, row["url"], "alternate", "text/html")
    if lang:
        link.set("hreflang", lang)
    if row["canonical_url"] != row["url"]:
        _link(entry, row["canonical_url"], "canonical", "text/html")
    _sub(entry, "summary", _summary(row)).set("type", "text")
    _sub(entry, "category").attrib.update({"term": row["status"], "label": f"status: {row['status']}"})
    if lang:
        _sub(entry, "category").attrib.update({"term": lang, "label": f"language: {lang}"})
    return entry


def _summary(row: dict) -> str:
    ev = row["evidence"] or {}
    reasons = ev.get("reasons") or []
    why = reasons[0] if reasons and isinstance(reasons[0], str) else ""
    lines = [" · ".join(x for x in (row["status"], f"relevance {row['relevance'] or 0:.2f}", _line(why)) if x)]
    if row["analyst_status"]:
        note = _line(row["mark_note"] or "")
        lines.append(f"analyst: {row['analyst_status']}" + (f" ({note})" if note else ""))
    if row["seed_title"]:
        kind = "translation of seed" if ev.get("kind") == "translation" else "seed"
        lines.append(f"{kind}: {_line(row['seed_title'])}")
    if row["source"]:
        lines.append(f"source: {_line(row['source'])}")
    snippet = " ".join(_clean(row["text"] or "").split())
    if len(snippet) > SNIPPET_CHARS:
        cut = snippet[:SNIPPET_CHARS]
        snippet = (cut.rsplit(" ", 1)[0] if " " in cut[SNIPPET_CHARS // 2 :] else cut) + " …"
    return "\n".join(lines) + ("\n\n" + snippet if snippet else "")


def _entry_updated(row: dict) -> datetime:
    """The last time the entry changed: the post's own update, when rjwatch first saw it, or the
    latest analyst mark, whichever is latest."""
    times = [parse(row[k]) for k in ("published", "updated", "first_seen", "marked_at")]
    return max((t for t in times if t), default=datetime(1970, 1, 1, tzinfo=UTC))


# -- the head ----------------------------------------------------------------------------------------
def _head(
    db: sqlite_utils.Database,
    key: str,
    title: str,
    subtitle: str | None,
    base: str,
    page: str,
    self_path: str | None,
) -> Head:
    from storage.feeds_out import installation_stamp

    stamp = installation_stamp(db)
    return Head(
        feed_id=f"urn:uuid:{uuid.uuid5(FEED_ID_NAMESPACE, stamp + chr(10) + key)}",
        title=_line(title),
        subtitle=_line(subtitle) if subtitle else None,
        alternate=base + page,
        self_link=base + self_path if self_path else None,
        empty_updated=_rfc3339(parse(stamp) or datetime(1970, 1, 1, tzinfo=UTC)),
    )


def _base(base_url: str) -> str:
    parts = urlsplit(base_url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise AtomError(f"the feed's base URL must be an http(s) address such as {DEFAULT_BASE_URL}, not {base_url!r}")
    return base_url.rstrip("/")


# -- XML pieces --------------------------------------------------------------------------------------
def _emit(xf, el: etree._Element) -> None:
    """Write an element inside the open feed element. The element is built without a namespace, so
    it is written without a declaration and takes the feed's default namespace (Atom's)."""
    etree.indent(el, level=1)
    xf.write("  ")
    xf.write(el)
    xf.write("\n")


def _q(tag: str) -> str:
    return f"{{{ATOM_NS}}}{tag}"


def _element(tag: str) -> etree._Element:
    return etree.Element(tag)


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = _clean(text)
    return el


def _link(parent: etree._Element, href: str, rel: str, type_: str) -> etree._Element:
    return etree.SubElement(parent, "link", {"rel": rel, "type": type_, "href": _line(href)})


def _clean(text: str) -> str:
    """Text XML can carry and a reader can show: no controls, escapes or bidi overrides."""
    if not _UNCLEAN_RE.search(text):
        return text
    return _NOT_XML_RE.sub("", terminal_text(text, multiline=True))


def _line(text: str | None) -> str:
    """`_clean` on one line: tabs and line breaks become spaces."""
    text = text or ""
    if _UNCLEAN_LINE_RE.search(text):
        text = _NOT_XML_RE.sub("", terminal_text(text))
    return text.strip()


def _rfc3339(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
