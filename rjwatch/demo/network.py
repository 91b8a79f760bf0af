"""The curated demo network: the demo's blogs and news site built from the texts in `content.py`.

The model (`Blog`, `NewsFeed`, `Network`, `Post`) is `site.py`'s and the texts are `content.py`'s;
this module puts them together, so that neither of the two imports the other back.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rjwatch.demo import content
from rjwatch.demo.site import Blog, Network, NewsFeed, Post


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
    when = (now or datetime.now(UTC)).replace(microsecond=0)
    return content.late_posts(when)
