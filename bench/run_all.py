"""Run every benchmark and print one table: each figure beside the baseline measured in the same run.

Each benchmark in `BENCHMARKS` is a script of this folder that records its headline figures with
`figures.record` (bench/out/<name>.figures.json); this runs them one after the other (never at once:
they would measure each other), collects the figures and prints one Markdown table with the machine
it ran on. The table is also written to docs/benchmarks.md (and bench/out/run_all.md); each script's
own, more detailed table stays in bench/out/. Adding a benchmark is one line in `BENCHMARKS`.

    python bench/run_all.py                  # everything, full size (an hour or so on 2 cores)
    python bench/run_all.py --quick          # smoke sizes (several minutes)
    python bench/run_all.py --only crawl --only poll
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
DOC = REPO / "docs" / "benchmarks.md"


@dataclass(frozen=True)
class Bench:
    name: str  # also the figures file: bench/out/<name>.figures.json
    script: str
    full: tuple = ()
    quick: tuple | None = ()  # None: not run with --quick
    about: str = ""


#: Every benchmark, in the order they run. One line each.
BENCHMARKS = [
    Bench(
        "ingest", "ingest_bench.py", (), ("--quick",), "storage write path: posts/s, cost per post as the corpus grows"
    ),
    Bench(
        "rejudge",
        "rejudge_bench.py",
        (),
        ("--quick",),
        "re-judging 100,000 stored posts after a profile change and a seed change, beside ingest",
    ),
    Bench(
        "poll", "poll_bench.py", (), ("--quick",), "one polling pass over 1,000 local feeds; parse + ingest of a feed"
    ),
    Bench(
        "query",
        "query_bench.py",
        (),
        ("--feeds", "40", "--hosts", "80"),
        "one polling pass over query feeds, every publisher page fetched, beside the pass without pages",
    ),
    Bench("crawl", "crawl_bench.py", (), ("--posts", "500"), "full and incremental crawls of a local Blogger blog"),
    Bench(
        "daemon", "daemon_bench.py", (), ("--quick",), "the daemon under steady load: lag, memory, repeated deliveries"
    ),
    Bench(
        "search",
        "search_bench.py",
        (),
        ("--quick",),
        "search latency at 1M posts beside bare FTS5; export RSS; FTS size",
    ),
    Bench("cluster", "cluster_bench.py", (), ("--posts", "300"), "pages/s of 1-3 cluster workers beside a local crawl"),
    Bench("neardup", "neardup_params.py", (), None, "MinHash/LSH parameter study (no baseline figure)"),
]


def machine() -> dict:
    model = "?"
    mem_gb = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    try:
        import scrapy

        scrapy_version = scrapy.__version__
    except ImportError:
        scrapy_version = "?"
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "ram_gb": mem_gb,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "scrapy": scrapy_version,
        "os": platform.platform(terse=True),
    }


def run_one(bench: Bench, quick: bool) -> dict:
    args = bench.quick if quick else bench.full
    figures_path = OUT / f"{bench.name}.figures.json"
    figures_path.unlink(missing_ok=True)
    log_path = OUT / f"{bench.name}.run_all.log"
    started = time.monotonic()
    print(
        f"... {bench.name}: {bench.script} {' '.join(args)} (log {log_path.relative_to(REPO)})",
        file=sys.stderr,
        flush=True,
    )
    with open(log_path, "w", encoding="utf-8") as log:
        code = subprocess.call(
            [sys.executable, str(HERE / bench.script), *args], cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )
    figures = json.loads(figures_path.read_text("utf-8")) if figures_path.exists() else []
    return {"bench": bench, "exit": code, "seconds": time.monotonic() - started, "figures": figures}


def _num(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(results: list[dict], info: dict, quick: bool, started: str, load: tuple) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `bench/run_all.py{' --quick' if quick else ''}` on {started}; `make bench` reruns it. Each "
        "figure stands beside the baseline measured in the same run on the same machine; the ratio is steadier "
        "than the absolute figure when other work shares the machine. Details of each benchmark are in its "
        "script's docstring and in `bench/out/`.",
        "",
        f"Machine: {info['cpus']} CPUs ({info['cpu_model']}), {info['ram_gb']} GB RAM, {info['os']}, Python "
        f"{info['python']}, SQLite {info['sqlite']}, Scrapy {info['scrapy']}; load average {load[0]:.2f} at the "
        f"start, {load[1]:.2f} at the end."
        + (" Quick (smoke-size) runs: figures are indicative only." if quick else ""),
        "",
        "| benchmark | measure | value | baseline (same run) | baseline value | ratio | target |",
        "|---|---|---:|---|---:|---:|---|",
    ]
    for r in results:
        b = r["bench"]
        if r.get("skipped"):
            lines.append(f"| {b.name} | {b.about} | not run{' with --quick' if quick else ''} | | | | |")
            continue
        if r["exit"] != 0 or not r["figures"]:
            what = f"exit {r['exit']}" if r["exit"] else "no figures recorded"
            if r["exit"] and r["figures"]:
                what += ": a check of its own failed"
            lines.append(f"| {b.name} | {b.about} | {what} (see bench/out/{b.name}.run_all.log) | | | | |")
            if not r["figures"]:
                continue
        for f in r["figures"]:
            value, base = _num(f.get("value")), _num(f.get("baseline_value"))
            ratio = f"{value / base:.2f}x" if value is not None and base else ""
            unit = f" {f['unit']}" if f.get("unit") else ""
            lines.append(
                f"| {b.name} | {f['measure']} | {_fmt(f.get('value'))}{unit} | {f.get('baseline') or ''} | "
                f"{_fmt(f.get('baseline_value'))} | {ratio} | {f.get('target') or ''} |"
            )
    lines += ["", "| benchmark | script | arguments | exit | minutes |", "|---|---|---|---:|---:|"]
    for r in results:
        if not r.get("skipped"):
            b = r["bench"]
            args = " ".join((b.quick or ()) if quick else b.full)
            lines.append(f"| {b.name} | `bench/{b.script}` | `{args}` | {r['exit']} | {r['seconds'] / 60:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke sizes; benchmarks without one are skipped")
    ap.add_argument("--only", action="append", choices=[b.name for b in BENCHMARKS], help="run only these")
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    info = machine()
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    load_start = os.getloadavg()[0]
    results = []
    for bench in BENCHMARKS:
        if (args.only and bench.name not in args.only) or (args.quick and bench.quick is None):
            results.append({"bench": bench, "skipped": True})
            continue
        results.append(run_one(bench, args.quick))
    text = table(results, info, args.quick, started, (load_start, os.getloadavg()[0]))
    print(text)
    (OUT / "run_all.md").write_text(text, encoding="utf-8")
    if not args.no_doc:
        DOC.write_text(text, encoding="utf-8")
    return 1 if any(r.get("exit") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
