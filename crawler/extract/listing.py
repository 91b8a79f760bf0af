"""Archive and index pages: the posts such a listing shows (to be followed) and their bodies."""

from __future__ import annotations

from urllib.parse import urljoin

from crawler.extract.locate import _find_bodies, _post_id_from
from crawler.extract.markup import X_POST_CONTAINERS, X_POST_URL, X_SNIPPET, X_TITLE_IN_SCOPE, _clean, _text
from crawler.extract.metadata import _find_published


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
