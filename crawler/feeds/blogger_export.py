"""Blogger "Back up content" exports: the published posts of a blog in one file.

This module owns `read_blogger_export` (the posts, with the count of posts the file holds and why any
were lost) and `parse_blogger_export` (the posts only). The export is screened like a feed
(crawler.feeds.encoding) and then parsed incrementally, so a file of every post of a decade-old blog
is read in bounded memory.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass, field

from lxml import etree

from crawler.feeds.base import (
    APP_NS,
    ATOM_NS,
    GDATA_KIND_SCHEME,
    KIND_PREFIX,
    THR_NS,
    FeedError,
    _blogger_entry_url,
    _check_input,
    _clean_lang,
    _describe,
    _is_http,
    _iso_from_string,
    _loss_line,
    _one_line,
    _plain,
)
from crawler.feeds.encoding import _first_element, _repair_refs, _screen_doctype, _sniff_window
from crawler.sniff import SNIFF_BYTES, is_binary, wide_encoding
from judge.identity import parse_blogger_tag
from storage.items import PostIn

#: Largest Blogger export `parse_blogger_export` accepts. An export holds every post, page and comment
#: of a blog in one file; decade-old, daily-posting blogs with comments reach a few hundred MB. Exports
#: are parsed incrementally, so this only bounds the bytes already held by the caller.
MAX_EXPORT_BYTES = 512 * 1024 * 1024


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


_A = f"{{{ATOM_NS}}}"
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
    if is_binary(data):
        raise FeedError(f"binary data ({data[:4]!r}...), not a Blogger export")
    wide, bom_len = wide_encoding(data)
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
                    except Exception as exc:  # one odd entry is reported, the rest still count
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
    except Exception as exc:  # a parser failure is this file's problem, not the run's
        raise FeedError(_one_line(f"unreadable Blogger export: {_describe(exc)}")) from None
    if locale:  # settings normally precede posts; cover posts that came first
        for post in posts:
            post["lang_hint"] = post["lang_hint"] or locale
    if out.lost:
        problems.insert(
            0,
            _loss_line(
                f"{out.posts_in_document - out.drafts} published posts in the export",
                len(posts),
                out.lost,
                out.entry_problems,
            ),
        )
    out.problem = _one_line("; ".join(problems)) if problems else None
    return out


def _is_export_post(elem, ident: str, kind: str | None) -> bool:
    if kind is not None and kind != "post":
        return False
    if kind is None:  # no kind category (every export seen has one): a post id that is not a reply
        if ".post-" not in ident or elem.find(f"{{{THR_NS}}}in-reply-to") is not None:
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
