"""WARC evidence: the raw HTTP response of each kept post, in one gzip WARC file per day.

The only module that writes WARC files and `evidence` rows. A post whose verdict is one of the
`evidence_statuses` (copy, excerpt, new by default) keeps the response its text came from as a WARC
`response` record, one gzip member per record, appended to `rjwatch-YYYY-MM-DD.warc.gz` (the UTC day of
writing) in the evidence folder (`evidence_dir`; by default `evidence/` beside the database). Each new
day file opens with a `warcinfo` record. warcio builds the records (headers, digests); they are
compressed here at GZIP_LEVEL, as warcio writes them (its own gzip writer has a fixed, slower level).
The row keeps the file (relative to the database's folder when inside it), the member's offset and
length, the WARC-Record-ID, the SHA-256 of the payload (the body) and warcio's WARC-Payload-Digest and
WARC-Block-Digest.

Writers: the daemon, a crawl subprocess and the CLI may append to one day file at once. An append
holds an exclusive `flock` on the file and takes its offset inside the lock. The record is on disk
(fsync) before a row naming it commits: `keep` fsyncs before inserting the row; the write path, which
stores posts in batches, fsyncs each file it wrote once, just before the batch commits (an fsync costs
2-15 ms here). A writer killed mid-append leaves an incomplete member at the end, which no committed
row names; the next append cuts it off before writing (it checks the gzip members after the last one a
row names, or none when the file still ends where this process left it). warcio's reader does not
notice a cut-off last member (it returns the record short, or fails with an AttributeError), which is
why the tail is checked here with zlib, member by member.

Reading (`read`) goes to the row's offset, inflates exactly one member and checks the record id and
the SHA-256 of the payload: a missing or changed file is an `EvidenceError` (one line).
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import logging
import os
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path

import sqlite_utils

from judge import dates
from judge.errors import RjwatchError
from storage.db import write_tx
from storage.items import RawResponse

log = logging.getLogger(__name__)

#: Post statuses whose response is kept by default: the posts an analyst may have to prove later.
DEFAULT_STATUSES = ("copy", "excerpt", "new")
#: The evidence folder's name beside the database when `evidence_dir` is empty.
DEFAULT_FOLDER = "evidence"
#: Why a record was kept: the post's first version, a changed version seen by a crawl or poll, and
#: (written by the re-checks of copies) a revised or removed page.
REASONS = ("first", "updated", "revised", "removed")
#: Bytes read per step when checking the members at the end of a day file.
SCAN_CHUNK = 1024 * 1024
#: Most bytes inflated at once while checking: the check only needs to reach each member's end, so the
#: output is dropped; the bound keeps a highly compressible page from taking memory.
SCAN_OUT = 4 * 1024 * 1024
#: gzip level of the records. warcio's own writer uses 9, which costs three to four times the time of 6
#: on HTML (20 ms against 6 ms for a 50 KB page) for files 1-3% smaller; evidence is written in the
#: poller's and the crawl's one writing thread, for every kept post.
GZIP_LEVEL = 6
#: Response headers that describe the bytes on the wire, not the decoded body kept in the record: they
#: are kept under this prefix (the convention of web archives), so readers do not decode twice.
ORIGINAL_PREFIX = "X-Archive-Orig-"


class EvidenceError(RuntimeError, RjwatchError):
    """Evidence that cannot be written or read back intact, explained in one line."""


@dataclass(frozen=True)
class Policy:
    """Which posts keep evidence (the `evidence`, `evidence_statuses` and `evidence_dir` settings)."""

    enabled: bool = True
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    folder: str = ""  # empty: DEFAULT_FOLDER beside the database; relative: to the database's folder

    def wants(self, status: str | None) -> bool:
        return self.enabled and status in self.statuses


def db_folder(db: sqlite_utils.Database) -> Path:
    """The folder of the database's main file (the working folder for an in-memory database)."""
    try:
        name = db.execute("PRAGMA database_list").fetchone()[2]
    except Exception:
        name = None
    return Path(name).resolve().parent if name else Path.cwd()


