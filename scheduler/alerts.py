"""Alert delivery from the durable outbox: rules and channels (Apprise, console, JSONL), at least once.

The outbox (`alerts`, one row per event) is written by storage in the same transaction as the post
that causes it. Here each channel reads the outbox from its own place (storage.outbox), judges each
alert against its rule once, and delivers the matches: a `deliveries` row per (alert, channel) records
attempts. A channel new to the database (or renamed to a new destination) starts where the others
are, so it is never sent the history; a renamed channel with the same destination keeps its place.
An alert is `sent` once every channel whose rule matches it has it (a digest channel: after the
digest). The dispatcher sends, then marks sent; a crash between the two repeats that one message
once, with the same idempotency key (carried in the message and, for webhooks, in the `X-Rjwatch-Key`
header). Failures retry with exponential backoff up to
MAX_ATTEMPTS, then become `failed`, visible in `rjwatch alerts` and `status`.

Channels come from the config file (`[[alerts.channels]]`); each has a mode: `immediate` (subject to
`max_per_hour`; the overflow waits for the digest) or `digest` (one message per period, seed copies
first, then new coverage by language). Secrets in Apprise URLs never reach logs or output: URLs are
shown through Apprise's privacy masking plus our own (user-only credentials, header values, tokens in
query strings), and a logging filter (`install_log_masking`) masks every secret part of every
configured channel URL in all log lines, Apprise's and urllib3's debug lines included. URLs may read
secrets from the environment (`${VAR}`). Source URLs in alerts are shown through `mask_url`.

Why one module of this size: channels, rules, flood control, digests and masking are read together
by `dispatch`; the outbox's SQL is storage.outbox's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from judge import dates
from judge.errors import RjwatchError
from judge.identity import MASK, is_secret_arg, mask_url, mask_urls
from judge.text import strip_controls
from storage import outbox, search
from storage import saved as saved_search
from storage.db import write_tx
from storage.sources import name_and_url as source_name_and_url

log = logging.getLogger(__name__)

#: Delivery attempts before an alert is `failed` for a channel.
MAX_ATTEMPTS = 6
#: First retry delay by default (setting alert_retry); doubled after each failure: 30 s, 1 min,
#: 2 min, ... ~16 min before the 6th and last attempt.
RETRY_BASE_S = 30.0
#: Alerts handled per channel per dispatch pass: bounds one pass after a long outage.
DISPATCH_BATCH = 100
#: Alerts one digest message covers at most (the rest go in the next one); the message itself lists
#: DIGEST_MAX_ITEMS of them.
DIGEST_BATCH = 1000
#: Alerts a channel judges against its rule per write transaction, and batches per pass: the write
#: lock is held for one batch only, and a pass after a long outage reads at most 10,000 alerts.
SCAN_BATCH = 500
SCAN_BATCHES = 20
#: Secret parts of channel URLs shorter than this are not masked in log text: a two-character part
#: (a port-like id, "en") would blank out unrelated words, and no real credential is that short.
MIN_SECRET_CHARS = 3
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
#: Kinds about a stored copy's page found gone (404/410) or changed substantially (crawler.recheck).
PAGE_KINDS = ("copy_removed", "copy_revised")

_ENV_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")


class AlertConfigError(ValueError, RjwatchError):
    """A bad [[alerts.channels]] entry, explained in one line (never showing a secret)."""


@dataclass
class Rule:
    kinds: tuple[str, ...] = ("new", "copy", "excerpt", "source_failing", "anomaly", "backfill", *PAGE_KINDS)
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
        elif alert["kind"] in PAGE_KINDS:
            if self.langs and payload.get("lang") not in self.langs:
                return False
            if self.sources and payload.get("source_id") not in self.sources:
                return False
        return True


@dataclass
class Channel:
    name: str
    url: str  # an Apprise URL, or "console", or "jsonl:PATH"
    mode: str = "immediate"  # immediate | digest
    max_per_hour: int = 30
    rule: Rule = field(default_factory=Rule)

    def __post_init__(self) -> None:
        # From now on, log lines of this process mask them. The parts found without Apprise come first:
        # Apprise logs the URL (its own way of masking misses some) as soon as it parses it.
        _remember(url_secrets(self.url, ask_apprise=False))
        _remember(url_secrets(self.url))

    @property
    def masked(self) -> str:
        """The URL as shown to a user: Apprise's privacy form, with every secret part masked."""
        if self.url == "console" or self.url.startswith("jsonl:"):
            return self.url
        try:
            import apprise

            a = apprise.Apprise()
            if a.add(self.url):
                return mask_text(a[0].url(privacy=True), url_secrets(self.url))
        except Exception:  # masking must never leak the URL through an error
            pass
        return self.url.split(":", 1)[0] + "://" + MASK

    @property
    def destination(self) -> str:
        """Who receives this channel's messages, as a hash of the masked URL (never the URL): a renamed
        channel with the same destination keeps its place in the outbox."""
        return hashlib.sha256(self.masked.encode("utf-8")).hexdigest()[:32]

    def send(self, title: str, body: str, key: str) -> None:
        """Deliver one message; raises RuntimeError (without secrets) on failure."""
        if self.url == "console":
            from judge.text import terminal_text  # the one terminal sanitiser, the CLI's printers' too

            print(
                f"[rjwatch alert] {terminal_text(title)}\n{terminal_text(body, multiline=True)}\n",
                file=sys.stderr,
                flush=True,
            )
            return
        if self.url.startswith("jsonl:"):
            path = Path(self.url[len("jsonl:") :]).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(
                    json.dumps({"key": key, "title": title, "body": body, "at": dates.now_iso()}, ensure_ascii=False)
                    + "\n"
                )
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
        _remember({os.environ[m.group(1)]})  # a value read from the environment is a secret by choice
        return os.environ[m.group(1)]

    return _ENV_RE.sub(sub, value)


