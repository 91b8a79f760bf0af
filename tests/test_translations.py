"""Translated copies of the seed: the fixtures in tests/fixtures/translations through the real judge
path, and through `rjwatch ingest` + `rjwatch copies` on a real SQLite file.

Fixture names say what each text is: `<lang>_whole` (the seed translated), `<lang>_commentary` (the
translation between a blogger's own paragraphs), `<lang>_partial` (two passages of the seed quoted in
a longer article), `<lang>_event*` (independent coverage of the same 2+2 talks: a hard negative).
"""

from __future__ import annotations

import json
import sys
from html import escape
from pathlib import Path

import pytest

from helpers import item, rows, rss, run_cli
from judge.analyze import analyze, prepare_seed
from judge.classify import decide
from judge.relevance import TopicProfile
from receiver import Receiver
from storage.bootstrap import packaged_seed

FIXTURES = Path(__file__).parent / "fixtures" / "translations"
CASES = sorted(FIXTURES.glob("*.txt"))
#: What each kind of fixture must be judged.
EXPECTED = {"whole": "copy", "commentary": "copy", "partial": "excerpt"}


def expected(path: Path) -> str | None:
    """copy / excerpt for translations, None (neither) for same-event articles."""
    return EXPECTED.get(path.stem.split("_")[1])


def read(path: Path) -> tuple[str, str]:
    title, _, body = path.read_text("utf-8").partition("\n\n")
    return title.strip(), body.strip()


@pytest.fixture(scope="module")
def judge_inputs():
    art = packaged_seed()  # the seed `rjwatch init` stores as #1
    seed = prepare_seed(1, art["title"], art["text"])
    return seed, TopicProfile.load()


def test_fixtures_cover_five_languages_and_every_kind():
    langs = {p.stem.split("_")[0] for p in CASES}
    assert {"es", "ru", "ja", "de", "fr"} <= langs
    for lang in ("es", "ru", "ja", "de", "fr"):
        kinds = {p.stem.split("_", 1)[1] for p in CASES if p.stem.startswith(lang + "_")}
        assert {"whole", "commentary", "partial", "event"} <= kinds, lang


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_translation_verdict_through_the_judge(path, judge_inputs):
    seed, profile = judge_inputs
    assert seed.lang == "en"
    title, body = read(path)
    a = analyze({"url": f"https://blog.example/{path.stem}.html", "title": title, "text": body}, [seed], profile)
    assert a.lang == path.stem.split("_")[0]
    verdict = decide(a.seed_matches, a.relevance.relevant, None, translations=a.translation_matches)
    want = expected(path)
    if want:
        assert (verdict.status, verdict.kind, verdict.seed_id) == (want, "translation", 1), verdict.reasons
        assert a.seed_similarity["1"]["kind"] == "translation"
    else:
        # Same talks, same ministers, same numbers: still independent coverage, never a copy.
        assert verdict.status == "new", verdict.reasons


def test_a_post_in_the_seeds_language_is_not_checked_for_translation(judge_inputs):
    """The cross-language check runs only for posts that could be translations."""
    seed, profile = judge_inputs
    # An English article about the same talks: relevant, long, but in the seed's own language.
    _, body = read(FIXTURES / "de_event.txt")
    english = (
        "Foreign and defence ministers of Russia and Japan, Sergey Lavrov, Sergey Shoigu, Fumio Kishida and "
        "Tomomi Inada, met in Tokyo on March 20 in the 2+2 format for the first time since November 2013.\n"
        "Kishida protested against the Bastion and Bal missile systems on Iturup and Kunashir; Shoigu said "
        "the Kuril defences threaten no one. Prime Minister Shinzo Abe will visit Moscow in April."
    )
    a = analyze({"url": "https://blog.example/en.html", "title": "2+2 in Tokyo", "text": english}, [seed], profile)
    assert a.lang == "en" and a.relevance.relevant
    assert a.translation_matches == []
    # A German text shorter than the minimum is not checked either.
    short = body.split("\n")[2][:200]
    b = analyze({"url": "https://blog.example/de.html", "title": "kurz", "text": short}, [seed], profile)
    assert b.translation_matches == []


