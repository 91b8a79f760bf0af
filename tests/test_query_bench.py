"""bench/query_bench.py runs end to end at a tiny size: its server on loopback addresses, both passes
(full text off and always), every item stored and alerted on, every page fetched, and its table and
figures written where it is told."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import REPO

#: A pass this small takes a second or two; the rest is process start and imports on a loaded machine.
BENCH_TIMEOUT_S = 300


@pytest.mark.slow
def test_query_bench_runs_tiny(tmp_path):
    feeds, items, hosts = 5, 3, 4
    res = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "query_bench.py"),
            "--feeds",
            str(feeds),
            "--items",
            str(items),
            "--hosts",
            str(hosts),
            "--out",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=BENCH_TIMEOUT_S,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    table = (tmp_path / "query_bench.txt").read_text()
    rows = [ln for ln in table.splitlines() if ln.startswith("| full text") or ln.startswith("| **full text")]
    assert len(rows) == 2, table
    n = feeds * items
    # the full-text pass: n alerts pending, the feeds and n pages fetched from every publisher host
    assert f"| {n} ({n} / 0) |" in rows[1] and f"| {feeds} / {n} ({hosts}) |" in rows[1], rows[1]
    assert f"| {feeds} / 0 (0) |" in rows[0], rows[0]
    figures = json.loads((tmp_path / "query.figures.json").read_text())
    assert [f["unit"] for f in figures] == ["items/s", "s", "MB"]
    assert figures[0]["value"] > 0 and figures[0]["baseline_value"] > 0
    assert 0 < figures[1]["value"] <= figures[1]["baseline_value"] + 0.5
    assert figures[2]["value"] > 0
