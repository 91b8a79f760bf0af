"""The canned queries of the read-only web view (`rjwatch serve`, rjwatch.browse): their titles,
descriptions and SQL, shown in Datasette next to each table.
"""

from __future__ import annotations

from judge.precision import RELEVANCE_DECIMALS_TERMINAL
from storage.queries import POST_ORDERS

#: Newest publication first, as `rjwatch posts` lists them.
_NEWEST = POST_ORDERS["published"]

CANNED_QUERIES = {
    "latest_new_coverage": {
        "title": "Latest new coverage",
        "description": "Relevant posts that are neither copies of a seed nor duplicates, newest published "
        "first. url is where each was fetched from (the link that opens), canonical_url its identity.",
        "sql": f"SELECT p.id, p.published, p.first_seen, p.lang, round(p.relevance, {RELEVANCE_DECIMALS_TERMINAL}) "
        "AS relevance, p.title, p.url, coalesce(s.name, s.url) AS source, p.canonical_url "
        "FROM posts p LEFT JOIN sources s ON s.id = p.source_id "
        f"WHERE p.status = 'new' ORDER BY {_NEWEST} LIMIT 200",
    },
    "copies_of_the_seed": {
        "title": "Copies of the seed",
        "description": "Every copy and excerpt of a seed, in the order they were first seen.",
        "sql": "SELECT p.id, p.first_seen, p.published, p.status, json_extract(p.evidence, '$.seed') AS seed, "
        "round(json_extract(p.seed_similarity, '$.\"' || json_extract(p.evidence, '$.seed') || "
        "'\".containment'), 3) AS containment, coalesce(s.name, s.url) AS source, p.title, p.url "
        "FROM posts p LEFT JOIN sources s ON s.id = p.source_id "
        "WHERE p.status IN ('copy', 'excerpt') ORDER BY p.first_seen, p.id",
    },
    "failing_sources": {
        "title": "Failing sources",
        "description": "Sources whose last polls or crawls failed, worst first.",
        "sql": "SELECT s.id, s.kind, s.state, coalesce(s.name, s.url) AS source, h.consecutive_failures, "
        "h.last_error, h.last_success, h.next_due FROM source_health h JOIN sources s ON s.id = h.source_id "
        "WHERE h.consecutive_failures > 0 OR s.state = 'disabled' ORDER BY h.consecutive_failures DESC",
    },
    "alerts_sent_today": {
        "title": "Alerts sent today",
        "description": "Alerts delivered since midnight UTC.",
        "sql": "SELECT a.id, a.sent_at, a.kind, a.key, json_extract(a.payload, '$.title') AS title, "
        "json_extract(a.payload, '$.url') AS url FROM alerts a "
        "WHERE a.status = 'sent' AND a.sent_at >= date('now') ORDER BY a.sent_at DESC",
    },
}
