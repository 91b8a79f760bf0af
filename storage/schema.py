"""The database schema, as named, append-only migrations (sqlite-utils `Migrations`).

Never edit a migration that has shipped: add a new one below it. `migrate(db)` applies whatever is
pending inside one `BEGIN IMMEDIATE` transaction, so two processes starting at once cannot both
upgrade, and a failed upgrade leaves the file as it was.

The tables stay plain and Datasette-friendly: integer primary keys, declared foreign keys, ISO 8601
text dates, JSON stored as text, and `posts_fts` as an external-content FTS5 table kept in step by
triggers (Datasette detects it and offers search on `posts`).

Why one module of this size: the migrations are one ordered history, read top to bottom; splitting
them would hide the order they run in.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

from storage.db import write_tx

migrations = Migrations("rjwatch")

SCHEMA_V1 = """
-- Where posts come from: Blogger blogs (crawled), feeds (polled), candidates found by discovery.
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,          -- canonical URL of the blog home page or of the feed
    kind TEXT NOT NULL CHECK (kind IN ('blogger', 'feed', 'manual')),
    name TEXT,
    state TEXT NOT NULL DEFAULT 'enabled' CHECK (state IN ('enabled', 'disabled', 'candidate')),
    added_at TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}' -- JSON: per-source overrides (interval, full_text, ...)
);

-- Reference articles that copies and excerpts are measured against.
CREATE TABLE seeds (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    url TEXT,
    published TEXT,
    lang TEXT,
    text TEXT NOT NULL,                -- the article body, chrome removed
    content_hash TEXT NOT NULL UNIQUE,
    origin TEXT,                       -- the file or URL it was loaded from
    added_at TEXT NOT NULL
);

-- The topic profile in force (TOML text), so a database explains its own relevance scores.
CREATE TABLE topics (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    profile TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Crawl and poll runs.
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                -- crawl | poll | ingest
    source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    finish_reason TEXT,
    pages INTEGER NOT NULL DEFAULT 0,
    items INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    stats TEXT NOT NULL DEFAULT '{}'   -- JSON: new posts by status, drops by reason, ...
);

-- One row per post, whatever the number of places it was seen.
CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    canonical_url TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,                 -- the URL as first found
    blog_id TEXT,                      -- Blogger ids as text (up to 19 digits)
    post_id TEXT,
    source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL,
    title TEXT,
    author TEXT,
    published TEXT,                    -- ISO 8601
    updated TEXT,
    lang TEXT,
    text TEXT NOT NULL,                -- main text, chrome removed, for reading and search
    summary_only INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT NOT NULL,        -- of the normalised text
    status TEXT NOT NULL CHECK (status IN ('copy', 'excerpt', 'new', 'duplicate', 'off_topic')),
    relevance REAL NOT NULL,
    matched_terms TEXT NOT NULL DEFAULT '{}',   -- JSON {concept: {term: count}}
    seed_similarity TEXT NOT NULL DEFAULT '{}', -- JSON {seed_id: {containment, jaccard, shared}}
    duplicate_of INTEGER REFERENCES posts(id) ON DELETE SET NULL,
    evidence TEXT NOT NULL DEFAULT '{}',        -- JSON: why this status (see judge.classify)
    labels TEXT NOT NULL DEFAULT '[]',
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX posts_blogger_ids ON posts(blog_id, post_id) WHERE post_id IS NOT NULL;
CREATE INDEX posts_content_hash ON posts(content_hash);
CREATE INDEX posts_status ON posts(status, id);
CREATE INDEX posts_duplicate_of ON posts(duplicate_of) WHERE duplicate_of IS NOT NULL;
CREATE INDEX posts_source ON posts(source_id);
CREATE INDEX posts_published ON posts(published);

