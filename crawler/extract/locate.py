"""Where the post is on a page: its body, the container around it, and its Blogger post id."""

from __future__ import annotations

from crawler.extract.markup import (
    _BODY_ID_RE,
    _POST_ID_QUERY_RE,
    X_ANCHOR_NAMES,
    X_BODY_CANDIDATES,
    X_POST_ID_META,
    X_POST_URL,
    _first_id,
    _is_id,
)


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
