"""rjwatch's own HTTP client for single fetches (CLI inputs, seeds, feed polling): bounded in every way.

urllib3 underneath, with a connect and read timeout and a deadline for the whole fetch (connect,
headers, body and redirects: at the deadline the socket is shut down, so a server dripping its
headers or body a byte at a time cannot hold a fetch), a byte cap that holds after gzip/deflate/br
decompression (a gzip bomb stops at the cap), a redirect limit, and http(s) only. Every hop goes
through crawler.guard: loopback, private and link-local addresses are reached only on the sites the
caller allows (what the user typed, a registered source, the `trusted_hosts` setting), checked
before connecting and on the address actually connected to. A `Cancel` ends fetches under way at
once (a stopping daemon) or at a deadline of its own. Every failure is a `FetchError` with a
one-line message.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import urllib3
import urllib3.connection

from crawler import guard
from judge.errors import RjwatchError

#: Bytes read from the socket per step; small enough that the cap is checked often.
CHUNK_BYTES = 64 * 1024

#: The whole fetch (redirects and body) must end within this many read timeouts. The read timeout
#: alone restarts with every byte received, so a server dripping a byte a second never trips it.
TOTAL_TIME_FACTOR = 2

_pool = urllib3.PoolManager(num_pools=50, maxsize=4, retries=False)


class FetchError(RuntimeError, RjwatchError):
    """A failed fetch, explained in one line. `status` is set for HTTP error answers."""

    def __init__(self, message: str, status: int | None = None, headers: dict | None = None, cancelled: bool = False):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.cancelled = cancelled  # ended by a Cancel (a stop), not by the server


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


def raw_response(resp: Response):
    """`resp` as storage keeps it for WARC evidence (storage.items.RawResponse), stamped now."""
    from judge import dates
    from storage.items import RawResponse

    return RawResponse(resp.url, resp.status, list(resp.headers.items()), resp.body, dates.now_iso())


class Cancel:
    """Ends the fetches that carry it: at once on `cancel()` (a stopping daemon), or at `deadline`
    (a time.monotonic() value: the share of a poll pass one source may take). Their sockets are shut
    down, which ends a connect, a header read or a body read blocked on a silent or dripping server."""

    def __init__(self, deadline: float | None = None):
        self.deadline = deadline
        self.reason: str | None = None
        self._lock = threading.Lock()
        self._flights: set[_Flight] = set()

    def cancel(self, reason: str = "stopping") -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
            flights = list(self._flights)
        for flight in flights:
            flight.abort(self.reason)

    @property
    def cancelled(self) -> bool:
        return self.reason is not None

    def _join(self, flight: _Flight) -> None:
        with self._lock:
            self._flights.add(flight)
            reason = self.reason
        if reason is not None:
            flight.abort(reason)

    def _leave(self, flight: _Flight) -> None:
        with self._lock:
            self._flights.discard(flight)


class _Flight:
    """One fetch under way: the sites it may reach on private addresses, and the sockets it uses."""

    def __init__(self, allowed: frozenset[str]):
        self.allowed = allowed
        self.why: str | None = None  # "timeout", or the Cancel's reason
        self._done = False
        self._socks: set = set()
        self._lock = threading.Lock()

    def add(self, sock) -> bool:
        """Track a socket (shut down at the deadline, even mid-connect); False once the fetch has ended."""
        with self._lock:
            if self.why is None and not self._done:
                self._socks.add(sock)
                return True
        return False

    def abort(self, why: str) -> None:
        with self._lock:
            if self._done or self.why is not None:
                return
            self.why = why
            for sock in self._socks:
                _shut(sock)

    def finish(self) -> None:
        with self._lock:
            self._done = True
            self._socks.clear()


def _shut(sock) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # not connected (yet) or closed already


#: The fetch under way in this thread, for the connections it opens (urllib3 runs in the caller's thread).
_local = threading.local()


class BlockedAddress(Exception):
    """A connection refused by the guard (not an OSError, so urllib3 neither retries nor wraps it)."""


class _GuardedConnectionMixin:
    """Connects only to addresses the current fetch may reach, and ends with the fetch's deadline.

    The name is resolved here and each address checked before a packet leaves; the socket is
    connected to that checked address, so a resolver that answers differently a second time (DNS
    rebinding) cannot move the connection. A kept-alive connection is checked again when reused."""

    def _new_conn(self):
        flight = getattr(_local, "flight", None)
        allowed = flight.allowed if flight is not None else frozenset()
        trusted = guard.site_allowed(self._dns_host, self.port, allowed)
        try:
            infos = guard.resolve(self._dns_host, self.port)
        except (socket.gaierror, UnicodeError) as e:
            raise urllib3.exceptions.NameResolutionError(self.host, self, e) from e
        if not trusted and any(guard.blocked_ip(i[4][0]) for i in infos):
            raise BlockedAddress(guard.PRIVATE)
        err: OSError | None = None
        for af, socktype, proto, _, sockaddr in infos:
            sock = socket.socket(af, socktype, proto)
            try:
                for opt in self.socket_options or ():
                    sock.setsockopt(*opt)
                sock.settimeout(self.timeout if isinstance(self.timeout, (int, float)) else None)
                if flight is not None and not flight.add(sock):
                    sock.close()
                    raise urllib3.exceptions.NewConnectionError(self, "the fetch has ended")
                sock.connect(sockaddr)
                sys.audit("http.client.connect", self, self.host, self.port)
                return sock
            except TimeoutError as e:
                sock.close()
                raise urllib3.exceptions.ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from e
            except OSError as e:
                sock.close()
                err = e
        raise urllib3.exceptions.NewConnectionError(self, f"Failed to establish a new connection: {err}")

    def request(self, *args, **kwargs):
        if self.sock is None:
            self.connect()
        flight = getattr(_local, "flight", None)
        allowed = flight.allowed if flight is not None else frozenset()
        try:
            peer = self.sock.getpeername()[0]
        except OSError:
            peer = None
        if peer is not None and guard.blocked_ip(peer) and not guard.site_allowed(self.host, self.port, allowed):
            self.close()
            raise BlockedAddress(guard.PRIVATE)
        if flight is not None and not flight.add(self.sock):
            self.close()
            raise urllib3.exceptions.NewConnectionError(self, "the fetch has ended")
        return super().request(*args, **kwargs)


class _GuardedHTTPConnection(_GuardedConnectionMixin, urllib3.connection.HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, urllib3.connection.HTTPSConnection):
    pass


class _GuardedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


_pool.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def fetch(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    max_bytes: int = 10_000_000,
    max_redirects: int = 5,
    user_agent: str = "rjwatch",
    ok_statuses: tuple[int, ...] = (200, 203, 304),
    allowed: Iterable[str] = (),
    cancel: Cancel | None = None,
    follow_redirects: bool = True,
) -> Response:
    """GET a URL. Raises FetchError on network errors, caps, and statuses outside `ok_statuses`.

    Every hop (the first included) to a loopback, private or link-local address is refused unless
    its site is in `allowed` (crawler.guard.allowed_sites: what the user typed, the registered
    source, the `trusted_hosts` setting). The whole fetch (connect, headers, body, every redirect)
    ends within `timeout` x TOTAL_TIME_FACTOR, or earlier at `cancel`'s deadline or cancellation.
    `follow_redirects=False` returns a redirect answer itself (its `location` header, no body):
    for a caller that follows hops one at a time (crawler.resolve).
    """
    started = time.monotonic()
    deadline = started + timeout * TOTAL_TIME_FACTOR
    if cancel is not None and cancel.deadline is not None:
        deadline = min(deadline, cancel.deadline)
    budget = max(0.0, deadline - started)
    flight = _Flight(frozenset(allowed))
    watchdog = threading.Timer(budget, flight.abort, args=("timeout",))
    watchdog.daemon = True
    if cancel is not None:
        cancel._join(flight)
    watchdog.start()
    _local.flight = flight
    try:
        return _fetch(
            url,
            flight,
            deadline,
            budget,
            headers=headers,
            timeout=timeout,
            max_bytes=max_bytes,
            max_redirects=max_redirects,
            user_agent=user_agent,
            ok_statuses=ok_statuses,
            follow_redirects=follow_redirects,
        )
    finally:
        _local.flight = None
        watchdog.cancel()
        flight.finish()
        if cancel is not None:
            cancel._leave(flight)


def _ended(flight: _Flight, url: str, budget: float) -> FetchError:
    if flight.why == "timeout":
        return FetchError(f"{url[:200]}: timed out (no complete answer within {budget:g} s)")
    return FetchError(f"{url[:200]}: fetch cancelled ({flight.why})", cancelled=True)


def _fetch(
    url: str,
    flight: _Flight,
    deadline: float,
    budget: float,
    *,
    headers,
    timeout,
    max_bytes,
    max_redirects,
    user_agent,
    ok_statuses,
    follow_redirects=True,
) -> Response:
    hdrs = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}
    hdrs.update(headers or {})
    history: list[tuple[int, str]] = []
    current = url
    for _ in range(max_redirects + 1):
        parts = urlsplit(current)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"{current[:200]}: only http(s) URLs can be fetched")
        reason = guard.unsafe_reason(current, flight.allowed)
        if reason:
            raise FetchError(f"not fetching {current[:200]}: {reason}")
        left = deadline - time.monotonic()
        if flight.why is not None or left <= 0:
            flight.abort("timeout")
            raise _ended(flight, url, budget)
        step = min(timeout, left)
        try:
            resp = _pool.request(
                "GET",
                current,
                headers=hdrs,
                redirect=False,
                preload_content=False,
                timeout=urllib3.Timeout(connect=step, read=step),
                decode_content=True,
            )
        except BlockedAddress as exc:
            raise FetchError(f"not fetching {current[:200]}: {exc}") from None
        except urllib3.exceptions.HTTPError as exc:
            if flight.why is not None:
                raise _ended(flight, url, budget) from None
            raise FetchError(f"{current[:200]}: {_reason(exc)}") from None
        try:
            resp_headers = {k.lower(): v for k, v in resp.headers.items()}
            if resp.status in (301, 302, 303, 307, 308) and "location" in resp_headers:
                if not follow_redirects:
                    _drain(resp)
                    return Response(current, resp.status, resp_headers, b"", history)
                history.append((resp.status, current))
                current = urljoin(current, resp_headers["location"])
                _drain(resp)  # a redirect's body is not ours to keep, but the connection must be clean
                continue
            body = _read_capped(resp, current, max_bytes)
            if flight.why is not None:  # a shut-down socket can look like a clean end of the body
                raise _ended(flight, url, budget)
        except FetchError:
            if flight.why is not None:
                raise _ended(flight, url, budget) from None
            raise
        finally:
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