-- Every place a post was seen: its page, its ?m=1 twin, a feed, an aggregator, a saved file.
CREATE TABLE sightings (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    via TEXT NOT NULL,                 -- page | feed | export | file | cli
    source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL,
    run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    times INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX sightings_unique ON sightings(post_id, url, via);

-- Earlier versions of edited posts.
CREATE TABLE revisions (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    title TEXT,
    text TEXT NOT NULL,
    updated TEXT,
    status TEXT,
    replaced_at TEXT NOT NULL
);
CREATE INDEX revisions_post ON revisions(post_id, revision);

-- Outbound links of each post (who links to a seed or to a source; discovery follows them).
CREATE TABLE links (
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    host TEXT NOT NULL,
    PRIMARY KEY (post_id, url)
);
CREATE INDEX links_url ON links(url);
CREATE INDEX links_host ON links(host);

-- Alert outbox, written in the same transaction as the post that causes it.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,          -- stable idempotency key
    kind TEXT NOT NULL,                -- new | copy | excerpt | source_failing | anomaly | backfill
    post_id INTEGER REFERENCES posts(id) ON DELETE SET NULL,
    source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'suppressed')),
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    sent_at TEXT,
    last_error TEXT,
    payload TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX alerts_status ON alerts(status, next_attempt_at);

-- Near-duplicate index: one MinHash signature per post, and its LSH band keys.
CREATE TABLE minhash (
    post_id INTEGER PRIMARY KEY REFERENCES posts(id) ON DELETE CASCADE,
    signature BLOB NOT NULL
);
CREATE TABLE lsh (
    key INTEGER NOT NULL,
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    PRIMARY KEY (key, post_id)
) WITHOUT ROWID;

