"""Resolving redirector links by following them, for the entries of search-engine and alert feeds.

This module owns `Resolver`: for a link that cannot be read offline (judge.links: Google News' opaque
article tokens, feedproxy.google.com, t.co, any link of an engine feed on the engine's own host) it
follows the redirector's answers one hop at a time with rjwatch's HTTP client (crawler.http: the
whole-fetch deadline, a small byte cap, every hop checked by crawler.guard) and stops at the first
hop that leaves the redirector: the publisher URL is what is wanted, not its page, so the publisher
is never contacted here. A `<meta http-equiv=refresh>` in a small page counts as a hop; a page that
moves on only by script (news.google.com's own) does not resolve. A target on a private, loopback or
link-local address that is not trusted is refused without any connection to it.

Politeness: at most REDIRECTOR_IN_FLIGHT request per redirector host at once across all sources, at
most MAX_RESOLUTIONS_PER_POLL links per source and poll, and the source's own time share (the
poller's `Cancel` deadline). A host that timed out is not asked again in the same source's poll, and
one that answered SCRIPT_ONLY_GIVE_UP links in a row by script is left alone for SCRIPT_ONLY_PAUSE_S.
Outcomes are remembered process-wide (a bounded LRU, by link and the sites allowed) so a daemon,
which makes a new poller each pass, does not resolve the same link every poll.

An entry that does not resolve keeps the feed link as its `url`, with `unresolved` saying why in
one line; `resolve_entries` returns the line for the source's health ("3 of 20 links could not be
resolved to the publisher (news.google.com serves them through script)").
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, OrderedDict, defaultdict
from html import unescape
from urllib.parse import urljoin, urlsplit

from crawler.guard import DEFAULT_PORTS, PRIVATE, blocked_ip, site_allowed, unsafe_reason
from crawler.http import Cancel, FetchError, fetch
from judge.errors import RjwatchError
from judge.links import needs_fetching, strip_tracking, unwrap

#: Requests in flight at once per redirector host, across the sources of a pass: one, as for a
#: publisher; Google's decoders report HTTP 429 after about 15 quick calls.
REDIRECTOR_IN_FLIGHT = 1
#: Links resolved by fetching per source and poll: a Google News search feed lists at most 100.
MAX_RESOLUTIONS_PER_POLL = 100
#: Hops followed on the redirector's own hosts: real chains are one or two (t.co -> feedproxy -> site).
MAX_RESOLVE_HOPS = 5
#: Bytes of a redirector's page read (to find a meta refresh): its pages are a few KB; a megabyte
#: answer is not a redirector page, and a small cap keeps a hostile one cheap.
RESOLVE_MAX_BYTES = 64 * 1024
#: Links whose outcome is remembered (a daemon re-polls feeds listing the same items for days).
CACHE_LINKS = 20_000
#: Different reasons named in a source's health line; the rest are counted.
MAX_REASONS_SHOWN = 2
#: A redirector host that answered this many links in a row with a page that moves on only by script
#: (news.google.com since mid-2024) is not asked for more links for SCRIPT_ONLY_PAUSE_S: each link
#: would cost a request for the same answer, and Google answers quick series of them with HTTP 429.
SCRIPT_ONLY_GIVE_UP = 3
SCRIPT_ONLY_PAUSE_S = 6 * 3600

_META_REFRESH_RE = re.compile(
    rb"""<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]*content\s*=\s*["']\s*\d*\s*;?\s*url\s*=\s*([^"'>]+)""",
    re.I,
)
_META_REFRESH_REV_RE = re.compile(
    rb"""<meta[^>]+content\s*=\s*["']\s*\d*\s*;?\s*url\s*=\s*([^"'>]+)["'][^>]*http-equiv\s*=\s*["']?refresh""", re.I
)


