"""Reliability campaign, alert channels: a channel whose rule skips most alerts still gets the ones it
wants (14), renaming or adding a channel sends no history (15), and no secret of a channel URL or of a
source URL reaches a log line, an alert or a listing (16). Real ingest, real Apprise delivering to
local receivers, the real `rjwatch run` daemon and CLI."""

from __future__ import annotations

import io
import json
import logging
import random

import pytest

from helpers import SEED, item, q, rows, wait_until
from receiver import Receiver
from reliability import Daemon, StaticSite, record, rjwatch_cmd, run_measured
from scheduler.alerts import Channel, Rule, channels_from_config, dispatch, send_digest
from storage.ingest import Ingestor

pytestmark = pytest.mark.reliability

#: Alerts a copies-only channel does not want, queued ahead of the one it does: more than one
#: dispatch batch (scheduler.alerts.DISPATCH_BATCH = 100).
NOT_WANTED = 120
#: Alerts already delivered before a channel is renamed and another added.
HISTORY = 40
#: An answer the failing receivers give for ever.
ALWAYS = 10**9


def _new_posts(n: int, offset: int = 0) -> list[dict]:
    """n distinct on-topic posts (each judged `new`): a shared topical lead and a random filler."""
    rng = random.Random(1400 + offset)
    vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9))) for _ in range(3000)]
    out = []
    for i in range(offset, offset + n):
        filler = " ".join(rng.choice(vocab) for _ in range(150))
        text = (
            f"Russia and Japan resumed talks on a peace treaty and the Kuril Islands (report {i}). "
            f"The foreign ministers met in Moscow and Tokyo. {filler}."
        )
        out.append(item(f"https://n{i}.example.org/p", text=text, title=f"Russia Japan talks, report {i}"))
    return out


def _ingest(db, posts: list[dict]) -> None:
    ing = Ingestor(db)
    for p in posts:
        assert ing.ingest(p).status == "new"


def _copy_alert(db) -> dict:
    assert (
        Ingestor(db).ingest(item("https://copier.example.org/seed", text=SEED["text"], title=SEED["title"])).status
        == "copy"
    )
    return next(db.query("SELECT * FROM alerts WHERE kind = 'copy'"))


def _status(db, alert_id: int) -> str:
    return db.execute("SELECT status FROM alerts WHERE id = ?", (alert_id,)).fetchone()[0]


# --- 14 ------------------------------------------------------------------------------------------
def test_14_a_copies_only_channel_gets_the_copy_behind_120_other_alerts(db):
    _ingest(db, _new_posts(NOT_WANTED))
    copy = _copy_alert(db)
    with Receiver() as rx_all, Receiver(fail_first=ALWAYS) as rx_copies:
        channels = [
            Channel("all", rx_all.url, max_per_hour=1000),
            Channel("copies", rx_copies.url, rule=Rule(kinds=("copy", "excerpt"))),
        ]
        for _ in range(2):  # 121 alerts: two passes of the 100-alert batch
            dispatch(db, channels, retry_base=0.01)
        # the copies channel tried the copy (its receiver is down) and nothing else
        assert rx_copies.requests and {r["key"] for r in rx_copies.requests} == {copy["key"]}
        assert len(rx_all.delivered()) == NOT_WANTED + 1
        # "all" has it, "copies" does not yet: the alert is not sent; the others are
        assert _status(db, copy["id"]) == "pending"
        assert (
            db.execute("SELECT count(*) FROM alerts WHERE kind = 'new' AND status = 'sent'").fetchone()[0] == NOT_WANTED
        )
        rx_copies.fail_first = 0
        # dispatch until the retry comes due and the copy is delivered
        wait_until(
            lambda: dispatch(db, channels, retry_base=0.01) is not None and _status(db, copy["id"]) == "sent",
            timeout=30,
            step=0.05,
        )
        assert _status(db, copy["id"]) == "sent"
        for _ in range(2):
            dispatch(db, channels, retry_base=0.01)  # nothing more goes out
        assert [r["key"] for r in rx_copies.delivered()] == [copy["key"]]
        keys = [r["key"] for r in rx_all.delivered()]
        doubled = len(keys) - len(set(keys)) + len(rx_copies.delivered()) - 1
        assert sorted(set(keys)) == sorted(outbox_keys_of(db)) and doubled == 0
    assert db.execute("SELECT count(*) FROM alerts WHERE status != 'sent'").fetchone()[0] == 0
    record(
        "14 a copies-only channel behind 120 alerts it does not want",
        runs=1,
        posts=NOT_WANTED + 1,
        faults=1,
        lost=0,
        doubled=doubled,
    )