-- Full-text search over title and text. unicode61 with remove_diacritics folds case and accents
-- for the spaced scripts (Latin, Cyrillic); Japanese and Chinese runs are indexed as whole tokens,
-- which the query layer complements with prefix queries.
CREATE VIRTUAL TABLE posts_fts USING fts5(
    title, text, content="posts", content_rowid="id",
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER posts_ai AFTER INSERT ON posts BEGIN
    INSERT INTO posts_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER posts_ad AFTER DELETE ON posts BEGIN
    INSERT INTO posts_fts(posts_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
END;
CREATE TRIGGER posts_au AFTER UPDATE OF title, text ON posts BEGIN
    INSERT INTO posts_fts(posts_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO posts_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;

-- Small key/value state (schema facts, daemon heartbeat, ...).
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
"""


@migrations(name="001_initial")
def m001_initial(db: sqlite_utils.Database) -> None:
    for statement in _split(SCHEMA_V1):
        db.execute(statement)


SCHEMA_V2 = """
-- Per-source crawl progress: what an incremental re-crawl asks for, and whether the first full
-- walk (the backfill) ever completed. A run killed mid-backfill leaves backfill_complete = 0, so
-- the next run walks the whole blog again (skipping pages of posts already stored).
CREATE TABLE crawl_state (
    source_id INTEGER PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
    blog_id TEXT,
    feed_url TEXT,
    backfill_complete INTEGER NOT NULL DEFAULT 0,
    newest_updated TEXT,               -- newest `updated` seen in the blog's feed
    last_full_at TEXT,
    last_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    feed_ok INTEGER                    -- 1: the feed answered with entries; 0: no usable feed
);

-- Evidence for candidate sources found by discovery: which relevant posts link there.
CREATE TABLE candidate_evidence (
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    url TEXT NOT NULL,                 -- the linked URL
    found_at TEXT NOT NULL,
    PRIMARY KEY (source_id, post_id, url)
);

CREATE INDEX runs_source ON runs(source_id, id);

-- sources.url is the URL we fetch (its scheme kept: a blog may only answer on http); `canonical`
-- is what makes two spellings of one source the same source.
ALTER TABLE sources ADD COLUMN canonical TEXT;
UPDATE sources SET canonical = url;
CREATE UNIQUE INDEX sources_canonical ON sources(canonical);
"""


@migrations(name="002_crawl_state")
def m002_crawl_state(db: sqlite_utils.Database) -> None:
    for statement in _split(SCHEMA_V2):
        db.execute(statement)


SCHEMA_V3 = """
-- Per-source health and conditional-GET state for polled feeds (and the failure streak of any
-- source). Validators are saved only after the entries they cover are committed.
CREATE TABLE source_health (
    source_id INTEGER PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
    etag TEXT,
    last_modified TEXT,
    last_poll TEXT,
    last_success TEXT,
    last_status INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_due TEXT,                     -- the earliest time the next poll may happen
    interval_s REAL,                   -- the current (adaptive) polling interval
    new_item_rate REAL NOT NULL DEFAULT 0,  -- smoothed new posts per poll
    polls INTEGER NOT NULL DEFAULT 0,
    moved_from TEXT,                   -- the URL before the last permanent redirect
    disabled_reason TEXT
);
"""


@migrations(name="003_source_health")
def m003_source_health(db: sqlite_utils.Database) -> None:
    for statement in _split(SCHEMA_V3):
        db.execute(statement)


SCHEMA_V4 = """
-- One row per (alert, channel): the delivery attempts of the outbox. `via` says whether it went out
-- on its own (immediate) or inside a digest.
CREATE TABLE deliveries (
    alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'deferred')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TEXT,
    updated_at TEXT NOT NULL,
    via TEXT,
    PRIMARY KEY (alert_id, channel)
);
CREATE INDEX deliveries_channel ON deliveries(channel, status, updated_at);

-- Saved searches: a name for an FTS query and its filters (`rjwatch saved`, alert rules).
CREATE TABLE saved_searches (
    name TEXT PRIMARY KEY,
    query TEXT NOT NULL,
    filters TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
"""


@migrations(name="004_deliveries")
def m004_deliveries(db: sqlite_utils.Database) -> None:
    for statement in _split(SCHEMA_V4):
        db.execute(statement)


#: Characters that put a post into the trigram index: kana, CJK ideographs (with extension A and the
#: compatibility block) and Hangul (the same set as `judge.text.has_cjk`, which ingest uses).
CJK_GLOB = "*[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]*"

SCHEMA_V5 = f"""
-- A second full-text index, with the trigram tokenizer, for posts that contain Chinese, Japanese or
-- Korean characters. unicode61 (posts_fts) splits words at spaces and punctuation, which these
-- scripts do not use: a Japanese sentence becomes one long token, so 北方領土 could only be found at
-- the start of a run. Trigrams index every three-character substring, so any CJK term of three or
-- more characters is found wherever it stands. Only posts flagged `cjk` go in (ingest sets the flag;
-- testing the text in a trigger costs ~0.5 ms a post), which keeps the larger trigram index to the
-- posts that need it.
-- cjk = 1: the title or text has CJK characters.
ALTER TABLE posts ADD COLUMN cjk INTEGER NOT NULL DEFAULT 0;
UPDATE posts SET cjk = 1 WHERE coalesce(title, '') || text GLOB '{CJK_GLOB}';
CREATE VIRTUAL TABLE posts_cjk USING fts5(
    title, text, content="posts", content_rowid="id",
    tokenize = 'trigram'
);
-- Each column is indexed with two newlines appended, so every character of the text starts a
-- trigram. A CJK term of one or two characters is then found through the index too: its matches
-- are the trigrams that start with it, read from posts_cjk_vocab (see storage.search). Snippets
-- read the text from posts, where the mark is absent; it comes after the last real position.
CREATE TRIGGER posts_cjk_ai AFTER INSERT ON posts WHEN new.cjk BEGIN
    INSERT INTO posts_cjk(rowid, title, text) VALUES (new.id, new.title || char(10, 10), new.text || char(10, 10));
END;
CREATE TRIGGER posts_cjk_ad AFTER DELETE ON posts WHEN old.cjk BEGIN
    INSERT INTO posts_cjk(posts_cjk, rowid, title, text)
        VALUES ('delete', old.id, old.title || char(10, 10), old.text || char(10, 10));
END;
CREATE TRIGGER posts_cjk_au AFTER UPDATE OF title, text, cjk ON posts BEGIN
    INSERT INTO posts_cjk(posts_cjk, rowid, title, text)
        SELECT 'delete', old.id, old.title || char(10, 10), old.text || char(10, 10) WHERE old.cjk;
    INSERT INTO posts_cjk(rowid, title, text)
        SELECT new.id, new.title || char(10, 10), new.text || char(10, 10) WHERE new.cjk;
END;
INSERT INTO posts_cjk(rowid, title, text) SELECT id, title || char(10, 10), text || char(10, 10) FROM posts WHERE cjk;
-- The trigram index's own term list, one row per distinct trigram (ordered: prefix ranges are cheap).
CREATE VIRTUAL TABLE posts_cjk_vocab USING fts5vocab(posts_cjk, 'row');

-- Newest-first listings by collection time.
CREATE INDEX posts_first_seen ON posts(first_seen);
"""


@migrations(name="005_cjk_search")
def m005_cjk_search(db: sqlite_utils.Database) -> None:
    for statement in _split(SCHEMA_V5):
        db.execute(statement)


SCHEMA_V6 = """
-- New LSH band keys land here first and move to `lsh` in sorted bulk: a key is a random number, so
-- inserting each post's 16 keys straight into a big `lsh` dirties 16 scattered pages per post, which
-- the WAL then writes and checkpoints; merged in key order, each page of `lsh` is written once.
CREATE TABLE lsh_recent (
    key INTEGER NOT NULL,
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX lsh_recent_key ON lsh_recent(key, post_id);
"""


@migrations(name="006_lsh_recent")
def m006_lsh_recent(db: sqlite_utils.Database) -> None:
    for statement in _split(SCHEMA_V6):
        db.execute(statement)


SCHEMA_V7 = """
-- Each alert channel's place in the outbox. A channel judges every alert after `scanned_to` against
-- its rule once: a match gets a `deliveries` row (pending), the others are passed over, and the place
-- moves on, so alerts a channel does not want can never hold back the ones it does. A channel seen for
-- the first time starts where the other channels are (it is not sent the history); `destination` (a
-- hash of its masked URL, never the URL) lets a renamed channel keep its place and its deliveries.
-- `active` = 1 for the channels of the config in force; only those decide an alert's status.
CREATE TABLE alert_channels (
    name TEXT PRIMARY KEY,
    destination TEXT NOT NULL DEFAULT '',
    scanned_to INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    added_at TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
-- The channels that have delivered before carry on from the newest alert they handled.
INSERT INTO alert_channels (name, scanned_to, added_at, seen_at)
    SELECT channel, max(alert_id), min(updated_at), max(updated_at) FROM deliveries GROUP BY channel;
"""


@migrations(name="007_alert_channels")
def m007_alert_channels(db: sqlite_utils.Database) -> None:
    for statement in _split(SCHEMA_V7):
        db.execute(statement)


SCHEMA_V9_DAEMON = """
-- The process that owns a run (its pid and start time, see storage/pidlock.py), so that a run whose
-- process is gone (kill -9, power loss) is marked `died` instead of showing as running forever.
-- NULL for runs owned by no single process (a cluster round) and for runs older than this column.
ALTER TABLE runs ADD COLUMN pid INTEGER;
ALTER TABLE runs ADD COLUMN pid_started TEXT;
"""


@migrations(name="009_daemon_run_pid")
def m009_daemon_run_pid(db: sqlite_utils.Database) -> None:
    for statement in _split(SCHEMA_V9_DAEMON):
        db.execute(statement)


@migrations(name="013_media_only")
def m013_media_only(db: sqlite_utils.Database) -> None:
    """Posts made only of pictures or embeds are stored (judged on their title and alt texts) and
    flagged, instead of being dropped for having no text."""
    db.execute("ALTER TABLE posts ADD COLUMN media_only INTEGER NOT NULL DEFAULT 0")


@migrations(name="014_rejudge")
def m014_rejudge(db: sqlite_utils.Database) -> None:
    """Each verdict records the rules it was made under (judge.rejudge.rules_hash: the topic profile,
    the seeds and the thresholds), so posts judged under other rules can be found and re-judged
    (`rjwatch rejudge`). NULL: judged before this column existed, under rules nobody recorded."""
    db.execute("ALTER TABLE posts ADD COLUMN judged_with TEXT")


SCHEMA_V15_MARKS = """
-- Analyst corrections (`rjwatch mark`), kept as a history: the latest row of a post is its current
-- mark; a row with status 'cleared' withdraws the one before. `machine_status` is what rjwatch said
-- when the mark was made and `machine_duplicate_of` its duplicate link (restored when a mark is
-- cleared); `url` the post's canonical URL, so marks can move between installations.
CREATE TABLE marks (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts(id),
    status TEXT NOT NULL,
    duplicate_of INTEGER REFERENCES posts(id),
    note TEXT,
    by TEXT NOT NULL,
    at TEXT NOT NULL,
    machine_status TEXT,
    machine_duplicate_of INTEGER,
    url TEXT
);
CREATE INDEX marks_post ON marks(post_id);
-- posts.status is the verdict in force: the analyst's when there is one, else rjwatch's.
-- posts.machine_status is always rjwatch's own verdict; posts.analyst_status the analyst's (or NULL).
ALTER TABLE posts ADD COLUMN machine_status TEXT;
ALTER TABLE posts ADD COLUMN analyst_status TEXT;
UPDATE posts SET machine_status = status;
-- Models learned from the marks (judge.learned); the latest row is in use, none: the profile alone.
CREATE TABLE learned_models (
    id INTEGER PRIMARY KEY,
    trained_at TEXT NOT NULL,
    marks INTEGER NOT NULL,
    digest TEXT NOT NULL,
    model TEXT
);
"""


@migrations(name="015_marks")
def m015_marks(db: sqlite_utils.Database) -> None:
    """Analyst corrections and what they teach (storage.marks, judge.learned)."""
    for statement in _split(SCHEMA_V15_MARKS):
        db.execute(statement)


SCHEMA_SERVE_POSTS_LIST = """
-- The posts as an analyst reads them, for browsing (`rjwatch serve`, any SQLite tool): what the post
-- is, what rjwatch made of it, when, in which language, from where, and the URL it was fetched from
-- (canonical_url, its identity, can differ in scheme and host); no text or JSON evidence, so a row
-- stays one line. `analyst` is an analyst's mark when there is one (then `status` is it). The id goes last, for `rjwatch show ID` and for joining with the tables.
CREATE VIEW posts_list AS
SELECT p.title, p.status, p.analyst_status AS analyst, round(p.relevance, 2) AS relevance, p.published, p.lang AS language,
       coalesce(s.name, s.url) AS source, p.url, p.id
FROM posts p LEFT JOIN sources s ON s.id = p.source_id;
"""


@migrations(name="016_serve_posts_list")
def m016_serve_posts_list(db: sqlite_utils.Database) -> None:
    for statement in _split(SCHEMA_SERVE_POSTS_LIST):
        db.execute(statement)


@migrations(name="017_sources_removed_posts")
def m017_sources_removed_posts(db: sqlite_utils.Database) -> None:
    """The posts of a removed source, by the source's canonical URL: adding that URL again links them
    back (storage.sources.remove_source / add_source)."""
    db.execute(
        "CREATE TABLE removed_source_posts (canonical TEXT NOT NULL, "
        "post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE, removed_at TEXT NOT NULL, "
        "PRIMARY KEY (canonical, post_id))"
    )


SCHEMA_EVIDENCE = """
-- WARC evidence (storage.evidence): the raw response a post's text came from, one row per record a
-- post names (one record may be named by several posts: the feed response of feed-only posts).
CREATE TABLE evidence (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    url TEXT NOT NULL,                 -- WARC-Target-URI: where the response came from
    fetched_at TEXT NOT NULL,          -- WARC-Date (UTC)
    http_status INTEGER,
    warc_file TEXT NOT NULL,           -- relative to the database's folder when inside it
    offset INTEGER NOT NULL,           -- of the record's gzip member in the file
    length INTEGER NOT NULL,           -- bytes of that member
    record_id TEXT NOT NULL,           -- WARC-Record-ID, <urn:uuid:...>
    sha256 TEXT NOT NULL,              -- hex SHA-256 of the payload (the body as kept)
    payload_digest TEXT,               -- WARC-Payload-Digest (warcio's, sha1:BASE32)
    block_digest TEXT,                 -- WARC-Block-Digest
    reason TEXT NOT NULL DEFAULT 'first',  -- first | updated | revised | removed
    kept_at TEXT NOT NULL
);
CREATE INDEX evidence_post ON evidence(post_id);
CREATE INDEX evidence_file ON evidence(warc_file, offset);
"""


@migrations(name="020_evidence")
def m020_evidence(db: sqlite_utils.Database) -> None:
    for statement in _split(SCHEMA_EVIDENCE):
        db.execute(statement)


SCHEMA_COPY_CHECKS = """
-- Whether the page of a stored copy is still there as it was (crawler.recheck): 'live', 'removed'
-- (404/410) or 'revised' (changed substantially; the earlier version is in `revisions`), and since
-- when. NULL: never checked.
ALTER TABLE posts ADD COLUMN page_state TEXT CHECK (page_state IN ('live', 'removed', 'revised'));
ALTER TABLE posts ADD COLUMN page_state_at TEXT;
-- The checked posts, for the re-check's selection (the few among many posts).
CREATE INDEX posts_page_state ON posts(page_state) WHERE page_state IS NOT NULL;
-- Every check of a copy's page: its HTTP status (NULL: no answer), what it came to (unchanged,
-- edited (a small edit), revised, removed, still_removed, back (a removed page answering again),
-- failed), why, and when the next check is due then (NULL: the schedule has ended).
CREATE TABLE page_checks (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    checked_at TEXT NOT NULL,
    http_status INTEGER,
    outcome TEXT NOT NULL,
    detail TEXT,
    next_check TEXT
);
CREATE INDEX page_checks_post ON page_checks(post_id, checked_at);
-- Submissions of copies to a public web archive (the `archive_submit_url` setting): one row per post;
-- `archived_at` is set once the archive accepted it, else the next attempt waits for next_attempt_at.
CREATE TABLE archive_submissions (
    post_id INTEGER PRIMARY KEY REFERENCES posts(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    archived_at TEXT,
    http_status INTEGER,
    location TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT
);
"""


@migrations(name="021_copy_checks")
def m021_copy_checks(db: sqlite_utils.Database) -> None:
    for statement in _split(SCHEMA_COPY_CHECKS):
        db.execute(statement)


def _split(script: str) -> list[str]:
    """Split a schema script into statements (triggers contain `;` inside BEGIN ... END)."""
    out, buf = [], []
    for line in script.splitlines():
        if line.strip().startswith("--") or not line.strip():
            continue
        buf.append(line)
        text = "\n".join(buf)
        if line.rstrip().endswith(";") and ("CREATE TRIGGER" not in text or line.strip() == "END;"):
            out.append(text)
            buf = []
    return out


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations atomically; return the names applied."""
    with write_tx(db):
        pending = [m.name for m in migrations.pending(db)]
        if pending:
            migrations.apply(db)
    return pending


def is_initialised(db: sqlite_utils.Database) -> bool:
    return db["posts"].exists() and not migrations.pending(db)
