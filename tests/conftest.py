"""Shared test fixtures: fresh databases made by the real `rjwatch init`, and paths to test data."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from rjwatch.cli import main

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
REPO = HERE.parent
CORPUS = REPO.parent / "shared" / "corpus" / "blogger"
SEED_FILE = REPO / "rjwatch" / "data" / "seeds" / "000_2726ccec86287c13.txt"


def run_cli(*args: str, input: str | bytes | None = None):
    """Run the real CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


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


def load_expected(path: Path) -> dict:
    return json.loads(path.with_name(path.name.rsplit(".", 1)[0] + ".expected.json").read_text("utf-8"))


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
