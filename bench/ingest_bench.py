"""Ingest benchmark: posts/s through storage's write path, cost per post as the corpus grows, peak RSS.

Prints one table. Each measured run happens in its own subprocess (so its peak RSS is its own), and
the same run measures the raw limits it is compared with: a bare SQLite insert of the same rows and
a bare datasketch MinHash of the same texts.

The posts go through `Ingestor.ingest_stream` with the analysis workers `rjwatch ingest` would use.
The cost per post as the corpus grows is measured by a probe: 1,000 further posts stored in one
process, once in a database holding the run's first 1,000 posts and once at the end of the run. The
pipeline's own ms/post over posts 1,000-2,000 and over the last tenth are shown beside it.

    python bench/ingest_bench.py            # 10k and 100k posts, text and HTML input
    python bench/ingest_bench.py --quick    # 2k and 10k (a smoke run)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from procstat import descendants, pss_kb  # noqa: E402

#: Posts per transaction, as the crawlers and `rjwatch ingest` use (setting batch_size).
BATCH = 200
#: Window over which the cost per post is measured with ~1k posts stored (posts 1,000-2,000).
WINDOW = 1000
#: Share of the run, at its end, over which the cost per post "at the end" is averaged. FTS5 merges
#: its index segments now and then, so one short window at the end can land on a merge (we saw the
#: last 1,000 posts of one 100k run cost 1.0x and of another 2.2x the early window); a tenth of the
#: run averages the merges in, as a long-running ingest pays them.
END_SHARE = 0.1
#: Probe: this many extra posts (a generator of their own) are ingested in one process, in batches
#: of BATCH, once the database holds PROBE_AT posts and again at the end of the run. Their ms/post
#: is the cost per post at that corpus size, free of the pipeline's start-up and of the analysis
#: workers' competition for the CPU; the end/start ratio is what must stay <= 1.3 (no scan).
PROBE = 1000
PROBE_AT = 1000
#: Target size of a synthetic post body, in bytes of text.
POST_BYTES = 3000

_EN = (
    "the of and to in a is that for on with as was by at from talks minister said russia japan "
    "islands treaty peace tokyo moscow foreign defense government officials meeting week year "
    "economic cooperation region sanctions agreement visit summit new after before during which "
    "would could people country both sides issue policy security trade energy fishing border "
    "statement press conference spokesman ministry report analysts expect next month plans"
).split()
_RU = (
    "и в на с по что это как не для от о переговоры министр россия япония острова договор мир "
    "токио москва встреча правительство сотрудничество санкции визит саммит стороны вопрос"
).split()
_ES = (
    "el la de y en que a los las por con para una un se del rusia japón islas tratado paz tokio "
    "moscú reunión gobierno cooperación sanciones visita cumbre ministro conversaciones"
).split()
_JA = list("日本ロシア政府外相会談北方領土平和条約交渉東京モスクワ協力経済制裁首脳訪問漁業島問題関係")


def make_post(i: int, rng: random.Random, html: bool) -> dict:
    lang = rng.choices(["en", "ru", "es", "ja"], weights=[70, 10, 10, 10])[0]
    paras = []
    size = 0
    while size < POST_BYTES:
        if lang == "ja":
            para = "".join(rng.choice(_JA) for _ in range(rng.randint(60, 120))) + "。"
        else:
            vocab = {"en": _EN, "ru": _RU, "es": _ES}[lang]
            words = [rng.choice(vocab) for _ in range(rng.randint(40, 90))]
            words.insert(0, f"w{i}x{len(paras)}")  # makes every post distinct
            para = " ".join(words).capitalize() + "."
        paras.append(para)
        size += len(para.encode())
    item = {
        "url": f"https://blog{i % 500}.blogspot.com/2024/{1 + i % 12:02d}/post-{i}.html",
        "title": f"Post {i} about the talks",
        "published": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "seen_via": "feed",
    }
    if html:
        item["html"] = "".join(f"<p>{p} <a href='https://ref{i % 97}.example.org/{i}'>source</a></p>" for p in paras)
    else:
        item["text"] = "\n".join(paras)
    return item


def peak_rss_mb() -> float:
    """Peak RSS of this (the writing) process."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class MemorySampler(threading.Thread):
    """Samples the proportional set size (PSS) of this process and its worker processes.

    Workers are forked, so most of their pages are shared with the writer; PSS counts a shared page
    once across them, which is the memory the ingest really takes. RSS would count it per process.
    """

    def __init__(self, interval: float = 0.25):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_mb = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.is_set():
            total = sum(pss_kb(pid) for pid in [me, *descendants(me)]) / 1024
            self.peak_mb = max(self.peak_mb, total)
            self.stop.wait(self.interval)


