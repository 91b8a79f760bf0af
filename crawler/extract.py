"""Page extraction: one Blogger-rendered HTML page to the post it carries (or the posts it lists).

This module owns turning a fetched page into a record: ids (blog, post), page type, title, dates,
author, labels, language hint, canonical URL, feed links, the main post body (HTML fragment and
text) and, for archive/index pages, the list of posts to follow.

Strategy: Blogger's own markers first (the `_WidgetManager._SetDataContext` blog data, the Blog
widget's `post-body`, `post-title`, `abbr.published`, the localised `date-header`, ...; the
markup is described in shared/docs/blogger-format.md), trafilatura only as the fallback when no
Blogger body is found, and trafilatura's metadata only for title/date/author the markers did
not give. Archive and index pages yield the posts they list (to be followed) and, as body, the
listed posts' bodies; they have no single title, date, author or post id. Dynamic Views pages
carry no post body at all (it is loaded by script): for those `html`/`text` are None and the
blog's feed must be read instead.

Bad input (empty, binary, oversized, not HTML) raises `ExtractError` with a one-line message;
truncated or malformed HTML is extracted as far as it goes.
"""

from __future__ import annotations

import functools
import html as html_lib
import json
import logging
import re
from datetime import date, datetime
from urllib.parse import urljoin, urlsplit

from lxml import etree
from w3lib.encoding import html_to_unicode

from judge.errors import RjwatchError
from judge.htmltext import html_to_text, links_from_html, repair_char_refs
from judge.identity import blog_id_from_feed_url, canonical_host, canonical_url

log = logging.getLogger(__name__)

#: Largest page accepted (bytes, or characters for `str` input). Real Blogger pages run to a few
#: hundred KB (the largest in our corpus is 420 KB); anything past this is not a blog page and
#: would only cost parse time and memory.
MAX_INPUT_BYTES = 10 * 1024 * 1024

#: How much of the start of a page the binary/non-HTML checks look at: enough to get past a
#: long `<head>`, small enough to stay cheap on every page.
SNIFF_CHARS = 16 * 1024

#: How much of a page without a declared encoding is used to guess it: plenty of text for a
#: confident guess, bounded so the guess stays fast on big pages.
ENCODING_SNIFF_BYTES = 64 * 1024

#: Share of control/undecodable characters in the sniffed start above which input is treated as
#: binary. Text pages have essentially none; compressed or image data has well over a tenth.
MAX_BINARY_RATIO = 0.05

#: How far after `_SetDataContext(` the blog data is searched. The blog entry comes first in that
#: call and is a few KB long (feed links, sharing config, scripts quoted as JS strings).
DATA_CONTEXT_WINDOW = 64 * 1024

#: Plausible years for a Blogger post date (Blogger opened in 1999); anything outside is a
#: mis-parse (a price, a phone number) and is dropped.
MIN_POST_YEAR = 1995
MAX_FUTURE_YEARS = 1

#: Longest author string kept: a byline, not a paragraph that happened to match.
MAX_AUTHOR_CHARS = 200

#: Longest date-bearing text handed to dateparser (date headers are short; long text is prose).
MAX_DATE_TEXT_CHARS = 80

#: Paths on the blog's own host that are navigation, not content: static pages (`/p/...`) and
#: label/search listings. A post body that *ends* in lines that are nothing but links to these
#: (a "how I rate books" or "thanks" link pasted under every post) is trimmed of them.
SELF_NAV_PATH_PREFIXES = ("/p/", "/search")

#: Blogger `pageType` values mapped to the three kinds the crawler distinguishes. Static pages are
#: single items like posts; error pages have nothing to extract.
PAGE_TYPES = {"item": "item", "static_page": "item", "archive": "archive", "index": "index"}

#: Legacy language codes Blogger still uses in locales, mapped to what dateparser knows.
_LEGACY_LANG = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv"}

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
    _X(
        f".//*[{_has_class('vcard')}]//*[{_has_class('fn')}]"
        f" | .//*[{_has_class('vcard')}][{_has_class('fn')}]"
    ),
    _X(f".//*[{_has_class('post-author')}]//a"),
]
X_SNIPPET = _X(
    f".//*[{_has_class('post-snippet')} or {_has_class('snippet-item')}"
    f" or {_has_class('post-summary')}]"
)
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
_FEED_ROOT_RE = re.compile(
    r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:feed|rss|rdf:RDF)[\s>]", re.S
)
_PRESENTATIONAL_TAG_RE = re.compile(
    r"</?(?:font|span|b|i|u|em|strong|small|big|center|strike|s|sub|sup)\b[^>]*>", re.I
)
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


