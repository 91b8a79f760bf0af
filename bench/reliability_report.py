"""Run the reliability campaign (`pytest -m reliability`) and print its figures as one Markdown table.

Each scenario of tests/test_reliability_*.py appends a JSON line (scenario, runs, posts, faults
injected, posts or alerts lost, and optionally repeats and wrongly sent) to the file named by $RJWATCH_RELIABILITY_REPORT; this script sets
that variable, runs the tests, and prints the table that docs/reliability.md keeps.

    .venv/bin/python bench/reliability_report.py            # the whole campaign
    .venv/bin/python bench/reliability_report.py -k test_1  # extra arguments go to pytest
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def table(lines: list[dict]) -> str:
    """One row per scenario. "repeats" counts deliveries of an alert already delivered, under the same
    idempotency key (what at-least-once allows after a crash); "wrongly sent" counts deliveries or stored
    rows that should not exist at all (an alert that did not qualify, a post stored twice)."""
    out = [
        "| scenario | runs | posts | faults injected | lost | repeats (same key) | wrongly sent |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    rows = [dict(r, repeats=r.get("repeats", 0), doubled=r.get("doubled", 0)) for r in lines]
    for r in sorted(rows, key=lambda r: (int(r["scenario"].split()[0]), r["scenario"])):
        out.append(
            f"| {r['scenario']} | {r['runs']} | {r['posts']} | {r['faults']} | {r['lost']} "
            f"| {r['repeats']} | {r['doubled']} |"
        )
    keys = ("runs", "posts", "faults", "lost", "repeats", "doubled")
    total = {k: sum(r[k] for r in rows) for k in keys}
    out.append("| **total** | " + " | ".join(str(total[k]) for k in keys) + " |")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "reliability.jsonl"
        env = dict(os.environ, RJWATCH_RELIABILITY_REPORT=str(report))
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", "pytest", "-m", "reliability", "-q", *argv], cwd=REPO, env=env)
        seconds = time.monotonic() - started
        lines = [json.loads(ln) for ln in report.read_text("utf-8").splitlines()] if report.exists() else []
    print()
    print(table(lines) if lines else "no scenario recorded figures")
    print(
        f"\n{len(lines)} scenario runs in {seconds:.0f} s on {platform.node() or 'this machine'} "
        f"({os.cpu_count()} cores, Python {platform.python_version()}); pytest exit code {code}."
    )
    for r in lines:
        extra = {
            k: v for k, v in r.items() if k not in ("scenario", "runs", "posts", "faults", "lost", "repeats", "doubled")
        }
        if extra:
            print(f"  {r['scenario']}: {json.dumps(extra, ensure_ascii=False)}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