def run_one(kind: str, n: int) -> dict:
    """Ingest n synthetic posts into a fresh database; measure rates and baselines."""
    from click.testing import CliRunner

    from rjwatch.commands import main as cli
    from storage.db import connect
    from storage.ingest import Ingestor, default_workers

    tmp = Path(tempfile.mkdtemp(prefix="rjbench-"))
    db_path = tmp / "bench.db"
    r = CliRunner().invoke(cli, ["--db", str(db_path), "init"])
    assert r.exit_code == 0, r.output
    db = connect(db_path)
    ing = Ingestor(db, alerts=True)
    rng = random.Random(42)
    html = kind == "html"
    window_times: dict[str, float] = {}
    done = 0
    workers = default_workers(n)

    def stream():
        for k in range(n):
            yield make_post(k, rng, html)

    # The probe at the start runs in a process of its own (its memory is not this run's), on a
    # database holding the run's first PROBE_AT posts.
    out = subprocess.run([sys.executable, __file__, "--probe-start", kind], capture_output=True, text=True, cwd=REPO)
    if out.returncode:
        raise SystemExit(f"probe failed:\n{out.stderr[-2000:]}")
    probe_ms = {"start": float(out.stdout.strip().splitlines()[-1])}

    t0 = time.perf_counter()
    sampler = MemorySampler()
    sampler.start()
    last = time.perf_counter()
    # "fork", as `rjwatch ingest` gets (it runs no other thread; this process has the sampler's).
    for result in ing.ingest_stream(stream(), batch_size=BATCH, workers=workers, start_method="fork"):
        now = time.perf_counter()
        elapsed, last = now - last, now
        assert not result.errors, result.errors[:3]
        # cost per post when ~1k posts are stored (posts 1000-2000) and at the end of the run
        if 1000 <= done < 1000 + WINDOW:
            window_times["at_1k"] = window_times.get("at_1k", 0) + elapsed
        if done >= n - max(WINDOW, int(n * END_SHARE)):
            window_times["at_end"] = window_times.get("at_end", 0) + elapsed
            window_times["end_posts"] = window_times.get("end_posts", 0) + len(result.outcomes)
        done += len(result.outcomes)
    total = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    rss = peak_rss_mb()  # before the end probe, which is not part of the run
    probe_ms["end"] = probe(ing, kind)
    gen_rng = random.Random(42)
    gen_start = time.perf_counter()
    sample = [make_post(k, gen_rng, html) for k in range(2000)]
    gen_cost = (time.perf_counter() - gen_start) / 2000  # generation is not ingest: subtract it
    ingest_rate = n / (total - gen_cost * n)
    db_size = db_path.stat().st_size + sum(p.stat().st_size for p in tmp.glob("bench.db-*"))
    base = baselines(sample, tmp)
    return {
        "kind": kind,
        "n": n,
        "seconds": round(total, 1),
        "posts_per_s": round(ingest_rate, 1),
        "ms_per_post_at_1k": round(window_times.get("at_1k", 0) / WINDOW * 1000, 3),
        "ms_per_post_at_end": round(window_times.get("at_end", 0) / max(1, window_times.get("end_posts", 0)) * 1000, 3),
        "probe_ms_at_start": round(probe_ms["start"], 3),
        "probe_ms_at_end": round(probe_ms["end"], 3),
        "peak_rss_mb": round(rss, 1),
        "peak_pss_all_mb": round(sampler.peak_mb, 1),
        "workers": workers,
        "db_mb": round(db_size / 1e6, 1),
        **base,
    }


def probe(target, kind: str) -> float:
    """ms per post of PROBE more posts stored in one process (analysis and writes), in batches."""
    rng = random.Random(7)
    posts = [make_post(10**9 + k, rng, kind == "html") for k in range(PROBE)]
    start = time.perf_counter()
    for b in range(0, PROBE, BATCH):
        assert not target.ingest_many(posts[b : b + BATCH]).errors
    return (time.perf_counter() - start) / PROBE * 1000


def probe_start(kind: str) -> float:
    """The probe on a fresh database holding the first PROBE_AT posts of a run."""
    from click.testing import CliRunner

    from rjwatch.commands import main as cli
    from storage.db import connect
    from storage.ingest import Ingestor

    path = Path(tempfile.mkdtemp(prefix="rjbench-probe-")) / "small.db"
    assert CliRunner().invoke(cli, ["--db", str(path), "init"]).exit_code == 0
    ing = Ingestor(connect(path), alerts=True)
    rng = random.Random(42)  # the run's own generator: the same first posts
    first = [make_post(k, rng, kind == "html") for k in range(PROBE_AT)]
    for b in range(0, PROBE_AT, BATCH):
        ing.ingest_many(first[b : b + BATCH])
    return probe(ing, kind)


