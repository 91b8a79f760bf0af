"""The curated demo network: the demo's blogs and news site filled with the texts of `content`.

`site` models blogs and news sites; `content` holds what the demo says, written as `site`'s `Post`
and `NewsItem`. This module puts the two together, so `site` never imports `content`: the imports
point one way (network -> content -> site).
"""

from __future__ import annotations

from datetime import datetime, timezone

from rjwatch.demo import content
from rjwatch.demo.site import Blog, Network, NewsFeed, Post

__all__ = ["demo_network", "demo_late_posts"]


def demo_network() -> Network:
    """The curated demo network: five blogs (en Simple, es Soho, ru Awesome Inc., ja Travel,
    de Dynamic Views) and one news site; texts and dates in `rjwatch.demo.content`."""
    blogs = {}
    for spec in content.BLOGS:
        posts = content.posts_for(spec["key"])
        blogs[spec["key"]] = Blog(posts=posts, **spec)
    news = {content.NEWS["key"]: NewsFeed(items=content.news_items(), **content.NEWS)}
    return Network(blogs=blogs, news=news)


def demo_late_posts(now: datetime | None = None) -> list[tuple[str, Post]]:
    """Two posts to publish while a demo runs, as (blog key, post): a fresh copy of the seed
    article and a new relevant article. Both are dated `now` (default: the current time)."""
    when = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    return content.late_posts(when)
