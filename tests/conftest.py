"""Shared test fixtures: fresh databases made by the real `rjwatch init`, demo-network servers, a small
filesystem that fills up. Plain helper functions live in helpers.py (test modules import them from there)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from helpers import run_cli


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch) -> Path:
    """An initialised database file in a temporary folder (no config file, no $RJWATCH_* leaks)."""
    monkeypatch.chdir(tmp_path)
    for var in ("RJWATCH_DB", "RJWATCH_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    path = tmp_path / "rj.db"
    result = run_cli("--db", str(path), "init")
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def db(db_path: Path):
    from storage.db import connect

    database = connect(db_path)
    yield database
    database.conn.close()


@pytest.fixture
def served():
    """Start a demo-network server for a blog, feed set or app; all stop at the end of the test."""
    from rjwatch.demo.server import SiteServer

    started: list[SiteServer] = []

    def start(app) -> SiteServer:
        srv = SiteServer(app)
        srv.start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


#: Size of the tmpfs that `small_fs` mounts: room for a database and a few posts, then full.
SMALL_FS = "8m"


@pytest.fixture
def small_fs(tmp_path):
    """A tiny tmpfs of our own (root only): a disk that really fills up and can really turn read-only."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SMALL_FS}", "tmpfs", str(mnt)], capture_output=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {res.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["mount", "-o", "remount,rw", str(mnt)], capture_output=True)
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
