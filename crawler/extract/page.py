"""`extract_page`: one page to the post it carries (or the posts it lists), stage by stage.

The stages, each a function: read the page (crawler.extract.decode), its page-level facts
(crawler.extract.head), the blog id, where the post body is (crawler.extract.locate), then either the
listed posts of an archive or index page (crawler.extract.listing) or the post's metadata
(crawler.extract.metadata) and cleaned body (crawler.extract.body), and trafilatura for what is still
missing. The result is a dict of the keys `_empty_result` lists.
"""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from lxml import etree

from crawler.extract.body import _clean_body, _trafilatura_body, _trafilatura_metadata
from crawler.extract.decode import ExtractError, _decode, _parse
from crawler.extract.head import _data_context, _feed_urls, _HeadInfo, _is_blogger, _self_hosts
from crawler.extract.listing import _listed_posts
from crawler.extract.locate import _distinct_posts, _find_bodies, _post_id_from, _post_scope
from crawler.extract.markup import (
    _BLOG_ID_QUERY_RE,
    _BYLINE_PREFIX_RE,
    _COMMENT_FEED_POST_ID_RE,
    _FEED_URL_BLOG_ID_RE,
    _PRESENTATIONAL_TAG_RE,
    _X_PAGER,
    X_BLOG_WIDGET,
    X_BYLINE_IN_BODY,
    _clean,
    _first_id,
    _is_id,
    _text,
)
from crawler.extract.metadata import (
    _clean_author,
    _find_author,
    _find_labels,
    _find_published,
    _find_title,
    _find_updated,
    _jsonld_post,
    find_page_date,
)
from judge.htmltext import html_to_text, links_from_html
from judge.identity import blog_id_from_feed_url, canonical_url

#: Blogger `pageType` values mapped to the three kinds the crawler distinguishes. Static pages are
#: single items like posts; error pages have nothing to extract.
PAGE_TYPES = {"item": "item", "static_page": "item", "archive": "archive", "index": "index"}


def extract_page(html: str | bytes, url: str | None = None) -> dict:
    """Extract one Blogger-rendered page; see the package docstring and `_empty_result` keys.

    Raises ExtractError for empty, binary, oversized or non-HTML input. The stages, in order: read
    the page (`_read`), the page-level facts (`_page_facts`), the blog id (`_blog_id`), where the post
    body is (`_locate`), then either the posts a listing page lists (`_listing`) or the post's
    metadata (`_post_metadata`) and body (`_post_body`), and trafilatura for what is still missing
    (`_fallbacks`).
    """
    text, root = _read(html)
    result = _empty_result()
    page = _page_facts(text, root, url, result)
    result["blog_id"] = _blog_id(page)
    area, bodies = _locate(page)
    result["page_type"] = page.page_type
    if page.page_type in ("archive", "index"):
        _listing(page, area, result)
        return result
    _post_metadata(page, area, bodies, result)
    if page.is_dynamic:
        return result
    _fallbacks(page, result)
    return result


@dataclass
class _Page:
    """What the stages of `extract_page` learn about the page and hand on to the next."""

    text: str  # the decoded page
    root: Any  # its parsed tree
    dc: dict[str, str]  # the Blogger data context (`_data_context`)
    head: _HeadInfo
    is_dynamic: bool  # a Dynamic Views page: no post body in the HTML
    page_type: str | None  # item | archive | index | None (not known)
    base: str | None  # the URL relative links are resolved against
    lang: str | None  # the language the page declares
    blog_name: str | None


def _read(html: str | bytes):
    """The decoded text of the page and its tree."""
    text = _decode(html)
    root, too_deep = _parse(text)
    if too_deep:
        # libxml2 stops at its nesting limit and drops the rest of the page; such pages are tag
        # soup of unclosed presentational tags, which carry no structure we use.
        root, _ = _parse(_PRESENTATIONAL_TAG_RE.sub("", text))
    if root is None or not isinstance(root.tag, str):
        raise ExtractError("not an HTML page: no elements found")
    return text, root


def _page_facts(text: str, root, url: str | None, result: dict) -> _Page:
    """Page-level facts: type, URLs, feeds, pager, language (set in `result` too)."""
    dc = _data_context(text)
    head = _HeadInfo(root)
    result["is_blogger"] = _is_blogger(text, head)
    is_dynamic = head.meta_name.get("blogger-template", "").lower() == "dynamic"
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
    return _Page(text, root, dc, head, is_dynamic, page_type, base, lang, blog_name)