# --- secrets of channel URLs ---------------------------------------------------------------------
#: Every secret part of every channel URL this process has read (only grows: a reloaded config may
#: drop a channel whose messages are still in flight).
_SECRETS: set[str] = set()
_SECRETS_RE: re.Pattern[str] | None = None
_SECRETS_LOCK = threading.Lock()
_URL_PART_RE = re.compile(r"[/:@?&=#,]+")


def url_secrets(url: str, *, ask_apprise: bool = True) -> set[str]:
    """The secret parts of a channel URL: the password (or a user that stands alone), the values of
    headers (`+Name=value`) and of credential query arguments, and whatever Apprise's privacy form
    hides (Telegram's bot token, Discord's webhook id and token, ...)."""
    if url == "console" or url.startswith("jsonl:") or "://" not in url:
        return set()
    from urllib.parse import parse_qsl, quote, unquote

    out: set[str] = set()
    rest = url.split("://", 1)[1]
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in netloc:
        user, sep, password = netloc.rpartition("@")[0].partition(":")
        out.add(password if sep else user)
    query = rest.split("?", 1)[1] if "?" in rest else ""
    # Apprise reads `+Name=value` as a header (a literal plus, not an encoded space)
    for name, value in parse_qsl(query.split("#", 1)[0].replace("+", "%2B"), keep_blank_values=True):
        if value and (name.startswith("+") or is_secret_arg(name)):
            out.add(value)
            out.add(value.split()[-1])  # "Bearer TOKEN": the token alone too
    try:
        import apprise

        a = apprise.Apprise()
        if ask_apprise and a.add(url):
            shown = set(_URL_PART_RE.split(unquote(a[0].url(privacy=True))))
            out.update(p for p in _URL_PART_RE.split(unquote(rest)) if p not in shown)
    except Exception:  # the parts found above are still masked
        pass
    full = set()
    for part in out:
        if len(part) >= MIN_SECRET_CHARS:
            full.update({part, unquote(part), quote(part, safe=""), quote(part, safe=":")})
    return {p for p in full if len(p) >= MIN_SECRET_CHARS}


def _remember(secrets: set[str]) -> None:
    global _SECRETS_RE
    with _SECRETS_LOCK:
        secrets = {s for s in secrets if len(s) >= MIN_SECRET_CHARS} - _SECRETS
        if secrets:
            _SECRETS.update(secrets)
            _SECRETS_RE = re.compile("|".join(re.escape(s) for s in sorted(_SECRETS, key=len, reverse=True)))


def mask_text(text: str, secrets: set[str]) -> str:
    for part in sorted(secrets, key=len, reverse=True):
        text = text.replace(part, MASK)
    return text


def mask_secrets(text: str) -> str:
    """A text with every known channel secret masked (for logs and stored errors)."""
    pattern = _SECRETS_RE
    return pattern.sub(MASK, text) if pattern is not None and text else text


