"""The Atom feeds of the results (rjwatch.atom): new coverage, the seeds' copies, a saved search, and
`rjwatch export --format atom`, made from real database files and read back with feedparser and
with an lxml check of the Atom 1.0 rules (RFC 4287) that need no schema: the required elements, one
id per entry, unique ids, RFC 3339 dates, well-formed language tags, one alternate link per type
and language. Ids stay the same across runs, exports and a rebuilt database; a hostile post still
gives a feed that parses; an unknown saved search is a one-line error; an empty database a valid
empty feed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from helpers import FIXTURES, SEED, item, one_line_error, relevant_articles, run_cli, tuples
from judge.errors import RjwatchError
from rjwatch import atom
from storage.db import connect
from storage.ingest import Ingestor

A = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
BASE = "http://127.0.0.1:8001"
#: RFC 3339 date-time (section 5.6), as Atom requires for every date construct.
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
LANG_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
#: What is left of the hostile title once the characters XML cannot carry are removed.
HOSTILE_TITLE = "<script>alert('x')</script> ]]> <![CDATA[  & </title> talks"


def check_atom(data: bytes) -> etree._Element:
    """Parse `data` with feedparser and lxml and check the Atom 1.0 rules; returns the feed element."""
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    root = etree.fromstring(data)
    assert root.tag == f"{A}feed"

    def one(parent, tag, where):
        found = parent.findall(f"{A}{tag}")
        assert len(found) == 1, f"{where}: {len(found)} <{tag}>"
        return found[0]

    def date(el, where):
        assert RFC3339.match(el.text or ""), f"{where}: {el.text!r} is not RFC 3339"

    def links(parent, where):
        seen = set()
        for link in parent.findall(f"{A}link"):
            assert link.get("href"), f"{where}: a link without href"
            if link.get("rel", "alternate") == "alternate":
                key = (link.get("type"), link.get("hreflang"))
                assert key not in seen, f"{where}: two alternate links of the same type and language"
                seen.add(key)
        return parent.findall(f"{A}link")

    for el in root.iter():
        if el.get(XML_LANG) is not None:
            assert LANG_TAG.match(el.get(XML_LANG)), el.get(XML_LANG)
        if el.tag == f"{A}link" and el.get("hreflang") is not None:
            assert LANG_TAG.match(el.get("hreflang")), el.get("hreflang")
    assert one(root, "id", "feed").text.startswith(("urn:", "tag:", "http"))
    assert (one(root, "title", "feed").text or "").strip()
    date(one(root, "updated", "feed"), "feed")
    rels = {ln.get("rel") for ln in links(root, "feed")}
    assert "alternate" in rels
    entries = root.findall(f"{A}entry")
    if not root.findall(f"{A}author"):
        assert all(e.findall(f"{A}author") for e in entries), "no feed author and an entry without one"
    ids = []
    for i, e in enumerate(entries):
        where = f"entry {i}"
        ids.append(one(e, "id", where).text)
        one(e, "title", where)
        date(one(e, "updated", where), where)
        for p in e.findall(f"{A}published"):
            date(p, where)
        assert len(e.findall(f"{A}published")) <= 1
        entry_links = links(e, where)
        assert any(ln.get("rel", "alternate") == "alternate" for ln in entry_links), f"{where}: no alternate link"
        for author in e.findall(f"{A}author"):
            one(author, "name", where)
        for cat in e.findall(f"{A}category"):
            assert cat.get("term"), f"{where}: a category without term"
        summary = one(e, "summary", where)
        assert summary.get("type") == "text"
        assert len(e.findall(f"{A}content")) == 0
    assert len(ids) == len(set(ids)), "two entries with one id"
    assert len(parsed.entries) == len(entries)
    return root


def entries(root: etree._Element) -> list[dict]:
    out = []
    for e in root.findall(f"{A}entry"):
        out.append(
            {
                "id": e.findtext(f"{A}id"),
                "title": e.findtext(f"{A}title"),
                "lang": e.find(f"{A}title").get(XML_LANG),
                "links": {ln.get("rel"): ln.get("href") for ln in e.findall(f"{A}link")},
                "summary": e.findtext(f"{A}summary"),
                "author": e.findtext(f"{A}author/{A}name"),
                "categories": {c.get("term") for c in e.findall(f"{A}category")},
                "published": e.findtext(f"{A}published"),
            }
        )
    return out


def store(db_path: Path, items: list[dict]) -> list[int]:
    db = connect(db_path)
    try:
        ing = Ingestor(db, alerts=False)
        return [ing.ingest(it).post_id for it in items]
    finally:
        db.conn.close()


def make_feed(db_path: Path, kind: str, **kw) -> bytes:
    db = connect(db_path, readonly=True)
    try:
        return atom.feed(db, kind, base_url=kw.pop("base_url", BASE), **kw)
    finally:
        db.conn.close()


def corpus() -> list[dict]:
    """Three new posts (one by a known author, one found at a URL that is not its canonical one) and
    a copy of the seed."""
    news = relevant_articles(3)
    news[0]["author"] = "Ivan Petrov"
    news[1]["url"] = "https://blog.example.org/2019/05/talks.html?m=1"
    return [*news, item("https://copier.example.net/2019/05/seed-copy.html", text=SEED["text"], title="Reposted")]


def test_the_feeds_are_valid_atom_and_carry_what_an_entry_needs(db_path: Path):
    ids = store(db_path, corpus())
    statuses = dict(tuples(db_path, "SELECT id, status FROM posts"))
    assert [statuses[i] for i in ids] == ["new", "new", "new", "copy"]

    new = check_atom(make_feed(db_path, "new"))
    got = entries(new)
    assert len(got) == 3
    by_url = {e["links"]["alternate"]: e for e in got}
    posts = {r[0]: r for r in tuples(db_path, "SELECT url, canonical_url, title, relevance, evidence FROM posts")}
    # newest first: the order rjwatch collected them in
    assert [e["links"]["alternate"] for e in got] == [c["url"] for c in reversed(corpus()[:3])]
    moved = by_url["https://blog.example.org/2019/05/talks.html?m=1"]
    assert moved["links"]["canonical"] == "https://blog.example.org/2019/05/talks.html"
    assert "canonical" not in by_url[corpus()[0]["url"]]["links"]
    first = by_url[corpus()[0]["url"]]
    assert first["author"] == "Ivan Petrov"
    assert first["categories"] == {"new", "en"} and first["lang"] == "en"
    assert first["published"] == "2019-05-10T09:00:00Z"
    url, _, title, relevance, evidence = posts[corpus()[0]["url"]]
    assert first["title"] == title
    head = first["summary"].splitlines()[0]
    assert head.startswith(f"new · relevance {relevance:.2f} · ")
    import json

    assert json.loads(evidence)["reasons"][0] in head
    assert first["summary"].split("\n\n", 1)[1].startswith(corpus()[0]["text"][:40])
    assert new.find(f"{A}link[@rel='self']").get("href") == f"{BASE}/feeds/new.atom"

    copies = check_atom(make_feed(db_path, "copies", base_url=BASE + "/"))
    (copy,) = entries(copies)
    assert copy["links"]["alternate"] == "https://copier.example.net/2019/05/seed-copy.html"
    assert copy["categories"] == {"copy", "en"}
    assert f"seed: {SEED['title']}" in copy["summary"]
    assert copies.find(f"{A}link[@rel='self']").get("href") == f"{BASE}/feeds/copies.atom"

    # the served size caps a feed, newest first
    capped = entries(check_atom(make_feed(db_path, "new", limit=2)))
    assert [e["id"] for e in capped] == [e["id"] for e in got[:2]]


def test_ids_are_stable_across_runs_exports_and_a_rebuilt_database(db_path: Path, tmp_path: Path):
    store(db_path, corpus())
    first = make_feed(db_path, "new")
    again = make_feed(db_path, "new")
    assert first == again  # nothing changed: the same bytes
    feed_id = etree.fromstring(first).findtext(f"{A}id")
    served = {e["links"].get("canonical", e["links"]["alternate"]): e["id"] for e in entries(check_atom(first))}
    copies = {e["links"]["alternate"]: e["id"] for e in entries(check_atom(make_feed(db_path, "copies")))}

    # a real `rjwatch export --format atom` in its own process, to a file and to stdout
    out = tmp_path / "all.atom"
    cmd = [sys.executable, "-m", "rjwatch", "--db", str(db_path), "export", "--format", "atom"]
    done = subprocess.run([*cmd, "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "exported 4 posts" in done.stderr
    exported = entries(check_atom(out.read_bytes()))
    assert len(exported) == 4
    by_key = {e["links"].get("canonical", e["links"]["alternate"]): e["id"] for e in exported}
    assert {k: by_key[k] for k in served} == served
    assert {k: by_key[k] for k in copies} == copies
    to_stdout = subprocess.run(cmd, capture_output=True, timeout=120)
    assert to_stdout.returncode == 0 and to_stdout.stdout == out.read_bytes()
    # the export's own feed id is stable too, and is not the served feeds'
    export_id = etree.fromstring(out.read_bytes()).findtext(f"{A}id")
    assert export_id != feed_id and etree.fromstring(to_stdout.stdout).findtext(f"{A}id") == export_id

    # a database rebuilt from the same posts: the same entry ids, but another installation's feed
    rebuilt = tmp_path / "rebuilt.db"
    assert run_cli("--db", str(rebuilt), "init").exit_code == 0
    store(rebuilt, corpus())
    again = check_atom(make_feed(rebuilt, "new"))
    assert {e["links"].get("canonical", e["links"]["alternate"]): e["id"] for e in entries(again)} == served
    assert again.findtext(f"{A}id") != feed_id


def test_export_writes_what_the_filters_select_newest_first(db_path: Path):
    store(db_path, corpus())
    res = run_cli(
        "--db", str(db_path), "export", "--format", "atom", "--status", "new", "--base-url", "https://desk.example.org"
    )
    assert res.exit_code == 0, res.output
    root = check_atom(res.stdout_bytes)
    got = entries(root)
    assert [e["links"]["alternate"] for e in got] == [c["url"] for c in reversed(corpus()[:3])]
    assert root.find(f"{A}link[@rel='alternate']").get("href") == "https://desk.example.org/"
    res = run_cli("--db", str(db_path), "export", "--format", "atom", "-q", "Reposted")
    assert [e["title"] for e in entries(check_atom(res.stdout_bytes))] == ["Reposted"]

    bad = run_cli("--db", str(db_path), "export", "--format", "atom", "--base-url", "javascript:alert(1)")
    one_line_error(bad, "base URL")
    bad = run_cli("--db", str(db_path), "export", "--base-url", BASE)
    one_line_error(bad, "--base-url", "atom")


def test_a_saved_search_has_its_feed_and_an_unknown_one_is_a_one_line_error(db_path: Path):
    store(db_path, corpus())
    assert run_cli("--db", str(db_path), "saved", "add", "reposts", "Reposted").exit_code == 0
    data = make_feed(db_path, "saved", name="reposts")
    root = check_atom(data)
    assert [e["title"] for e in entries(root)] == ["Reposted"]
    assert root.find(f"{A}link[@rel='self']").get("href") == f"{BASE}/feeds/saved/reposts.atom"
    res = run_cli("--db", str(db_path), "saved", "feed", "reposts")
    assert res.exit_code == 0 and res.stdout_bytes == data

    with pytest.raises(RjwatchError) as caught:
        make_feed(db_path, "saved", name="nope")
    assert "no saved search named 'nope'" in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(RjwatchError):
        make_feed(db_path, "everything")
    with pytest.raises(RjwatchError):
        make_feed(db_path, "saved")
    one_line_error(run_cli("--db", str(db_path), "saved", "feed", "nope"), "no saved search", "nope")


def test_an_empty_database_gives_a_valid_empty_feed(db_path: Path):
    installed = tuples(db_path, "SELECT min(applied_at) FROM _sqlite_migrations")[0][0]
    for kind in ("new", "copies"):
        root = check_atom(make_feed(db_path, kind))
        assert root.findall(f"{A}entry") == []
        assert root.findtext(f"{A}updated") == installed[:10] + "T" + installed[11:19] + "Z"
    res = run_cli("--db", str(db_path), "export", "--format", "atom")
    assert res.exit_code == 0
    assert check_atom(res.stdout_bytes).findall(f"{A}entry") == []


def test_a_hostile_post_still_gives_a_feed_that_parses(db_path: Path):
    (pid,) = store(db_path, [relevant_articles(1)[0]])
    db = connect(db_path)
    try:
        # What a page could carry, planted past the ingest's own cleaning: markup, a CDATA end, NUL,
        # other C0 controls, an escape sequence, a bidi override and a non-character.
        db.execute(
            "UPDATE posts SET title = ?, author = ?, text = ? || text, "
            "url = 'https://evil.example.org/p?a=1&b=\"<x>\"&c=' || char(1) WHERE id = ?",
            [
                "<script>alert('x')</script>\x00 ]]>\x1b[31m <![CDATA[ \x0b& </title>\u202e talks\ufffe",
                "<b onmouseover=alert(1)>Eve</b>\x07",
                "</summary><script>alert(2)</script> ]]> \x08\x0c end ",
                pid,
            ],
        )
        db.conn.commit()
    finally:
        db.conn.close()
    for data in (make_feed(db_path, "new"), run_cli("--db", str(db_path), "export", "--format", "atom").stdout_bytes):
        root = check_atom(data)
        assert not [el for el in root.iter() if isinstance(el.tag, str) and not el.tag.startswith(A)]
        (e,) = entries(root)
        assert e["title"] == HOSTILE_TITLE
        assert e["author"] == "<b onmouseover=alert(1)>Eve</b>"
        assert e["links"]["alternate"] == 'https://evil.example.org/p?a=1&b="<x>"&c='
        assert e["summary"].split("\n\n", 1)[1].startswith("</summary><script>alert(2)</script> ]]> end ")
        parsed = feedparser.parse(data)
        assert parsed.entries[0].title == HOSTILE_TITLE


def test_the_copies_feed_carries_translations_with_the_seed_named(db_path: Path):
    title, _, body = (FIXTURES / "translations" / "ja_whole.txt").read_text("utf-8").partition("\n\n")
    store(db_path, [item("https://nihon.example.jp/2019/05/honyaku.html", text=body.strip(), title=title.strip())])
    assert tuples(db_path, "SELECT status, lang, json_extract(evidence, '$.kind') FROM posts") == [
        ("copy", "ja", "translation")
    ]
    (e,) = entries(check_atom(make_feed(db_path, "copies")))
    assert e["lang"] == "ja" and e["categories"] == {"copy", "ja"}
    assert e["title"] == title.strip()
    assert f"translation of seed: {SEED['title']}" in e["summary"]
    assert check_atom(make_feed(db_path, "new")).findall(f"{A}entry") == []


def test_a_saved_search_feed_applies_the_saved_filters(db_path: Path):
    store(db_path, corpus())
    res = run_cli("--db", str(db_path), "saved", "add", "talks", "talks OR Russia", "--status", "copy")
    assert res.exit_code == 0, res.output
    assert [e["title"] for e in entries(check_atom(make_feed(db_path, "saved", name="talks")))] == ["Reposted"]


def test_bidi_controls_and_escapes_alone_are_removed_too(db_path: Path):
    (pid,) = store(db_path, [relevant_articles(1)[0]])
    db = connect(db_path)
    try:
        db.execute("UPDATE posts SET title = ? WHERE id = ?", ["gpj.\u202eexe\u2066 talks\u200b\tnow\u2028", pid])
        db.conn.commit()
    finally:
        db.conn.close()
    (e,) = entries(check_atom(make_feed(db_path, "new")))
    assert e["title"] == "gpj.exe talks now"


def test_a_mark_updates_the_entry_and_keeps_its_id(db_path: Path):
    (pid,) = store(db_path, [relevant_articles(1)[0]])
    (before,) = entries(check_atom(make_feed(db_path, "new")))
    res = run_cli("--db", str(db_path), "mark", str(pid), "copy", "--note", "a reworded wire story", "--by", "ana")
    assert res.exit_code == 0, res.output
    assert check_atom(make_feed(db_path, "new")).findall(f"{A}entry") == []
    root = check_atom(make_feed(db_path, "copies"))
    (after,) = entries(root)
    assert after["id"] == before["id"]
    assert "analyst: copy (a reworded wire story)" in after["summary"]
    marked_at = tuples(db_path, "SELECT at FROM marks")[0][0]
    updated = root.find(f"{A}entry").findtext(f"{A}updated")
    assert updated == root.findtext(f"{A}updated") and updated[:19] == marked_at[:19]
