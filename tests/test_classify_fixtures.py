"""The classifier against labelled fixtures (tests/fixtures/classify): one file per behaviour.

Every fixture is stored in a fresh database through the real write path, in publication order and
in reverse; the final status of each, and the duplicate links, must match its sidecar either way.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import FIXTURES
from storage.ingest import Ingestor

CASES = sorted(p for p in (FIXTURES / "classify").iterdir() if p.suffix in (".txt", ".html"))


def _item(path: Path) -> dict:
    expected = json.loads(path.with_name(path.stem + ".expected.json").read_text("utf-8"))
    raw = path.read_text("utf-8")
    host = path.stem.replace("__", "-").replace("_", "-").lower()[:60]
    item = {
        "url": f"https://{host}.blogspot.com/2020/01/post.html",
        "published": expected.get("published"),
        "seen_via": "file",
        "lang_hint": None,
    }
    if path.suffix == ".html":
        item["html"] = raw
    else:
        title, _, body = raw.partition("\n\n")
        item["title"], item["text"] = title.strip(), body
    return item


def _store_all(db, order: list[Path]) -> dict[str, dict]:
    ing = Ingestor(db)
    ids = {}
    for path in order:
        outcome = ing.ingest(_item(path))
        assert outcome.action == "inserted", (path.name, outcome)
        ids[path.stem] = outcome.post_id
    rows = {r["id"]: r for r in db.query("SELECT id, status, duplicate_of, lang, relevance FROM posts")}
    return {name: rows[pid] | {"id": pid} for name, pid in ids.items()}


def _by_published(paths: list[Path]) -> list[Path]:
    def key(p: Path):
        return json.loads(p.with_name(p.stem + ".expected.json").read_text("utf-8")).get("published") or ""

    return sorted(paths, key=key)


def test_there_are_enough_labelled_cases():
    statuses = [json.loads(p.with_name(p.stem + ".expected.json").read_text("utf-8"))["status"] for p in CASES]
    for status in ("copy", "excerpt", "new", "duplicate", "off_topic"):
        assert statuses.count(status) >= 3, status


@pytest.mark.parametrize("order", ["published", "reversed"])
def test_every_fixture_gets_its_expected_status(db, order):
    paths = _by_published(CASES)
    if order == "reversed":
        paths = paths[::-1]
    stored = _store_all(db, paths)
    wrong = []
    for path in CASES:
        exp = json.loads(path.with_name(path.stem + ".expected.json").read_text("utf-8"))
        got = stored[path.stem]
        if got["status"] != exp["status"]:
            wrong.append(
                f"{path.stem}: expected {exp['status']}, got {got['status']} (relevance {got['relevance']:.2f})"
            )
        if exp.get("duplicate_of"):
            original = stored[exp["duplicate_of"]]["id"]
            if got["duplicate_of"] != original:
                wrong.append(f"{path.stem}: expected duplicate_of #{original}, got {got['duplicate_of']}")
        if exp.get("lang") and got["lang"] != exp["lang"]:
            wrong.append(f"{path.stem}: expected lang {exp['lang']}, got {got['lang']}")
    assert not wrong, "\n".join(wrong)


def test_a_late_collected_original_takes_over_and_the_story_alerts_once(db):
    dups = [p for p in CASES if p.stem.startswith("duplicate__")]
    assert dups
    twin = dups[0]
    original = (
        FIXTURES / "classify" / (json.loads(twin.with_name(twin.stem + ".expected.json").read_text())["duplicate_of"])
    )
    original = next(original.parent.glob(original.name + ".*[tl]"))
    ing = Ingestor(db)
    first = ing.ingest(_item(twin))  # the copy is collected first ...
    assert first.status == "new"
    second = ing.ingest(_item(original))  # ... then the earlier-published original turns up
    rows = {r["id"]: r for r in db.query("SELECT id, status, duplicate_of FROM posts")}
    assert rows[second.post_id]["status"] == "new"
    assert rows[second.post_id]["duplicate_of"] is None
    assert rows[first.post_id]["status"] == "duplicate"
    assert rows[first.post_id]["duplicate_of"] == second.post_id
    alerts = list(db.query("SELECT post_id, status FROM alerts WHERE kind = 'new'"))
    assert [a["status"] for a in alerts].count("pending") == 1, alerts
