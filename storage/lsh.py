"""The persistent near-duplicate index: MinHash signatures and LSH band keys in SQLite.

`lsh(key, post_id)` is a WITHOUT ROWID table keyed by band key, so finding a new post's candidates
is LSH_BANDS index lookups, whatever the size of the corpus; candidates are verified against their
stored signatures (`minhash`). Nothing here scans the corpus.

New keys go to the small `lsh_recent` table first and are merged into `lsh` in key order once
LSH_RECENT_MAX_ROWS have gathered (an LSM-style buffer): lookups read both. Band keys are random
numbers, so writing each post's keys straight into a big `lsh` dirties a page per key.
"""

from __future__ import annotations

import sqlite3

import numpy as np

from judge.fingerprint import LSH_BANDS, blob_to_sig, sig_to_blob

#: At most this many candidates are verified per post. Real stories have a handful of copies; a
#: pathological text (boilerplate shared by thousands of posts) must not make one ingest slow.
MAX_CANDIDATES = 200

#: Keys gathered in `lsh_recent` before they are merged into `lsh` (10,000 posts' worth): small
#: enough to stay in the page cache (~5 MB), big enough that a merge writes each page of `lsh` about
#: once for many keys. Measured at 100k stored posts: the write cost per post fell by a third.
LSH_RECENT_MAX_ROWS = 10_000 * LSH_BANDS

_PLACEHOLDERS = ",".join("?" * LSH_BANDS)


def add(conn: sqlite3.Connection, post_id: int, sig: np.ndarray | None, keys: list[int]) -> None:
    if sig is None or not keys:
        return
    conn.execute("INSERT OR REPLACE INTO minhash (post_id, signature) VALUES (?, ?)", (post_id, sig_to_blob(sig)))
    conn.executemany("INSERT OR IGNORE INTO lsh_recent (key, post_id) VALUES (?, ?)", [(k, post_id) for k in keys])
    merge_recent(conn)


def merge_recent(conn: sqlite3.Connection, min_rows: int = LSH_RECENT_MAX_ROWS) -> int:
    """Move the buffered keys into `lsh` in key order once there are `min_rows` (0: always)."""
    gathered = conn.execute("SELECT max(rowid) FROM lsh_recent").fetchone()[0] or 0  # ~ the row count
    if gathered < max(1, min_rows):
        return 0
    conn.execute("INSERT OR IGNORE INTO lsh (key, post_id) SELECT key, post_id FROM lsh_recent ORDER BY key, post_id")
    conn.execute("DELETE FROM lsh_recent")
    return gathered


def remove(conn: sqlite3.Connection, post_id: int) -> None:
    row = conn.execute("SELECT signature FROM minhash WHERE post_id = ?", (post_id,)).fetchone()
    if row is None:
        return
    from judge.fingerprint import band_keys

    pairs = [(k, post_id) for k in band_keys(blob_to_sig(row[0]))]
    conn.executemany("DELETE FROM lsh WHERE key = ? AND post_id = ?", pairs)
    conn.executemany("DELETE FROM lsh_recent WHERE key = ? AND post_id = ?", pairs)
    conn.execute("DELETE FROM minhash WHERE post_id = ?", (post_id,))


def replace(conn: sqlite3.Connection, post_id: int, sig: np.ndarray | None, keys: list[int]) -> None:
    remove(conn, post_id)
    add(conn, post_id, sig, keys)


def near_duplicates(
    conn: sqlite3.Connection, sig: np.ndarray | None, keys: list[int], min_jaccard: float, *, exclude: int | None = None
) -> list[tuple[int, float]]:
    """Posts whose estimated Jaccard with `sig` is at least `min_jaccard`: [(post_id, jaccard)]."""
    if sig is None or len(keys) != LSH_BANDS:
        return []
    rows = conn.execute(
        f"SELECT m.post_id, m.signature FROM minhash m WHERE m.post_id IN "
        f"(SELECT post_id FROM lsh WHERE key IN ({_PLACEHOLDERS}) UNION "
        f"SELECT post_id FROM lsh_recent WHERE key IN ({_PLACEHOLDERS}) LIMIT {MAX_CANDIDATES})",
        [*keys, *keys],
    ).fetchall()
    rows = [(pid, blob) for pid, blob in rows if pid != exclude]
    if not rows:
        return []
    # Estimated Jaccard of every candidate at once: the share of equal MinHash values.
    stacked = np.frombuffer(b"".join(blob for _, blob in rows), dtype="<u4").reshape(len(rows), -1)
    estimates = np.count_nonzero(stacked == sig, axis=1) / stacked.shape[1]
    return [(pid, float(j)) for (pid, _), j in zip(rows, estimates) if j >= min_jaccard]
