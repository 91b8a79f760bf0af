"""Search benchmark: search latency, export throughput and FTS index size at a million posts.

Builds (once, then caches under bench/out/) a corpus of synthetic posts of about 3 KB each in
English, Spanish, Russian and Japanese, with a few terms planted at known frequencies, then reports:

* p50/p95 latency of `storage.search.search()` (newest first and `rank=True`) for a common, a mid,
  a rare, a phrase and three CJK queries, beside the bare FTS5 MATCH query on the same database in
  the same run (the floor the search layer is compared with; for a two-character CJK term, the
  MATCH of the trigrams it is spelled out as, with the substring scan timed for reference), and
  one CLI-level timing;
* rows/s and peak RSS of a full `rjwatch export --format jsonl`, beside a bare `SELECT * FROM posts`
  iteration, each in its own subprocess;
* the share of the database taken by the two FTS5 indexes.

The headline figures also go to bench/out/search.figures.json (bench/figures.py) for bench/run_all.py.

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
sys.path.insert(0, str(REPO / "bench"))
from procstat import proc_kb  # noqa: E402

#: Bump when the generated corpus or the schema it is written to changes, so a cached database of
#: the old corpus is not reused. (2: posts carry the `cjk` flag that puts them in the trigram index;
#: 3: the trigram index ends each column with a mark and has the `posts_cjk_vocab` term list; a
#: planted two-character term is followed by varied characters, or ends the text.)
CORPUS_VERSION = 3
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
NEWEST_P95_MS = 50.0  # newest first, any term
RANK_P95_MS = 50.0  # rank=True, terms in at most RANK_SHARE of the posts
RANK_SHARE = 0.01
RANK_VS_BARE = 1.5  # rank=True for common terms, against bare ORDER BY rank
EXPORT_RSS_MB = 200.0
#: How often a child's peak RSS is read; VmHWM is a high-water mark, so only the last interval
#: before exit can be missed.
RSS_POLL_S = 0.02

# Planted terms: (kind, query, where it goes, share of posts). None of these words or characters is
# in the generating vocabularies below, so each occurs exactly where it is planted.
COMMON, MID, RARE = "japan", "sakhalin", "shikotan"
PHRASE_SHARE, PHRASE_WORD_SHARE = 0.008, 0.05  # "peace treaty" adjacent, and each word alone
CJK_LONG, CJK_SHORT, CJK_SHORT_RARE = "北方領土", "日露", "色丹"
SHARES = {MID: 0.01, RARE: 0.0001}
JA_SHARES = {CJK_LONG: 0.06, CJK_SHORT: 0.20, CJK_SHORT_RARE: 0.0007}  # of the Japanese posts
#: A planted two-character term is followed by a word or particle, as in real text (日露関係, 日露の),
#: so it starts tens of different trigrams, which is what a spelled-out query has to OR together; this
#: share of them ends the post's text instead, where only the index's end mark makes a trigram.
SHORT_AT_END = 0.1

QUERIES = [  # (kind, query, index it runs on; "spelled": posts_cjk, the OR of the trigrams starting with it)
    ("common", COMMON, "posts_fts"),
    ("mid (1%)", MID, "posts_fts"),
    ("rare (0.01%)", RARE, "posts_fts"),
    ("phrase", '"peace treaty"', "posts_fts"),
    ("cjk >=3 chars", CJK_LONG, "posts_cjk"),
    ("cjk 2 chars", CJK_SHORT, "spelled"),
    ("cjk 2 chars rare", CJK_SHORT_RARE, "spelled"),
]

_EN = (
    "the of and to in a is that for on with as was by at from talks minister said russia tokyo moscow "
    "islands foreign defense government officials meeting week year economic cooperation region "
    "sanctions agreement visit summit new after before during which would could people country both "
    "sides issue policy security trade energy fishing border statement press conference spokesman "
    "ministry report analysts expect next month plans northern territories kremlin diplomats "
    "negotiations joint activity residents former exchange delegation patrol vessels waters quota "
    "salmon crab gas pipeline investment ruble yen market exports imports pacific far east"
).split()
_ES = (
    "el la de y en que a los las por con para una un se del rusia islas tokio moscú reunión gobierno "
    "cooperación sanciones visita cumbre ministro conversaciones acuerdo frontera pesca energía "
    "seguridad región semana año funcionarios declaración según portavoz kremlin diplomáticos"
).split()
_RU = (
    "и в на с по что это как не для от о переговоры министр россия острова договор токио москва "
    "встреча правительство сотрудничество санкции визит саммит стороны вопрос граница рыболовство "
    "энергетика безопасность регион неделя год заявление курилы кремль дипломаты делегация"
).split()
# No 北, 領, 露 or 丹 anywhere, so 北方領土, 日露 and 色丹 only occur where planted.
_JA = (
    "日本 ロシア 政府 外相 会談 平和 条約 交渉 東京 モスクワ 協力 経済 制裁 首脳 訪問 漁業 島 問題 関係 "
    "外務省 大臣 記者 会見 発表 首相 大統領 両国 協議 再開 共同 活動 択捉島 国後島 歯舞 元島民 "
    "墓参 ビザ 漁船 拿捕 天然ガス 投資 輸出 輸入 市場 安全 保障 国境 地域 来月 今年 昨年"
).split()
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
        # Separate draws for what follows a short CJK term, so the rest of the corpus (and the counts
        # of the other planted terms) is the same as without them.
        self.follow = random.Random(seed + 1)
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
            if term in (CJK_SHORT, CJK_SHORT_RARE):
                follow = self.follow
                if follow.random() < SHORT_AT_END:
                    sentences[-1] += term
                    continue
                particle = follow.choice(_JA_PARTICLES) if follow.random() >= 0.5 else ""
                term += particle + follow.choice(_JA)
            sentences[at] = sentences[at] + sep + term + ("。" if lang == "ja" else ".")
        joiner = "" if lang == "ja" else " "
        paras = [joiner.join(sentences[k : k + 6]) for k in range(0, len(sentences), 6)]
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
        [
            (s, f"https://watch{s}.blogspot.com/", f"watch{s}.blogspot.com", f"Watch {s}", stamp(0))
            for s in range(1, SOURCES + 1)
        ],
    )
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
            posts.append(
                (
                    i,
                    url,
                    url,
                    str(1000 + source),
                    str(i),
                    source,
                    title,
                    seen,
                    lang,
                    text,
                    f"{i:016x}",
                    statuses[i % len(statuses)],
                    round((i * 7919 % 1000) / 1000, 3),
                    seen,
                    seen,
                )
                + ((int(lang == "ja"),) if flag else ())
            )
            sightings.append((i, url, "page", source, seen, seen))
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO posts (id, canonical_url, url, blog_id, post_id, source_id, title, published, lang, text, "
            f"content_hash, status, relevance, first_seen, last_seen{', cjk' if flag else ''}) "
            f"VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?{',?' if flag else ''})",
            posts,
        )
        conn.executemany(
            "INSERT INTO sightings (post_id, url, via, source_id, first_seen, last_seen) VALUES (?,?,?,?,?,?)",
            sightings,
        )
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


SCAN_SQL = "SELECT id FROM posts WHERE instr(coalesce(title, ''), ?) > 0 OR instr(text, ?) > 0 ORDER BY id DESC LIMIT ?"


def measure_queries(path: Path, n: int) -> list[dict]:
    from storage.db import connect
    from storage.search import plan, resolve, search

    db = connect(path, create=False)
    conn = db.conn
    out = []
    for kind, query, expected in QUERIES:
        # The query as the search layer runs it: for a short CJK term, the spelled-out trigram OR.
        parts = resolve(db, plan(query))
        index, expression = parts[0] if len(parts) == 1 else ("several", None)
        path_ok = index == ("posts_cjk" if expected == "spelled" else expected)
        row = {"kind": kind, "query": query, "index": expected, "ran_on": index, "expression_chars": None}
        if index == "scan" or not path_ok:
            count = conn.execute(
                "SELECT count(*) FROM posts WHERE instr(coalesce(title, ''), ?) > 0 OR instr(text, ?) > 0",
                [query, query],
            ).fetchone()[0]
            bare = lambda: conn.execute(SCAN_SQL, [query, query, LIMIT]).fetchall()  # noqa: E731
            bare_rank = None
        else:
            count = conn.execute(f"SELECT count(*) FROM {index} WHERE {index} MATCH ?", [expression]).fetchone()[0]
            bare = lambda: conn.execute(  # noqa: E731
                f"SELECT rowid FROM {index} WHERE {index} MATCH ? LIMIT ?", [expression, LIMIT]
            ).fetchall()
            bare_rank = lambda: conn.execute(  # noqa: E731
                f"SELECT rowid FROM {index} WHERE {index} MATCH ? ORDER BY rank LIMIT ?", [expression, LIMIT]
            ).fetchall()
        if expected == "spelled":
            row["expression_chars"] = len(expression or "")
            row["spelled_trigrams"] = (expression or "").count(" OR ") + 1 if index == "posts_cjk" else None
            # The spelled query must find exactly the posts a substring scan finds; the scan, newest
            # first, is also kept as a reference timing (what these queries cost before spelling).
            row["scan_matches"] = conn.execute(
                "SELECT count(*) FROM posts WHERE instr(coalesce(title, ''), ?) > 0 OR instr(text, ?) > 0",
                [query, query],
            ).fetchone()[0]
            row["scan"] = timed(lambda: conn.execute(SCAN_SQL, [query, query, LIMIT]).fetchall())
        hits = search(db, query, limit=LIMIT)
        row.update({"matches": count, "share": round(count / n, 6), "hits": len(hits)})
        row["bare"] = timed(bare)
        row["newest"] = timed(lambda: search(db, query, limit=LIMIT))
        if bare_rank is None:
            row["rank"] = row["newest"]  # the substring scan has no scores: rank=True runs the same query
        else:
            row["bare_rank"] = timed(bare_rank)
            row["rank"] = timed(lambda: search(db, query, limit=LIMIT, rank=True))
        row["checks"] = checks(row, n)
        row["checks"]["ran_on_expected_index"] = path_ok
        if "scan_matches" in row:
            row["checks"]["same_matches_as_scan"] = row["matches"] == row["scan_matches"]
        out.append(row)
        print(
            f"  {kind:18} {count:>9,} matches  newest p95 {row['newest']['p95_ms']:8.2f} ms  "
            f"rank p95 {row['rank']['p95_ms']:8.2f} ms  bare p95 {row['bare']['p95_ms']:8.2f} ms"
            + (f"  bare rank p95 {row['bare_rank']['p95_ms']:8.2f} ms" if bare_rank else "")
            + (
                f"  scan p95 {row['scan']['p95_ms']:8.2f} ms, {row['spelled_trigrams']} trigrams"
                if "scan" in row
                else ""
            ),
            file=sys.stderr,
        )
    db.conn.close()
    return out


def checks(row: dict, n: int) -> dict:
    res = {"newest_p95_under_50ms": row["newest"]["p95_ms"] < NEWEST_P95_MS}
    if "bare_rank" not in row:
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

    return {
        "search_common_ms": wall(["--db", str(path), "search", COMMON, "--format", "json"]),
        "search_common_rank_ms": wall(["--db", str(path), "search", COMMON, "--rank", "--format", "json"]),
        "help_ms": wall(["--help"]),
        "runs": runs,
    }


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
        peak_kb = max(peak_kb, proc_kb(proc.pid, "VmHWM") or 0)
        time.sleep(RSS_POLL_S)
    wall = time.perf_counter() - t
    reader.join()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {err[0].decode(errors='replace').strip()}")
    return {
        "seconds": round(wall, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "stderr": err[0].decode(errors="replace").strip(),
    }


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
    return {
        "db_bytes": total,
        "posts_bytes": posts,
        "posts_fts_bytes": fts,
        "posts_cjk_bytes": cjk,
        "posts_fts_share": round(fts / total, 4) if sizes else None,
        "posts_cjk_share": round(cjk / total, 4) if sizes else None,
        "fts_total_share": round((fts + cjk) / total, 4) if sizes else None,
        "dbstat": bool(sizes),
    }


def machine() -> dict:
    model = ""
    try:
        model = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "")
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "ram_gib": round(ram, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def report(res: dict) -> None:
    n = res["posts"]
    print(f"\nSearch benchmark, {n:,} posts ({res['machine']['cpus']} CPUs, SQLite {res['machine']['sqlite']})")
    if res["build_seconds"] is not None:
        print(f"corpus built in {res['build_seconds']:.0f} s")
    print(
        f"{'query':18} {'matches':>9} {'bare':>8} {'newest':>8} {'p95':>8} {'bare rank':>9} {'rank':>8} {'p95':>8}"
        f" {'scan p95':>9}  (ms: bare/newest/rank p50, then p95; scan: the substring scan, for reference)"
    )
    for q in res["queries"]:
        br, sc = q.get("bare_rank"), q.get("scan")
        print(
            f"{q['kind']:18} {q['matches']:>9,} {q['bare']['p50_ms']:8.2f} {q['newest']['p50_ms']:8.2f} "
            f"{q['newest']['p95_ms']:8.2f} {(br['p95_ms'] if br else float('nan')):9.2f} "
            f"{q['rank']['p50_ms']:8.2f} {q['rank']['p95_ms']:8.2f} {(sc['p95_ms'] if sc else float('nan')):9.2f}  "
            + " ".join(f"{k}={'ok' if v else 'MISSED'}" for k, v in q["checks"].items())
        )
    if "cli" in res:
        c = res["cli"]
        print(
            f"CLI wall time: search {c['search_common_ms']} ms, search --rank {c['search_common_rank_ms']} ms, "
            f"--help {c['help_ms']} ms (median of {c['runs']})"
        )
    if "export" in res:
        e, b = res["export"]["export"], res["export"]["bare_select"]
        print(
            f"export jsonl: {e['seconds']} s, {e['rows_per_s']:,} rows/s, peak RSS {e['peak_rss_mb']} MB "
            f"({'ok' if e['rss_under_200mb'] else 'MISSED'}); bare SELECT *: {b['seconds']} s, "
            f"{b['rows_per_s']:,} rows/s, peak RSS {b['peak_rss_mb']} MB"
        )
    s = res["sizes"]
    print(
        f"database {s['db_bytes'] / 2**30:.2f} GiB: posts_fts {s['posts_fts_share']:.1%}, "
        f"posts_cjk {s['posts_cjk_share']:.1%}, posts {s['posts_bytes'] / s['db_bytes']:.1%}"
    )


def record_figures(res: dict) -> None:
    """The headline figures for bench/run_all.py (bench/out/search.figures.json)."""
    from figures import figure, record

    n, figs = res["posts"], []
    for q in res["queries"]:
        what = f"search {q['query']} ({q['kind']}, {q['matches']:,} of {n:,} posts)"
        bare = "bare FTS5 MATCH" + (" of the spelled trigrams" if q["index"] == "spelled" else "") + ", LIMIT 20"
        figs.append(
            figure(
                f"{what}, newest first, p95",
                q["newest"]["p95_ms"],
                "ms",
                bare,
                q["bare"]["p95_ms"],
                f"< {NEWEST_P95_MS:.0f} ms",
            )
        )
        if "bare_rank" in q:
            small = q["matches"] <= RANK_SHARE * n
            figs.append(
                figure(
                    f"{what}, --rank, p95",
                    q["rank"]["p95_ms"],
                    "ms",
                    "bare ORDER BY rank, LIMIT 20",
                    q["bare_rank"]["p95_ms"],
                    f"< {RANK_P95_MS:.0f} ms" if small else f"<= {RANK_VS_BARE}x baseline",
                )
            )
        if "scan" in q:
            figs.append(
                figure(
                    f"{what}: substring scan it replaced, p95",
                    q["scan"]["p95_ms"],
                    "ms",
                    note=f"{q.get('spelled_trigrams')} trigrams spelled",
                )
            )
    if "export" in res:
        e, b = res["export"]["export"], res["export"]["bare_select"]
        figs.append(
            figure(f"export jsonl, {n:,} posts", e["rows_per_s"], "rows/s", "bare SELECT * FROM posts", b["rows_per_s"])
        )
        figs.append(
            figure(
                "export jsonl: peak RSS",
                e["peak_rss_mb"],
                "MB",
                "bare SELECT * FROM posts",
                b["peak_rss_mb"],
                f"<= {EXPORT_RSS_MB:.0f} MB",
            )
        )
    s = res["sizes"]
    if s["dbstat"]:
        figs.append(
            figure(
                "FTS indexes (posts_fts + posts_cjk): share of the database",
                round(100 * s["fts_total_share"], 1),
                "%",
                note=f"database {s['db_bytes'] / 2**30:.2f} GiB",
            )
        )
    record("search", figs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="100,000 posts")
    ap.add_argument("--db", metavar="PATH", help="Measure this corpus database (built by an earlier run) as it is.")
    ap.add_argument("--json", metavar="PATH", help="Also write the results as JSON here.")
    ap.add_argument(
        "--keep",
        action="store_true",
        help="Keep the corpus database (default: it stays cached "
        "in bench/out/ anyway; without --keep a database built by this run is removed at the end).",
    )
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
    res = {
        "bench": "search",
        "posts": n,
        "corpus_version": CORPUS_VERSION,
        "db": str(path),
        "machine": machine(),
        "build_seconds": round(build_s, 1) if build_s is not None else None,
    }
    res["sizes"] = measure_sizes(path)
    res["queries"] = measure_queries(path, n)
    res["cli"] = measure_cli(path)
    if not args.skip_export:
        res["export"] = measure_export(path, n)
    res["targets_met"] = all(all(q["checks"].values()) for q in res["queries"]) and (
        args.skip_export or res["export"]["export"]["rss_under_200mb"]
    )
    report(res)
    record_figures(res)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n")
    if build_s is not None and not args.keep:
        path.unlink()


if __name__ == "__main__":
    main()
