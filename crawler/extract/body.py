"""A post's body: cleaning it of what is not the post, and trafilatura when no Blogger body is found.

This module owns removing share buttons, jump links, footers, widgets, code and trailing links to the
blog's own pages from a body, and the trafilatura fallbacks (the main text of a page that is not
Blogger's, and title, date and author when the markup gave none).
"""

from __future__ import annotations

import html as html_lib
import logging
from datetime import date
from urllib.parse import urlsplit

from lxml import etree

from crawler.extract.markup import _BOILERPLATE_PREFIX_RE, BODY_BOILERPLATE_TOKENS, BODY_DROP_TAGS, _clean
from crawler.extract.metadata import _clean_author
from judge.htmltext import html_to_text, links_from_html
from judge.identity import canonical_host

log = logging.getLogger(__name__)

#: Paths on the blog's own host that are navigation, not content: static pages (`/p/...`) and
#: label/search listings. A post body that *ends* in lines that are nothing but links to these
#: (a "how I rate books" or "thanks" link pasted under every post) is trimmed of them.
SELF_NAV_PATH_PREFIXES = ("/p/", "/search")


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
        link_text = "".join(html_to_text(a) for a in el.iter("a") if _is_self_nav(a.get("href"), self_hosts))
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
# trafilatura fallbacks.


def trafilatura_date_params() -> dict:
    """htmldate's settings for a page's date: from its metadata, markup and URL only. Its extensive
    search (any number in the text that reads as a date, "2014-01-01" in a paragraph about a memo)
    is off, which also spares its time; the date it finds is not used (metadata.find_page_date)."""
    return {
        "extensive_search": False,
        "original_date": True,  # the publication date, not the last modification
        "max_date": date.today().isoformat(),
    }


def _trafilatura_body(text: str, result: dict, base: str | None) -> bool:
    """Main text by trafilatura, for pages where no Blogger post body was found.

    Also fills missing title/date/author from the metadata it extracted on the way; returns
    whether it did (so that metadata is not extracted a second time).
    """
    try:
        import trafilatura

        doc = trafilatura.bare_extraction(
            text,
            url=result["url"],
            include_comments=False,
            with_metadata=True,
            date_extraction_params=trafilatura_date_params(),
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
        body_html = (
            "<div>"
            + "".join(f"<p>{html_lib.escape(line)}</p>" for line in plain.splitlines() if line.strip())
            + "</div>"
        )
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

        doc = trafilatura.extract_metadata(text, default_url=result["url"], date_config=trafilatura_date_params())
    except Exception as exc:
        log.warning("trafilatura metadata failed on %s: %s", result["url"], exc)
        return
    _merge_trafilatura_metadata(doc, result)


def _merge_trafilatura_metadata(doc, result: dict) -> None:
    if doc is None:
        return
    if not result["title"]:
        result["title"] = _clean(getattr(doc, "title", None))
    # Not its date: htmldate, even without its extensive search, reads any date-like number in the
    # text as one (metadata.find_page_date takes the dates a page states).
    if not result["author"]:
        result["author"] = _clean_author(getattr(doc, "author", None))