class ExtractError(ValueError, RjwatchError):
    """The input is not an extractable HTML page (empty, binary, oversized, not HTML)."""


def _parse(text: str):
    """Parse a decoded page; also say whether libxml2 hit its nesting limit (2048 levels)."""
    # One parser per call: lxml parser objects must not be shared between threads, and creating
    # one costs microseconds. huge_tree lifts the 10 MB text-node and 256-level nesting limits;
    # HTML parsing expands no user-defined entities, so it opens no entity-expansion risk.
    parser = etree.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True, huge_tree=True
    )
    try:
        root = etree.fromstring(text.encode("utf-8", "replace"), parser)
    except (etree.LxmlError, ValueError) as exc:
        raise ExtractError(f"unparseable HTML: {str(exc).splitlines()[0][:200]}") from None
    return root, any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log)


_X_PAGER = etree.XPath(
    "//a[contains(concat(' ', normalize-space(@class), ' '), ' blog-pager-older-link ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' blog-pager-newer-link ')"
    " or @id='Blog1_blog-pager-older-link' or @id='Blog1_blog-pager-newer-link']/@href")


# ---------------------------------------------------------------------------------------------
# Public entry point.


# Control characters other than tab/newline/carriage-return/form-feed, and U+FFFD (undecodable bytes).
_NON_TEXT_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\ufffd]")


