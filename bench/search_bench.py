"""Search benchmark: search latency, export throughput and FTS index size at a million posts.

Builds (once, then caches under bench/out/) a corpus of synthetic posts of about 3 KB each in
English, Spanish, Russian and Japanese, with a few terms planted at known frequencies, then reports:

* p50/p95 latency of `storage.search.search()` (newest first and `rank=True`) for a common, a mid,
  a rare, a phrase and two CJK queries, beside the bare FTS5 MATCH query on the same database in
  the same run (the floor the search layer is compared with), and one CLI-level timing;
* rows/s and peak RSS of a full `rjwatch export --format jsonl`, beside a bare `SELECT * FROM posts`
  iteration, each in its own subprocess;
* the share of the database taken by the two FTS5 indexes.

The corpus is written straight into `posts` (with one `sightings` row per post) by `executemany` in
large transactions: the FTS triggers of the schema fill both indexes as the real write path does,
but judging (relevance, near-duplicates, classification) is skipped. Through the real write path a
million posts would take hours; its speed is measured by bench/ingest_bench.py.

    python bench/search_bench.py --keep          # 1,000,000 posts, corpus kept in bench/out/ for reruns
    python bench/search_bench.py --quick         # 100,000 posts
    python bench/search_bench.py --posts 300000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: Bump when the generated corpus or the schema it is written to changes, so a cached database of
#: the old corpus is not reused. (2: posts carry the `cjk` flag that puts them in the trigram index.)
CORPUS_VERSION = 2
OUT = REPO / "bench" / "out"
#: Target size of a post body, in bytes of UTF-8 text.
POST_BYTES = 3000
#: Posts per build transaction: large enough that commits cost nothing, small enough for the WAL.
BUILD_BATCH = 20_000
SOURCES = 100
#: Language mix of the corpus (weights, percent).
LANGS = {"en": 55, "es": 15, "ru": 15, "ja": 15}
#: Timed runs per query and mode (after WARMUP untimed ones); a slow query stops at MAX_SECONDS.
RUNS, WARMUP, MAX_SECONDS, MIN_RUNS = 30, 3, 25.0, 5
#: A query slower than SLOW_S seconds (a full substring scan) gets one warm-up and SLOW_RUNS runs.
SLOW_S, SLOW_RUNS = 1.0, 3
#: Page size of every timed search, as the CLI's default --limit.
LIMIT = 20
#: The targets of the search layer.
NEWEST_P95_MS = 50.0          # newest first, any term
RANK_P95_MS = 50.0            # rank=True, terms in at most RANK_SHARE of the posts
RANK_SHARE = 0.01
RANK_VS_BARE = 1.5            # rank=True for common terms, against bare ORDER BY rank
EXPORT_RSS_MB = 200.0
#: How often a child's peak RSS is read; VmHWM is a high-water mark, so only the last interval
#: before exit can be missed.
RSS_POLL_S = 0.02

# Planted terms: (kind, query, where it goes, share of posts). None of these words or characters is
# in the generating vocabularies below, so each occurs exactly where it is planted.
COMMON, MID, RARE = "japan", "sakhalin", "shikotan"
PHRASE_SHARE, PHRASE_WORD_SHARE = 0.008, 0.05     # "peace treaty" adjacent, and each word alone
CJK_LONG, CJK_SHORT, CJK_SHORT_RARE = "北方領土", "日露", "色丹"
SHARES = {MID: 0.01, RARE: 0.0001}
JA_SHARES = {CJK_LONG: 0.06, CJK_SHORT: 0.20, CJK_SHORT_RARE: 0.0007}  # of the Japanese posts

QUERIES = [  # (kind, query, index it runs on)
    ("common", COMMON, "posts_fts"),
    ("mid (1%)", MID, "posts_fts"),
    ("rare (0.01%)", RARE, "posts_fts"),
    ("phrase", '"peace treaty"', "posts_fts"),
    ("cjk >=3 chars", CJK_LONG, "posts_cjk"),
    ("cjk 2 chars", CJK_SHORT, "scan"),
    ("cjk 2 chars rare", CJK_SHORT_RARE, "scan"),
]

_EN = ("the of and to in a is that for on with as was by at from talks minister said russia tokyo moscow "
       "islands foreign defense government officials meeting week year economic cooperation region "
       "sanctions agreement visit summit new after before during which would could people country both "
       "sides issue policy security trade energy fishing border statement press conference spokesman "
       "ministry report analysts expect next month plans northern territories kremlin diplomats "
       "negotiations joint activity residents former exchange delegation patrol vessels waters quota "
       "salmon crab gas pipeline investment ruble yen market exports imports pacific far east").split()
_ES = ("el la de y en que a los las por con para una un se del rusia islas tokio moscú reunión gobierno "
       "cooperación sanciones visita cumbre ministro conversaciones acuerdo frontera pesca energía "
       "seguridad región semana año funcionarios declaración según portavoz kremlin diplomáticos").split()
_RU = ("и в на с по что это как не для от о переговоры министр россия острова договор токио москва "
       "встреча правительство сотрудничество санкции визит саммит стороны вопрос граница рыболовство "
       "энергетика безопасность регион неделя год заявление курилы кремль дипломаты делегация").split()
# No 北, 領, 露 or 丹 anywhere, so 北方領土, 日露 and 色丹 only occur where planted.
_JA = ("日本 ロシア 政府 外相 会談 平和 条約 交渉 東京 モスクワ 協力 経済 制裁 首脳 訪問 漁業 島 問題 関係 "
       "外務省 大臣 記者 会見 発表 首相 大統領 両国 協議 再開 共同 活動 択捉島 国後島 歯舞 元島民 "
       "墓参 ビザ 漁船 拿捕 天然ガス 投資 輸出 輸入 市場 安全 保障 国境 地域 来月 今年 昨年").split()
_JA_PARTICLES = "は が を に で と の も へ から まで".split()


def _sentence_pool(rng: random.Random, lang: str, n: int = 4000) -> list[str]:
    out = []
    for _ in range(n):
        if lang == "ja":
            words = [rng.choice(_JA) + rng.choice(_JA_PARTICLES) for _ in range(rng.randint(6, 14))]
            out.append("".join(words) + "。")
        else:
            vocab = {"en": _EN, "es": _ES, "ru": _RU}[lang]
            words = [rng.choice(vocab) for _ in range(rng.randint(8, 22))]
            out.append(" ".join(words).capitalize() + ".")
    return out


class Corpus:
    """Deterministic post generator with the planted terms at their shares."""

    def __init__(self, seed: int = 7):
        self.rng = random.Random(seed)
        self.pools = {lang: _sentence_pool(self.rng, lang) for lang in LANGS}
        self.langs, self.weights = list(LANGS), list(LANGS.values())

    def post(self, i: int) -> tuple[str, str, str]:
        rng = self.rng
        lang = rng.choices(self.langs, self.weights)[0]
        pool = self.pools[lang]
        sentences, size = [], 0
        while size < POST_BYTES:
            s = pool[rng.randrange(len(pool))]
            sentences.append(s)
            size += len(s.encode()) + 1
        planted = [f"{COMMON}"]
        for term, share in SHARES.items():
            if rng.random() < share:
                planted.append(term)
        if rng.random() < PHRASE_SHARE:
            planted.append("peace treaty")
        for word in ("peace", "treaty"):
            if rng.random() < PHRASE_WORD_SHARE:
                planted.append(f"{word} talks")  # the word, not next to its partner
        if lang == "ja":
            for term, share in JA_SHARES.items():
                if rng.random() < share:
                    planted.append(term)
        for term in planted:
            at = rng.randrange(len(sentences))
            sep = "" if lang == "ja" and not term.isascii() else " "
            sentences[at] = sentences[at] + sep + term + ("。" if lang == "ja" else ".")
        joiner = "" if lang == "ja" else " "
        paras = [joiner.join(sentences[k:k + 6]) for k in range(0, len(sentences), 6)]
        title_words = pool[rng.randrange(len(pool))].rstrip(".。")[:60]
        return lang, title_words, "\n\n".join(paras)


def corpus_path(n: int) -> Path:
    return OUT / f"search-corpus-v{CORPUS_VERSION}-{n}.db"


def build(n: int) -> tuple[Path, float | None]:
    """The cached corpus database for n posts, building it if missing; (path, build seconds or None)."""
    from storage.db import connect
    from storage.schema import migrate

    path = corpus_path(n)
    if path.exists():
        return path, None
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    started = time.perf_counter()
    db = connect(tmp, create=True)
    migrate(db)
    conn = db.conn
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")
    base = 1_600_000_000  # epoch seconds of the first post; one post every 30 s after it
    stamp = lambda i: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base + 30 * i))  # noqa: E731
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO sources (id, url, canonical, kind, name, state, added_at) VALUES (?, ?, ?, 'blogger', ?, 'enabled', ?)",
        [(s, f"https://watch{s}.blogspot.com/", f"watch{s}.blogspot.com", f"Watch {s}", stamp(0))
         for s in range(1, SOURCES + 1)])
    conn.execute("COMMIT")
    # Ingest flags posts with CJK characters, and the trigram index takes the flagged ones; a schema
    # without the flag tests the text in its trigger instead.
    flag = "cjk" in {c[1] for c in conn.execute("PRAGMA table_info(posts)")}
    corpus = Corpus()
    statuses = ["new"] * 6 + ["off_topic"] * 3 + ["duplicate"]
    done = 0
    while done < n:
        posts, sightings = [], []
        for i in range(done + 1, min(n, done + BUILD_BATCH) + 1):
            lang, title, text = corpus.post(i)
            source = 1 + i % SOURCES
            url = f"https://watch{source}.blogspot.com/{2020 + i // 200_000}/{1 + i % 12:02d}/post-{i}.html"
            seen = stamp(i)
            posts.append((i, url, url, str(1000 + source), str(i), source, title, seen, lang, text, f"{i:016x}",
                          statuses[i % len(statuses)], round((i * 7919 % 1000) / 1000, 3), seen, seen)
                         + ((int(lang == "ja"),) if flag else ()))
            sightings.append((i, url, "page", source, seen, seen))
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO posts (id, canonical_url, url, blog_id, post_id, source_id, title, published, lang, text, "
            f"content_hash, status, relevance, first_seen, last_seen{', cjk' if flag else ''}) "
            f"VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?{',?' if flag else ''})", posts)
        conn.executemany(
            "INSERT INTO sightings (post_id, url, via, source_id, first_seen, last_seen) VALUES (?,?,?,?,?,?)",
            sightings)
        conn.execute("COMMIT")
        done += len(posts)
        rate = done / (time.perf_counter() - started)
        print(f"\r  built {done:,}/{n:,} posts ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    tmp.rename(path)
    return path, time.perf_counter() - started


# -- measuring -----------------------------------------------------------------------------------
def timed(fn, *, runs: int = RUNS) -> dict:
    """p50/p95 in ms of fn() over `runs` timed calls after WARMUP, stopping early past MAX_SECONDS.

    A query whose first call takes over SLOW_S seconds (a full substring scan) gets one warm-up and
    SLOW_RUNS timed calls: its figure is seconds either way.
    """
    t = time.perf_counter()
    fn()
    if time.perf_counter() - t < SLOW_S:
        for _ in range(WARMUP - 1):
            fn()
    else:
        runs = SLOW_RUNS
    samples, start = [], time.perf_counter()
    while len(samples) < runs and (len(samples) < min(runs, MIN_RUNS) or time.perf_counter() - start < MAX_SECONDS):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return {"p50_ms": round(statistics.median(samples), 3), "p95_ms": round(p95, 3), "runs": len(samples)}


def measure_queries(path: Path, n: int) -> list[dict]:
    from storage.db import connect
    from storage.search import search

    db = connect(path, create=False)
    conn = db.conn
    out = []
    for kind, query, index in QUERIES:
        if index == "scan":
            bare_sql = "SELECT id FROM posts WHERE instr(text, ?) > 0 ORDER BY id DESC LIMIT ?"
            count = conn.execute("SELECT count(*) FROM posts WHERE instr(text, ?) > 0", [query]).fetchone()[0]
            bare = lambda: conn.execute(bare_sql, [query, LIMIT]).fetchall()  # noqa: E731
            bare_rank = None
        else:
            count = conn.execute(f"SELECT count(*) FROM {index} WHERE {index} MATCH ?", [query]).fetchone()[0]
            bare = lambda: conn.execute(  # noqa: E731
                f"SELECT rowid FROM {index} WHERE {index} MATCH ? LIMIT ?", [query, LIMIT]).fetchall()
            bare_rank = lambda: conn.execute(  # noqa: E731
                f"SELECT rowid FROM {index} WHERE {index} MATCH ? ORDER BY rank LIMIT ?", [query, LIMIT]).fetchall()
        hits = search(db, query, limit=LIMIT)
        row = {"kind": kind, "query": query, "index": index, "matches": count, "share": round(count / n, 6),
               "hits": len(hits)}
        row["bare"] = timed(bare)
        row["newest"] = timed(lambda: search(db, query, limit=LIMIT))
        if bare_rank is not None:
            row["bare_rank"] = timed(bare_rank)
        if index == "scan":
            row["rank"] = row["newest"]  # the substring scan has no scores: rank=True runs the same query
        else:
            row["rank"] = timed(lambda: search(db, query, limit=LIMIT, rank=True))
        row["checks"] = checks(row, n)
        out.append(row)
        print(f"  {kind:18} {count:>9,} matches  newest p95 {row['newest']['p95_ms']:8.2f} ms  "
              f"rank p95 {row['rank']['p95_ms']:8.2f} ms  bare p95 {row['bare']['p95_ms']:8.2f} ms"
              + (f"  bare rank p95 {row['bare_rank']['p95_ms']:8.2f} ms" if bare_rank else ""), file=sys.stderr)
    db.conn.close()
    return out


def checks(row: dict, n: int) -> dict:
    res = {"newest_p95_under_50ms": row["newest"]["p95_ms"] < NEWEST_P95_MS}
    if row["index"] == "scan":
        return res  # the substring scan has no ranking: --rank lists it newest first too
    if row["matches"] <= RANK_SHARE * n:
        res["rank_p95_under_50ms"] = row["rank"]["p95_ms"] < RANK_P95_MS
    else:
        res["rank_within_1.5x_bare_rank"] = row["rank"]["p95_ms"] <= RANK_VS_BARE * row["bare_rank"]["p95_ms"]
    return res


def rjwatch_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("rjwatch")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "rjwatch.cli"]


def measure_cli(path: Path, runs: int = 5) -> dict:
    """Wall time of whole `rjwatch search` processes (startup included), beside `rjwatch --help`."""
    def wall(args):
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run(rjwatch_cmd() + args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            samples.append((time.perf_counter() - t) * 1000)
        return round(statistics.median(samples), 1)

    return {"search_common_ms": wall(["--db", str(path), "search", COMMON, "--format", "json"]),
            "search_common_rank_ms": wall(["--db", str(path), "search", COMMON, "--rank", "--format", "json"]),
            "help_ms": wall(["--help"]), "runs": runs}


def _hwm_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def run_measured(cmd: list[str]) -> dict:
    """Run a command to completion; its wall time and peak RSS.

    The peak is the child's own VmHWM, polled from /proc: the ru_maxrss that wait4() reports is not
    reset by exec on Linux, so a child of this (large, after a build) process would inherit its peak.
    """
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err: list[bytes] = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
    reader.start()
    peak_kb = 0
    while proc.poll() is None:
        peak_kb = max(peak_kb, _hwm_kb(proc.pid) or 0)
        time.sleep(RSS_POLL_S)
    wall = time.perf_counter() - t
    reader.join()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {err[0].decode(errors='replace').strip()}")
    return {"seconds": round(wall, 2), "peak_rss_mb": round(peak_kb / 1024, 1),
            "stderr": err[0].decode(errors="replace").strip()}


BARE_EXPORT = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
n = 0
for row in conn.execute("SELECT * FROM posts ORDER BY id"):
    n += 1
print(n, file=sys.stderr)
"""


