"""Alert delivery from the durable outbox: rules, channels (Apprise, console, JSONL), exactly once.

The outbox (`alerts`, one row per event) is written by storage in the same transaction as the post
that causes it. Here each row is matched against each channel's rule and delivered: a `deliveries`
row per (alert, channel) records attempts. The dispatcher sends, then marks sent; a crash between
the two repeats that one message once, with the same idempotency key (carried in the message and,
for webhooks, in the `X-Rjwatch-Key` header). Failures retry with exponential backoff up to
MAX_ATTEMPTS, then become `failed`, visible in `rjwatch alerts` and `status`.

Channels come from the config file (`[[alerts.channels]]`); each has a mode: `immediate` (subject to
`max_per_hour`; the overflow waits for the digest) or `digest` (one message per period, seed copies
first, then new coverage by language). Secrets in Apprise URLs never reach logs or output: URLs are
shown through Apprise's privacy masking, and may be read from the environment (`${VAR}`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlite_utils

from judge import dates
from judge.text import strip_controls
from storage import saved as saved_search
from storage import search
from storage.db import write_tx

log = logging.getLogger(__name__)

#: Delivery attempts before an alert is `failed` for a channel.
MAX_ATTEMPTS = 6
#: First retry delay by default (setting alert_retry); doubled after each failure: 30 s, 1 min,
#: 2 min, ... ~16 min before the 6th and last attempt.
RETRY_BASE_S = 30.0
#: Alerts handled per channel per dispatch pass: bounds one pass after a long outage.
DISPATCH_BATCH = 100
#: Items listed in one digest message before "and N more".
DIGEST_MAX_ITEMS = 50
#: Characters of snippet in a message.
SNIPPET_CHARS = 280
#: Highest `max_per_hour` of a channel: one message a second is already more than anyone reads.
MAX_PER_HOUR = 3600
#: Largest row id SQLite holds (a signed 64-bit INTEGER); a bigger source id in a rule is a typo.
MAX_ROW_ID = 2**63 - 1
#: Kinds of outbox rows that describe one post (the rest are about sources and runs).
POST_KINDS = ("new", "copy", "excerpt")

_ENV_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")


class AlertConfigError(ValueError):
    """A bad [[alerts.channels]] entry, explained in one line (never showing a secret)."""


@dataclass
class Rule:
    kinds: tuple[str, ...] = ("new", "copy", "excerpt", "source_failing", "anomaly", "backfill")
    langs: tuple[str, ...] = ()
    sources: tuple[int, ...] = ()
    min_relevance: float = 0.0
    query: str | None = None  # an FTS5 query, or the name of a saved search (table saved_searches)

    def matches(self, db: sqlite_utils.Database, alert: dict) -> bool:
        if alert["kind"] not in self.kinds:
            return False
        payload = alert["payload"]
        if alert["kind"] in POST_KINDS:
            if self.langs and payload.get("lang") not in self.langs:
                return False
            if self.sources and payload.get("source_id") not in self.sources:
                return False
            if float((payload.get("why") or {}).get("relevance") or 0) < self.min_relevance:
                return False
            if self.query and alert.get("post_id"):
                query, filters = saved_search.find(db, self.query) or (self.query, None)
                try:
                    hit = search.matches(db, query, alert["post_id"], filters)
                except search.QueryError:
                    return False
                if not hit:
                    return False
        return True


@dataclass
class Channel:
    name: str
    url: str  # an Apprise URL, or "console", or "jsonl:PATH"
    mode: str = "immediate"  # immediate | digest
    max_per_hour: int = 30
    rule: Rule = field(default_factory=Rule)

    @property
    def masked(self) -> str:
        if self.url == "console" or self.url.startswith("jsonl:"):
            return self.url
        try:
            import apprise

            a = apprise.Apprise()
            if a.add(self.url):
                return a[0].url(privacy=True)
        except Exception:  # masking must never leak the URL through an error
            pass
        return self.url.split(":", 1)[0] + "://***"

    def send(self, title: str, body: str, key: str) -> None:
        """Deliver one message; raises RuntimeError (without secrets) on failure."""
        if self.url == "console":
            from rjwatch.output import clean  # the one terminal sanitiser the CLI's printers use

            print(f"[rjwatch alert] {clean(title)}\n{clean(body, multiline=True)}\n", file=sys.stderr, flush=True)
            return
        if self.url.startswith("jsonl:"):
            path = Path(self.url[len("jsonl:"):]).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"key": key, "title": title, "body": body, "at": dates.now_iso()},
                                    ensure_ascii=False) + "\n")
            return
        import apprise

        a = apprise.Apprise()
        url = self.url
        if url.startswith(("json://", "jsons://", "form://", "forms://", "xml://", "xmls://")):
            url += ("&" if "?" in url else "?") + f"+X-Rjwatch-Key={key}"
        if not a.add(url):
            raise RuntimeError(f"channel {self.name}: not a usable Apprise URL ({self.masked})")
        ok = a.notify(title=title, body=body)
        if not ok:
            raise RuntimeError(f"channel {self.name}: delivery failed ({self.masked})")


def expand_env(value: str) -> str:
    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in os.environ:
            raise AlertConfigError(f"environment variable {m.group(1)} is not set (used in an alert channel)")
        return os.environ[m.group(1)]

    return _ENV_RE.sub(sub, value)


def channels_from_config(cfg) -> list[Channel]:
    section = cfg.section("alerts") or {}
    out = []
    for i, spec in enumerate(section.get("channels") or []):
        if not isinstance(spec, dict) or not spec.get("url"):
            raise AlertConfigError(f"[[alerts.channels]] #{i + 1} needs a url")
        name = str(spec.get("name") or f"channel{i + 1}")
        mode = str(spec.get("mode") or section.get("mode") or "immediate")
        if mode not in ("immediate", "digest"):
            raise AlertConfigError(f"channel {name}: mode must be immediate or digest")
        rule_spec = spec.get("rule") or {}
        if not isinstance(rule_spec, dict):
            raise AlertConfigError(f"channel {name}: rule must be a table ([alerts.channels.rule])")
        rule = Rule(
            kinds=tuple(_strings(name, "rule.kinds", rule_spec.get("kinds")) or Rule.kinds),
            langs=tuple(_strings(name, "rule.langs", rule_spec.get("langs"))),
            sources=_source_ids(name, rule_spec.get("sources")),
            min_relevance=_relevance(name, rule_spec.get("min_relevance")),
            query=rule_spec.get("query"),
        )
        if rule.query is not None and not isinstance(rule.query, str):
            raise AlertConfigError(f"channel {name}: rule.query must be a string (a query or a saved search name)")
        out.append(Channel(name, expand_env(str(spec["url"])), mode,
                           _per_hour(name, spec.get("max_per_hour") or section.get("max_per_hour") or 30), rule))
    if not out:
        out.append(Channel("console", "console"))
    return out


def _strings(channel: str, key: str, value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AlertConfigError(f"channel {channel}: {key} must be a list of strings, got {value!r}"[:300])
    return value


def _source_ids(channel: str, value) -> tuple[int, ...]:
    """Source ids of a rule: whole numbers that SQLite can hold (a source id is a row id)."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else None
    if items is None or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_ROW_ID
                                for v in items):
        raise AlertConfigError(f"channel {channel}: rule.sources must be a list of source ids (whole numbers from 1), "
                               f"got {value!r}"[:300])
    return tuple(items)