def extract_page(html: str | bytes, url: str | None = None) -> dict:
    """Extract one Blogger-rendered page; see the module docstring and `_empty_result` keys.

    Raises ExtractError for empty, binary, oversized or non-HTML input.
    """
    text = _decode(html)
    root, too_deep = _parse(text)
    if too_deep:
        # libxml2 stops at its nesting limit and drops the rest of the page; such pages are tag
        # soup of unclosed presentational tags, which carry no structure we use.
        root, _ = _parse(_PRESENTATIONAL_TAG_RE.sub("", text))
    if root is None or not isinstance(root.tag, str):
        raise ExtractError("not an HTML page: no elements found")

    result = _empty_result()
    dc = _data_context(text)
    head = _HeadInfo(root)
    result["is_blogger"] = _is_blogger(text, head)
    is_dynamic = head.meta_name.get("blogger-template", "").lower() == "dynamic"

    # --- page-level facts: type, URLs, feeds, language ---
    page_type = PAGE_TYPES.get(dc.get("pageType", ""))
    if page_type is None:
        body_class = " ".join(root.xpath("//body/@class")).split()
        if "item-view" in body_class:
            page_type = "item"
        elif "feed-view" in body_class:
            page_type = "index"
    result["url"] = url or dc.get("url") or head.canonical or head.meta_prop.get("og:url")
    base = head.base or result["url"] or dc.get("canonicalUrl")
    canon_raw = head.canonical or dc.get("canonicalUrl") or head.meta_prop.get("og:url")
    if canon_raw:
        try:
            result["canonical_url"] = canonical_url(urljoin(base or "", canon_raw))
        except ValueError:
            result["canonical_url"] = None
    result["feed_urls"] = _feed_urls(head, dc, base)
    # Post-to-post pager links (older/newer), so a crawler needs no second parse of an item page.
    result["pager"] = [urljoin(base or "", h.strip()) for h in _X_PAGER(root) if h and h.strip()]
    lang = dc.get("locale") or root.get("lang") or head.meta_prop.get("og:locale")
    lang = lang or head.meta_http_equiv.get("content-language")
    result["lang_hint"] = lang.strip().replace("_", "-") if lang and lang.strip() else None
    blog_name = _clean(html_lib.unescape(dc.get("title", ""))) or head.meta_prop.get("og:site_name")

    # --- blog id ---
    blog_id = dc.get("blogId")
    if not _is_id(blog_id):
        blog_id = blog_id_from_feed_url(head.service_post) or _first_id(
            root.xpath("//meta[@itemprop='blogId']/@content")
        )
    if not _is_id(blog_id):
        m = _FEED_URL_BLOG_ID_RE.search(dc.get("feedLinks", "")) or _BLOG_ID_QUERY_RE.search(text)
        blog_id = m.group(1) if m else None
    result["blog_id"] = blog_id if _is_id(blog_id) else None

    # --- locate the Blog widget, the post body and its post container ---
    widgets = X_BLOG_WIDGET(root)
    area = widgets[0] if widgets else root
    dc_post_id = dc.get("postId") if _is_id(dc.get("postId")) else None

    if page_type in ("archive", "index") or is_dynamic:
        bodies = []
    else:
        bodies = _find_bodies(area, dc_post_id) or (
            _find_bodies(root, dc_post_id) if area is not root else []
        )
        if page_type is None and len(bodies) > 1 and _distinct_posts(area) > 1:
            page_type, bodies = "index", []
    result["page_type"] = page_type

    if page_type in ("archive", "index"):
        # A listing has no single title, date, author or post id: it yields the posts to follow
        # and, as its body, the listed posts' bodies one after another.
        result["posts"], listed_bodies = _listed_posts(area, base, lang)
        if listed_bodies:
            hosts = _self_hosts(result, dc)
            wrapper = etree.Element("div", {"class": "listed-posts"})
            for listed in listed_bodies:
                _clean_body(listed, hosts)
                listed.tail = None
                wrapper.append(listed)
            body_text = html_to_text(wrapper)
            if body_text:
                result["html"] = etree.tostring(wrapper, method="html", encoding="unicode")
                result["text"] = body_text
                result["links"] = links_from_html(wrapper, base)
                result["extractor"] = "blogger"
        return result

    body = bodies[0] if bodies else None
    if body is not None:
        scope = _post_scope(body, area)
    else:  # no post body: only the Blog widget (if any) is trusted to describe the post
        scope = area if area is not root else None
    result["post_id"] = dc_post_id or (_post_id_from(scope, body) if body is not None else None)
    if result["post_id"] is None and page_type == "item":
        m = _COMMENT_FEED_POST_ID_RE.search(" ".join(head.alternate_feeds))
        result["post_id"] = m.group(1) if m else None

    # --- metadata from the post container, then the page head ---
    jsonld = _jsonld_post(root)
    result["title"] = _find_title(scope, body, head, dc, jsonld, blog_name, page_type)
    result["published"] = _find_published(scope, body, head, jsonld, lang)
    result["updated"] = _find_updated(scope, body, head, jsonld)
    result["author"] = _find_author(scope, body, head, jsonld)
    result["labels"] = _find_labels(scope, body)

    # --- the body ---
    if body is not None:
        _clean_body(body, _self_hosts(result, dc))
        body_text = html_to_text(body)
        if body_text or body.xpath(".//img | .//iframe | .//video"):
            result["html"] = etree.tostring(body, method="html", encoding="unicode", with_tail=False)
            result["text"] = body_text
            result["links"] = links_from_html(body, base)
            result["extractor"] = "blogger"
            if not result["author"]:
                byline = X_BYLINE_IN_BODY(body)
                if byline:
                    result["author"] = _clean_author(_BYLINE_PREFIX_RE.sub("", _text(byline[0])))

    # --- fallbacks: trafilatura for the body, its metadata for whatever is still missing ---
    if is_dynamic:
        return result
    have_metadata = False
    if result["extractor"] is None:
        have_metadata = _trafilatura_body(text, result, base)
    if not have_metadata and not (result["title"] and result["published"] and result["author"]):
        _trafilatura_metadata(text, result)
    return result


def _empty_result() -> dict:
    return {
        "title": None,
        "author": None,
        "published": None,
        "updated": None,
        "html": None,
        "text": None,
        "lang_hint": None,
        "blog_id": None,
        "post_id": None,
        "page_type": None,
        "url": None,
        "canonical_url": None,
        "feed_urls": [],
        "links": [],
        "labels": [],
        "is_blogger": False,
        "extractor": None,
        "posts": [],
        "pager": [],
    }


# ---------------------------------------------------------------------------------------------
# Input checks and decoding.


