"""The one mapping from an extracted page to the post it carries (`post_from_page`).

A crawl (crawler.spiders.blogger) and a page given to `rjwatch ingest` or `rjwatch classify`
(rjwatch.inputs) both turn the dict of `extract_page` into a `storage.items.PostIn` here, so a page
gives the same post whichever way it came in.
"""

from __future__ import annotations

from storage.items import PostIn

#: Keys of an extracted page that a post carries as they are. `text` is set apart: see `post_from_page`.
PAGE_POST_KEYS = (
    "title",
    "author",
    "published",
    "updated",
    "html",
    "lang_hint",
    "blog_id",
    "post_id",
    "labels",
    "links",
)


def post_from_page(page: dict, url: str, *, seen_via: str, seen_url: str | None) -> PostIn | None:
    """The post an extracted page carries, found at `url`; None when the page has no post body.

    A body of only pictures or embeds (no text) is a post: storage judges it on its title and what
    its pictures say of themselves, and flags it media only. `text` is the page's only when it has no
    HTML body (as `PostIn` says): storage reads the text, links and pictures from the HTML, so a
    second copy of the text could only disagree with it."""
    if not page.get("html") and not page.get("text"):
        return None
    post: PostIn = {k: page.get(k) for k in PAGE_POST_KEYS}
    post["text"] = None if page.get("html") else page.get("text")
    post.update(url=url, seen_via=seen_via, seen_url=seen_url)
    if page.get("extraction"):  # a site's extraction rule gave (some of) it: crawler.extract.rules
        post["extraction"] = page["extraction"]
    return post