def _relevance(channel: str, value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise AlertConfigError(f"channel {channel}: rule.min_relevance must be a number from 0 to 1, got {value!r}"[:300])
    return float(value)


def _per_hour(channel: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PER_HOUR:
        raise AlertConfigError(f"channel {channel}: max_per_hour must be a whole number from 1 to {MAX_PER_HOUR:,}, "
                               f"got {value!r}"[:300])
    return value


# --- messages ----------------------------------------------------------------------------------
def _source_label(db, source_id) -> str:
    if not source_id:
        return "-"
    row = db.execute("SELECT coalesce(name, url) FROM sources WHERE id = ?", (source_id,)).fetchone()
    return row[0] if row else f"source #{source_id}"


def render(db: sqlite_utils.Database, alert: dict) -> tuple[str, str]:
    """(title, body) of one alert, with why it matched, a snippet and the link."""
    p = alert["payload"]
    kind = alert["kind"]
    if kind in POST_KINDS:
        why = p.get("why") or {}
        if kind in ("copy", "excerpt") and why.get("seed_similarity"):
            s = why["seed_similarity"]
            reason = f"{s.get('containment', 0):.0%} of seed #{why.get('seed')} found in it"
        else:
            reason = f"relevance {why.get('relevance', 0):.2f}: " + ", ".join(why.get("terms") or [])
        title = f"[{kind}] {p.get('title') or '(untitled)'}"
        body = "\n".join([
            f"Source: {_source_label(db, p.get('source_id'))}",
            f"Published: {p.get('published') or '-'}   Language: {p.get('lang') or '-'}   Status: {kind}",
            f"Why: {reason}",
            "",
            (p.get("snippet") or "")[:SNIPPET_CHARS],
            "",
            p.get("url") or "",
            f"(rjwatch post #{p.get('post_id')}, key {alert['key']})",
        ])
    elif kind == "source_failing":
        title = f"[source failing] {p.get('url')}"
        body = f"{p.get('failures')} failures in a row. Last error: {p.get('error')}\n(key {alert['key']})"
    elif kind == "anomaly":
        title = f"[crawl anomaly] {_source_label(db, p.get('source_id'))}"
        body = f"{p.get('problem')} (run #{p.get('run_id')})\n(key {alert['key']})"
    elif kind == "backfill":
        by = ", ".join(f"{k} {v}" for k, v in sorted((p.get("by_status") or {}).items()))
        title = f"[backfill] {_source_label(db, p.get('source_id'))}: {p.get('posts', 0)} posts collected"
        body = f"First collection from a new source, stored without one alert per post: {by or 'nothing'}.\n(key {alert['key']})"
    else:
        title, body = f"[{kind}]", json.dumps(p, ensure_ascii=False)
    return strip_controls(title), strip_controls(body)


def render_digest(db: sqlite_utils.Database, alerts: list[dict], period: str) -> tuple[str, str]:
    """One message for many alerts: seed copies first, then new coverage by language, then the rest."""
    copies = [a for a in alerts if a["kind"] in ("copy", "excerpt")]
    new = [a for a in alerts if a["kind"] == "new"]
    other = [a for a in alerts if a["kind"] not in POST_KINDS]
    lines = []
    shown = 0

    def line(a: dict) -> str:
        p = a["payload"]
        return f"- [{a['kind']}] {p.get('title') or '(untitled)'} <{p.get('url')}>"

    if copies:
        lines.append(f"Copies and excerpts of the seed ({len(copies)}):")
        for a in copies:
            if shown < DIGEST_MAX_ITEMS:
                lines.append(line(a))
                shown += 1
    by_lang: dict[str, list[dict]] = {}
    for a in new:
        by_lang.setdefault(a["payload"].get("lang") or "?", []).append(a)
    for lang in sorted(by_lang, key=lambda k: -len(by_lang[k])):
        lines.append(f"New coverage in {lang} ({len(by_lang[lang])}):")
        for a in by_lang[lang]:
            if shown < DIGEST_MAX_ITEMS:
                lines.append(line(a))
                shown += 1
    for a in other:
        t, _ = render(db, a)
        if shown < DIGEST_MAX_ITEMS:
            lines.append(f"- {t}")
            shown += 1
    if len(alerts) > shown:
        lines.append(f"... and {len(alerts) - shown} more (rjwatch alerts)")
    title = f"rjwatch digest {period}: {len(copies)} seed copies/excerpts, {len(new)} new"
    return strip_controls(title), strip_controls("\n".join(lines))


# --- the dispatcher ----------------------------------------------------------------------------
def _load(row: dict) -> dict:
    row = dict(row)
    row["payload"] = json.loads(row.get("payload") or "{}")
    return row


def _backoff(attempts: int, base: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=base * 2 ** (attempts - 1))).isoformat(
        timespec="milliseconds")


def pending_for(db: sqlite_utils.Database, channel: Channel, *, include_deferred: bool = False) -> list[dict]:
    """Alerts this channel still owes: not suppressed, not yet delivered or failed, due for a try."""
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    states = "('pending', 'deferred')" if include_deferred else "('pending')"
    rows = db.query(
        f"SELECT a.*, d.attempts AS d_attempts, d.status AS d_status FROM alerts a "
        f"LEFT JOIN deliveries d ON d.alert_id = a.id AND d.channel = ? "
        f"WHERE a.status != 'suppressed' AND (d.status IS NULL OR (d.status IN {states} "
        f"AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?))) ORDER BY a.id LIMIT ?",
        [channel.name, now, DISPATCH_BATCH])
    return [a for a in (_load(r) for r in rows) if channel.rule.matches(db, a)]


def _mark(db, alert_id: int, channel: str, status: str, *, attempts: int, error: str | None = None,
          next_at: str | None = None) -> None:
    db.execute(
        "INSERT INTO deliveries (alert_id, channel, status, attempts, last_error, next_attempt_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (alert_id, channel) DO UPDATE SET status = excluded.status, "
        "attempts = excluded.attempts, last_error = excluded.last_error, next_attempt_at = excluded.next_attempt_at, "
        "updated_at = excluded.updated_at",
        (alert_id, channel, status, attempts, error, next_at, dates.now_iso()))
    _roll_up(db, alert_id)


def _roll_up(db, alert_id: int) -> None:
    """alerts.status summarises its deliveries: failed if any failed, sent once something was sent."""
    statuses = [r[0] for r in db.execute("SELECT status FROM deliveries WHERE alert_id = ?", (alert_id,))]
    if "failed" in statuses:
        new = "failed"
    elif statuses and all(s == "sent" for s in statuses):
        new = "sent"
    else:
        return
    db.execute("UPDATE alerts SET status = ?, sent_at = coalesce(sent_at, ?), attempts = ? WHERE id = ? AND "
               "status != 'suppressed'", (new, dates.now_iso(), len(statuses), alert_id))


def sent_last_hour(db, channel: str) -> int:
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(timespec="seconds")
    return db.execute("SELECT count(*) FROM deliveries WHERE channel = ? AND status = 'sent' AND via = 'immediate' "
                      "AND updated_at >= ?", (channel, since)).fetchone()[0]


def dispatch(db: sqlite_utils.Database, channels: list[Channel], *, retry_base: float = RETRY_BASE_S) -> dict:
    """One pass of immediate deliveries. Returns counts {sent, failed, retrying, deferred}."""
    counts = {"sent": 0, "failed": 0, "retrying": 0, "deferred": 0}
    for ch in channels:
        if ch.mode != "immediate":
            continue
        budget = max(0, ch.max_per_hour - sent_last_hour(db, ch.name))
        for alert in pending_for(db, ch):
            if alert.get("d_status") == "deferred":
                continue
            if budget <= 0:
                with write_tx(db):
                    _mark(db, alert["id"], ch.name, "deferred", attempts=alert.get("d_attempts") or 0,
                          error="flood control: waits for the next digest")
                counts["deferred"] += 1
                continue
            attempts = (alert.get("d_attempts") or 0) + 1
            title, body = render(db, alert)
            try:
                ch.send(title, body, alert["key"])
            except Exception as exc:  # any delivery problem is recorded, never raised
                error = str(exc)[:300]
                status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
                with write_tx(db):
                    _mark(db, alert["id"], ch.name, status, attempts=attempts, error=error,
                          next_at=None if status == "failed" else _backoff(attempts, retry_base))
                counts["failed" if status == "failed" else "retrying"] += 1
                log.warning("rjwatch: alert %s to %s: %s", alert["key"], ch.name, error)
                continue
            with write_tx(db):
                _mark(db, alert["id"], ch.name, "sent", attempts=attempts)
                db.execute("UPDATE deliveries SET via = 'immediate' WHERE alert_id = ? AND channel = ?",
                           (alert["id"], ch.name))
            counts["sent"] += 1
            budget -= 1
    return counts


def send_digest(db: sqlite_utils.Database, channels: list[Channel], period: str | None = None) -> dict:
    """One digest message per channel: digest-mode alerts, and immediate ones deferred by flood control."""
    period = period or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    out = {}
    for ch in channels:
        items = [a for a in pending_for(db, ch, include_deferred=True)
                 if ch.mode == "digest" or a.get("d_status") == "deferred"]
        if not items:
            continue
        title, body = render_digest(db, items, period)
        key = f"digest-{ch.name}-{period}-{items[0]['id']}-{items[-1]['id']}"
        try:
            ch.send(title, body, key)
        except Exception as exc:
            log.warning("rjwatch: digest to %s failed: %s", ch.name, str(exc)[:300])
            out[ch.name] = f"failed: {str(exc)[:200]}"
            continue
        with write_tx(db):
            for a in items:
                _mark(db, a["id"], ch.name, "sent", attempts=(a.get("d_attempts") or 0) + 1)
                db.execute("UPDATE deliveries SET via = 'digest' WHERE alert_id = ? AND channel = ?", (a["id"], ch.name))
        out[ch.name] = len(items)
    return out