def _decode(data) -> str:
    """Validate and decode the page; raise ExtractError for input that is not an HTML page."""
    if data is None:
        raise ExtractError("empty page: no content")
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        if len(data) > MAX_INPUT_BYTES:
            raise ExtractError(f"page too large: {len(data)} bytes (limit {MAX_INPUT_BYTES})")
        if not data.strip():
            raise ExtractError("empty page: no content")
        has_wide_bom = data.startswith((b"\xff\xfe", b"\xfe\xff"))
        if not has_wide_bom and b"\x00" in data[:SNIFF_CHARS]:
            raise ExtractError("binary content (NUL bytes), not an HTML page")
        try:
            _, text = html_to_unicode(None, data, auto_detect_fun=_guess_encoding)
        except Exception as exc:  # w3lib/codec failures on garbage input
            raise ExtractError(f"undecodable content: {exc}") from None
    elif isinstance(data, str):
        text = data
        if len(text) > MAX_INPUT_BYTES:
            raise ExtractError(f"page too large: {len(text)} characters (limit {MAX_INPUT_BYTES})")
        if not text.strip():
            raise ExtractError("empty page: no content")
    else:
        raise ExtractError(f"unsupported input type: {type(data).__name__}")

    text = text.lstrip("\ufeff")
    sample = text[:SNIFF_CHARS]
    if "\x00" in sample:
        raise ExtractError("binary content (NUL characters), not an HTML page")
    bad = len(_NON_TEXT_RE.findall(sample))
    if sample and bad / len(sample) > MAX_BINARY_RATIO:
        raise ExtractError("binary content (mostly non-text), not an HTML page")
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


# ---------------------------------------------------------------------------------------------
# Page head and Blogger data context.


class _HeadInfo:
    """The `<head>`-level facts every strategy uses, gathered in one pass over meta/link."""

    def __init__(self, root):
        self.meta_name: dict[str, str] = {}
        self.meta_prop: dict[str, str] = {}
        self.meta_http_equiv: dict[str, str] = {}
        self.canonical: str | None = None
        self.base: str | None = None
        self.service_post: str | None = None
        self.alternate_feeds: list[str] = []
        for el in root.iter("meta", "link", "base"):
            tag = el.tag
            if tag == "meta":
                content = el.get("content")
                if content is None:
                    continue
                content = content.strip()
                for attr, store in (
                    ("name", self.meta_name),
                    ("property", self.meta_prop),
                    ("http-equiv", self.meta_http_equiv),
                ):
                    key = el.get(attr)
                    if key and content:
                        store.setdefault(key.strip().lower(), content)
            elif tag == "link":
                rel = (el.get("rel") or "").lower().split()
                href = (el.get("href") or "").strip()
                if not href:
                    continue
                if "canonical" in rel and self.canonical is None:
                    self.canonical = href
                elif "service.post" in rel and self.service_post is None:
                    self.service_post = href
                elif "alternate" in rel and (el.get("type") or "").lower().strip() in FEED_TYPES:
                    self.alternate_feeds.append(href)
            elif tag == "base" and self.base is None and el.get("href"):
                self.base = el.get("href").strip()
        titles = root.xpath("//title")
        self.title = _clean(_text(titles[0])) if titles else None


def _data_context(text: str) -> dict[str, str]:
    """The blog entry of `_WidgetManager._SetDataContext([...])`, JS string escapes decoded."""
    start = text.find(_DC_MARKER)
    if start < 0:
        return {}
    window = text[start + len(_DC_MARKER) : start + len(_DC_MARKER) + DATA_CONTEXT_WINDOW]
    out: dict[str, str] = {}
    for m in _DC_KEY_RE.finditer(window):
        key = m.group(1)
        if key in out:
            continue
        raw = m.group(2) if m.group(2) is not None else m.group(3)
        out[key] = _js_unescape(raw) if raw is not None else m.group(4)
    return out


def _js_unescape(value: str) -> str:
    if "\\" not in value:
        return value

    def repl(m: re.Match) -> str:
        esc = m.group(1)
        first = esc[0]
        if first in "xu" and len(esc) > 1:
            return chr(int(esc[1:], 16))
        if first in "01234567":
            return chr(int(esc, 8))
        return _JS_SIMPLE_ESCAPES.get(esc, esc)

    return _JS_ESCAPE_RE.sub(repl, value)


def _is_blogger(text: str, head: _HeadInfo) -> bool:
    if "blogger" in head.meta_name.get("generator", "").lower():
        return True
    return (
        "_WidgetManager" in text
        or "blogger.com/static/v1/widgets/" in text
        or "widget_css_bundle" in text
        or "blogger-template" in head.meta_name
    )


