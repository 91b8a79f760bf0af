"""`rjwatch evidence ID`: write a post's kept responses (WARC evidence) out, checked on the way."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from rjwatch.commands.common import Ctx, command, count, fail, handled, row_id

#: File extension of a written body, by the start of its Content-Type (else `.bin`).
EXTENSIONS = (
    ("text/html", ".html"),
    ("application/xhtml", ".html"),
    ("application/rss", ".xml"),
    ("application/atom", ".xml"),
    ("application/xml", ".xml"),
    ("text/xml", ".xml"),
    ("application/json", ".json"),
    ("text/plain", ".txt"),
)


def _extension(headers: list[tuple[str, str]]) -> str:
    ctype = next((v for k, v in headers if k.lower() == "content-type"), "").strip().lower()
    return next((ext for prefix, ext in EXTENSIONS if ctype.startswith(prefix)), ".bin")


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a whole file or nothing (a temporary file renamed into place)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        fail(f"cannot write {path}: {exc.strerror}")


@command("evidence")
@click.argument("post_id", type=row_id())
@click.option(
    "--out",
    "out_dir",
    default=".",
    show_default=True,
    metavar="DIR|-",
    help="Folder to write post-ID-N.EXT (the body) and post-ID-N.headers.txt into; `-`: the body to stdout.",
)
@click.option(
    "--record",
    "number",
    type=count(1),
    metavar="N",
    help="Only the post's N-th record (1 is the oldest; `rjwatch show ID` lists them). Default: every "
    "record, or the only one with --out -.",
)
@click.pass_obj
@handled
def evidence(obj: Ctx, post_id: int, out_dir: str, number: int | None) -> None:
    """Write out the raw responses kept for post POST_ID (its WARC records), checking each record's
    SHA-256 on the way: a missing or changed WARC file is an error.

    Example:

    \b
        rjwatch evidence 42 --out saved/
        rjwatch evidence 42 --record 1 --out - > page.html
    """
    from storage import evidence as ev
    from storage.queries import get_post

    db = obj.db()
    if get_post(db, post_id) is None:
        fail(f"no post #{post_id}")
    records = ev.for_post(db, post_id)
    if not records:
        fail(
            f"post #{post_id} has no evidence record (only posts stored with `evidence` on and a kept status have one)"
        )
    chosen = list(enumerate(records, 1))
    if number is not None:
        if number > len(records):
            fail(f"post #{post_id} has {len(records)} evidence record(s), not {number}")
        chosen = [(number, records[number - 1])]
    if out_dir == "-":
        if len(chosen) > 1:
            fail(f"post #{post_id} has {len(records)} evidence records: choose one with --record N")
        _, row = chosen[0]
        body = ev.read_record(db, row).body
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot create {folder}: {exc.strerror}")
    stored = [(n, row, ev.read_record(db, row)) for n, row in chosen]  # every one checked before writing any
    for n, row, rec in stored:
        body_path = folder / f"post-{post_id}-{n}{_extension(rec.headers)}"
        head_path = folder / f"post-{post_id}-{n}.headers.txt"
        head = "".join(f"{k}: {v}\r\n" for k, v in rec.headers)
        _write_atomically(body_path, rec.body)
        _write_atomically(head_path, f"{rec.status_line}\r\n{head}".encode())
        click.echo(
            f"{body_path} ({len(rec.body):,} bytes, sha256 {row['sha256'][:12]}… checked) and {head_path.name}: "
            f"{row['url']} as fetched {row['fetched_at']}"
        )


COMMANDS = [evidence]