def test_14_a_copies_only_digest_channel_gets_the_copy_behind_120_other_alerts(db):
    _ingest(db, _new_posts(NOT_WANTED))
    copy = _copy_alert(db)
    with Receiver() as rx_all, Receiver() as rx_daily:
        channels = [
            Channel("all", rx_all.url, max_per_hour=1000),
            Channel("daily", rx_daily.url, mode="digest", rule=Rule(kinds=("copy", "excerpt"))),
        ]
        for _ in range(2):
            dispatch(db, channels)
        assert len(rx_all.delivered()) == NOT_WANTED + 1 and not rx_daily.requests
        assert _status(db, copy["id"]) == "pending"  # the digest channel has not had it yet
        out = send_digest(db, channels, period="2026-12-04")
        assert out == {"daily": 1}
        got = rx_daily.delivered()
        assert len(got) == 1 and SEED["title"] in got[0]["payload"]["message"]
        assert "report" not in got[0]["payload"]["message"]  # none of the alerts it does not want
        assert _status(db, copy["id"]) == "sent"
        assert send_digest(db, channels, period="2026-12-05") == {}  # nothing twice
        assert dispatch(db, channels)["sent"] == 0
        doubled = len(rx_all.delivered()) - len({r["key"] for r in rx_all.delivered()})
    assert doubled == 0
    assert db.execute("SELECT count(*) FROM alerts WHERE status != 'sent'").fetchone()[0] == 0
    record(
        "14 a copies-only digest channel behind 120 alerts it does not want",
        runs=1,
        posts=NOT_WANTED + 1,
        faults=0,
        lost=0,
        doubled=doubled,
    )


def outbox_keys_of(db) -> list[str]:
    return [r["key"] for r in db.query("SELECT key FROM alerts WHERE status != 'suppressed'")]


# --- 15 ------------------------------------------------------------------------------------------
def _config(path, channels: list[tuple[str, str]]):
    from rjwatch.settings import load

    path.write_text(
        "".join(f'[[alerts.channels]]\nname = "{n}"\nurl = "{u}"\nmax_per_hour = 1000\n\n' for n, u in channels)
    )
    return channels_from_config(load(path))


def test_15_renaming_a_channel_or_adding_one_sends_no_history(db, tmp_path):
    _ingest(db, _new_posts(HISTORY))
    with Receiver() as rx_a, Receiver() as rx_c, Receiver() as rx_d:
        dispatch(db, _config(tmp_path / "rj.toml", [("A", rx_a.url)]))
        assert len(rx_a.delivered()) == HISTORY
        # A is renamed B (same webhook), C is added, and D takes the place of a removed channel
        channels = _config(tmp_path / "rj.toml", [("B", rx_a.url), ("C", rx_c.url)])
        for _ in range(2):
            assert dispatch(db, channels)["sent"] == 0
        assert len(rx_a.requests) == HISTORY and not rx_c.requests
        assert db.execute("SELECT count(*) FROM alerts WHERE status != 'sent'").fetchone()[0] == 0
        # from now on, both get what is new, once
        _ingest(db, _new_posts(1, offset=HISTORY))
        for _ in range(2):
            dispatch(db, channels)
        new_key = db.execute("SELECT key FROM alerts ORDER BY id DESC LIMIT 1").fetchone()[0]
        assert [r["key"] for r in rx_a.delivered()][HISTORY:] == [new_key]
        assert [r["key"] for r in rx_c.delivered()] == [new_key]
        # a channel renamed to a new destination is a new channel: it starts from now too
        channels = _config(tmp_path / "rj.toml", [("B", rx_a.url), ("D", rx_d.url)])
        assert dispatch(db, channels)["sent"] == 0 and not rx_d.requests
        # a channel that left the config long ago and comes back under another name with the same
        # destination is new as well: what arrived meanwhile is not sent
        _ingest(db, _new_posts(3, offset=HISTORY + 1))
        assert dispatch(db, _config(tmp_path / "rj.toml", [("B", rx_a.url)]))["sent"] == 3
        channels = _config(tmp_path / "rj.toml", [("B", rx_a.url), ("E", rx_c.url)])
        assert dispatch(db, channels)["sent"] == 0 and len(rx_c.requests) == 1
        history = rows_of(db, "SELECT channel, count(*) AS n FROM deliveries GROUP BY channel ORDER BY channel")
        resent = len(rx_a.requests) - HISTORY - 4 + len(rx_c.requests) - 1 + len(rx_d.requests)
    assert history == [{"channel": "B", "n": HISTORY + 4}, {"channel": "C", "n": 1}]
    assert resent == 0
    record("15 a channel renamed, one added, one replaced", runs=4, posts=HISTORY + 1, faults=3, lost=0, doubled=resent)