def _feed_urls(head: _HeadInfo, dc: dict, base: str | None) -> list[str]:
    hrefs = list(head.alternate_feeds)
    if not hrefs and dc.get("feedLinks"):
        for tag in _LINK_TAG_RE.findall(dc["feedLinks"]):
            attrs = {k.lower(): (v1 or v2) for k, v1, v2 in _ATTR_RE.findall(tag)}
            if "alternate" in attrs.get("rel", "").split() and attrs.get("type") in FEED_TYPES:
                hrefs.append(html_lib.unescape(attrs.get("href", "")))
    out: list[str] = []
    for href in hrefs:
        try:
            absolute = urljoin(base or "", href.strip())
        except ValueError:
            continue
        if absolute.startswith(("http://", "https://")) and absolute not in out:
            out.append(absolute)
    return out


def _self_hosts(result: dict, dc: dict) -> set[str]:
    """Canonical hosts of the blog itself (its blogspot name and/or custom domain)."""
    hosts = set()
    for u in (result.get("url"), result.get("canonical_url"), dc.get("homepageUrl"),
              dc.get("canonicalHomepageUrl"), dc.get("url")):  # fmt: skip
        if u:
            try:
                host = urlsplit(u).hostname
            except ValueError:
                continue
            if host:
                hosts.add(canonical_host(host))
    return hosts


# ---------------------------------------------------------------------------------------------
# Locating the body and its post.


def _find_bodies(area, post_id: str | None) -> list:
    if post_id:
        found = area.xpath(".//*[@id=$pid]", pid=f"post-body-{post_id}")
        if found:
            return found
    for xp in X_BODY_CANDIDATES:
        found = xp(area)
        if found:
            return found
    return []


def _distinct_posts(area) -> int:
    """How many different post URLs the Blog widget's titles/permalinks point to."""
    urls = set()
    for xp in X_POST_URL[:2]:
        urls.update(xp(area))
    return len(urls)


def _is_post_container(el) -> bool:
    if el.tag == "article":
        return True
    cls = el.get("class")
    if cls:
        tokens = set(cls.split())
        if tokens & {"post", "hentry", "post-outer", "post-outer-container", "blog-post",
                     "item-post", "post-wrapper", "single-post"}:  # fmt: skip
            return True
    itemtype = el.get("itemtype") or ""
    return "BlogPosting" in itemtype or "Article" in itemtype


def _post_scope(body, area):
    """The nearest element around the body that holds one post's title, byline and footer."""
    for anc in body.iterancestors():
        if anc is area:
            break
        if _is_post_container(anc):
            return anc
    return area


def _inside(el, container) -> bool:
    if container is None:
        return False
    for anc in el.iterancestors():
        if anc is container:
            return True
    return False


def _outside(xpath, scope, body) -> list:
    """Matches of `xpath` in the post container, leaving out anything inside the body itself."""
    if scope is None:
        return []
    return [el for el in xpath(scope) if el is not body and not _inside(el, body)]


def _post_id_from(scope, body) -> str | None:
    pid = _first_id(X_POST_ID_META(scope))
    if pid:
        return pid
    m = _BODY_ID_RE.fullmatch(body.get("id") or "")
    if m:
        return m.group(1)
    pid = _first_id(X_ANCHOR_NAMES(scope))
    if pid:
        return pid
    for el in (scope, *scope.iterancestors()):
        if _is_id(el.get("data-id")):
            return el.get("data-id")
        if el.tag == "body":
            break
    for href in scope.xpath(".//a/@href"):
        m = _POST_ID_QUERY_RE.search(href)
        if m:
            return m.group(1)
    return None


# ---------------------------------------------------------------------------------------------
# Metadata.


def _find_title(scope, body, head, dc, jsonld, blog_name, page_type) -> str | None:
    for el in _outside(X_TITLE_IN_SCOPE, scope, body):
        title = _clean(_text(el))
        if title:
            return title
    for candidate in (
        head.meta_prop.get("og:title"),
        jsonld.get("headline") if isinstance(jsonld.get("headline"), str) else None,
        html_lib.unescape(dc.get("pageName", "")) if page_type == "item" else None,
    ):
        title = _clean(candidate)
        if title:
            return title
    return _strip_blog_name(head.title, blog_name)


