"""Blogger's markup as the page extractor reads it: XPaths, class tokens and patterns, compiled once.

This module owns the knowledge of how a Blogger template marks a post (the Blog widget, `post-body`,
`post-title`, `abbr.published`, the localised `date-header`, the `_SetDataContext` blog data, ...;
described in shared/docs/blogger-format.md), the blocks a body is cleaned of, and the small text
helpers every stage uses. The other modules of crawler.extract read pages through these.
"""

from __future__ import annotations

import re

from lxml import etree

from judge.htmltext import html_to_text

# ---------------------------------------------------------------------------------------------
# Elements and classes removed from a post body before it is stored.

#: Tags that never carry post text inside a body (code, styling, form widgets, stray head tags).
BODY_DROP_TAGS = (
    "script", "style", "template", "link", "meta", "form", "button", "input", "select",
    "textarea",
)  # fmt: skip

#: Class/id tokens of blocks Blogger or third-party templates put *inside* the body element:
#: share buttons, "Read more" jump links, footers, pagers, related-post widgets, ads, comments.
BODY_BOILERPLATE_TOKENS = frozenset(
    {
        "post-share-buttons", "share-button", "share-buttons", "sharing", "share", "social-share",
        "sharethis", "jump-link", "post-footer", "blog-pager", "related-posts", "related-post",
        "relatedposts", "related_posts", "post-related", "comments", "comment-form",
        "comment-thread", "blog-admin", "item-control", "inline-ad", "adsbygoogle",
        "google-auto-placed", "post-labels", "reaction-buttons", "post-backlinks",
    }
)  # fmt: skip
#: Prefixes of class/id tokens for the same kinds of blocks from third-party widgets
#: (LinkWithin, AddThis, YARPP, Outbrain, Taboola, Shareaholic, ...).
_BOILERPLATE_PREFIX_RE = re.compile(
    r"^(?:related|linkwithin|addthis|sharethis|shareaholic|yarpp|outbrain|taboola|a2a_|ssba)",
    re.I,
)

# ---------------------------------------------------------------------------------------------
# XPath helpers (compiled once).


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


_X = etree.XPath
X_BLOG_WIDGET = _X(f"//*[@id='Blog1'] | //*[{_has_class('widget')}][{_has_class('Blog')}]")
X_BODY_CANDIDATES = [
    _X(f".//article[{_has_class('post-outer-container')}]//*[{_has_class('post-body')}]"),
    _X(f".//*[{_has_class('post-body')}]"),
    _X(f".//*[{_has_class('entry-content')}]"),
    _X(".//*[contains(concat(' ', normalize-space(@itemprop), ' '), ' articleBody ')]"),
    _X(f".//*[{_has_class('post-content')}]"),
]
X_POST_CONTAINERS = [
    _X(f".//article[{_has_class('post-outer-container')}]"),
    _X(f".//*[{_has_class('post-outer')}]"),
    _X(f".//*[{_has_class('hentry')}]"),
    _X(f".//*[{_has_class('post')}]"),
    _X(".//article"),
]
X_TITLE_IN_SCOPE = _X(
    f".//*[{_has_class('post-title')} or {_has_class('entry-title')} or @itemprop='headline']"
    " | .//h1[@itemprop='name'] | .//h2[@itemprop='name'] | .//h3[@itemprop='name']"
)
X_PUBLISHED_ATTR = [
    (_X(f".//abbr[{_has_class('published')}][@title]"), "title"),
    (_X(f".//time[{_has_class('published')}][@datetime]"), "datetime"),
    (_X(f".//*[{_has_class('published')}][@datetime]"), "datetime"),
    (_X(".//time[@itemprop='datePublished'][@datetime]"), "datetime"),
]
X_ITEMPROP_PUBLISHED = _X(".//*[@itemprop='datePublished']")
X_UPDATED_ATTR = [
    (_X(f".//abbr[{_has_class('updated')}][@title]"), "title"),
    (_X(f".//time[{_has_class('updated')}][@datetime]"), "datetime"),
    (_X(".//*[@itemprop='dateModified'][@content]"), "content"),
    (_X(".//*[@itemprop='dateModified'][@datetime]"), "datetime"),
]
X_DATE_HEADER = _X(f".//*[{_has_class('date-header')}]")
X_PRECEDING_DATE_HEADER = _X(f"preceding::*[{_has_class('date-header')}][1]")
X_VISIBLE_DATE = _X(
    f".//*[{_has_class('post-timestamp')} or {_has_class('timestamp-link')}"
    f" or {_has_class('post-date')} or {_has_class('entry-date')} or {_has_class('date')}]"
    " | .//a[@rel='bookmark']"
)
X_AUTHOR = [
    _X(f".//*[{_has_class('post-author')}]//*[{_has_class('fn')}]"),
    _X(f".//*[{_has_class('g-profile')}]"),
    _X(".//*[@itemprop='author']//*[@itemprop='name']"),
    _X(f".//*[{_has_class('vcard')}]//*[{_has_class('fn')}] | .//*[{_has_class('vcard')}][{_has_class('fn')}]"),
    _X(f".//*[{_has_class('post-author')}]//a"),
]
X_SNIPPET = _X(f".//*[{_has_class('post-snippet')} or {_has_class('snippet-item')} or {_has_class('post-summary')}]")
X_BYLINE_IN_BODY = _X(f".//*[{_has_class('byline-author')}]")
X_LABELS = _X(f".//a[@rel='tag'] | .//*[{_has_class('post-labels')}]//a")
X_LABEL_LINKS = _X(".//a[contains(@href, '/search/label/')]")
X_JSONLD = _X("//script[@type='application/ld+json']")
X_POST_ID_META = _X(".//meta[@itemprop='postId']/@content")
X_ANCHOR_NAMES = _X(".//a[@name]/@name")
X_POST_URL = [
    _X(f".//*[{_has_class('post-title')} or {_has_class('entry-title')}]//a/@href"),
    _X(f".//a[{_has_class('timestamp-link')}]/@href"),
    _X(".//a[@rel='bookmark']/@href"),
    _X(".//*[@itemprop='url']/@content"),
]

