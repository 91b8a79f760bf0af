"""Analyst corrections (`rjwatch mark`, `rjwatch marks`) and what they teach (`rjwatch learn`), on real
database files through the real CLI: a mark is in force everywhere, survives re-judging and
re-crawling, moves between installations, and the learned part of the score changes verdicts of
posts nobody marked (and nothing without a model)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import FIXTURES, q, rows, run_cli, tuples
from storage.db import connect
from storage.ingest import Ingestor

DEV = FIXTURES / "relevance" / "dev"
#: Korean terms of a profile (quoted TOML strings with Hangul), to make a profile blind to Korean.
HANGUL_TERM = re.compile(r'"[^"\n]*[\uac00-\ud7af][^"\n]*",?\s*')


def _case(path: Path) -> dict:
    head, _, body = path.read_text("utf-8").partition("\n---\n")
    meta = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
    return {"title": meta["title"], "text": body.strip(), "label": meta["label"], "name": path.stem}


def _store(db_path: Path, cases: list[dict], *, url_prefix: str = "https://cases.example.org/") -> list[int]:
    db = connect(db_path)
    try:
        ing = Ingestor(db, alerts=False)
        return [
            ing.ingest({"url": f"{url_prefix}{c['name']}.html", "title": c["title"], "text": c["text"]}).post_id
            for c in cases
        ]
    finally:
        db.conn.close()


def _relevant_en(n: int = 3) -> list[dict]:
    return [_case(p) for p in sorted(DEV.glob("en__relevant__*.txt"))[:n]]


def test_a_mark_is_in_force_everywhere_and_keeps_the_machine_verdict(db_path: Path):
    (pid,) = _store(db_path, _relevant_en(1))
    assert q(db_path, "SELECT status FROM posts WHERE id = ?", pid) == "new"

    res = run_cli(
        "--db", str(db_path), "mark", str(pid), "off-topic", "--note", "a trade fair listing", "--by", "alice"
    )
    assert res.exit_code == 0, res.output
    assert f"post #{pid}: new -> off_topic; rjwatch said new" in res.output
    assert tuples(db_path, "SELECT status, machine_status, analyst_status FROM posts WHERE id = ?", pid) == [
        ("off_topic", "new", "off_topic")
    ]
    listed = json.loads(
        run_cli(
            "--db",
            str(db_path),
            "posts",
            "--status",
            "off_topic",
            "--format",
            "json",
            "--columns",
            "id,machine_status,analyst_status",
        ).output
    )
    assert [(p["id"], p["machine_status"], p["analyst_status"]) for p in listed] == [(pid, "new", "off_topic")]
    assert json.loads(run_cli("--db", str(db_path), "posts", "--status", "new", "--format", "json").output) == []
    shown = run_cli("--db", str(db_path), "show", str(pid)).output
    assert "analyst:     off_topic (by alice" in shown and "a trade fair listing" in shown
    assert "rjwatch says new" in shown
    exported = [
        json.loads(line)
        for line in run_cli("--db", str(db_path), "export", "--format", "jsonl", "--no-text").output.splitlines()
    ]
    assert [(e["status"], e["machine_status"], e["analyst_status"], e["analyst_note"]) for e in exported] == [
        ("off_topic", "new", "off_topic", "a trade fair listing")
    ]
    listed_marks = json.loads(run_cli("--db", str(db_path), "marks", "--format", "json").output)
    assert [(m["post_id"], m["status"], m["machine_status"], m["by"]) for m in listed_marks] == [
        (pid, "off_topic", "new", "alice")
    ]

    res = run_cli("--db", str(db_path), "mark", str(pid), "--clear", "--by", "bob")
    assert res.exit_code == 0 and "off_topic -> new" in res.output
    assert tuples(db_path, "SELECT status, analyst_status FROM posts WHERE id = ?", pid) == [("new", None)]
    assert json.loads(run_cli("--db", str(db_path), "marks", "--format", "json").output) == []
    history = json.loads(run_cli("--db", str(db_path), "marks", "--history", "--format", "json").output)
    assert [m["status"] for m in history] == ["cleared", "off_topic"]


def test_rejudging_and_recrawling_never_overwrite_a_mark(db_path: Path, tmp_path: Path):
    case = _relevant_en(1)[0]
    db = connect(db_path)
    ing = Ingestor(db, alerts=True)
    url = "https://blog.example.org/2024/05/talks.html"
    pid = ing.ingest({"url": url, **{k: case[k] for k in ("title", "text")}, "updated": "2024-05-01T00:00:00Z"}).post_id
    db.conn.close()
    assert run_cli("--db", str(db_path), "mark", str(pid), "off_topic").exit_code == 0
    alerts_before = q(db_path, "SELECT count(*) FROM alerts")

    # A seed identical to the post: re-judging would make it a copy, but the analyst's word stands.
    seed = tmp_path / "seed.txt"
    seed.write_text(f"{case['title']}\n\n{case['text']}\n", "utf-8")
    assert run_cli("--db", str(db_path), "seed", "add", str(seed)).exit_code == 0
    res = run_cli("--db", str(db_path), "rejudge", "--alert")
    assert res.exit_code == 0, res.output
    assert "1 post(s) corrected by an analyst left as they are" in res.output
    assert q(db_path, "SELECT status FROM posts WHERE id = ?", pid) == "off_topic"

    # Re-crawled in an edited version: rjwatch's own verdict is refreshed, the analyst's stays in force.
    db = connect(db_path)
    out = Ingestor(db, alerts=True).ingest(
        {
            "url": url,
            "title": case["title"],
            "text": case["text"] + "\n\nUpdate: the ministry confirmed the date of the next round.",
            "updated": "2024-05-03T00:00:00Z",
        }
    )
    db.conn.close()
    assert out.action == "updated" and out.status == "off_topic"
    assert tuples(db_path, "SELECT status, machine_status, analyst_status, revision FROM posts WHERE id = ?", pid) == [
        ("off_topic", "copy", "off_topic", 2)
    ]
    assert q(db_path, "SELECT count(*) FROM alerts") == alerts_before  # nothing sent for a marked post


def test_duplicate_of_links_the_story_and_clearing_restores_the_machine_link(db_path: Path):
    a, b = _store(db_path, _relevant_en(2))
    res = run_cli("--db", str(db_path), "mark", str(b), "duplicate", "--of", str(a))
    assert res.exit_code == 0 and f"duplicate of #{a}" in res.output
    assert tuples(db_path, "SELECT status, duplicate_of FROM posts WHERE id = ?", b) == [("duplicate", a)]
    assert f"duplicates pointing here: #{b}" in run_cli("--db", str(db_path), "show", str(a)).output
    assert run_cli("--db", str(db_path), "mark", str(b), "--clear").exit_code == 0
    assert tuples(db_path, "SELECT status, duplicate_of FROM posts WHERE id = ?", b) == [("new", None)]


def test_bad_marks_get_one_line_errors_and_write_nothing(db_path: Path):
    (a,) = _store(db_path, _relevant_en(1))
    cases = [
        (["mark", "999", "off_topic"], "no post #999"),
        (["mark", str(a), "spam"], "unknown status 'spam'"),
        (["mark", str(a), "duplicate"], "a duplicate needs the post it duplicates"),
        (["mark", str(a), "duplicate", "--of", str(a)], "cannot be a duplicate of itself"),
        (["mark", str(a), "new", "--of", str(a)], "--of goes only with the status `duplicate`"),
        (["mark", str(a), "--clear"], "has no mark to clear"),
        (["mark", str(a)], "give a STATUS"),
    ]
    for args, message in cases:
        res = run_cli("--db", str(db_path), *args)
        assert res.exit_code != 0, args
        assert message in res.output and "Traceback" not in res.output, (args, res.output)
        assert len(res.output.strip().splitlines()) == 1, res.output
    assert q(db_path, "SELECT count(*) FROM marks") == 0
    assert q(db_path, "SELECT status FROM posts WHERE id = ?", a) == "new"


def test_marks_move_between_installations_once(tmp_path: Path):
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    for path in (first, second):
        assert run_cli("--db", str(path), "init").exit_code == 0
    cases = _relevant_en(4)
    ids_a = _store(first, cases)
    ids_b = _store(second, cases[:3])  # the fourth post was never collected there
    run_cli("--db", str(first), "mark", str(ids_a[0]), "off_topic", "--note", "not about the talks", "--by", "alice")
    run_cli("--db", str(first), "mark", str(ids_a[1]), "duplicate", "--of", str(ids_a[2]), "--by", "alice")
    run_cli("--db", str(first), "mark", str(ids_a[2]), "off_topic", "--by", "bob")
    run_cli("--db", str(first), "mark", str(ids_a[2]), "--clear", "--by", "bob")
    run_cli("--db", str(first), "mark", str(ids_a[3]), "off_topic", "--by", "bob")
    dump = tmp_path / "marks.jsonl"
    res = run_cli("--db", str(first), "marks", "export", str(dump))
    assert res.exit_code == 0, res.output
    assert len(dump.read_text("utf-8").splitlines()) == 5

    res = run_cli("--db", str(second), "marks", "import", str(dump))
    assert res.exit_code == 0, res.output
    assert "imported 4 mark(s); 0 already here; 1 for posts this database does not hold" in res.output
    state = "SELECT canonical_url, status, analyst_status, duplicate_of IS NOT NULL FROM posts WHERE id IN ({})"
    assert sorted(tuples(second, state.format(",".join(map(str, ids_b))))) == sorted(
        tuples(first, state.format(",".join(map(str, ids_a[:3]))))
    )
    assert q(second, "SELECT note FROM marks WHERE status = 'off_topic' AND by = 'alice'") == "not about the talks"
    again = run_cli("--db", str(second), "marks", "import", str(dump))
    assert "imported 0 mark(s); 4 already here" in again.output
    assert q(second, "SELECT count(*) FROM marks") == 4

    broken = tmp_path / "broken.jsonl"
    broken.write_text(dump.read_text("utf-8").splitlines()[0] + "\n{not json\n", "utf-8")
    third = tmp_path / "c.db"
    assert run_cli("--db", str(third), "init").exit_code == 0
    _store(third, cases[:1])
    res = run_cli("--db", str(third), "marks", "import", str(broken))
    assert res.exit_code != 0 and "line 2 is not JSON" in res.output and "Traceback" not in res.output
    assert q(third, "SELECT count(*) FROM marks") == 0  # one transaction: the good first line is not half-imported


def test_learning_from_marks_teaches_what_the_profile_misses_and_show_explains_it(tmp_path: Path):
    from judge.relevance import TopicProfile

    topic = tmp_path / "no-korean.toml"
    topic.write_text(HANGUL_TERM.sub("", TopicProfile.load().raw), "utf-8")
    config = tmp_path / "rjwatch.toml"
    config.write_text(f'topic = "{topic}"\n', "utf-8")
    db_path = tmp_path / "ko.db"
    assert run_cli("--db", str(db_path), "--config", str(config), "init").exit_code == 0
    relevant = [_case(p) for p in sorted(DEV.glob("ko__relevant__*.txt"))]
    off = [_case(p) for p in sorted(DEV.glob("ko__off_topic__*.txt"))]
    ids = _store(db_path, relevant + off)
    rel_ids, off_ids = ids[: len(relevant)], ids[len(relevant) :]
    # The profile has no Korean words: every Korean post is off the topic.
    assert q(db_path, "SELECT count(*) FROM posts WHERE status = 'off_topic'") == len(ids)
    before = dict(tuples(db_path, "SELECT id, relevance FROM posts"))

    res = run_cli("--db", str(db_path), "learn")
    assert res.exit_code != 0 and "at least 5 are needed" in res.output  # nothing marked yet

    marked = rel_ids[::2]  # the analyst corrects every other relevant post
    for pid in marked:
        assert run_cli("--db", str(db_path), "mark", str(pid), "relevant").exit_code == 0
    res = run_cli("--db", str(db_path), "learn")
    assert res.exit_code == 0, res.output
    assert f"learned from {len(marked)} mark(s)" in res.output and "run `rjwatch rejudge`" in res.output

    res = run_cli("--db", str(db_path), "rejudge", "--alert")
    assert res.exit_code == 0, res.output
    unmarked = [pid for pid in rel_ids if pid not in marked]
    now_new = [pid for pid in unmarked if q(db_path, "SELECT status FROM posts WHERE id = ?", pid) == "new"]
    wrongly_new = [pid for pid in off_ids if q(db_path, "SELECT status FROM posts WHERE id = ?", pid) == "new"]
    assert len(now_new) >= len(unmarked) // 2, (len(now_new), len(unmarked))
    assert len(wrongly_new) <= len(off_ids) // 10, wrongly_new
    # One alert each for posts that newly qualify, and only once.
    assert q(db_path, "SELECT count(*) FROM alerts WHERE kind = 'new'") == len(now_new) + len(wrongly_new)
    run_cli("--db", str(db_path), "rejudge", "--alert")
    assert q(db_path, "SELECT count(*) FROM alerts WHERE kind = 'new'") == len(now_new) + len(wrongly_new)
    shown = run_cli("--db", str(db_path), "show", str(now_new[0])).output
    assert re.search(rf"\+\d\.\d\d learned from {len(marked)} analyst marks: \S+ \+\d\.\d\d", shown), shown

    # Without a model the profile alone judges again, to the last digit.
    assert "no longer used" in run_cli("--db", str(db_path), "learn", "--forget").output
    assert run_cli("--db", str(db_path), "rejudge").exit_code == 0
    after = dict(tuples(db_path, "SELECT id, relevance FROM posts"))
    assert after == before
    statuses = {r["id"]: r["status"] for r in rows(db_path, "SELECT id, status FROM posts")}
    assert all(statuses[pid] == "off_topic" for pid in ids if pid not in marked)
