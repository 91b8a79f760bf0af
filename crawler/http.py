"""rjwatch's own HTTP client for single fetches (CLI inputs, seeds, feed polling): bounded in every way.

urllib3 underneath, with a connect and read timeout and a deadline for the whole answer, a byte cap that holds after gzip/deflate/br
decompression (a gzip bomb stops at the cap), a redirect limit, and http(s) only. Every failure is
a `FetchError` with a one-line message.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import urllib3

#: Bytes read from the socket per step; small enough that the cap is checked often.
CHUNK_BYTES = 64 * 1024

#: The whole fetch (redirects and body) must end within this many read timeouts. The read timeout
#: alone restarts with every byte received, so a server dripping a byte a second never trips it.
TOTAL_TIME_FACTOR = 2

_pool = urllib3.PoolManager(num_pools=50, maxsize=4, retries=False)


class FetchError(RuntimeError):
    """A failed fetch, explained in one line. `status` is set for HTTP error answers."""

    def __init__(self, message: str, status: int | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


@dataclass
class Response:
    url: str  # final URL after redirects
    status: int
    headers: dict[str, str]
    body: bytes
    history: list[tuple[int, str]] = field(default_factory=list)  # (status, url) of each redirect

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def fetch(url: str, *, headers: dict[str, str] | None = None, timeout: float = 30.0,
          max_bytes: int = 10_000_000, max_redirects: int = 5, user_agent: str = "rjwatch",
          ok_statuses: tuple[int, ...] = (200, 203, 304)) -> Response:
    """GET a URL. Raises FetchError on network errors, caps, and statuses outside `ok_statuses`."""
    hdrs = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}
    hdrs.update(headers or {})
    history: list[tuple[int, str]] = []
    current = url
    total = timeout * TOTAL_TIME_FACTOR
    deadline = time.monotonic() + total
    for _ in range(max_redirects + 1):
        parts = urlsplit(current)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"{current[:200]}: only http(s) URLs can be fetched")
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchError(f"{url[:200]}: timed out (no complete answer within {total:g} s)")
        step = min(timeout, left)
        try:
            resp = _pool.request("GET", current, headers=hdrs, redirect=False, preload_content=False,
                                 timeout=urllib3.Timeout(connect=step, read=step), decode_content=True)
        except urllib3.exceptions.HTTPError as exc:
            raise FetchError(f"{current[:200]}: {_reason(exc)}") from None
        # At the deadline the socket is shut down, which ends a read blocked on a dripping server.
        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), resp.shutdown)
        watchdog.daemon = True
        watchdog.start()
        try:
            resp_headers = {k.lower(): v for k, v in resp.headers.items()}
            if resp.status in (301, 302, 303, 307, 308) and "location" in resp_headers:
                history.append((resp.status, current))
                current = urljoin(current, resp_headers["location"])
                _drain(resp)  # a redirect's body is not ours to keep, but the connection must be clean
                continue
            body = _read_capped(resp, current, max_bytes)
        except FetchError:
            if time.monotonic() >= deadline:
                raise FetchError(f"{current[:200]}: timed out (no complete answer within {total:g} s)") from None
            raise
        finally:
            watchdog.cancel()
            resp.release_conn()
        if resp.status not in ok_statuses:
            raise FetchError(f"{current[:200]}: HTTP {resp.status}", status=resp.status, headers=resp_headers)
        return Response(current, resp.status, resp_headers, body, history)
    raise FetchError(f"{url[:200]}: more than {max_redirects} redirects")


#: Bytes of a redirect's body read (and dropped) so its connection can be reused; past that the
#: connection is closed instead.
REDIRECT_BODY_DRAIN = 64 * 1024


def _drain(resp) -> None:
    try:
        read = 0
        for chunk in resp.stream(CHUNK_BYTES, decode_content=False):
            read += len(chunk)
            if read > REDIRECT_BODY_DRAIN:
                resp.close()
                return
    except urllib3.exceptions.HTTPError:
        resp.close()


def _read_capped(resp, url: str, max_bytes: int) -> bytes:
    declared = resp.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes and not resp.headers.get("content-encoding"):
        raise FetchError(f"{url[:200]}: response is {int(declared):,} bytes (cap {max_bytes:,})")
    chunks, total = [], 0
    try:
        for chunk in resp.stream(CHUNK_BYTES, decode_content=True):
            total += len(chunk)
            if total > max_bytes:
                raise FetchError(f"{url[:200]}: response exceeds {max_bytes:,} bytes after decompression")
            chunks.append(chunk)
    except urllib3.exceptions.HTTPError as exc:
        raise FetchError(f"{url[:200]}: {_reason(exc)}") from None
    return b"".join(chunks)


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "reason", None) or exc)
    low = text.lower()
    if "timed out" in low or "timeout" in low:
        return "timed out"
    if "refused" in low:
        return "connection refused"
    if "name or service not known" in low or "nodename nor servname" in low or "failed to resolve" in low:
        return "host not found"
    if "incompleteread" in low or "incomplete" in low or "protocol" in low:
        return "connection broken (truncated or malformed response)"
    return text.splitlines()[0][:200] if text else type(exc).__name__