def _strip_blog_name(title: str | None, blog_name: str | None) -> str | None:
    if not title:
        return None
    if not blog_name:
        return title
    low, name = title.lower(), blog_name.lower()
    if low.startswith(name):
        rest = title[len(blog_name) :].lstrip()
        if rest[:1] in (":", "|", "-", "~", "»", "–", "—", "·"):
            return _clean(rest[1:]) or title
    if low.endswith(name):
        rest = title[: len(title) - len(blog_name)].rstrip()
        if rest[-1:] in (":", "|", "-", "~", "»", "–", "—", "·"):
            return _clean(rest[:-1]) or title
    return title


def _find_published(scope, body, head, jsonld, lang) -> str | None:
    for xp, attr in X_PUBLISHED_ATTR:
        for el in _outside(xp, scope, body):
            value = _iso(el.get(attr))
            if value:
                return value
    for el in _outside(X_ITEMPROP_PUBLISHED, scope, body):
        value = _iso(el.get("content") or el.get("datetime") or el.get("title"))
        value = value or _parse_date_text(_text(el), lang)
        if value:
            return value
    for candidate in (jsonld.get("datePublished"), head.meta_prop.get("article:published_time")):
        value = _iso(candidate) if isinstance(candidate, str) else None
        if value:
            return value
    header = _date_header_for(scope, body) if scope is not None else None
    if header is not None:
        value = _parse_date_text(_text(header), lang)
        if value:
            return value
    for el in _outside(X_VISIBLE_DATE, scope, body):
        value = _parse_date_text(_text(el), lang)
        if value:
            return value
    return None


def _date_header_for(scope, body):
    """The `date-header` Blogger prints above the day's posts that contain this post."""
    anchor = body if body is not None else scope
    for anc in anchor.iterancestors():
        cls = anc.get("class") or ""
        if "date-outer" in cls.split():
            found = X_DATE_HEADER(anc)
            return found[0] if found else None
        if "Blog" in cls.split() or anc.get("id") == "Blog1":
            break
    found = X_DATE_HEADER(scope)
    if found:
        return found[0]
    found = X_PRECEDING_DATE_HEADER(anchor)
    return found[0] if found else None


def _find_updated(scope, body, head, jsonld) -> str | None:
    for xp, attr in X_UPDATED_ATTR:
        for el in _outside(xp, scope, body):
            value = _iso(el.get(attr))
            if value:
                return value
    for candidate in (jsonld.get("dateModified"), head.meta_prop.get("article:modified_time")):
        value = _iso(candidate) if isinstance(candidate, str) else None
        if value:
            return value
    return None


def _find_author(scope, body, head, jsonld) -> str | None:
    for xp in X_AUTHOR:
        for el in _outside(xp, scope, body):
            author = _clean_author(el.get("content") or _text(el))
            if author:
                return author
    author = jsonld.get("author")
    if isinstance(author, list) and author:
        author = author[0]
    if isinstance(author, dict):
        author = author.get("name")
    if isinstance(author, str) and _clean_author(author):
        return _clean_author(author)
    return _clean_author(head.meta_name.get("author"))


def _clean_author(value: str | None) -> str | None:
    value = _clean(value)
    if not value or len(value) > MAX_AUTHOR_CHARS:
        return None
    return value


def _find_labels(scope, body) -> list[str]:
    labels: list[str] = []
    links = _outside(X_LABELS, scope, body) or _outside(X_LABEL_LINKS, scope, body)
    for a in links:
        label = _clean(_text(a))
        if label and label not in labels:
            labels.append(label)
    return labels


def _jsonld_post(root) -> dict:
    """The first JSON-LD object describing a post/article, or {}."""
    for script in X_JSONLD(root):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                kind = item.get("@type")
                kinds = kind if isinstance(kind, list) else [kind]
                if any(isinstance(k, str) and ("Posting" in k or "Article" in k) for k in kinds):
                    return item
                if isinstance(item.get("@graph"), list):
                    stack.extend(item["@graph"])
    return {}


# ---------------------------------------------------------------------------------------------
# Dates.


def _iso(value: str | None) -> str | None:
    """ISO 8601 form of a machine-readable date attribute; None when it is not one."""
    if not value:
        return None
    value = value.strip()
    m = _ISO_DATE_RE.match(value)
    if m:
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
        return d.isoformat() if _plausible_year(d.year) else None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    return dt.isoformat() if _plausible_year(dt.year) else None


def _plausible_year(year: int) -> bool:
    return MIN_POST_YEAR <= year <= date.today().year + MAX_FUTURE_YEARS


