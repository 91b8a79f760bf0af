"""Re-judging benchmark: posts/s of `rjwatch rejudge` over a stored corpus, beside the ingest rate of
the same run (the same posts, the same machine, minutes apart), for the two changes that send every
stored post to be judged again.

The corpus is the ingest benchmark's synthetic posts (text input, bench/ingest_bench.py), stored
through `Ingestor.ingest_stream` with the workers `rjwatch ingest` would use. Then, in turn:

- profile: the topic profile changes (one more relations term, stored as `rjwatch init` stores a
  new profile), so every post's relevance is scored again from its stored text: the costly path;
- seed: a new seed (the text of one stored post), so every post is compared with that seed.

Each is re-judged through storage.rejudge, the path of the command (the analysis pool, one
transaction per batch). Nothing is fetched or extracted again. Peak memory is the proportional set
size of this process and its analysis workers (forked: shared pages count once), sampled through
each phase.

    python bench/rejudge_bench.py             # 100,000 posts
    python bench/rejudge_bench.py --quick     # 10,000 posts
    python bench/rejudge_bench.py --posts N
"""

from __future__ import annotations

import argparse
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
#: The profile change: one more term in the relations vocabulary (a user refining what they watch).
#: Any change to the profile's text changes its hash, so every post is scored again.
PROFILE_SECTION = "[concepts.relations]"
EXTRA_TERM = '"détente", '


def changed_profile(raw: str) -> str:
    """The stored profile with EXTRA_TERM added to its relations terms."""
    head, section, rest = raw.partition(PROFILE_SECTION)
    assert section, f"no {PROFILE_SECTION} in the profile"
    terms, opening, tail = rest.partition("terms = [")
    return head + section + terms + opening + EXTRA_TERM + tail


def timed_rejudge(db, Rejudger, Filters, MemorySampler) -> dict:
    sampler = MemorySampler()
    sampler.start()
    t0 = time.perf_counter()
    report = Rejudger(db).run(Filters())
    seconds = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    return {
        "judged": report.judged,
        "changed": len(report.changes),
        "rate": report.judged / seconds,
        "seconds": seconds,
        "pss_mb": sampler.peak_mb,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_POSTS:,} posts instead of {FULL_POSTS:,}")
    ap.add_argument("--posts", type=int, help="store and re-judge this many posts")
    args = ap.parse_args()
    n = args.posts or (QUICK_POSTS if args.quick else FULL_POSTS)

    import random

    from click.testing import CliRunner
    from figures import figure, record
    from ingest_bench import MemorySampler, make_post

    from rjwatch.commands import main as cli
    from storage.db import connect
    from storage.ingest import Ingestor, default_workers, load_profile
    from storage.rejudge import Filters, Rejudger, stale_count
    from storage.seeds import add_seed, store_topic

    tmp = Path(tempfile.mkdtemp(prefix="rjrejudge-"))
    try:
        db_path = tmp / "bench.db"
        r = CliRunner().invoke(cli, ["--db", str(db_path), "init"])
        assert r.exit_code == 0, r.output
        db = connect(db_path)
        rng = random.Random(42)
        posts = (make_post(k, rng, False) for k in range(n))
        sampler = MemorySampler()
        sampler.start()
        t0 = time.perf_counter()
        stored = 0
        for batch in Ingestor(db).ingest_stream(posts, batch_size=INGEST_BATCH, workers=default_workers(n)):
            stored += batch.count("inserted")
        ingest_s = time.perf_counter() - t0
        sampler.stop.set()
        sampler.join()
        ingest = {"rate": stored / ingest_s, "pss_mb": sampler.peak_mb}

        # A new profile, stored as `rjwatch init` stores it: every post waits for re-judging.
        profile = load_profile(db)
        store_topic(db, profile.name, changed_profile(profile.raw or ""))
        assert stale_count(db) == stored
        cases = {"profile": timed_rejudge(db, Rejudger, Filters, MemorySampler)}
        # A new seed (the text of one stored post): every post is compared with it.
        one = db.execute("SELECT title, text FROM posts ORDER BY id LIMIT 1").fetchone()
        add_seed(db, title=one[0], body=one[1])
        assert stale_count(db) == stored
        cases["seed"] = timed_rejudge(db, Rejudger, Filters, MemorySampler)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("| change | posts | ingest posts/s | rejudge posts/s | changed | peak MB (PSS, all) | target |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| (ingest) | {stored:,} | {ingest['rate']:,.0f} | | | {ingest['pss_mb']:,.0f} | |")
    for name, c in cases.items():
        held = "held" if c["rate"] >= TARGET_POSTS_PER_S else "MISSED"
        print(
            f"| {name} | {c['judged']:,} | {ingest['rate']:,.0f} | {c['rate']:,.0f} | {c['changed']:,} | "
            f"{c['pss_mb']:,.0f} | >= {TARGET_POSTS_PER_S:,} ({held}) |"
        )
    what = {"profile": "after a topic profile change", "seed": "after a new seed"}
    figs = []
    for name, c in cases.items():
        figs.append(
            figure(
                f"re-judging {c['judged']:,} stored posts {what[name]}",
                round(c["rate"]),
                "posts/s",
                baseline=f"ingest of the same posts: {ingest['rate']:,.0f} posts/s",
                baseline_value=round(ingest["rate"]),
                target=f">= {TARGET_POSTS_PER_S:,} posts/s",
                note=f"{c['changed']:,} verdicts changed",
            )
        )
        figs.append(figure(f"re-judging {what[name]}: peak memory (PSS, all processes)", round(c["pss_mb"]), "MB"))
    record("rejudge", figs)
    return 0 if all(c["rate"] >= TARGET_POSTS_PER_S for c in cases.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