def _blog_id(page: _Page) -> str | None:
    """The blog id: the data context, the head's service link or meta, then any feed URL or query."""
    dc, head, root = page.dc, page.head, page.root
    blog_id = dc.get("blogId")
    if not _is_id(blog_id):
        blog_id = blog_id_from_feed_url(head.service_post) or _first_id(
            root.xpath("//meta[@itemprop='blogId']/@content")
        )
    if not _is_id(blog_id):
        m = _FEED_URL_BLOG_ID_RE.search(dc.get("feedLinks", "")) or _BLOG_ID_QUERY_RE.search(page.text)
        blog_id = m.group(1) if m else None
    return blog_id if _is_id(blog_id) else None


def _locate(page: _Page) -> tuple:
    """The Blog widget (else the whole page) and the post bodies in it; a page of unknown type that
    shows several posts' bodies becomes an index (`page.page_type` is updated)."""
    root = page.root
    widgets = X_BLOG_WIDGET(root)
    area = widgets[0] if widgets else root
    if page.page_type in ("archive", "index") or page.is_dynamic:
        return area, []
    dc_post_id = page.dc.get("postId") if _is_id(page.dc.get("postId")) else None
    bodies = _find_bodies(area, dc_post_id) or (_find_bodies(root, dc_post_id) if area is not root else [])
    if page.page_type is None and len(bodies) > 1 and _distinct_posts(area) > 1:
        page.page_type, bodies = "index", []
    return area, bodies


def _listing(page: _Page, area, result: dict) -> None:
    """A listing has no single title, date, author or post id: it yields the posts to follow
    and, as its body, the listed posts' bodies one after another."""
    result["posts"], listed_bodies = _listed_posts(area, page.base, page.lang)
    if not listed_bodies:
        return
    hosts = _self_hosts(result, page.dc)
    wrapper = etree.Element("div", {"class": "listed-posts"})
    for listed in listed_bodies:
        _clean_body(listed, hosts)
        listed.tail = None
        wrapper.append(listed)
    body_text = html_to_text(wrapper)
    if body_text:
        result["html"] = etree.tostring(wrapper, method="html", encoding="unicode")
        result["text"] = body_text
        result["links"] = links_from_html(wrapper, page.base)
        result["extractor"] = "blogger"


def _post_metadata(page: _Page, area, bodies: list, result: dict) -> None:
    """Post id, title, dates, author and labels from the post container, then the page head; then
    the cleaned body (`_post_body`)."""
    head, dc, root = page.head, page.dc, page.root
    dc_post_id = dc.get("postId") if _is_id(dc.get("postId")) else None
    body = bodies[0] if bodies else None
    if body is not None:
        scope = _post_scope(body, area)
    else:  # no post body: only the Blog widget (if any) is trusted to describe the post
        scope = area if area is not root else None
    result["post_id"] = dc_post_id or (_post_id_from(scope, body) if body is not None else None)
    if result["post_id"] is None and page.page_type == "item":
        m = _COMMENT_FEED_POST_ID_RE.search(" ".join(head.alternate_feeds))
        result["post_id"] = m.group(1) if m else None

    jsonld = _jsonld_post(root)
    result["title"] = _find_title(scope, body, head, dc, jsonld, page.blog_name, page.page_type)
    result["published"] = _find_published(scope, body, head, jsonld, page.lang)
    result["updated"] = _find_updated(scope, body, head, jsonld)
    result["author"] = _find_author(scope, body, head, jsonld)
    result["labels"] = _find_labels(scope, body)
    if body is not None:
        _post_body(page, body, result)


def _post_body(page: _Page, body, result: dict) -> None:
    """The cleaned post body (HTML and text), its links, and a byline inside it if no author yet."""
    _clean_body(body, _self_hosts(result, page.dc))
    body_text = html_to_text(body)
    if body_text or body.xpath(".//img | .//iframe | .//video"):
        result["html"] = etree.tostring(body, method="html", encoding="unicode", with_tail=False)
        result["text"] = body_text
        result["links"] = links_from_html(body, page.base)
        result["extractor"] = "blogger"
        if not result["author"]:
            byline = X_BYLINE_IN_BODY(body)
            if byline:
                result["author"] = _clean_author(_BYLINE_PREFIX_RE.sub("", _text(byline[0])))


def _fallbacks(page: _Page, result: dict) -> None:
    """trafilatura for the body when no Blogger body was found, its metadata for whatever is still
    missing."""
    have_metadata = False
    if result["extractor"] is None:
        have_metadata = _trafilatura_body(page.text, result, page.base)
    if not have_metadata and not (result["title"] and result["published"] and result["author"]):
        _trafilatura_metadata(page.text, result)
    if not result["published"]:
        result["published"] = find_page_date(page.root, page.head, result["url"])


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