def _parse_date_text(value: str | None, lang: str | None) -> str | None:
    """A localised date as printed on the page ("mardi 5 juin 2018") to `YYYY-MM-DD`."""
    value = _clean(value)
    if not value or len(value) > MAX_DATE_TEXT_CHARS or not any(c.isdigit() for c in value):
        return None
    m = _CJK_DATE_RE.search(value)
    if m:
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
        return d.isoformat() if _plausible_year(d.year) else None
    iso = _iso(value)
    if iso:
        return iso
    parser = _date_parser(_date_languages(lang))
    try:
        found = parser.get_date_data(value)
    except Exception:  # dateparser raises assorted errors on odd text
        return None
    dt = found.date_obj if found else None
    if dt is None or not _plausible_year(dt.year):
        return None
    return dt.date().isoformat()


def _date_languages(lang: str | None) -> tuple[str, ...]:
    if not lang:
        return ("en",)
    code = lang.strip().replace("_", "-")
    base = code.split("-")[0].lower()
    base = _LEGACY_LANG.get(base, base)
    out = []
    for candidate in (base, "en"):
        if candidate and candidate not in out:
            out.append(candidate)
    return tuple(out)


#: dateparser settings for printed post dates: all of day, month and year must be present (a
#: bare "9:05 PM" or "May 2017" is not a publication date), and only absolute formats are
#: tried (no "2 days ago" relative to today, no digit strings read as Unix timestamps).
DATEPARSER_SETTINGS = {
    "REQUIRE_PARTS": ["day", "month", "year"],
    "PREFER_DAY_OF_MONTH": "first",
    "RETURN_AS_TIMEZONE_AWARE": False,
    "PARSERS": ["custom-formats", "absolute-time"],
}


@functools.lru_cache(maxsize=64)
def _date_parser(languages: tuple[str, ...]):
    """A dateparser parser per language set, built once (import and setup are slow)."""
    from dateparser.date import DateDataParser  # imported only when a printed date is parsed

    try:
        return DateDataParser(languages=list(languages), settings=DATEPARSER_SETTINGS)
    except ValueError:  # a language dateparser does not know
        return DateDataParser(languages=["en"], settings=DATEPARSER_SETTINGS)


# ---------------------------------------------------------------------------------------------
# Body cleaning.


def _is_boilerplate(el) -> bool:
    for attr in ("class", "id"):
        value = el.get(attr)
        if not value:
            continue
        for token in value.split():
            if token in BODY_BOILERPLATE_TOKENS or _BOILERPLATE_PREFIX_RE.match(token):
                return True
    return False


def _drop(el) -> None:
    """Remove an element but keep the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _clean_body(body, self_hosts: set[str]) -> None:
    """Strip share buttons, jump links, footers, widgets and code from a post body, in place."""
    doomed = []
    noscripts = []
    walker = etree.iterwalk(body, events=("start",))
    for _, el in walker:
        if el is body:
            continue
        tag = el.tag
        if not isinstance(tag, str):
            doomed.append(el)
            walker.skip_subtree()
        elif tag == "noscript":
            noscripts.append(el)
            walker.skip_subtree()
        elif tag in BODY_DROP_TAGS or _is_boilerplate(el):
            doomed.append(el)
            walker.skip_subtree()
    for el in doomed:
        _drop(el)
    if noscripts:
        # Text of the body without its <noscript> blocks (html_to_text skips them): when there is
        # none, the real content is the <noscript> copy (script-rendered templates).
        if not html_to_text(body):
            etree.strip_tags(body, "noscript")
        else:
            for el in noscripts:
                _drop(el)
    _trim_trailing_self_links(body, self_hosts)


def _trim_trailing_self_links(body, self_hosts: set[str]) -> None:
    """Drop trailing lines that are only links to the blog's own static/label pages."""
    for el in reversed(list(body)):
        if el.tail and el.tail.strip():
            return
        if not isinstance(el.tag, str):
            continue
        text = html_to_text(el)
        if not text:
            continue  # images, spacers: leave them, keep looking
        link_text = "".join(
            html_to_text(a) for a in el.iter("a") if _is_self_nav(a.get("href"), self_hosts)
        )
        if link_text and "".join(link_text.split()) == "".join(text.split()):
            _drop(el)
            continue
        return


