"""Posts of search-engine and alert feeds that were first stored under the feed's link.

This module owns `adopt_resolved`: an entry whose redirector link could not be resolved in one poll
(the redirector timed out, the poll's share of time ran out) is stored under the feed link, flagged
(a `query` sighting whose URL is the post's own). When a later poll resolves the same link to the
publisher's URL, that post moves to the publisher's URL (its identity), instead of a second post
being stored for the same article; the feed link stays as its `query` sighting. A post is moved
only when it is exactly such an unresolved one, and only when no post holds the publisher's URL yet.
"""

from __future__ import annotations

from collections.abc import Iterable

from judge.identity import canonical_url


def adopt_resolved(db, pairs: Iterable[tuple[str, str]]) -> int:
    """For each (feed link, publisher URL), move the post stored under the feed link (unresolved) to
    the publisher's URL. Runs in the caller's transaction; returns the number of posts moved."""
    moved = 0
    conn = db.conn
    for feed_link, url in pairs:
        if not feed_link or not url or feed_link == url:
            continue
        try:
            old_key, new_key = canonical_url(feed_link), canonical_url(url)
        except ValueError:
            continue
        if old_key == new_key:
            continue
        cur = conn.execute(
            "UPDATE posts SET url = ?, canonical_url = ? WHERE canonical_url = ? AND url = ? "
            "AND EXISTS (SELECT 1 FROM sightings g WHERE g.post_id = posts.id AND g.via = 'query' AND g.url = ?) "
            "AND NOT EXISTS (SELECT 1 FROM posts other WHERE other.canonical_url = ?)",
            (url, new_key, old_key, feed_link, feed_link, new_key),
        )
        moved += cur.rowcount or 0
    return moved