_BODY_ID_RE = re.compile(r"post-body-(\d+)")
_POST_ID_QUERY_RE = re.compile(r"[?&]postID=(\d+)", re.I)
_BLOG_ID_QUERY_RE = re.compile(r"[?&](?:blogID|targetBlogID)=(\d+)", re.I)
_FEED_URL_BLOG_ID_RE = re.compile(r"blogger\.com/feeds/(\d+)/")
_COMMENT_FEED_POST_ID_RE = re.compile(r"/feeds/(\d+)/comments/")
_DIGITS_RE = re.compile(r"^\d{1,20}$")
_TAG_RE = re.compile(r"<[A-Za-z!?/]")
_CONTROL_CHARS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FEED_ROOT_RE = re.compile(r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:feed|rss|rdf:RDF)[\s>]", re.S)
_PRESENTATIONAL_TAG_RE = re.compile(r"</?(?:font|span|b|i|u|em|strong|small|big|center|strike|s|sub|sup)\b[^>]*>", re.I)
_BYLINE_PREFIX_RE = re.compile(r"^\s*(?:posted|written|published)\s+by\s*:?\s*", re.I)

_DC_MARKER = "_WidgetManager._SetDataContext("
_DC_KEY_RE = re.compile(
    r"""['"](blogId|postId|pageType|url|canonicalUrl|homepageUrl|canonicalHomepageUrl|locale|"""
    r"""title|pageName|pageTitle|feedLinks)['"]\s*:\s*"""
    r"""(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(\d+))""",
    re.S,
)
_JS_ESCAPE_RE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[0-7]{1,3}|.)", re.S)
_JS_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}
_LINK_TAG_RE = re.compile(r"<link\b[^>]*>", re.I)
_ATTR_RE = re.compile(r"""([a-zA-Z_:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")

_CJK_DATE_RE = re.compile(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]")
_ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

FEED_TYPES = ("application/atom+xml", "application/rss+xml")


_X_PAGER = etree.XPath(
    "//a[contains(concat(' ', normalize-space(@class), ' '), ' blog-pager-older-link ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' blog-pager-newer-link ')"
    " or @id='Blog1_blog-pager-older-link' or @id='Blog1_blog-pager-newer-link']/@href"
)


# ---------------------------------------------------------------------------------------------
# Small helpers.


def _text(el) -> str:
    return html_to_text(el) if el is not None else ""


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(value.split())
    return value or None


def _is_id(value) -> bool:
    return isinstance(value, str) and bool(_DIGITS_RE.match(value))


def _first_id(values) -> str | None:
    for v in values:
        v = (v or "").strip()
        if _is_id(v):
            return v
    return None