def measure_export(path: Path, n: int) -> dict:
    export = run_measured(rjwatch_cmd() + ["--db", str(path), "export", "--format", "jsonl", "-o", "/dev/null"])
    bare = run_measured([sys.executable, "-c", BARE_EXPORT, str(path)])
    for r in (export, bare):
        r["rows_per_s"] = round(n / r["seconds"])
    export["rss_under_200mb"] = export["peak_rss_mb"] <= EXPORT_RSS_MB
    return {"export": export, "bare_select": bare}


def measure_sizes(path: Path) -> dict:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    total = conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
    try:
        sizes = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
    except sqlite3.OperationalError:
        sizes = {}
    conn.close()
    fts = sum(v for k, v in sizes.items() if k.startswith("posts_fts"))
    cjk = sum(v for k, v in sizes.items() if k.startswith("posts_cjk"))
    posts = sizes.get("posts", 0)
    return {"db_bytes": total, "posts_bytes": posts, "posts_fts_bytes": fts, "posts_cjk_bytes": cjk,
            "posts_fts_share": round(fts / total, 4) if sizes else None,
            "posts_cjk_share": round(cjk / total, 4) if sizes else None,
            "fts_total_share": round((fts + cjk) / total, 4) if sizes else None,
            "dbstat": bool(sizes)}