def _feed(path: Path) -> bytes:
    items = []
    for p in CASES:
        title, body = read(p)
        html = "".join(f"<p>{escape(para)}</p>" for para in body.split("\n") if para.strip())
        items.append((title, f"https://{p.stem.replace('_', '-')}.blogspot.com/2017/03/post.html", html))
    path.write_bytes(rss(items))
    return path


def test_ingest_then_copies_lists_translations_with_their_language(db_path, tmp_path):
    feed = _feed(tmp_path / "feed.xml")
    res = run_cli("--db", str(db_path), "ingest", str(feed), "--format", "json")
    assert res.exit_code == 0, res.output
    posts = {r["url"].split("//")[1].split(".")[0]: r for r in rows(db_path, "SELECT * FROM posts")}
    assert len(posts) == len(CASES)

    listed = run_cli("--db", str(db_path), "copies", "--format", "json")
    assert listed.exit_code == 0, listed.output
    spread = {r["url"].split("//")[1].split(".")[0]: r for r in json.loads(listed.stdout)}
    for p in CASES:
        key = p.stem.replace("_", "-")
        post = posts[key]
        want = expected(p)
        if want is None:
            assert post["status"] == "new", (key, post["evidence"])
            assert key not in spread
            continue
        assert post["status"] == want, (key, post["evidence"])
        evidence = json.loads(post["evidence"])
        assert (evidence["kind"], evidence["seed"]) == ("translation", 1)
        assert post["lang"] == p.stem.split("_")[0]
        row = spread[key]
        assert (row["status"], row["kind"], row["lang"], row["seed"]) == (want, "translation", post["lang"], 1)
        assert row["changes"].startswith(f"translation ({post['lang']})")

    # `show` explains a translated copy in its own words.
    ja = posts["ja-whole"]["id"]
    shown = run_cli("--db", str(db_path), "show", str(ja))
    assert shown.exit_code == 0, shown.output
    assert "translation" in shown.stdout and "paragraphs in order" in shown.stdout


def test_bench_translation_table_meets_its_target(capsys):
    """bench/accuracy.py's translation table: every whole translation found, no false copy (also none
    among the 800 relevance cases, independent writing in the same languages)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import accuracy

    assert accuracy.main(["--part", "translations"]) == 0
    out = capsys.readouterr().out
    assert "| **all** | 21 | 15 | 1.00 | 1.00 |" in out
    assert "0 called a translation" in out


def test_a_translated_copy_is_alerted_once_as_a_translation(db):
    """A real Apprise delivery to a local receiver: one alert for the Japanese translation, which says
    it translates the seed; the same-event article goes out as `new`, never as a copy."""
    from scheduler.alerts import Channel, Rule, dispatch
    from storage.ingest import Ingestor

    ing = Ingestor(db)
    for name in ("ja_whole", "ja_event"):
        title, body = read(FIXTURES / f"{name}.txt")
        ing.ingest(item(f"https://{name.replace('_', '-')}.blogspot.com/2017/03/p.html", text=body, title=title))
    with Receiver() as rx:
        dispatch(db, [Channel("copies", rx.url, rule=Rule(kinds=("copy", "excerpt")))])
        dispatch(db, [Channel("copies", rx.url, rule=Rule(kinds=("copy", "excerpt")))])
        got = rx.delivered()
    assert len(got) == 1, got
    assert got[0]["payload"]["title"].startswith("[copy] ")
    assert "translates seed #1 into ja (8 of its" in got[0]["payload"]["message"]


def test_rejudging_keeps_translations_and_same_event_articles_as_they_are(db_path, tmp_path):
    """Judging the stored posts again (every post, from its stored text) finds the same translations."""
    feed = _feed(tmp_path / "feed.xml")
    assert run_cli("--db", str(db_path), "ingest", str(feed)).exit_code == 0
    before = {
        r["id"]: (r["status"], json.loads(r["evidence"]).get("kind")) for r in rows(db_path, "SELECT * FROM posts")
    }
    assert sum(kind == "translation" for _, kind in before.values()) == sum(expected(p) is not None for p in CASES)
    res = run_cli("--db", str(db_path), "rejudge", "--force")
    assert res.exit_code == 0, res.output
    after = {
        r["id"]: (r["status"], json.loads(r["evidence"]).get("kind")) for r in rows(db_path, "SELECT * FROM posts")
    }
    assert after == before
