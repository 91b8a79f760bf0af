"""The coverage plot on a backfilled corpus: builds a database of posts published 2017-2026 through
the real write path (`storage.ingest.ingest_many`: judged, deduplicated, indexed), then draws
`rjwatch stats --plot` over the whole range and zoomed to a year and to a few weeks, and prints the
bin each picture chose and the time it took.

The posts are the labelled articles of tests/fixtures/relevance (eight languages, relevant and
off-topic), each published once at a date drawn with the density of a real backfill (a few posts a
month in the early years, more each year, bursts around news), plus copies and excerpts of the seed.

    python bench/plot_bench.py                      # pictures in bench/out/plot-*.png
    python bench/plot_bench.py --image docs/images/stats.png   # the README's picture
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

OUT = REPO / "bench" / "out"
RELEVANCE = REPO / "tests" / "fixtures" / "relevance"
SEED_FILE = REPO / "rjwatch" / "data" / "seeds" / "000_2726ccec86287c13.txt"
#: The backfilled range: the seed's year to the present of the demo corpus.
FIRST_DAY, LAST_DAY = datetime(2017, 1, 1, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
#: Relative density of posts per year (a blog archive thickens towards the present).
YEAR_WEIGHT = {2017: 1, 2018: 1, 2019: 2, 2020: 2, 2021: 3, 2022: 5, 2023: 4, 2024: 5, 2025: 6, 2026: 8}
#: News bursts: (first day, days, share of the posts): a summit, the 2022 sanctions, a treaty row.
BURSTS = [((2018, 11, 14), 10, 0.03), ((2022, 3, 1), 40, 0.08), ((2024, 9, 20), 14, 0.03)]
#: Seed copies and excerpts planted: a copy soon after the seed, reposts years later.
COPY_DAYS = [(2017, 3, 21), (2017, 3, 23), (2019, 6, 2), (2026, 11, 5)]
EXCERPT_DAYS = [(2017, 4, 2), (2021, 8, 15), (2026, 11, 8)]
#: Posts per ingest transaction.
BATCH = 200


def articles(limit: int | None = None) -> list[dict]:
    """The labelled articles as {title, text}, in a fixed order."""
    out = []
    for path in sorted(RELEVANCE.glob("*/*.txt")):
        head, _, body = path.read_text("utf-8").partition("\n---\n")
        fields = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
        if body.strip():
            out.append({"title": fields.get("title") or path.stem, "text": body.strip(), "key": path.stem})
    return out[:limit] if limit else out


def publication_days(n: int, rng: random.Random) -> list[datetime]:
    """n publication times over FIRST_DAY..LAST_DAY with YEAR_WEIGHT's density and BURSTS."""
    days = []
    in_bursts = 0
    for (y, m, d), span, share in BURSTS:
        k = round(n * share)
        start = datetime(y, m, d, tzinfo=UTC)
        days += [start + timedelta(days=rng.uniform(0, span)) for _ in range(k)]
        in_bursts += k
    years = list(YEAR_WEIGHT)
    for _ in range(n - in_bursts):
        year = rng.choices(years, weights=[YEAR_WEIGHT[y] for y in years])[0]
        start = max(FIRST_DAY, datetime(year, 1, 1, tzinfo=UTC))
        end = min(LAST_DAY, datetime(year, 12, 31, tzinfo=UTC))
        days.append(start + (end - start) * rng.random())
    rng.shuffle(days)
    return days


def items(limit: int | None = None, seed: int = 19) -> list[dict]:
    """The posts of the backfilled corpus, as `ingest_many` takes them."""
    from judge.article import parse_text_article

    rng = random.Random(seed)
    docs = articles(limit)
    out = [
        {
            "url": f"https://backfill{i % 40}.blogspot.com/{when:%Y/%m}/{doc['key'].replace('_', '-')}.html",
            "title": doc["title"],
            "text": doc["text"],
            "published": when.isoformat(timespec="seconds"),
        }
        for i, (doc, when) in enumerate(zip(docs, publication_days(len(docs), rng)))
    ]
    seed_article = parse_text_article(SEED_FILE.read_text("utf-8"))
    paras = [p for p in seed_article["text"].split("\n") if p.strip()]
    for k, (y, m, d) in enumerate(COPY_DAYS):
        out.append(
            {
                "url": f"https://reposts{k}.blogspot.com/{y}/{m:02d}/what-russia-wants.html",
                "title": seed_article["title"],
                "text": "\n\n".join(paras + [f"Reposted for readers of this blog ({k})."]),
                "published": datetime(y, m, d, 9, tzinfo=UTC).isoformat(timespec="seconds"),
            }
        )
    for k, (y, m, d) in enumerate(EXCERPT_DAYS):
        own = docs[k]["text"] if docs else ""
        out.append(
            {
                "url": f"https://quotes{k}.blogspot.com/{y}/{m:02d}/quoted.html",
                "title": f"Worth quoting ({k})",
                "text": "\n\n".join([own] + paras[:3] + [f"My own view, part {k}: the talks will take years."]),
                "published": datetime(y, m, d, 9, tzinfo=UTC).isoformat(timespec="seconds"),
            }
        )
    return out


def build(path: Path, limit: int | None = None) -> int:
    """An initialised database at `path` holding the backfilled corpus; returns the posts stored."""
    from storage.db import connect
    from storage.ingest import ingest_many

    subprocess.run([sys.executable, "-m", "rjwatch", "--db", str(path), "init"], check=True, capture_output=True)
    db = connect(path)
    try:
        posts = items(limit)
        for k in range(0, len(posts), BATCH):
            ingest_many(db, posts[k : k + BATCH])
        return db.execute("SELECT count(*) FROM posts").fetchone()[0]
    finally:
        db.conn.close()


def plot(db: Path, png: Path, *args: str) -> str:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "rjwatch", "--db", str(db), "stats", *args, "--plot", str(png)],
        capture_output=True,
        text=True,
        check=True,
    )
    said = proc.stderr.strip().splitlines()[-1]
    return f"{said}  [{time.perf_counter() - started:.1f} s]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, help="Also write the whole-range picture here.")
    parser.add_argument("--limit", type=int, help="At most this many articles (default: all).")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / "plot-backfill.db"
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        p.unlink(missing_ok=True)
    started = time.perf_counter()
    n = build(db, args.limit)
    print(f"{n} posts stored in {time.perf_counter() - started:.0f} s ({db})")
    print(plot(db, OUT / "plot-all.png"))
    print(plot(db, OUT / "plot-2022.png", "--since", "2022-01-01", "--until", "2023-01-01"))
    print(plot(db, OUT / "plot-weeks.png", "--since", "2022-02-20", "--until", "2022-04-10"))
    if args.image:
        print(plot(db, args.image))


if __name__ == "__main__":
    main()