def test_15_an_upgraded_database_carries_on_where_its_channels_were(db, tmp_path):
    """A database from before channels had places (deliveries were the only record): after the upgrade
    a channel sends nothing again and finishes what it owed, and a channel added then starts from now."""
    from storage.schema import migrate

    _ingest(db, _new_posts(HISTORY))
    with Receiver() as rx_a, Receiver() as rx_c:
        channels = _config(tmp_path / "rj.toml", [("A", rx_a.url)])
        dispatch(db, channels)
        assert len(rx_a.delivered()) == HISTORY
        copy = _copy_alert(db)
        rx_a.fail_first = len(rx_a.requests) + 1  # the copy's first try fails: A still owes it
        assert dispatch(db, channels, retry_base=0.01)["retrying"] == 1
        # back to the schema before 007
        db.execute("DROP TABLE alert_channels")
        db.execute("DELETE FROM _sqlite_migrations WHERE name = '007_alert_channels'")
        assert migrate(db) == ["007_alert_channels"]
        channels = _config(tmp_path / "rj.toml", [("A", rx_a.url), ("C", rx_c.url)])
        # dispatch until the retry comes due and the copy is delivered
        wait_until(
            lambda: dispatch(db, channels, retry_base=0.01) is not None and _status(db, copy["id"]) == "sent",
            timeout=30,
            step=0.05,
        )
        assert [r["key"] for r in rx_a.delivered()][HISTORY:] == [copy["key"]]  # what it owed, once
        assert len(rx_a.requests) == HISTORY + 2 and not rx_c.requests  # nothing again, no history for C
    assert db.execute("SELECT count(*) FROM alerts WHERE status != 'sent'").fetchone()[0] == 0


def rows_of(db, sql: str) -> list[dict]:
    return list(db.query(sql))


# --- 16 ------------------------------------------------------------------------------------------
SECRETS = {"password": "pw-S3cr3tPassw0rd", "header": "hdr-T0kenInAHeader", "user": "usr-L0neTokenUser"}


def test_16_a_debug_daemon_logs_no_channel_secret(db_path, tmp_path):
    from storage.db import connect

    db = connect(db_path)
    try:
        _ingest(db, _new_posts(2))
    finally:
        db.conn.close()
    with Receiver() as rx_json, Receiver() as rx_form:
        json_url = (
            rx_json.url.replace("json://", f"json://user:{SECRETS['password']}@") + f"?+X-Api-Key={SECRETS['header']}"
        )
        form_url = rx_form.url.replace("json://", f"form://{SECRETS['user']}@")
        cfg = tmp_path / "rj.toml"
        cfg.write_text(
            'alert_tick = "1s"\npoll_tick = "1h"\n\n'
            f'[[alerts.channels]]\nname = "team"\nurl = "{json_url}"\n\n'
            f'[[alerts.channels]]\nname = "form"\nurl = "{form_url}"\n'
        )
        d = Daemon(db_path, cfg)
        d.cmd = rjwatch_cmd(db_path, "run", "--log-level", "DEBUG", config=cfg)
        d.start()
        try:
            assert wait_until(lambda: len(rx_json.delivered()) == 2 and len(rx_form.delivered()) == 2, timeout=60)
        finally:
            assert d.stop() == 0
    log = d.output
    assert "Loaded JSON URL" in log and "Loaded Form URL" in log  # Apprise's debug lines were there
    leaked = [name for name, secret in SECRETS.items() if secret in log]
    assert not leaked, [line for line in log.splitlines() if any(s in line for s in SECRETS.values())][:5]
    assert "json://user:****@127.0.0.1" in log and "form://***@127.0.0.1" in log and "X-Api-Key=***" in log
    record(
        "16 DEBUG log of a daemon delivering to channels with secrets",
        runs=1,
        posts=2,
        faults=3,
        lost=0,
        doubled=0,
        leaked=len(leaked),
    )


