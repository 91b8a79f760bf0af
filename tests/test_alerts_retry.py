"""`rjwatch alerts retry`: an alert whose delivery failed for good is queued again from the CLI and the
real daemon delivers it, through real Apprise, to a local webhook receiver; an unknown alert id is a
one-line error; a sent alert is not sent again."""

from __future__ import annotations

import json

import pytest

from helpers import item, no_traceback, one_line_error, q, rows, run_cli, wait_until
from receiver import Receiver
from reliability import Daemon, rjwatch_cmd, run_measured, write_config
from scheduler.alerts import MAX_ATTEMPTS, Channel, dispatch
from storage.db import connect
from storage.ingest import Ingestor

#: Backoff base between the failing attempts: the alert fails for good within a second.
FAST_RETRY_S = 0.001
#: Longest wait for the daemon to start and run its first dispatch on a loaded machine.
DAEMON_DELIVERY_S = 90


def cli(db_path, *args: str):
    result = run_cli("--db", str(db_path), *args)
    no_traceback(result.stdout, result.stderr)
    return result


def failed_alert(db_path, rx: Receiver) -> dict:
    """One new-post alert whose every delivery attempt to `rx` failed; returns its outbox row."""
    db = connect(db_path)
    try:
        Ingestor(db).ingest(item("https://a.example.org/talks"))
        (alert,) = rows(db_path, "SELECT * FROM alerts WHERE kind = 'new'")
        hook = [Channel("hook", rx.url)]
        rx.fail_first = 10**6

        def given_up() -> bool:
            dispatch(db, hook, retry_base=FAST_RETRY_S)
            return q(db_path, "SELECT status FROM alerts WHERE id = ?", alert["id"]) == "failed"

        assert wait_until(given_up, timeout=30, step=0.01)
    finally:
        db.conn.close()
    assert len(rx.requests) == MAX_ATTEMPTS and not rx.delivered()
    rx.fail_first = 0  # the receiver is back
    return alert


@pytest.mark.slow
def test_a_failed_alert_queued_again_is_delivered_by_the_daemon(db_path, tmp_path):
    with Receiver() as rx:
        alert = failed_alert(db_path, rx)
        listed = json.loads(cli(db_path, "alerts", "--status", "failed", "--format", "json").stdout)
        assert [a["id"] for a in listed] == [alert["id"]]

        result = cli(db_path, "alerts", "retry", str(alert["id"]))
        assert result.exit_code == 0 and result.stdout == f"alert #{alert['id']} queued again\n"
        assert q(db_path, "SELECT status FROM alerts WHERE id = ?", alert["id"]) == "pending"
        assert rows(db_path, "SELECT channel, status, attempts, next_attempt_at FROM deliveries") == [
            {"channel": "hook", "status": "pending", "attempts": 0, "next_attempt_at": None}
        ]
        assert len(rx.requests) == MAX_ATTEMPTS  # queued, not sent by the command itself

        d = Daemon(db_path, write_config(tmp_path / "rj.toml", rx.url)).start()
        try:
            assert wait_until(
                lambda: q(db_path, "SELECT status FROM alerts WHERE id = ?", alert["id"]) == "sent",
                timeout=DAEMON_DELIVERY_S,
            ), d.output
        finally:
            assert d.stop() == 0, d.output
        got = rx.delivered()
    assert [r["key"] for r in got] == [alert["key"]]  # delivered once, with the alert's own key
    assert "Peace treaty talks resume in Moscow" in got[0]["payload"]["title"]
    assert rows(db_path, "SELECT status, attempts FROM deliveries") == [{"status": "sent", "attempts": 1}]


def test_retrying_a_sent_alert_sends_nothing_again(db_path):
    db = connect(db_path)
    try:
        Ingestor(db).ingest(item("https://a.example.org/talks"))
        with Receiver() as rx:
            hook = [Channel("hook", rx.url)]
            assert dispatch(db, hook)["sent"] == 1
            (alert,) = rows(db_path, "SELECT id, status FROM alerts WHERE kind = 'new'")
            assert alert["status"] == "sent"
            # Nothing had failed: the user hears so (one line, exit 1), not "queued again".
            res = cli(db_path, "alerts", "retry", str(alert["id"]))
            assert res.exit_code == 1
            assert res.output.strip() == f"rjwatch: error: alert #{alert['id']} is sent, not failed: nothing to retry"
            assert q(db_path, "SELECT status FROM alerts WHERE id = ?", alert["id"]) == "sent"
            assert dispatch(db, hook)["sent"] == 0
            assert len(rx.requests) == 1
    finally:
        db.conn.close()


@pytest.mark.parametrize("alert_id", ["999", "9223372036854775807"])
def test_an_unknown_alert_is_a_one_line_error(db_path, alert_id):
    result = cli(db_path, "alerts", "retry", alert_id)
    assert result.exit_code == 1 and result.stdout == ""
    assert one_line_error(result) == f"rjwatch: error: no alert #{alert_id}"
    finished = run_measured(rjwatch_cmd(db_path, "alerts", "retry", alert_id), timeout=60)
    assert finished.code == 1
    assert one_line_error(finished) == f"rjwatch: error: no alert #{alert_id}"
    assert q(db_path, "SELECT count(*) FROM alerts") == 0


@pytest.mark.parametrize("alert_id", ["0", "-3", "twelve", "9223372036854775808"])
def test_an_alert_id_that_is_no_id_is_a_usage_error(db_path, alert_id):
    result = cli(db_path, "alerts", "retry", "--", alert_id)
    assert result.exit_code == 2
    assert "'ALERT_ID'" in one_line_error(result, "invalid value")
