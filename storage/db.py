"""Opening the database: WAL, busy timeout, foreign keys, and the one way to write (`write_tx`).

Every process (the daemon, a manual crawl, the CLI) opens the same SQLite file. Concurrent writers are
serialised by `BEGIN IMMEDIATE`: a writer takes the write lock when its transaction starts, so it waits
(up to BUSY_TIMEOUT_MS) instead of failing half-way with "database is locked" on a lock upgrade.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from judge.errors import RjwatchError

#: How long a connection waits for another writer before giving up. Long crawls commit in batches of
#: a few hundred posts (well under a second each), so 60 s only runs out when something is stuck.
BUSY_TIMEOUT_MS = 60_000

#: Page cache per connection (negative = KiB). 64 MiB keeps the LSH and URL indexes of ~1M posts hot
#: without making the 300 MB peak-RSS budget of a 100k-post ingest tight.
CACHE_SIZE_KIB = 64 * 1024

#: WAL pages after which a commit copies the log back into the database (SQLite's default is 1,000
#: pages, 4 MB). Each stored post dirties ~20 scattered index pages (16 of them LSH band keys), so in
#: a big database a 200-post batch writes ~10 MB of log; with checkpoints every 64 MB a page changed by
#: several batches is copied back once, which cut the cost per post at 100k stored by ~15%.
WAL_AUTOCHECKPOINT_PAGES = 16_384

#: `BEGIN IMMEDIATE` itself can return SQLITE_BUSY when the busy handler gives up; we retry a few
#: times with a short pause before reporting the lock.
BEGIN_RETRIES = 5

#: Free space under which an I/O error is reported as a full disk. On a full filesystem SQLite often
#: says only "disk I/O error" (the WAL index or the WAL cannot grow); a megabyte is less than one batch
#: of posts needs, so below it the full disk is the likely cause.
FULL_DISK_BYTES = 1024 * 1024


class DatabaseError(RuntimeError, RjwatchError):
    """A database problem explained in one line (locked, read-only, disk full, not a database)."""


def default_db_path() -> Path:
    return Path(os.environ.get("RJWATCH_DB") or Path("data") / "rjwatch.db")


def connect(path: str | os.PathLike, *, create: bool = True, readonly: bool = False) -> sqlite_utils.Database:
    """Open (and optionally create) the database with the pragmas every rjwatch process uses."""
    path = Path(path)
    if not create and not path.exists():
        raise DatabaseError(f"no database at {path} (run `rjwatch init` first)")
    if create and not readonly:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create folder {path.parent}: {exc.strerror}") from None
    try:
        if readonly:
            conn = sqlite3.connect(
                f"file:{path}?mode=ro",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )
        else:
            conn = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
            )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not readonly:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise DatabaseError(f"{path}: could not switch to WAL journal mode (got {mode})")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA cache_size = -{CACHE_SIZE_KIB}")
        conn.execute("PRAGMA temp_store = MEMORY")
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(describe(exc, path)) from None
    return sqlite_utils.Database(conn)


def _filesystem_problem(path: str | os.PathLike | None) -> str | None:
    """'read-only' or 'full' when the database's file or filesystem is in that state, else None."""
    if not path:
        return None
    path = Path(path)
    try:
        st = os.statvfs(path.parent)
    except OSError:
        return None
    if st.f_flag & os.ST_RDONLY or (path.exists() and not os.access(path, os.W_OK)):
        return "read-only"
    if st.f_bavail * st.f_frsize < FULL_DISK_BYTES:
        return "full"
    return None


def describe(exc: BaseException, path: str | os.PathLike | None = None) -> str:
    """A one-line, user-facing description of an SQLite error."""
    msg = str(exc)
    where = f"{path}: " if path else ""
    low = msg.lower()
    problem = _filesystem_problem(path) if ("i/o" in low or "unable to open" in low or "readonly" in low) else None
    if problem == "read-only":
        return f"{where}database is read-only (check the file and folder permissions and the mount)"
    if problem == "full":
        return f"{where}disk is full: nothing was written"
    if "locked" in low or "busy" in low:
        return f"{where}database is locked by another writer for more than {BUSY_TIMEOUT_MS // 1000} s"
    if "readonly" in low or "read-only" in low:
        return f"{where}database is read-only (check the file and folder permissions)"
    if "disk is full" in low or "full" in low and "database or disk" in low:
        return f"{where}disk is full: nothing was written"
    if "not a database" in low or "malformed" in low:
        return f"{where}not an rjwatch database or the file is damaged ({msg})"
    if "unable to open" in low:
        return f"{where}cannot open the database file (does the folder exist and is it writable?)"
    return f"{where}{msg}"


@contextmanager
def write_tx(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction, taken with BEGIN IMMEDIATE; commits on success, rolls back on error.

    Nested use inside an open transaction becomes a savepoint, so callers can compose.
    """
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    for attempt in range(BEGIN_RETRIES):
        try:
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() and "busy" not in str(exc).lower():
                raise DatabaseError(describe(exc, _file_of(conn))) from None
            if attempt == BEGIN_RETRIES - 1:
                raise DatabaseError(describe(exc)) from None
            time.sleep(0.2 * (attempt + 1))
    try:
        yield db
    except sqlite3.OperationalError as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise DatabaseError(describe(exc, _file_of(conn))) from None
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        try:
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise DatabaseError(describe(exc, _file_of(conn))) from None


def checkpoint(db: sqlite_utils.Database) -> None:
    """Copy the WAL back into the database file and truncate it (daily housekeeping)."""
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def backup_to(db: sqlite_utils.Database, target: Path) -> None:
    """A consistent copy of the database at `target` (SQLite's online backup API), taken while others
    keep writing."""
    dst = sqlite3.connect(target)
    try:
        db.conn.backup(dst)
    finally:
        dst.close()


def read_only_twin(db: sqlite_utils.Database) -> sqlite_utils.Database | None:
    """A second, read-only connection to the file of `db` (for threads that only read while `db`
    writes); None for a database in memory."""
    path = _file_of(db.conn)
    if not path:
        return None
    try:
        return connect(path, create=False, readonly=True)
    except (DatabaseError, sqlite3.Error):
        return None


def _file_of(conn: sqlite3.Connection) -> str | None:
    """The main database file of a connection (for error messages that look at its filesystem)."""
    try:
        return conn.execute("PRAGMA database_list").fetchone()[2] or None
    except sqlite3.Error:
        return None