def folder_of(db: sqlite_utils.Database, folder: str | os.PathLike | None = None) -> Path:
    """The evidence folder: `folder` (relative to the database's folder), else `evidence/` beside it."""
    base = db_folder(db)
    return base / (folder or DEFAULT_FOLDER)


def day_file_name(when: datetime) -> str:
    """`rjwatch-2026-12-05.warc.gz`: the file of one UTC day."""
    return f"rjwatch-{when.astimezone(UTC):%Y-%m-%d}.warc.gz"


def _warc_date(value: str | None) -> str:
    parsed = dates.parse(value) if value else None
    return (parsed or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _http_headers(headers, body_length: int) -> list[tuple[str, str]]:
    """The headers as kept. The body is kept decoded, so the headers that describe other bytes (a
    content or transfer encoding, a length that is not the body's) go under ORIGINAL_PREFIX and the
    body's own length is given."""
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    pairs = [(str(k), " ".join(str(v).splitlines())) for k, v in pairs]
    same = all(k.lower() != "content-length" or v.strip() == str(body_length) for k, v in pairs)
    out = []
    for name, value in pairs:
        low = name.lower()
        wire = low in ("content-encoding", "transfer-encoding") or (low == "content-length" and not same)
        out.append((ORIGINAL_PREFIX + name if wire else name, value))
    if not any(k.lower() == "content-length" for k, _ in out):
        out.append(("Content-Length", str(body_length)))
    return out


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _stored_name(db: sqlite_utils.Database, path: Path) -> str:
    base = db_folder(db)
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


def path_of(db: sqlite_utils.Database, warc_file: str) -> Path:
    """The file a row names (relative names are under the database's folder)."""
    p = Path(warc_file)
    return p if p.is_absolute() else db_folder(db) / p


# -- writing -------------------------------------------------------------------------------------
class _GzipMember:
    """What warcio writes a record to: compressed as it comes (GZIP_LEVEL) into one gzip member of `out`,
    ended by warcio's closing flush()."""

    def __init__(self, out):
        self.out = out
        self.compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS | 16)

    def write(self, data: bytes) -> None:
        self.out.write(self.compressor.compress(data))

    def flush(self) -> None:
        self.out.write(self.compressor.flush())
        self.out.flush()


#: The end of the last whole record of each day file this process appended to, by (device, inode):
#: when the file still ends there, the next append needs no check of its tail.
_known_ends: dict[tuple[int, int], int] = {}


def _good_end(fh, start: int) -> int:
    """The end of the last complete gzip member from `start` on (members are checked with zlib,
    their CRC and length included); anything after it is a cut-off or damaged tail."""
    fh.seek(start)
    good = pos = start
    d = None
    while chunk := fh.read(SCAN_CHUNK):
        data = chunk
        while data:
            if d is None:
                d = zlib.decompressobj(zlib.MAX_WBITS | 16)
            try:
                d.decompress(data, SCAN_OUT)
                while d.unconsumed_tail and not d.eof:
                    d.decompress(d.unconsumed_tail, SCAN_OUT)
            except zlib.error:
                return good
            if d.eof:
                pos += len(data) - len(d.unused_data)
                good = pos
                data, d = d.unused_data, None
            else:
                pos += len(data)
                data = b""
    return good


def _last_named_end(db: sqlite_utils.Database, name: str) -> int:
    row = db.execute("SELECT max(offset + length) FROM evidence WHERE warc_file = ?", (name,)).fetchone()
    return int(row[0] or 0)


