"""The persistent near-duplicate index: MinHash signatures and LSH band keys in SQLite.

`lsh(key, post_id)` is a WITHOUT ROWID table keyed by band key, so finding a new post's candidates
is LSH_BANDS index lookups, whatever the size of the corpus; candidates are verified against their
stored signatures (`minhash`). Nothing here scans the corpus.
"""

from __future__ import annotations

import sqlite3

import numpy as np

from judge.fingerprint import LSH_BANDS, blob_to_sig, sig_to_blob

#: At most this many candidates are verified per post. Real stories have a handful of copies; a
#: pathological text (boilerplate shared by thousands of posts) must not make one ingest slow.
MAX_CANDIDATES = 200

_PLACEHOLDERS = ",".join("?" * LSH_BANDS)


def add(conn: sqlite3.Connection, post_id: int, sig: np.ndarray | None, keys: list[int]) -> None:
    if sig is None or not keys:
        return
    conn.execute("INSERT OR REPLACE INTO minhash (post_id, signature) VALUES (?, ?)", (post_id, sig_to_blob(sig)))
    conn.executemany("INSERT OR IGNORE INTO lsh (key, post_id) VALUES (?, ?)", [(k, post_id) for k in keys])


def remove(conn: sqlite3.Connection, post_id: int) -> None:
    row = conn.execute("SELECT signature FROM minhash WHERE post_id = ?", (post_id,)).fetchone()
    if row is None:
        return
    from judge.fingerprint import band_keys

    conn.executemany("DELETE FROM lsh WHERE key = ? AND post_id = ?",
                     [(k, post_id) for k in band_keys(blob_to_sig(row[0]))])
    conn.execute("DELETE FROM minhash WHERE post_id = ?", (post_id,))


def replace(conn: sqlite3.Connection, post_id: int, sig: np.ndarray | None, keys: list[int]) -> None:
    remove(conn, post_id)
    add(conn, post_id, sig, keys)


def near_duplicates(conn: sqlite3.Connection, sig: np.ndarray | None, keys: list[int], min_jaccard: float,
                    *, exclude: int | None = None) -> list[tuple[int, float]]:
    """Posts whose estimated Jaccard with `sig` is at least `min_jaccard`: [(post_id, jaccard)]."""
    if sig is None or len(keys) != LSH_BANDS:
        return []
    rows = conn.execute(
        f"SELECT m.post_id, m.signature FROM minhash m WHERE m.post_id IN "
        f"(SELECT DISTINCT post_id FROM lsh WHERE key IN ({_PLACEHOLDERS}) LIMIT {MAX_CANDIDATES})", keys).fetchall()
    rows = [(pid, blob) for pid, blob in rows if pid != exclude]
    if not rows:
        return []
    # Estimated Jaccard of every candidate at once: the share of equal MinHash values.
    stacked = np.frombuffer(b"".join(blob for _, blob in rows), dtype="<u4").reshape(len(rows), -1)
    estimates = np.count_nonzero(stacked == sig, axis=1) / stacked.shape[1]
    return [(pid, float(j)) for (pid, _), j in zip(rows, estimates) if j >= min_jaccard]
