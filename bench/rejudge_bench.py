"""Re-judging benchmark: posts/s of `rjwatch rejudge` over a stored corpus, beside the ingest rate of
the same run (the same posts, the same machine, minutes apart).

The corpus is the ingest benchmark's synthetic posts (text input, bench/ingest_bench.py), stored
through `Ingestor.ingest_stream` with the workers `rjwatch ingest` would use. A new seed then
changes the rules, so every stored post is judged again (storage.rejudge, the path of the command:
the analysis pool, one transaction per batch). Nothing is fetched or extracted again.

    python bench/rejudge_bench.py             # 100,000 posts
    python bench/rejudge_bench.py --quick     # 10,000 posts
    python bench/rejudge_bench.py --posts N
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

#: The issue's target for re-judging, in posts/s on this 2-core machine.
TARGET_POSTS_PER_S = 1500
#: Posts stored by a full run (the issue's size) and by --quick.
FULL_POSTS = 100_000
QUICK_POSTS = 10_000
#: Posts per ingest transaction, as `rjwatch ingest` uses.
INGEST_BATCH = 200


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_POSTS:,} posts instead of {FULL_POSTS:,}")
    ap.add_argument("--posts", type=int, help="store and re-judge this many posts")
    args = ap.parse_args()
    n = args.posts or (QUICK_POSTS if args.quick else FULL_POSTS)

    from click.testing import CliRunner
    from figures import figure, record
    from ingest_bench import make_post

    from rjwatch.commands import main as cli
    from storage.db import connect
    from storage.ingest import Ingestor, default_workers
    from storage.rejudge import Filters, Rejudger
    from storage.seeds import add_seed

    tmp = Path(tempfile.mkdtemp(prefix="rjrejudge-"))
    try:
        db_path = tmp / "bench.db"
        r = CliRunner().invoke(cli, ["--db", str(db_path), "init"])
        assert r.exit_code == 0, r.output
        db = connect(db_path)
        rng = random.Random(42)
        posts = (make_post(k, rng, False) for k in range(n))
        t0 = time.perf_counter()
        stored = 0
        for batch in Ingestor(db).ingest_stream(posts, batch_size=INGEST_BATCH, workers=default_workers(n)):
            stored += batch.count("inserted")
        ingest_s = time.perf_counter() - t0
        # A new seed (the text of one stored post): every post now waits for re-judging.
        one = db.execute("SELECT title, text FROM posts ORDER BY id LIMIT 1").fetchone()
        add_seed(db, title=one[0], body=one[1])
        t0 = time.perf_counter()
        report = Rejudger(db).run(Filters())
        rejudge_s = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ingest_rate = stored / ingest_s
    rate = report.judged / rejudge_s
    print("| posts | ingest posts/s | rejudge posts/s | changed | target |")
    print("|---:|---:|---:|---:|---:|")
    print(
        f"| {report.judged:,} | {ingest_rate:,.0f} | {rate:,.0f} | {len(report.changes):,} | "
        f">= {TARGET_POSTS_PER_S:,} |"
    )
    record(
        "rejudge",
        [
            figure(
                f"re-judging {report.judged:,} stored posts",
                round(rate),
                "posts/s",
                baseline=f"ingest of the same posts: {ingest_rate:,.0f} posts/s",
                baseline_value=round(ingest_rate),
                target=f">= {TARGET_POSTS_PER_S:,} posts/s",
            )
        ],
    )
    return 0 if rate >= TARGET_POSTS_PER_S else 1


if __name__ == "__main__":
    sys.exit(main())
