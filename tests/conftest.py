"""Shared test fixtures: fresh databases made by the real `rjwatch init`, and paths to test data."""

from __future__ import annotations

import json
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