class SecretFilter(logging.Filter):
    """Masks the known channel secrets in every record a handler emits (message, traceback, stack)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS_RE is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


_FILTER = SecretFilter()


def install_log_masking() -> None:
    """Put the secret filter on every handler of the root logger (and on logging's last resort), so
    that no library's log line (Apprise's debug lines show full service URLs) prints a channel secret."""
    for handler in [*logging.getLogger().handlers, logging.lastResort]:
        if handler is not None and _FILTER not in handler.filters:
            handler.addFilter(_FILTER)


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
        out.append(
            Channel(
                name,
                expand_env(str(spec["url"])),
                mode,
                _per_hour(name, spec.get("max_per_hour") or section.get("max_per_hour") or 30),
                rule,
            )
        )
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
    if items is None or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_ROW_ID for v in items):
        raise AlertConfigError(
            f"channel {channel}: rule.sources must be a list of source ids (whole numbers from 1), got {value!r}"[:300]
        )
    return tuple(items)


def _relevance(channel: str, value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise AlertConfigError(
            f"channel {channel}: rule.min_relevance must be a number from 0 to 1, got {value!r}"[:300]
        )
    return float(value)


def _per_hour(channel: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PER_HOUR:
        raise AlertConfigError(
            f"channel {channel}: max_per_hour must be a whole number from 1 to {MAX_PER_HOUR:,}, got {value!r}"[:300]
        )
    return value


# --- messages ----------------------------------------------------------------------------------
def _source_label(db, source_id) -> str:
    if not source_id:
        return "-"
    row = source_name_and_url(db, source_id)
    return (row[0] or mask_url(row[1])) if row else f"source #{source_id}"


def _flag_text(flag: str) -> str:
    from judge.analyze import FLAG_TEXT

    return FLAG_TEXT.get(flag, flag)


def render(db: sqlite_utils.Database, alert: dict) -> tuple[str, str]:
    """(title, body) of one alert, with why it matched, a snippet and the link."""
    p = alert["payload"]
    kind = alert["kind"]
    if kind in POST_KINDS:
        why = p.get("why") or {}
        if kind in ("copy", "excerpt") and why.get("seed_similarity"):
            s = why["seed_similarity"]
            reason = f"{s.get('containment', 0):.0%} of seed #{why.get('seed')} found in it"
            if why.get("kind") == "translation":
                reason = (
                    f"translates seed #{why.get('seed')} into {p.get('lang') or 'another language'} "
                    f"({s.get('paragraphs', 0)} of its {s.get('seed_paragraphs', 0)} paragraphs in order)"
                )
        else:
            reason = f"relevance {why.get('relevance', 0):.2f}: " + ", ".join(why.get("terms") or [])
        title = f"[{kind}] {p.get('title') or '(untitled)'}"
        body = "\n".join(
            [
                f"Source: {_source_label(db, p.get('source_id'))}",
                f"Published: {p.get('published') or '-'}   Language: {p.get('lang') or '-'}   Status: {kind}",
                f"Why: {reason}",
                *([f"Note: {'; '.join(_flag_text(f) for f in why['flags'])}"] if why.get("flags") else []),
                "",
                (p.get("snippet") or "")[:SNIPPET_CHARS],
                "",
                p.get("url") or "",
                f"(rjwatch post #{p.get('post_id')}, key {alert['key']})",
            ]
        )
    elif kind in PAGE_KINDS:
        if kind == "copy_removed":
            title = f"[copy removed] {p.get('title') or '(untitled)'}"
            what = f"The page answered HTTP {p.get('http_status')} on {p.get('removed_at') or '-'}: it is gone."
        else:
            title = f"[copy revised] {p.get('title') or '(untitled)'}"
            what = (
                f"The page changed on {p.get('revised_at') or '-'} ({p.get('why') or '-'}); "
                f"now {p.get('status') or '-'}, was {p.get('was') or '-'}."
            )
        body = "\n".join(
            [
                f"Source: {_source_label(db, p.get('source_id'))}",
                what,
                "The stored text and its earlier versions are kept (rjwatch show).",
                "",
                (p.get("snippet") or "")[:SNIPPET_CHARS],
                "",
                p.get("url") or "",
                f"(rjwatch post #{p.get('post_id')}, key {alert['key']})",
            ]
        )
    elif kind == "source_failing":
        title = f"[source failing] {mask_url(p.get('url'))}"
        body = f"{p.get('failures')} failures in a row. Last error: {mask_urls(p.get('error'))}\n(key {alert['key']})"
    elif kind == "anomaly":
        title = f"[crawl anomaly] {_source_label(db, p.get('source_id'))}"
        body = f"{mask_urls(p.get('problem'))} (run #{p.get('run_id')})\n(key {alert['key']})"
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
def _read_outbox(db: sqlite_utils.Database, channels: list[Channel]) -> None:
    """Make `channels` the active ones, then let each judge the alerts after its place in the outbox
    against its rule (each alert once per channel; matches get a pending delivery)."""
    outbox.sync_channels(db, {ch.name: ch.destination for ch in channels})
    for ch in channels:
        for _ in range(SCAN_BATCHES):
            batch = outbox.unscanned(db, ch.name, SCAN_BATCH)
            if not batch:
                break
            matched = [a["id"] for a in batch if a["status"] != "suppressed" and ch.rule.matches(db, a)]
            outbox.record_scan(db, ch.name, matched, batch[-1]["id"])


def _backoff(attempts: int, base: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=base * 2 ** (attempts - 1))).isoformat(timespec="milliseconds")


def dispatch(db: sqlite_utils.Database, channels: list[Channel], *, retry_base: float = RETRY_BASE_S) -> dict:
    """One pass of immediate deliveries. Returns counts {sent, failed, retrying, deferred}.

    `channels` must be all the channels in force (digest ones too): they decide which alerts are
    complete, and a channel missing from the list no longer counts."""
    counts = {"sent": 0, "failed": 0, "retrying": 0, "deferred": 0}
    _read_outbox(db, channels)
    for ch in channels:
        if ch.mode != "immediate":
            continue
        budget = max(0, ch.max_per_hour - outbox.sent_last_hour(db, ch.name))
        for alert in outbox.owed(db, ch.name, ("pending",), DISPATCH_BATCH):
            if budget <= 0:
                with write_tx(db):
                    outbox.mark(
                        db,
                        alert["id"],
                        ch.name,
                        "deferred",
                        attempts=alert.get("d_attempts") or 0,
                        error="flood control: waits for the next digest",
                    )
                counts["deferred"] += 1
                continue
            attempts = (alert.get("d_attempts") or 0) + 1
            title, body = render(db, alert)
            try:
                ch.send(title, body, alert["key"])
            except Exception as exc:  # any delivery problem is recorded, never raised
                error = mask_secrets(str(exc))[:300]
                status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
                with write_tx(db):
                    outbox.mark(
                        db,
                        alert["id"],
                        ch.name,
                        status,
                        attempts=attempts,
                        error=error,
                        next_at=None if status == "failed" else _backoff(attempts, retry_base),
                    )
                counts["failed" if status == "failed" else "retrying"] += 1
                log.warning("rjwatch: alert %s to %s: %s", alert["key"], ch.name, error)
                continue
            with write_tx(db):
                outbox.mark(db, alert["id"], ch.name, "sent", attempts=attempts, via="immediate")
            counts["sent"] += 1
            budget -= 1
    return counts


def send_digest(db: sqlite_utils.Database, channels: list[Channel], period: str | None = None) -> dict:
    """One digest message per channel: digest-mode alerts, and immediate ones deferred by flood control.

    Like `dispatch`, takes all the channels in force."""
    period = period or datetime.now(UTC).strftime("%Y-%m-%d")
    out = {}
    _read_outbox(db, channels)
    for ch in channels:
        states = ("pending", "deferred") if ch.mode == "digest" else ("deferred",)
        items = outbox.owed(db, ch.name, states, DIGEST_BATCH)
        if not items:
            continue
        title, body = render_digest(db, items, period)
        key = f"digest-{ch.name}-{period}-{items[0]['id']}-{items[-1]['id']}"
        try:
            ch.send(title, body, key)
        except Exception as exc:
            error = mask_secrets(str(exc))
            log.warning("rjwatch: digest to %s failed: %s", ch.name, error[:300])
            out[ch.name] = f"failed: {error[:200]}"
            continue
        with write_tx(db):
            for a in items:
                outbox.mark(db, a["id"], ch.name, "sent", attempts=(a.get("d_attempts") or 0) + 1, via="digest")
        out[ch.name] = len(items)
    return out