def machine() -> dict:
    model = ""
    try:
        model = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "")
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpus": os.cpu_count(), "cpu_model": model, "ram_gib": round(ram, 1), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "platform": platform.platform()}


def report(res: dict) -> None:
    n = res["posts"]
    print(f"\nSearch benchmark, {n:,} posts ({res['machine']['cpus']} CPUs, SQLite {res['machine']['sqlite']})")
    if res["build_seconds"] is not None:
        print(f"corpus built in {res['build_seconds']:.0f} s")
    print(f"{'query':18} {'matches':>9} {'bare':>8} {'newest':>8} {'p95':>8} {'bare rank':>9} {'rank':>8} {'p95':>8}"
          f"  (ms: bare/newest/rank p50, then p95)")
    for q in res["queries"]:
        br = q.get("bare_rank")
        print(f"{q['kind']:18} {q['matches']:>9,} {q['bare']['p50_ms']:8.2f} {q['newest']['p50_ms']:8.2f} "
              f"{q['newest']['p95_ms']:8.2f} {(br['p95_ms'] if br else float('nan')):9.2f} "
              f"{q['rank']['p50_ms']:8.2f} {q['rank']['p95_ms']:8.2f}  "
              + " ".join(f"{k}={'ok' if v else 'MISSED'}" for k, v in q["checks"].items()))
    if "cli" in res:
        c = res["cli"]
        print(f"CLI wall time: search {c['search_common_ms']} ms, search --rank {c['search_common_rank_ms']} ms, "
              f"--help {c['help_ms']} ms (median of {c['runs']})")
    if "export" in res:
        e, b = res["export"]["export"], res["export"]["bare_select"]
        print(f"export jsonl: {e['seconds']} s, {e['rows_per_s']:,} rows/s, peak RSS {e['peak_rss_mb']} MB "
              f"({'ok' if e['rss_under_200mb'] else 'MISSED'}); bare SELECT *: {b['seconds']} s, "
              f"{b['rows_per_s']:,} rows/s, peak RSS {b['peak_rss_mb']} MB")
    s = res["sizes"]
    print(f"database {s['db_bytes'] / 2**30:.2f} GiB: posts_fts {s['posts_fts_share']:.1%}, "
          f"posts_cjk {s['posts_cjk_share']:.1%}, posts {s['posts_bytes'] / s['db_bytes']:.1%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="100,000 posts")
    ap.add_argument("--db", metavar="PATH", help="Measure this corpus database (built by an earlier run) as it is.")
    ap.add_argument("--json", metavar="PATH", help="Also write the results as JSON here.")
    ap.add_argument("--keep", action="store_true", help="Keep the corpus database (default: it stays cached "
                    "in bench/out/ anyway; without --keep a database built by this run is removed at the end).")
    ap.add_argument("--build-only", action="store_true", help="Build (or find) the corpus and stop.")
    ap.add_argument("--skip-export", action="store_true", help="Leave out the (long) export measurement.")
    args = ap.parse_args()
    n = 100_000 if args.quick else args.posts
    if args.db:
        path, build_s = Path(args.db), None
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        n = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
        conn.close()
    else:
        print(f"corpus: {corpus_path(n)}", file=sys.stderr)
        path, build_s = build(n)
    if args.build_only:
        print("corpus ready" + (f", built in {build_s:.0f} s" if build_s is not None else " (cached)"), file=sys.stderr)
        return
    res = {"bench": "search", "posts": n, "corpus_version": CORPUS_VERSION, "db": str(path), "machine": machine(),
           "build_seconds": round(build_s, 1) if build_s is not None else None}
    res["sizes"] = measure_sizes(path)
    res["queries"] = measure_queries(path, n)
    res["cli"] = measure_cli(path)
    if not args.skip_export:
        res["export"] = measure_export(path, n)
    res["targets_met"] = all(all(q["checks"].values()) for q in res["queries"]) and (
        args.skip_export or res["export"]["export"]["rss_under_200mb"])
    report(res)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n")
    if build_s is not None and not args.keep:
        path.unlink()


if __name__ == "__main__":
    main()
