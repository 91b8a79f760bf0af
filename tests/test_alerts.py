"""Alert delivery from the outbox through real Apprise to a local webhook receiver."""

from __future__ import annotations

from datetime import UTC, datetime

from helpers import ARTICLE, SEED, item, relevant_articles, wait_until
from receiver import Receiver
from scheduler.alerts import Channel, Rule, channels_from_config, dispatch, send_digest
from storage.ingest import Ingestor


def _deliveries(db):
    return list(db.query("SELECT * FROM deliveries"))


def _due(db) -> bool:
    """The first delivery is due for a try: never tried yet, or its backoff has passed."""
    found = _deliveries(db)
    at = found[0]["next_attempt_at"] if found else None
    return at is None or datetime.fromisoformat(at) <= datetime.now(UTC)


def test_a_new_post_is_delivered_exactly_once_after_a_failure(db):
    Ingestor(db).ingest(item("https://a.example.org/1"))
    with Receiver(fail_first=1) as rx:
        ch = [Channel("hook", rx.url)]
        first = dispatch(db, ch, retry_base=0.05)
        assert first == {"sent": 0, "failed": 0, "retrying": 1, "deferred": 0}
        assert _deliveries(db)[0]["status"] == "pending" and _deliveries(db)[0]["attempts"] == 1
        assert wait_until(lambda: _due(db), timeout=10, step=0.01)
        second = dispatch(db, ch, retry_base=0.05)
        assert second["sent"] == 1
        third = dispatch(db, ch, retry_base=0.05)
        assert third["sent"] == 0
        got = rx.delivered()
        assert len(got) == 1 and len(rx.requests) == 2
        assert got[0]["key"] == rx.requests[0]["key"]  # the retry carries the same idempotency key
        assert "Peace treaty talks resume in Moscow" in got[0]["payload"]["title"]
        body = got[0]["payload"]["message"]
        assert "https://a.example.org/1" in body and "relevance" in body
    assert next(db.query("SELECT status FROM alerts"))["status"] == "sent"


def test_failures_become_failed_after_the_last_attempt(db):
    Ingestor(db).ingest(item("https://a.example.org/1"))
    with Receiver(fail_first=100) as rx:
        ch = [Channel("hook", rx.url)]

        def retried_until_failed() -> bool:
            if [d["status"] for d in _deliveries(db)] == ["failed"]:
                return True
            if _due(db):
                dispatch(db, ch, retry_base=0.001)
            return False

        assert wait_until(retried_until_failed, timeout=20, step=0.01)
        assert len(rx.requests) == 6
        dispatch(db, ch, retry_base=0.001)  # a failed delivery is not tried again on its own
        assert len(rx.requests) == 6
    d = _deliveries(db)[0]
    assert d["status"] == "failed" and d["attempts"] == 6 and "delivery failed" in d["last_error"]
    assert next(db.query("SELECT status FROM alerts"))["status"] == "failed"


def test_suppressed_alerts_are_never_sent_and_rules_filter(db):
    ing = Ingestor(db)
    ing.ingest(item("https://a.example.org/silent"), silent=True)
    ing.ingest(item("https://b.example.org/copy", text=SEED["text"], title=SEED["title"]))
    ing.ingest(item("https://c.example.org/new", text="Совсем другая статья. " + ARTICLE.replace("Tuesday", "Friday")))
    with Receiver() as rx:
        copies_only = Channel("copies", rx.url, rule=Rule(kinds=("copy", "excerpt")))
        dispatch(db, [copies_only])
        titles = [r["payload"]["title"] for r in rx.delivered()]
    assert titles == ["[copy] What Russia Wants From Its Dialogue With Japan"]


def test_flood_control_defers_the_overflow_to_the_digest(db):
    ing = Ingestor(db)
    for it in relevant_articles(5):
        assert ing.ingest(it).status == "new"
    with Receiver() as rx:
        ch = [Channel("hook", rx.url, max_per_hour=2)]
        counts = dispatch(db, ch)
        assert counts["sent"] == 2 and counts["deferred"] >= 1
        assert len(rx.delivered()) == 2
        digest = send_digest(db, ch, period="2026-11-27")
        assert digest["hook"] == counts["deferred"]
        assert len(rx.delivered()) == 3
        message = rx.delivered()[-1]["payload"]
        assert "digest" in message["title"] and "New coverage in en" in message["message"]
        assert dispatch(db, ch)["sent"] == 0  # nothing is sent twice


def test_digest_puts_seed_copies_first(db):
    ing = Ingestor(db)
    ing.ingest(item("https://c.example.org/new"))
    ing.ingest(item("https://b.example.org/copy", text=SEED["text"], title=SEED["title"]))
    with Receiver() as rx:
        send_digest(db, [Channel("daily", rx.url, mode="digest")], period="day")
        text = rx.delivered()[0]["payload"]["message"]
    assert text.index("Copies and excerpts") < text.index("New coverage")


def test_channels_from_config_reads_env_secrets_and_masks_them(tmp_path, monkeypatch):
    from rjwatch.settings import load

    monkeypatch.setenv("HOOK_TOKEN", "s3cr3t-token-value")
    cfg_file = tmp_path / "rj.toml"
    cfg_file.write_text('[[alerts.channels]]\nname = "team"\nurl = "json://user:${HOOK_TOKEN}@127.0.0.1:9/h"\n')
    chans = channels_from_config(load(cfg_file))
    assert chans[0].url.endswith("@127.0.0.1:9/h") and "s3cr3t-token-value" in chans[0].url
    assert "s3cr3t-token-value" not in chans[0].masked


def test_a_rule_can_use_an_fts_query_or_a_saved_search(db):
    ing = Ingestor(db)
    ing.ingest(item("https://a.example.org/kuril"))
    arts = relevant_articles(8)
    other = next(a for a in arts if "kuril" not in (a["text"] + a["title"]).lower())
    assert ing.ingest(other).status == "new"
    db.execute("INSERT INTO saved_searches (name, query, created_at) VALUES ('islands', 'kuril*', '2026-01-01')")
    with Receiver() as rx:
        dispatch(db, [Channel("saved", rx.url, rule=Rule(query="islands"))])
        got = [r["payload"]["message"] for r in rx.delivered()]
    assert len(got) == 1 and "https://a.example.org/kuril" in got[0]