def baselines(sample: list[dict], tmp: Path) -> dict:
    """Bare SQLite insert (same text, batched, with and without FTS5) and bare MinHash per post."""
    from datasketch import MinHash

    from judge.htmltext import html_to_text

    texts = [s.get("text") or html_to_text(s["html"]) for s in sample]
    conn = sqlite3.connect(tmp / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, url TEXT UNIQUE, title TEXT, text TEXT)")
    start = time.perf_counter()
    for b in range(0, len(texts), BATCH):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO t (url, title, text) VALUES (?, ?, ?)",
            [(sample[k]["url"], sample[k]["title"], texts[k]) for k in range(b, min(b + BATCH, len(texts)))],
        )
        conn.execute("COMMIT")
    sqlite_rate = len(texts) / (time.perf_counter() - start)
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(title, text)")
    start = time.perf_counter()
    for b in range(0, len(texts), BATCH):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO f (title, text) VALUES (?, ?)",
            [(sample[k]["title"], texts[k]) for k in range(b, min(b + BATCH, len(texts)))],
        )
        conn.execute("COMMIT")
    sqlite_fts_rate = len(texts) / (time.perf_counter() - start)
    perms = MinHash(num_perm=64, seed=1, scheme="affine32").permutations
    start = time.perf_counter()
    for t in texts:
        toks = t.lower().split()
        sh = {zlib.crc32(" ".join(toks[i : i + 3]).encode()) for i in range(len(toks) - 2)}
        m = MinHash(num_perm=64, seed=1, hashfunc=int, permutations=perms, scheme="affine32")
        m.update_batch(list(sh))
    minhash_rate = len(texts) / (time.perf_counter() - start)
    return {
        "bare_sqlite_per_s": round(sqlite_rate),
        "bare_sqlite_fts_per_s": round(sqlite_fts_rate),
        "bare_minhash_per_s": round(minhash_rate),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2k and 10k posts instead of 10k and 100k")
    ap.add_argument("--one", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--probe-start", metavar="KIND", help=argparse.SUPPRESS)
    ap.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = ap.parse_args()
    if args.probe_start:
        print(probe_start(args.probe_start))
        return
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]))))
        return
    sizes = (2_000, 10_000) if args.quick else (10_000, 100_000)
    rows = []
    for kind in ("text", "html"):
        for n in sizes:
            out = subprocess.run(
                [sys.executable, __file__, "--one", kind, str(n)], capture_output=True, text=True, cwd=REPO
            )
            if out.returncode:
                sys.exit(f"benchmark run {kind} {n} failed:\n{out.stderr[-2000:]}")
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"... {kind} {n}: {rows[-1]['posts_per_s']} posts/s", file=sys.stderr)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")
    print(
        "| input | posts | posts/s | probe ms/post at 1k stored | probe ms/post at the end | ratio | "
        "pipeline ms/post at 1k / at the end | peak RSS MB (writer) | peak memory MB (PSS, writer + workers) | "
        "DB MB | bare SQLite rows/s (with FTS5) | bare MinHash posts/s | ingest as share of bare SQLite+FTS / MinHash |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = r["probe_ms_at_end"] / r["probe_ms_at_start"]
        print(
            f"| {r['kind']} | {r['n']:,} | {r['posts_per_s']:,} | {r['probe_ms_at_start']} | {r['probe_ms_at_end']} | "
            f"{ratio:.2f} | {r['ms_per_post_at_1k']} / {r['ms_per_post_at_end']} | "
            f"{r['peak_rss_mb']} | {r['peak_pss_all_mb']} | {r['db_mb']} | {r['bare_sqlite_per_s']:,} ({r['bare_sqlite_fts_per_s']:,}) | "
            f"{r['bare_minhash_per_s']:,} | {r['posts_per_s'] / r['bare_sqlite_fts_per_s']:.1%} / "
            f"{r['posts_per_s'] / r['bare_minhash_per_s']:.1%} |"
        )
    if args.json:
        print(json.dumps(rows))
    from figures import figure, record

    figs = []
    for r in rows:
        what = f"ingest, {r['kind']} input, {r['n']:,} posts"
        figs.append(
            figure(
                what,
                r["posts_per_s"],
                "posts/s",
                "bare SQLite insert with FTS5, same rows",
                r["bare_sqlite_fts_per_s"],
                ">= 600 (text), >= 300 (HTML)",
            )
        )
        figs.append(
            figure(
                f"{what}: probe ms/post at the end",
                r["probe_ms_at_end"],
                "ms",
                f"probe ms/post with {PROBE_AT:,} stored",
                r["probe_ms_at_start"],
                "<= 1.3x",
                note=f"pipeline windows: {r['ms_per_post_at_1k']} ms/post at 1k, {r['ms_per_post_at_end']} at the end",
            )
        )
        figs.append(figure(f"{what}: peak memory (PSS, all processes)", r["peak_pss_all_mb"], "MB", target="<= 300"))
    record("ingest", figs)


if __name__ == "__main__":
    main()