def _netloc(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def meta_refresh_target(body: bytes, base: str) -> str | None:
    """The URL a small HTML page's `<meta http-equiv=refresh>` leads to, if any."""
    m = _META_REFRESH_RE.search(body) or _META_REFRESH_REV_RE.search(body)
    if not m:
        return None
    target = unescape(m.group(1).decode("utf-8", "replace")).strip().strip("'\"")
    return urljoin(base, target) if target else None


def _remember(key: tuple[str, frozenset], url: str | None, reason: str | None) -> None:
    with _cache_lock:
        _cache[key] = (url, reason)
        _cache.move_to_end(key)
        while len(_cache) > CACHE_LINKS:
            _cache.popitem(last=False)


def _private_literal(url: str, allowed) -> str | None:
    """Why an unwrapped target must not be the post's URL: it names a private, loopback or link-local
    address (an IP literal or `localhost`, checked without any DNS lookup) that is not allowed."""
    host = _host(url)
    try:
        port = urlsplit(url).port
    except ValueError:
        return "the link names a bad port"
    port = port or DEFAULT_PORTS.get(urlsplit(url).scheme.lower(), 80)
    if not host or site_allowed(host, port, allowed):
        return None
    try:
        private = blocked_ip(host)
    except ValueError:
        private = host == "localhost" or host.endswith(".localhost")
    return f"the link points to a {PRIVATE} ({host})" if private else None


class Unresolved(RjwatchError):
    """A link that could not be resolved; `str()` is the one-line reason. `lasting`: the same
    answer is expected next time (a script page, a loop, a private address), so it is remembered."""

    def __init__(self, reason: str, lasting: bool = True, host_down: bool = False, by_script: bool = False):
        super().__init__(reason)
        self.lasting = lasting
        self.host_down = host_down
        self.by_script = by_script  # a page that moves on only by script


#: Outcomes by (link, allowed sites): (publisher URL, None) or (None, lasting reason).
_cache: OrderedDict[tuple[str, frozenset], tuple[str | None, str | None]] = OrderedDict()
_cache_lock = threading.Lock()
#: Redirector hosts (host:port) answering by script: [links in a row, paused until (time.monotonic())].
_script_only: dict[str, list[float]] = {}


def _script_answer(host: str, by_script: bool) -> None:
    """Count a script-only answer of `host` (or reset its streak on any other outcome)."""
    with _cache_lock:
        if not by_script:
            _script_only.pop(host, None)
            return
        streak = _script_only.setdefault(host, [0, 0.0])
        streak[0] += 1
        if streak[0] >= SCRIPT_ONLY_GIVE_UP:
            streak[1] = time.monotonic() + SCRIPT_ONLY_PAUSE_S


def script_only_pause(host: str) -> float:
    """Seconds `host` is left alone for answering its links by script (0: ask it)."""
    with _cache_lock:
        streak = _script_only.get(host)
    return max(0.0, streak[1] - time.monotonic()) if streak else 0.0


class Resolver:
    """Follows redirector links for the poller (one per Poller; thread-safe)."""

    def __init__(self, fetch_settings):
        self.bounds = fetch_settings  # crawler.config.FetchSettings
        self._lock = threading.Lock()
        self._limits: dict[str, threading.Semaphore] = defaultdict(lambda: threading.Semaphore(REDIRECTOR_IN_FLIGHT))

    # -- one link ------------------------------------------------------------------------------
    def resolve(self, link: str, *, allowed, cancel: Cancel | None = None, engine_host: str | None = None) -> str:
        """The publisher URL `link` leads to; raises Unresolved."""
        key = (link, frozenset(allowed))
        with _cache_lock:
            hit = _cache.get(key)
            if hit is not None:
                _cache.move_to_end(key)
        if hit is not None:
            if hit[0]:
                return hit[0]
            raise Unresolved(hit[1] or "not resolved")
        try:
            url = self._follow(link, allowed, cancel, engine_host)
        except Unresolved as exc:
            if exc.lasting:
                _remember(key, None, str(exc))
            if not exc.host_down:
                _script_answer(_netloc(link), exc.by_script)
            raise
        _remember(key, url, None)
        _script_answer(_netloc(link), False)
        return url

    def _follow(self, link: str, allowed, cancel: Cancel | None, engine_host: str | None) -> str:
        redirectors = {_netloc(link)}
        seen = {link}
        current = link
        for _ in range(MAX_RESOLVE_HOPS):
            host = _host(current)
            reason = unsafe_reason(current, allowed)
            if reason:
                raise Unresolved(f"{host} is on a {reason}")
            resp = self._get(current, allowed, cancel)
            if resp.status in (301, 302, 303, 307, 308):
                target = urljoin(current, resp.headers.get("location", "").strip())
            else:
                target = meta_refresh_target(resp.body, current)
                if not target:
                    if b"<script" in resp.body.lower():
                        raise Unresolved(f"{host} serves them through script", by_script=True)
                    raise Unresolved(f"{host} answered a page, not a redirect")
            if urlsplit(target).scheme.lower() not in ("http", "https"):
                raise Unresolved(f"{host} redirected to a {urlsplit(target).scheme or 'relative'}: URL")
            target = unwrap(target, engine_host)
            leaves = _netloc(target) not in redirectors and not needs_fetching(target)
            if leaves:
                refused = unsafe_reason(target, allowed)
                if refused:  # never contacted: the guard refuses it before any connection
                    raise Unresolved(f"{host} redirected to a {refused} ({_host(target)})")
                return strip_tracking(target)
            if target in seen:
                raise Unresolved(f"{host} redirects in a loop")
            seen.add(target)
            redirectors.add(_netloc(target))
            current = target
        raise Unresolved(f"{_host(link)} redirected more than {MAX_RESOLVE_HOPS} times")

    def _get(self, url: str, allowed, cancel: Cancel | None):
        host = _netloc(url)
        with self._lock:
            sem = self._limits[host]
        wait_s = None if cancel is None or cancel.deadline is None else max(0.0, cancel.deadline - time.monotonic())
        if not sem.acquire(timeout=wait_s):
            raise Unresolved(f"{_host(url)} was busy until the time ran out", lasting=False)
        try:
            return fetch(
                url,
                timeout=self.bounds.timeout,
                max_bytes=RESOLVE_MAX_BYTES,
                max_redirects=0,
                user_agent=self.bounds.user_agent,
                ok_statuses=(200, 203),
                allowed=allowed,
                cancel=cancel,
                follow_redirects=False,
            )
        except FetchError as exc:
            if exc.cancelled:
                raise
            text = str(exc)
            if exc.status:
                raise Unresolved(f"{_host(url)} answered HTTP {exc.status}", lasting=exc.status in (404, 410)) from None
            if "timed out" in text:
                raise Unresolved(f"{_host(url)} did not answer in time", lasting=False, host_down=True) from None
            if "exceeds" in text or "bytes (cap" in text:
                raise Unresolved(f"{_host(url)} answered a page too big for a redirector") from None
            raise Unresolved(f"{_host(url)}: {text.rpartition(': ')[2]}", lasting=False, host_down=True) from None
        finally:
            sem.release()

    # -- the entries of one feed -----------------------------------------------------------------
    def resolve_entries(
        self, entries: list[dict], *, allowed, cancel: Cancel | None = None, engine_host: str | None = None
    ) -> str | None:
        """Resolve the entries whose `url` still needs fetching (see crawler.feeds.prepare_entry); set
        `url` or `unresolved` on each. Returns the health line when some did not resolve, else None."""
        reasons: Counter[str] = Counter()
        for e in entries:  # read offline: a target named by a private address literal is refused too
            if e.get("feed_link") and e.get("url") != e["feed_link"]:
                refused = _private_literal(e["url"], allowed)
                if refused:
                    e["url"], e["unresolved"] = e["feed_link"], refused
                    reasons[refused] += 1
        todo = [
            e for e in entries if e.get("url") and not e.get("unresolved") and needs_fetching(e["url"], engine_host)
        ]
        down: dict[str, str] = {}
        attempts = 0  # links not yet remembered: the ones that cost requests
        for e in todo:
            link = e["url"]
            e.setdefault("feed_link", link)
            host = _netloc(link)
            remembered = (link, frozenset(allowed)) in _cache
            attempts += not remembered
            if not remembered and attempts > MAX_RESOLUTIONS_PER_POLL:
                reason = f"more than {MAX_RESOLUTIONS_PER_POLL} links to resolve in one poll"
            elif host in down:
                reason = down[host]
            elif not remembered and script_only_pause(host):
                attempts -= 1  # not asked: costs no request
                reason = f"{_host(link)} serves them through script (not asked again for a while)"
            elif cancel is not None and (
                cancel.cancelled or (cancel.deadline is not None and time.monotonic() >= cancel.deadline)
            ):
                reason = "the time for this feed ran out"
            else:
                try:
                    e["url"] = self.resolve(link, allowed=allowed, cancel=cancel, engine_host=engine_host)
                    continue
                except Unresolved as exc:
                    reason = str(exc)
                    if exc.host_down:
                        down[host] = reason
                except FetchError as exc:  # cancelled: a stop or the source's deadline
                    reason = "the time for this feed ran out" if not cancel or not cancel.cancelled else str(exc)
            e["unresolved"] = reason
            reasons[reason] += 1
        if not reasons:
            return None
        failed = sum(reasons.values())
        named = [r for r, _ in reasons.most_common(MAX_REASONS_SHOWN)]
        if len(reasons) > MAX_REASONS_SHOWN:
            named.append(f"{len(reasons) - MAX_REASONS_SHOWN} other reasons")
        return f"{failed} of {len(entries)} links could not be resolved to the publisher ({'; '.join(named)})"
