"""Plain helpers every test module shares: the paths of the test data, the CLI run in-process, reads of
a database file (a value, rows as dicts, rows as tuples, a source's health), waiting on a condition with
a deadline, free local ports, and the checks for a clean one-line error.

Fixtures stay in conftest.py; everything here is an ordinary function a test module imports
(`from helpers import q, wait_until`), never `from conftest import`.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from click.testing import CliRunner

from storage.db import connect

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
REPO = HERE.parent
CORPUS = REPO.parent / "shared" / "corpus" / "blogger"
SEED_FILE = REPO / "rjwatch" / "data" / "seeds" / "000_2726ccec86287c13.txt"

#: Longest a test waits for a condition by default: far beyond what a loaded 2-core machine needs for
#: a subprocess to start and do one round, short enough that a hung test fails on its own.
WAIT_S = 40.0

#: How often a condition is checked while waiting: often enough not to add noticeable time, rarely
#: enough that the checking (often a database read) does not load the machine.
WAIT_STEP_S = 0.2


# --- the CLI --------------------------------------------------------------------------------------
def run_cli(*args: str, input: str | bytes | None = None):
    """Run the real CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    from rjwatch.cli import main

    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def no_traceback(*outputs: str) -> None:
    """No output of a run shows a Python traceback."""
    for out in outputs:
        assert "Traceback" not in out, out[-3000:]


def one_line_error(res, *words: str) -> str:
    """A non-zero exit, no traceback, and one error line that names the problem (every word in it).

    `res` is click's Result or a finished subprocess (with `code` or `exit_code`, `stdout`, `stderr`)."""
    code = getattr(res, "exit_code", getattr(res, "code", getattr(res, "returncode", None)))
    out, err = res.stdout, res.stderr
    assert code not in (0, None), (code, out[-2000:], err[-2000:])
    assert "Traceback" not in out + err, err[-3000:]
    lines = [ln for ln in err.splitlines() if ln.startswith(("rjwatch: error:", "Error:"))]
    assert len(lines) == 1, err[-2000:]
    for w in words:
        assert w.lower() in lines[0].lower(), (w, lines[0])
    return lines[0]


# --- reading a database file --------------------------------------------------------------------------
def q(db_path: Path, sql: str, *params):
    """The first column of the first row (a count, one value)."""
    db = connect(db_path)
    try:
        return db.execute(sql, params).fetchone()[0]
    finally:
        db.conn.close()


def rows(db_path: Path, sql: str, *params) -> list[dict]:
    """Every row, as dicts by column name."""
    db = connect(db_path)
    try:
        return list(db.query(sql, params))
    finally:
        db.conn.close()


def tuples(db_path: Path, sql: str, *params) -> list[tuple]:
    """Every row, as tuples (to unpack or compare with literal tuples)."""
    db = connect(db_path)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.conn.close()


def health(db_path: Path, source: int | str = 1) -> dict:
    """A source's health row (by id, or by its URL as registered, then with `url`); {} while it has none."""
    column = "s.id" if isinstance(source, int) else "s.url"
    found = rows(db_path, f"SELECT s.url, h.* FROM sources s JOIN source_health h ON h.source_id = s.id "
                          f"WHERE {column} = ?", source)
    return found[0] if found else {}


# --- waiting and ports -----------------------------------------------------------------------------
def wait_until(cond, timeout: float = WAIT_S, step: float = WAIT_STEP_S) -> bool:
    """Check `cond()` until it is true (True) or `timeout` seconds have passed (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return False


def free_port() -> int:
    """A 127.0.0.1 port where nothing listens (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the disk ---------------------------------------------------------------------------------------
def fill_disk(folder: Path) -> Path:
    """Write zeros into `folder` until its filesystem is full; returns the filler file."""
    filler = folder / "filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    return filler