def test_16_telegram_and_discord_tokens_are_masked_in_every_log_line(tmp_path, monkeypatch):
    """Apprise logs the full Telegram/Discord request URL at DEBUG (and urllib3 its path); we cannot
    reach those services here, so the lines they write are written through the same logging set-up."""
    import apprise

    from rjwatch.settings import load
    from scheduler.alerts import install_log_masking

    token, hook_token = "123456789:AAH-Tg5ecretBotT0ken", "Dsc0rdWebh00kT0kenXYZ"
    monkeypatch.setenv("RJ_DISCORD", hook_token)
    cfg = tmp_path / "rj.toml"
    cfg.write_text(
        f'[[alerts.channels]]\nname = "tg"\nurl = "tgram://{token}/987654"\n\n'
        '[[alerts.channels]]\nname = "dc"\nurl = "discord://112233445566/${RJ_DISCORD}"\n'
    )
    chans = channels_from_config(load(cfg))
    tg, dc = (apprise.Apprise.instantiate(c.url) for c in chans)
    stream = io.StringIO()
    root = logging.getLogger()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        install_log_masking()
        # the very lines Apprise and urllib3 write before they send
        logging.getLogger("apprise").debug(
            f"Telegram POST URL: {tg.notify_url}{tg.bot_token}/sendMessage (cert_verify=True)"
        )
        logging.getLogger("urllib3.connectionpool").debug(
            '%s://%s:%s "%s %s %s" %s %s',
            "https",
            "api.telegram.org",
            443,
            "POST",
            f"/bot{tg.bot_token}/sendMessage",
            "HTTP/1.1",
            401,
            58,
        )
        logging.getLogger("apprise").debug(f"Discord POST URL: {dc.notify_url}/{dc.webhook_id}/{dc.webhook_token}")
        try:
            raise ConnectionError(f"Max retries exceeded with url: /bot{token}/sendMessage")
        except ConnectionError:
            logging.getLogger("apprise").debug("Socket Exception", exc_info=True)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    text = stream.getvalue()
    assert "Telegram POST URL" in text and "Discord POST URL" in text and "Max retries" in text
    leaked = [s for s in (token.split(":")[1], hook_token, "112233445566") if s in text]
    assert not leaked, text
    assert all(s not in c.masked for c in chans for s in (token.split(":")[1], hook_token))
    record(
        "16 Telegram and Discord tokens in Apprise's debug lines",
        runs=1,
        posts=0,
        faults=4,
        lost=0,
        doubled=0,
        leaked=len(leaked),
    )


def test_16_a_failing_source_with_credentials_is_shown_masked(db_path, tmp_path, served):
    site = StaticSite()
    srv = served(site)
    password, token = "srcPassw0rd-9", "qTok-77abc"
    port = srv.base_url.rsplit(":", 1)[1].rstrip("/")
    url = f"http://reader:{password}@127.0.0.1:{port}/private/feed.xml?token={token}&lang=en"
    assert run_measured(rjwatch_cmd(db_path, "source", "add", url, "--kind", "feed")).code == 0
    with Receiver() as rx:
        cfg = tmp_path / "rj.toml"
        cfg.write_text(f'failure_alert_after = 2\n\n[[alerts.channels]]\nname = "hook"\nurl = "{rx.url}"\n')
        for _ in range(2):
            res = run_measured(rjwatch_cmd(db_path, "poll", "--all", config=cfg))
            assert res.code != 0 or "failed" in res.stdout + res.stderr
            assert password not in res.stdout + res.stderr and token not in res.stdout + res.stderr
        assert q(db_path, "SELECT count(*) FROM alerts WHERE kind = 'source_failing'") == 1
        from storage.db import connect

        db = connect(db_path)
        try:
            assert dispatch(db, channels_from_config(_load(cfg)))["sent"] == 1
        finally:
            db.conn.close()
        msg = rx.delivered()[0]["payload"]
    shown = {"alert": msg["title"] + "\n" + msg["message"]}
    for args in (
        ("source", "list", "--format", "json"),
        ("source", "list"),
        ("source", "show", "1"),
        ("status",),
        ("status", "--format", "json"),
        ("alerts", "--format", "json"),
    ):
        res = run_measured(rjwatch_cmd(db_path, *args, config=cfg))
        assert res.code == 0, res.stderr
        shown[" ".join(args)] = res.stdout + res.stderr
    leaked = [where for where, text in shown.items() if password in text or token in text]
    assert not leaked, {w: shown[w] for w in leaked}
    assert msg["title"] == f"[source failing] http://***@127.0.0.1:{port}/private/feed.xml?token=***&lang=en"
    assert (
        json.loads(shown["source list --format json"])[0]["url"]
        == f"http://***@127.0.0.1:{port}/private/feed.xml?token=***&lang=en"
    )
    assert "404" in shown["source show 1"]
    # the source itself still carries its credentials: they are needed to fetch it
    assert rows(db_path, "SELECT url FROM sources")[0]["url"] == url
    record("16 a failing source URL with credentials", runs=2, posts=0, faults=2, lost=0, doubled=0, leaked=len(leaked))


def _load(cfg):
    from rjwatch.settings import load

    return load(cfg)
