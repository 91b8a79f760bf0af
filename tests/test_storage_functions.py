"""storage's named functions for the outbox, the meta state, runs and source moves, on real SQLite files."""

from __future__ import annotations

import json
import os

import pytest

from storage import meta, outbox, progress
from storage import sources as src
from storage.db import write_tx


def _feed(db, url="https://news.example.org/feed.xml") -> int:
    sid, _ = src.add_source(db, url, "feed")
    return sid


def test_enqueue_writes_one_alert_per_key(db):
    sid = _feed(db)
    with write_tx(db):
        assert outbox.enqueue(db, "backfill-source-1", "backfill", {"source_id": sid, "posts": 3}, source_id=sid)
        assert not outbox.enqueue(db, "backfill-source-1", "backfill", {"source_id": sid, "posts": 9}, source_id=sid)
    rows = list(db.query("SELECT * FROM alerts"))
    assert len(rows) == 1
    row = rows[0]
    assert (row["kind"], row["source_id"], row["status"], row["post_id"], row["last_error"]) == (
        "backfill",
        sid,
        "pending",
        None,
        None,
    )
    assert json.loads(row["payload"]) == {"source_id": sid, "posts": 3}
    assert row["created_at"]


def test_enqueue_keeps_a_suppressed_alert_with_its_reason_and_text_as_written(db):
    with write_tx(db):
        outbox.enqueue(
            db,
            "k",
            "anomaly",
            {"problem": "пусто — 空"},
            status="suppressed",
            note="why",
            created_at="2026-01-01T00:00:00+00:00",
        )
    row = next(db.query("SELECT * FROM alerts"))
    assert (row["status"], row["last_error"], row["created_at"]) == ("suppressed", "why", "2026-01-01T00:00:00+00:00")
    assert "пусто — 空" in row["payload"]  # stored as text, not as \u escapes
    assert outbox.alert_counts(db) == {"suppressed": 1}
    assert outbox.delivery_counts(db) == {}


def test_an_alert_enqueued_in_a_failed_transaction_is_gone_with_it(db):
    with pytest.raises(RuntimeError):
        with write_tx(db):
            outbox.enqueue(db, "k", "anomaly", {})
            raise RuntimeError("the cause failed")
    assert outbox.alert_counts(db) == {}


def test_meta_values_heartbeat_and_job_states(db):
    assert meta.get(db, meta.LAST_DIGEST) is None and meta.heartbeat(db) is None and meta.job_states(db) == {}
    meta.put(db, meta.LAST_DIGEST, "2026-01-01T08:00:00+00:00")
    meta.put(db, meta.LAST_DIGEST, "2026-01-02T08:00:00+00:00")
    assert meta.get(db, meta.LAST_DIGEST) == "2026-01-02T08:00:00+00:00"
    meta.beat(db, {"at": "x", "pid": 1})
    assert meta.heartbeat(db) == {"at": "x", "pid": 1}
    meta.set_job_state(db, "poll", {"outcome": "ok", "result": {"polled": 2}})
    meta.set_job_state(db, "crawl:3", {"outcome": "ok"})
    assert meta.job_states(db) == {"poll": {"outcome": "ok", "result": {"polled": 2}}, "crawl:3": {"outcome": "ok"}}


def test_a_move_onto_another_sources_address_changes_nothing(db):
    a = _feed(db, "https://a.example.org/feed")
    b = _feed(db, "https://b.example.org/feed")
    assert not src.move_source(db, a, "https://b.example.org/feed", src.source_key("https://b.example.org/feed"))
    assert src.get_source(db, a)["url"] == "https://a.example.org/feed"
    assert src.move_source(db, a, "https://c.example.org/feed", src.source_key("https://c.example.org/feed"))
    assert src.get_source(db, a)["url"] == "https://c.example.org/feed"
    assert src.get_source(db, b)["url"] == "https://b.example.org/feed"


def test_disabling_a_removed_source_is_an_error_only_when_asked(db):
    with pytest.raises(src.SourceError):
        src.set_source_state(db, 999, "disabled")
    src.set_source_state(db, 999, "disabled", missing_ok=True)


def test_a_crawl_childs_run_is_settled_by_its_pid(db):
    sid, _ = src.add_source(db, "https://blog.example.org/", "blogger")
    started = "2026-01-01T00:00:00+00:00"
    with write_tx(db):
        assert (
            src.settle_child_run(db, sid, pid=os.getpid(), started=started, extra={"exit_code": -9}, reason="died")
            is None
        )
    run = src.start_run(db, "crawl", sid)
    with write_tx(db):
        assert src.settle_child_run(
            db, sid, pid=os.getpid(), started=started, extra={"exit_code": -9}, reason="killed"
        ) == (run, "killed")
    row = next(db.query("SELECT * FROM runs WHERE id = ?", [run]))
    assert row["finished_at"] and json.loads(row["stats"]) == {"exit_code": -9}
    # a run the child finished itself keeps its own reason
    src.finish_run(db, run, finish_reason="finished", pages=1, items=1, errors=0, stats={"x": 1})
    with write_tx(db):
        assert src.settle_child_run(
            db, sid, pid=os.getpid(), started=started, extra={"exit_code": 0}, reason="died"
        ) == (run, "finished")
    assert json.loads(next(db.query("SELECT stats FROM runs WHERE id = ?", [run]))["stats"]) == {"x": 1, "exit_code": 0}
    with write_tx(db):
        failed = src.add_failed_crawl_run(db, sid, started=started, stats={"exit_code": 2, "error": "boom"})
    assert next(db.query("SELECT finish_reason, errors FROM runs WHERE id = ?", [failed])) == {
        "finish_reason": "failed",
        "errors": 1,
    }


def test_pruning_keeps_each_blogs_last_crawl(db):
    sid, _ = src.add_source(db, "https://blog.example.org/", "blogger")
    old_kept = src.start_run(db, "crawl", sid)
    old_gone = src.start_run(db, "poll", None)
    db.execute("UPDATE runs SET started_at = '2000-01-01T00:00:00+00:00'")
    src.update_crawl_state(db, sid, last_run_id=old_kept)
    new = src.start_run(db, "poll", None)
    assert src.prune_runs(db, "2020-01-01T00:00:00+00:00") == 1
    assert {r["id"] for r in db.query("SELECT id FROM runs")} == {old_kept, new}
    assert old_gone not in {r["id"] for r in db.query("SELECT id FROM runs")}


def test_progress_reads_a_database_read_only(db, db_path, tmp_path):
    _feed(db)
    assert progress.collected(db_path) == (0, 0, 1, 0)
    assert progress.posts_by_status(db_path) == {}
    assert progress.meta_value(db_path, "demo") is None
    meta.put(db, "demo", "{}")
    assert progress.meta_value(db_path, "demo") == "{}"
    junk = tmp_path / "not-a-database.db"
    junk.write_bytes(b"not SQLite at all" * 100)
    assert progress.meta_value(junk, "demo") is None