def _is_self_nav(href: str | None, self_hosts: set[str]) -> bool:
    if not href:
        return False
    try:
        parts = urlsplit(href.strip())
    except ValueError:
        return False
    if parts.hostname and canonical_host(parts.hostname) not in self_hosts:
        return False
    return parts.path.startswith(SELF_NAV_PATH_PREFIXES)


# ---------------------------------------------------------------------------------------------
# Listing pages.


def _listed_posts(area, base: str | None, lang: str | None) -> tuple[list[dict], list]:
    """The posts an archive/index page lists ({url, title, post_id, published}) and their bodies."""
    containers = []
    for xp in X_POST_CONTAINERS:
        containers = xp(area)
        if containers:
            break
    posts: list[dict] = []
    bodies: list = []
    seen: set[str] = set()
    for post in containers:
        href = None
        for xp in X_POST_URL:
            found = [h for h in xp(post) if h and h.strip() and not h.strip().startswith("#")]
            if found:
                href = found[0].strip()
                break
        if not href:
            continue
        try:
            post_url = urljoin(base or "", href)
        except ValueError:
            continue
        if not post_url.startswith(("http://", "https://")) or post_url in seen:
            continue
        seen.add(post_url)
        titles = X_TITLE_IN_SCOPE(post)
        found_bodies = _find_bodies(post, None) or X_SNIPPET(post)
        body = found_bodies[0] if found_bodies else None
        posts.append(
            {
                "url": post_url,
                "title": _clean(_text(titles[0])) if titles else None,
                "post_id": _post_id_from(post, body if body is not None else post),
                "published": _find_published(post, body, _NO_HEAD, {}, lang),
            }
        )
        if body is not None:
            bodies.append(body)
    return posts, bodies


class _NoHead:
    """Stands in for `_HeadInfo` when dating a listed post: page-level meta tags describe the
    listing, not the post, so none are consulted."""

    meta_prop: dict[str, str] = {}


_NO_HEAD = _NoHead()


# ---------------------------------------------------------------------------------------------
# trafilatura fallbacks.


def _trafilatura_body(text: str, result: dict, base: str | None) -> bool:
    """Main text by trafilatura, for pages where no Blogger post body was found.

    Also fills missing title/date/author from the metadata it extracted on the way; returns
    whether it did (so that metadata is not extracted a second time).
    """
    try:
        import trafilatura

        doc = trafilatura.bare_extraction(
            text, url=result["url"], include_comments=False, with_metadata=True
        )
    except Exception as exc:  # trafilatura has many internal failure modes on odd pages
        log.warning("trafilatura failed on %s: %s", result["url"], exc)
        return False
    if doc is None:
        return False
    _merge_trafilatura_metadata(doc, result)
    body_html = _trafilatura_html(doc)
    body_text = html_to_text(body_html) if body_html else ""
    if not body_text:
        plain = (getattr(doc, "text", None) or "").strip()
        if not plain:
            return True
        body_html = "<div>" + "".join(
            f"<p>{html_lib.escape(line)}</p>" for line in plain.splitlines() if line.strip()
        ) + "</div>"
        body_text = html_to_text(body_html)
    result["html"] = body_html
    result["text"] = body_text
    result["links"] = links_from_html(body_html, base)
    result["extractor"] = "trafilatura"
    return True


def _trafilatura_html(doc) -> str | None:
    try:
        from trafilatura.htmlprocessing import convert_to_html

        tree = convert_to_html(doc.body)
        body = tree.find("body")
        if body is None:
            return None
        body.tag = "div"
        return etree.tostring(body, method="html", encoding="unicode", with_tail=False)
    except Exception:  # internal API; fall back to paragraphs of its plain text
        return None


def _trafilatura_metadata(text: str, result: dict) -> None:
    try:
        import trafilatura

        doc = trafilatura.extract_metadata(text, default_url=result["url"])
    except Exception as exc:
        log.warning("trafilatura metadata failed on %s: %s", result["url"], exc)
        return
    _merge_trafilatura_metadata(doc, result)


def _merge_trafilatura_metadata(doc, result: dict) -> None:
    if doc is None:
        return
    if not result["title"]:
        result["title"] = _clean(getattr(doc, "title", None))
    if not result["published"]:
        result["published"] = _iso(getattr(doc, "date", None))
    if not result["author"]:
        result["author"] = _clean_author(getattr(doc, "author", None))


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