def _append(db: sqlite_utils.Database, folder: Path, write, *, sync: bool = True) -> tuple[Path, int, int, object]:
    """Append to today's file under an exclusive lock: repair a cut-off tail, write the warcinfo of a
    new file, then `write(writer)`; fsynced before returning unless `sync` is False (then the caller
    calls `sync_files` before its transaction commits). Returns (path, offset, length, write's result)."""
    from warcio.warcwriter import WARCWriter

    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / day_file_name(datetime.now(UTC))
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise EvidenceError(f"cannot write evidence in {folder}: {exc.strerror}") from None
    with os.fdopen(fd, "r+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            st = os.fstat(fh.fileno())
            size, key = st.st_size, (st.st_dev, st.st_ino)
            if not size or _known_ends.get(key) == size:
                end = size
            else:
                named = _last_named_end(db, _stored_name(db, path))
                end = _good_end(fh, named if named <= size else 0)
            if end < size:
                log.warning("rjwatch: %s: cut off an incomplete record at its end (%d bytes)", path, size - end)
                fh.truncate(end)
            fh.seek(end)
            if end == 0:
                from importlib.metadata import PackageNotFoundError, version

                try:
                    software = f"rjwatch/{version('rjwatch')}"
                except PackageNotFoundError:
                    software = "rjwatch"
                writer = WARCWriter(_GzipMember(fh), gzip=False)
                writer.write_record(
                    writer.create_warcinfo_record(
                        path.name,
                        {
                            "software": software,
                            "format": "WARC File Format 1.0",
                            "description": "raw responses of the posts rjwatch stored (evidence)",
                        },
                    )
                )
                end = fh.tell()
                _sync_folder(folder)  # the new file's name is on disk before a row names it
            result = write(WARCWriter(_GzipMember(fh), gzip=False))  # one gzip member per record
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
            length = fh.tell() - end
            _known_ends[key] = fh.tell()
        except OSError as exc:
            raise EvidenceError(f"cannot write evidence to {path}: {exc.strerror}") from None
        finally:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            except OSError:
                pass
    return path, end, length, result


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_files(paths) -> None:
    """fsync WARC files written with `sync=False`: called before the transaction that names their
    records commits, so a committed row never names a record that is not on disk."""
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_record(
    db: sqlite_utils.Database,
    raw: RawResponse,
    *,
    folder: str | os.PathLike | None = None,
    unsynced: set | None = None,
) -> dict:
    """Write the response as a WARC record (once: a shared response keeps its record in `raw.record`
    and lets its body go); returns what a row needs to name it. With `unsynced` (a set) the file is
    not fsynced here but added to the set, for one `sync_files` before the caller's commit."""
    if raw.record is not None:
        return raw.record
    from warcio.statusandheaders import StatusAndHeaders

    body = bytes(raw.body or b"")
    fetched_at = _warc_date(raw.fetched_at)
    http = StatusAndHeaders(_status_line(raw.status), _http_headers(raw.headers, len(body)), protocol="HTTP/1.1")

    def write(writer):
        record = writer.create_warc_record(
            raw.url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": fetched_at},
        )
        writer.write_record(record)
        return record.rec_headers

    path, offset, length, headers = _append(db, folder_of(db, folder), write, sync=unsynced is None)
    if unsynced is not None:
        unsynced.add(path)
    raw.record = {
        "url": raw.url,
        "fetched_at": fetched_at,
        "http_status": raw.status,
        "warc_file": _stored_name(db, path),
        "offset": offset,
        "length": length,
        "record_id": headers.get_header("WARC-Record-ID"),
        "sha256": hashlib.sha256(body).hexdigest(),
        "payload_digest": headers.get_header("WARC-Payload-Digest"),
        "block_digest": headers.get_header("WARC-Block-Digest"),
    }
    raw.body = b""  # written: the record holds it now
    return raw.record


def add_row(db: sqlite_utils.Database, post_id: int, record: dict, reason: str = "first") -> dict:
    """Name a written record as evidence of a post (in the caller's transaction)."""
    if reason not in REASONS:
        raise EvidenceError(f"unknown evidence reason {reason!r} (one of {', '.join(REASONS)})")
    row = {"post_id": post_id, **record, "reason": reason, "kept_at": dates.now_iso()}
    with write_tx(db):
        cur = db.execute(
            f"INSERT INTO evidence ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
        )
    return {"id": cur.lastrowid, **row}


def keep_raw(
    db: sqlite_utils.Database,
    post_id: int,
    raw: RawResponse,
    *,
    reason: str = "first",
    folder: str | os.PathLike | None = None,
    unsynced: set | None = None,
) -> dict:
    """Keep a carried response as evidence of a post: the record (written once), then the row
    (`unsynced`: see `write_record`)."""
    with write_tx(db):
        return add_row(db, post_id, write_record(db, raw, folder=folder, unsynced=unsynced), reason)


def keep(
    db: sqlite_utils.Database,
    post_id: int,
    *,
    url: str,
    status: int,
    headers,
    body: bytes,
    fetched_at: str | None = None,
    reason: str = "first",
    folder: str | os.PathLike | None = None,
) -> dict:
    """Keep one response as evidence of post `post_id` (a WARC record, fsynced, then its row, in one
    transaction with the caller's); returns the row. `headers`: a dict or (name, value) pairs;
    `reason`: one of REASONS; `folder`: the `evidence_dir` setting (default: evidence/ beside the db)."""
    raw = RawResponse(url=url, status=int(status), headers=headers, body=body, fetched_at=fetched_at)
    return keep_raw(db, post_id, raw, reason=reason, folder=folder)


# -- reading ---------------------------------------------------------------------------------------
def for_post(db: sqlite_utils.Database, post_id: int) -> list[dict]:
    """The evidence rows of a post, oldest first."""
    if not db["evidence"].exists():
        return []
    return list(db.query("SELECT * FROM evidence WHERE post_id = ? ORDER BY id", [post_id]))


@dataclass
class Stored:
    """A record read back and checked: the HTTP status line, headers and body as kept."""

    status_line: str
    headers: list[tuple[str, str]]
    body: bytes
    warc_headers: list[tuple[str, str]]


def read_record(db: sqlite_utils.Database, row: dict) -> Stored:
    """Read the record a row names and check it (record id, SHA-256 of the payload)."""
    from warcio.archiveiterator import ArchiveIterator

    path = path_of(db, row["warc_file"])
    where = (
        f"evidence record {row['record_id']} (post #{row['post_id']}) in {row['warc_file']} at offset {row['offset']}"
    )
    try:
        with open(path, "rb") as fh:
            fh.seek(int(row["offset"]))
            data = fh.read(int(row["length"]))
    except FileNotFoundError:
        raise EvidenceError(f"{where}: the file {path} is missing") from None
    except OSError as exc:
        raise EvidenceError(f"{where}: cannot read {path}: {exc.strerror}") from None
    if len(data) != int(row["length"]):
        raise EvidenceError(f"{where}: the file ends early (truncated or replaced)")
    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        inflated = d.decompress(data)
    except zlib.error:
        raise EvidenceError(f"{where}: the record is damaged (not a complete gzip member)") from None
    if not d.eof or d.unused_data:
        raise EvidenceError(f"{where}: the record is damaged (not a complete gzip member)")
    try:
        record = next(iter(ArchiveIterator(io.BytesIO(inflated))))
        body = record.raw_stream.read()
    except Exception:  # warcio raises several types for a malformed record
        raise EvidenceError(f"{where}: not a readable WARC record") from None
    if record.rec_headers.get_header("WARC-Record-ID") != row["record_id"]:
        raise EvidenceError(f"{where}: another record is at that offset (the file was replaced)")
    if hashlib.sha256(body).hexdigest() != row["sha256"]:
        raise EvidenceError(f"{where}: the body fails its SHA-256 check (the file was changed)")
    http = record.http_headers
    return Stored(
        status_line=f"{http.protocol} {http.statusline}" if http else "",
        headers=list(http.headers) if http else [],
        body=body,
        warc_headers=list(record.rec_headers.headers),
    )


def read(db: sqlite_utils.Database, row: dict) -> tuple[list[tuple[str, str]], bytes]:
    """(headers, body) of the record a row names, checked (see `read_record`)."""
    stored = read_record(db, row)
    return stored.headers, stored.body
